//! Run with: cargo run --example observability
//!
//! What a weir service tells you about itself: logs and spans through `tracing`,
//! counters, gauges and histograms through the `metrics` facade.
//!
//! - **Tracing.** `tracing-subscriber`'s `fmt` layer prints to stdout (filter with
//!   `RUST_LOG`, e.g. `RUST_LOG=debug`). The worker logs its start, retries, dead letters
//!   and shutdown; a `TraceLayer` around the handler opens one span per message with the
//!   OpenTelemetry messaging fields (`messaging.system`, `messaging.destination.name`,
//!   `messaging.message.id`) and the producer's W3C `traceparent`, so the handler's own
//!   events carry them. No message body is ever logged.
//! - **Metrics.** weir reports through the `metrics` facade, so any exporter works
//!   (Prometheus, StatsD, OpenTelemetry). To stay dependency-free this example installs
//!   its own tiny `metrics::Recorder` that aggregates everything in memory and prints a
//!   table at the end: the worker's `weir_worker_*` series next to the handler's own.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::collections::BTreeMap;
use std::error::Error;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use serde::{Deserialize, Serialize};
use tower::ServiceBuilder;
use weir::aws_sdk_sqs::Client;
use weir::middleware::TraceLayer;
use weir::sqs::{Producer, QueueSpec};
use weir::worker::{HandlerError, Message, RetryPolicy, Worker, WorkerReport, handler_fn};
use weir_examples::{delete_queues, drained, unique_name};

// ---- a metrics recorder that keeps everything in memory -----------------------------

/// One histogram: every value recorded (fine for an example; exporters use buckets).
#[derive(Default)]
struct Values(Mutex<Vec<f64>>);

impl HistogramFn for Values {
    fn record(&self, value: f64) {
        if let Ok(mut v) = self.0.lock() {
            v.push(value);
        }
    }
}

/// Aggregates counters, gauges and histograms by name and labels. Cheap to clone: the
/// clone given to `metrics::set_global_recorder` and the one kept to print share state.
#[derive(Clone, Default)]
struct InMemory {
    counters: Arc<Mutex<BTreeMap<String, Arc<AtomicU64>>>>,
    gauges: Arc<Mutex<BTreeMap<String, Arc<AtomicU64>>>>,
    histograms: Arc<Mutex<BTreeMap<String, Arc<Values>>>>,
}

/// `name{label="value",…}`, the Prometheus way of writing a series.
fn series(key: &Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}=\"{}\"", l.key(), l.value()))
        .collect();
    if labels.is_empty() {
        key.name().to_owned()
    } else {
        format!("{}{{{}}}", key.name(), labels.join(","))
    }
}

fn entry<T: Default>(map: &Mutex<BTreeMap<String, Arc<T>>>, key: &Key) -> Arc<T> {
    let mut map = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(series(key)).or_default().clone()
}

impl Recorder for InMemory {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(entry(&self.counters, key))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(entry(&self.gauges, key))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(entry(&self.histograms, key))
    }
}

/// A histogram's summary.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stats {
    count: usize,
    mean: f64,
    p50: f64,
    p99: f64,
    max: f64,
}

impl InMemory {
    fn counter(&self, series: &str) -> u64 {
        self.counters
            .lock()
            .ok()
            .and_then(|m| m.get(series).map(|c| c.load(Ordering::Relaxed)))
            .unwrap_or(0)
    }

    fn counters(&self) -> Vec<(String, u64)> {
        let map = self.counters.lock().map(|m| m.clone()).unwrap_or_default();
        map.into_iter()
            .map(|(k, v)| (k, v.load(Ordering::Relaxed)))
            .collect()
    }

    fn gauges(&self) -> Vec<(String, f64)> {
        let map = self.gauges.lock().map(|m| m.clone()).unwrap_or_default();
        map.into_iter()
            .map(|(k, v)| (k, f64::from_bits(v.load(Ordering::Relaxed))))
            .collect()
    }

    fn histograms(&self) -> Vec<(String, Stats)> {
        let map = self
            .histograms
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        map.into_iter()
            .map(|(k, v)| {
                let mut values = v.0.lock().map(|v| v.clone()).unwrap_or_default();
                values.sort_by(f64::total_cmp);
                let at = |p: f64| {
                    let i = ((values.len().max(1) - 1) as f64 * p).round() as usize;
                    values.get(i).copied().unwrap_or(0.0)
                };
                let stats = Stats {
                    count: values.len(),
                    mean: values.iter().sum::<f64>() / values.len().max(1) as f64,
                    p50: at(0.5),
                    p99: at(0.99),
                    max: at(1.0),
                };
                (k, stats)
            })
            .collect()
    }

    fn print(&self) {
        let (counters, gauges, histograms) = (self.counters(), self.gauges(), self.histograms());
        let width = counters
            .iter()
            .map(|(k, _)| k.len())
            .chain(gauges.iter().map(|(k, _)| k.len()))
            .chain(histograms.iter().map(|(k, _)| k.len()))
            .max()
            .unwrap_or(0);
        println!("\ncounters");
        for (name, value) in counters {
            println!("  {name:<width$} {value:>8}");
        }
        println!("gauges");
        for (name, value) in gauges {
            println!("  {name:<width$} {value:>8}");
        }
        println!(
            "{:<w$} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "histograms",
            "count",
            "mean",
            "p50",
            "p99",
            "max",
            w = width + 2
        );
        for (name, s) in histograms {
            println!(
                "  {name:<width$} {:>8} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
                s.count, s.mean, s.p50, s.p99, s.max
            );
        }
    }
}

// ---- the service --------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Order {
    id: u64,
    total_cents: u64,
}

/// A W3C `traceparent` for each send, as an OpenTelemetry SDK would provide from the
/// current span. Here: made-up ids, numbered so they are easy to follow in the logs.
fn traceparent() -> Option<String> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Some(format!("00-{:032x}-{:016x}-01", 0xfeed_0000 + n, n))
}

async fn run(client: &Client, orders: u64) -> Result<WorkerReport, Box<dyn Error>> {
    let topology = QueueSpec::standard(unique_name("observed-orders"))
        .dead_letter(5)
        .ensure(client)
        .await?;
    let queue = topology.queue;
    let dlq = topology
        .dlq
        .ok_or("the spec declares a dead-letter queue")?;

    let producer: Producer<Order> = Producer::builder(queue.clone())
        .traceparent(traceparent)
        .build()?;
    let batch: Vec<Order> = (1..=orders)
        .map(|id| Order {
            id,
            total_cents: 1_000 + id * 250,
        })
        .collect();
    for r in producer.send_batch(&batch).await {
        r?;
    }
    tracing::info!(orders, queue = queue.name(), "orders sent");

    let handler = handler_fn(|msg: Message<Order>| async move {
        let order = msg
            .body()
            .map_err(|e| HandlerError::reject(e.to_string()))?;
        if order.id == 3 && msg.receive_count() == 1 {
            tracing::warn!(order.id, "payment service timed out; will retry");
            metrics::counter!("orders_payment_timeouts_total").increment(1);
            return Err(HandlerError::retry("payment service timed out"));
        }
        if order.id == 5 {
            return Err(HandlerError::reject("card declined permanently"));
        }
        tokio::time::sleep(Duration::from_millis(10 + order.id % 7 * 5)).await;
        metrics::counter!("orders_charged_total").increment(1);
        metrics::histogram!("order_value_dollars").record(order.total_cents as f64 / 100.0);
        tracing::info!(order.id, attempt = msg.receive_count(), "order charged");
        Ok(())
    });
    let worker = Worker::builder(queue.clone())
        // One span per message, around everything the handler does.
        .handler(
            ServiceBuilder::new()
                .layer(TraceLayer::new().with_queue_name(queue.name()))
                .service(handler),
        )
        .concurrency(4)
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(1)))
        .dead_letter(&dlq)
        .wait_time(Duration::from_secs(1))
        .build()?;
    let report = worker
        .run_until(drained(&queue, Duration::from_millis(100)))
        .await;
    delete_queues(&[&queue, &dlq]).await;
    Ok(report)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    let recorder = InMemory::default();
    metrics::set_global_recorder(recorder.clone()).map_err(|e| e.to_string())?;

    let client = weir_examples::client().await;
    let report = run(&client, 8).await?;
    recorder.print();
    println!(
        "\nworker report: {} received, {} succeeded, {} retried, {} dead-lettered; the handler counted {} charges",
        report.received,
        report.succeeded,
        report.retried,
        report.dead_lettered,
        recorder.counter("orders_charged_total")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The only test in this binary: it may install the global recorder.
    #[tokio::test(start_paused = true)]
    async fn metrics_reach_the_recorder() {
        let recorder = InMemory::default();
        metrics::set_global_recorder(recorder.clone()).unwrap();
        let client = weir::local::LocalSqs::new().client();
        let report = weir_examples::within(Duration::from_secs(600), run(&client, 8))
            .await
            .unwrap();

        assert_eq!(report.succeeded, 7);
        assert_eq!(recorder.counter("orders_charged_total"), 7);
        assert_eq!(recorder.counter("orders_payment_timeouts_total"), 1);
        let worker = |name: &str| -> u64 {
            recorder
                .counters()
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("{name}{{")))
                .map(|(_, v)| v)
                .sum()
        };
        assert_eq!(worker("weir_worker_received_total"), 9); // 8 + 1 redelivery
        assert_eq!(worker("weir_worker_processed_total"), 7);
        assert_eq!(worker("weir_worker_retried_total"), 1);
        assert_eq!(worker("weir_worker_dead_lettered_total"), 1);
        let histograms = recorder.histograms();
        let handler_seconds = histograms
            .iter()
            .find(|(k, _)| k.starts_with("weir_worker_handler_seconds{"))
            .map(|(_, s)| *s)
            .unwrap();
        assert_eq!(handler_seconds.count, 9);
        let (_, value) = histograms
            .iter()
            .find(|(k, _)| k == "order_value_dollars")
            .unwrap();
        assert_eq!(value.count, 7);
    }
}
