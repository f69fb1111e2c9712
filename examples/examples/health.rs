//! Run with: cargo run --example health   (then: curl -i http://127.0.0.1:3000/readyz)
//!
//! `/healthz` and `/readyz` for a worker, served with axum from
//! `WorkerHandle::health()`, for a Kubernetes probe or a load balancer.
//!
//! - `/healthz` (liveness) is 200 while the worker runs and none of its tasks failed:
//!   restart the process when it is not.
//! - `/readyz` (readiness) is 200 while it also polls: not paused, not shutting down,
//!   its last receive and its last delete succeeded. It turns 503 while SQS is
//!   unreachable, and after `pause()`.
//!
//! Both answer with the health snapshot as JSON. The address is `HEALTH_ADDR`
//! (default `127.0.0.1:3000`); Ctrl-C stops the worker without losing a message.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use weir::prelude::*;
use weir::worker::Health;

/// The two probes, for any worker's handle.
fn routes(worker: WorkerHandle) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|State(w): State<WorkerHandle>| async move { probe(&w.health(), |h| h.live) }),
        )
        .route(
            "/readyz",
            get(|State(w): State<WorkerHandle>| async move { probe(&w.health(), |h| h.ready) }),
        )
        .with_state(worker)
}

fn probe(health: &Health, ok: fn(&Health) -> bool) -> (StatusCode, Json<Value>) {
    let status = if ok(health) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "live": health.live,
        "ready": health.ready,
        "paused": health.paused,
        "in_flight": health.in_flight,
        "last_successful_poll_ms_ago": health.last_successful_poll.map(|t| t.elapsed().as_millis() as u64),
        "failure": health.failure,
    });
    (status, Json(body))
}

fn worker(queue: Queue) -> Result<Worker<String>, weir::worker::BuildError> {
    Worker::builder(queue)
        .handler(handler_fn(|_msg: Message<String>| async {
            Ok::<_, HandlerError>(())
        }))
        .wait_time(Duration::from_secs(1))
        .build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = weir_examples::client().await;
    let queue = QueueSpec::standard(weir::test::unique_name("health"))
        .ensure(&client)
        .await?
        .queue;
    let worker = worker(queue.clone())?;
    let app = routes(worker.handle());

    let addr = std::env::var("HEALTH_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "probes: curl -i http://{addr}/healthz   curl -i http://{addr}/readyz   (Ctrl-C stops)"
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let report = worker.run_until(weir_examples::ctrl_c()).await;
    println!(
        "stopped: {:?}, {} messages acked",
        report.stopped, report.acked
    );
    server.abort();
    weir_examples::delete_queues(&[&queue]).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    use weir::test::eventually;

    async fn get(app: &Router, path: &str) -> (StatusCode, Value) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    async fn answers(app: &Router, path: &str, want: StatusCode) -> bool {
        eventually(Duration::from_secs(10), || async {
            get(app, path).await.0 == want
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn the_probes_follow_the_worker_through_pause_and_shutdown() {
        let client = weir::local::LocalSqs::new().client();
        let queue = QueueSpec::standard("health")
            .ensure(&client)
            .await
            .unwrap()
            .queue;
        let worker = worker(queue).unwrap();
        let handle = worker.handle();
        let app = routes(handle.clone());

        assert_eq!(
            get(&app, "/healthz").await.0,
            StatusCode::SERVICE_UNAVAILABLE,
            "not started"
        );
        let running = tokio::spawn(worker.run());
        assert!(
            answers(&app, "/readyz", StatusCode::OK).await,
            "ready once it polls"
        );
        assert_eq!(get(&app, "/healthz").await.1["live"], true);

        handle.pause();
        assert!(answers(&app, "/readyz", StatusCode::SERVICE_UNAVAILABLE).await);
        assert_eq!(
            get(&app, "/healthz").await.0,
            StatusCode::OK,
            "paused is still live"
        );
        assert_eq!(get(&app, "/readyz").await.1["paused"], true);
        handle.resume();
        assert!(answers(&app, "/readyz", StatusCode::OK).await);

        handle.shutdown();
        running.await.unwrap();
        assert_eq!(
            get(&app, "/healthz").await.0,
            StatusCode::SERVICE_UNAVAILABLE,
            "stopped"
        );
    }
}
