//! Run with: cargo run --example prometheus   (then: curl http://127.0.0.1:9090/metrics)
//!
//! The worker's `metrics` counters, gauges and histograms in Prometheus's text format:
//! `metrics-exporter-prometheus` is the recorder, and axum serves `/metrics` (the
//! exporter's own HTTP listener is left off, so the service keeps one HTTP server).
//!
//! It sends 100 orders (every 10th invalid), lets a worker handle them (on the in-process
//! SQS unless the environment points at LocalStack or AWS, as every example), then serves
//! `/metrics` at `METRICS_ADDR` (default `127.0.0.1:9090`) until Ctrl-C. Among the
//! series: `weir_worker_received_total`, `weir_worker_processed_total`,
//! `weir_worker_dead_lettered_total`, `weir_worker_sqs_requests_total{operation=...}`,
//! `weir_worker_in_flight` and the `weir_worker_handler_seconds` histogram, each with a
//! `queue` label.

#![allow(clippy::print_stdout)] // an example prints what it shows

use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use weir::aws_sdk_sqs::Client;
use weir::prelude::*;
use weir::test::unique_name;
use weir_examples::{delete_queues, until_drained};

/// `/metrics`: what the recorder holds, rendered at each scrape.
fn routes(prometheus: PrometheusHandle) -> Router {
    Router::new().route("/metrics", get(move || async move { prometheus.render() }))
}

/// 100 orders through a worker: 90 handled, 10 rejected into the dead-letter queue.
/// Returns the worker's report and the queue's name (the series' `queue` label).
async fn handle_orders(
    client: &Client,
) -> Result<(WorkerReport, String), Box<dyn std::error::Error>> {
    let topology = QueueSpec::standard(unique_name("metrics-orders"))
        .dead_letter(5)
        .ensure(client)
        .await?;
    let (queue, dlq) = (topology.queue, topology.dlq.ok_or("no dead-letter queue")?);
    let ids: Vec<u64> = (0..100).collect();
    for sent in Producer::<u64>::new(queue.clone()).send_batch(&ids).await {
        sent?;
    }
    let worker = Worker::builder(queue.clone())
        .handler(handler_fn(|msg: Message<u64>| async move {
            match msg.body() {
                Ok(id) if id % 10 == 9 => {
                    Err(HandlerError::reject(format!("order {id} is invalid")))
                }
                Ok(_) => Ok(()),
                Err(e) => Err(HandlerError::reject(e.to_string())),
            }
        }))
        .dead_letter(&dlq)
        .wait_time(std::time::Duration::from_secs(1))
        .build()?;
    let report = worker.run_until(until_drained(&queue)).await;
    let name = queue.name().to_owned();
    delete_queues(&[&queue, &dlq]).await;
    Ok((report, name))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    let client = weir_examples::client().await;
    let (report, _) = handle_orders(&client).await?;
    println!(
        "{} acked, {} dead-lettered",
        report.succeeded, report.dead_lettered
    );

    let addr = std::env::var("METRICS_ADDR").unwrap_or_else(|_| "127.0.0.1:9090".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("scrape: curl http://{addr}/metrics   (Ctrl-C stops)");
    axum::serve(listener, routes(prometheus))
        .with_graceful_shutdown(weir_examples::ctrl_c())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    fn value(scrape: &str, series: &str) -> Option<f64> {
        scrape
            .lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    // The only test in this binary: it installs the global recorder.
    #[tokio::test(start_paused = true)]
    async fn a_scrape_counts_every_message() {
        let prometheus = PrometheusBuilder::new().install_recorder().unwrap();
        let client = weir::local::LocalSqs::new().client();
        let (report, queue) = handle_orders(&client).await.unwrap();
        assert_eq!(report.succeeded, 90);

        let request = Request::get("/metrics").body(Body::empty()).unwrap();
        let response = routes(prometheus).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let scrape = String::from_utf8(bytes.to_vec()).unwrap();

        assert_eq!(
            value(
                &scrape,
                &format!(r#"weir_worker_received_total{{queue="{queue}"}}"#)
            ),
            Some(100.0)
        );
        assert_eq!(
            value(
                &scrape,
                &format!(r#"weir_worker_processed_total{{queue="{queue}"}}"#)
            ),
            Some(90.0)
        );
        assert_eq!(
            value(
                &scrape,
                &format!(r#"weir_worker_dead_lettered_total{{queue="{queue}"}}"#)
            ),
            Some(10.0)
        );
        assert!(
            scrape.contains("# TYPE weir_worker_handler_seconds summary"),
            "{scrape}"
        );
        assert!(scrape.contains(&format!(
            r#"weir_worker_sqs_requests_total{{queue="{queue}",operation="#
        )));
    }
}
