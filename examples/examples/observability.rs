//! Run with: cargo run --example observability   (`RUST_LOG=debug` for more)
//!
//! Following one message through a service with `tracing`: one span per message, and
//! the trace continued across the queue.
//!
//! - `tracing-subscriber`'s `fmt` layer prints to stdout; the worker logs its start,
//!   retries and shutdown.
//! - A `TraceLayer` around the handler opens one `process` span per message with the
//!   OpenTelemetry messaging fields (`messaging.system`, `messaging.destination.name`,
//!   `messaging.message.id`), so the handler's own events carry them.
//! - The producer injects a W3C `traceparent` attribute on each send (here made up;
//!   an OpenTelemetry SDK gives the current span's); the span records its `trace_id`.
//!
//! No message body is ever logged. Metrics are the `prometheus` example's subject.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::error::Error;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;
use weir::aws_sdk_sqs::Client;
use weir::prelude::*;
use weir::test::unique_name;
use weir_examples::{delete_queues, until_drained};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Order {
    id: u64,
    total_cents: u64,
}

/// A `traceparent` per send, numbered so each is easy to follow in the logs.
fn traceparent() -> Option<String> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Some(format!("00-{:032x}-{:016x}-01", 0xfeed_0000 + n, n))
}

async fn handle(msg: Message<Order>) -> Result<(), HandlerError> {
    let order = msg
        .body()
        .map_err(|e| HandlerError::reject(e.to_string()))?;
    if order.id == 3 && msg.receive_count() == 1 {
        tracing::warn!(order.id, "payment service timed out; will retry");
        return Err(HandlerError::retry("payment service timed out"));
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    tracing::info!(order.id, attempt = msg.receive_count(), "order charged");
    Ok(())
}

async fn run(client: &Client, orders: u64) -> Result<WorkerReport, Box<dyn Error>> {
    let queue = QueueSpec::standard(unique_name("observed-orders"))
        .ensure(client)
        .await?
        .queue;
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

    let worker = Worker::builder(queue.clone())
        // One span per message, around everything the handler does.
        .layer(TraceLayer::new().with_queue_name(queue.name()))
        .handler(handler_fn(handle))
        .concurrency(4)
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(1)))
        .wait_time(Duration::from_secs(1))
        .build()?;
    let report = worker.run_until(until_drained(&queue)).await;
    delete_queues(&[&queue]).await;
    Ok(report)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stdout().is_terminal();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .init();
    let client = weir_examples::client().await;
    let report = run(&client, 5).await?;
    println!(
        "{} received, {} succeeded, {} retried",
        report.received, report.succeeded, report.retried
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Where the test's subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    // A current-thread runtime: every task of the worker logs to this thread's subscriber.
    #[tokio::test(start_paused = true)]
    async fn each_handler_event_carries_its_message_span() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let client = weir::local::LocalSqs::new().client();
        let report = run(&client, 5).await.unwrap();
        assert_eq!((report.succeeded, report.retried), (5, 1));

        let logs = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let charged: Vec<&str> = logs
            .lines()
            .filter(|l| l.contains("order charged"))
            .collect();
        assert_eq!(charged.len(), 5, "{logs}");
        for line in &charged {
            assert!(
                line.contains("process{"),
                "inside the message's span: {line}"
            );
            assert!(line.contains("messaging.message.id="), "{line}");
            assert!(
                line.contains(r#"trace_id="000000000000000000000000feed"#),
                "{line}"
            );
        }
        assert!(logs.contains("payment service timed out; will retry"));
        assert!(!logs.contains("total_cents"), "no message body in the logs");
    }
}
