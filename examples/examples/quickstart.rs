//! Run with: cargo run --example quickstart [-- --messages 1000]
//!
//! The whole path in one file: a typed producer sends orders to a queue, a worker
//! handles each one and deletes it from the queue.
//!
//! - `QueueSpec` creates the queue and its dead-letter queue (idempotent).
//! - `Producer<Order>` sends JSON bodies, 10 per `SendMessageBatch` call.
//! - `Worker` receives only as many messages as it has free slots, runs the handler on
//!   each, and acks (deletes) the successes in batches of 10. What happens to a message
//!   whose handler fails is the next example's subject: `retries_and_dlq`.
//!
//! It runs on the in-process SQS unless `AWS_ENDPOINT_URL` (LocalStack) or AWS
//! credentials are set; see examples/README.md. `--messages N` (or `WEIR_MESSAGES`)
//! changes the load (1000). Ctrl-C stops the worker without losing a message.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::error::Error;
use std::time::Duration;

use clap::Parser as _;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use weir::aws_sdk_sqs::Client;
use weir::prelude::*;
use weir::test::unique_name;
use weir_examples::{count, delete_queues, until_drained};

/// What the producer sends: a plain serde type, a JSON body on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Order {
    id: u64,
    customer: String,
    total_cents: u64,
}

/// The business logic: here, a few milliseconds of "work" per order.
async fn handle(msg: Message<Order>) -> Result<(), HandlerError> {
    // A body that is not an Order can never succeed: reject it (dead-letter queue).
    let order = msg
        .body()
        .map_err(|e| HandlerError::reject(e.to_string()))?;
    tokio::time::sleep(Duration::from_millis(2 + order.id % 8)).await;
    Ok(())
}

#[derive(Debug)]
struct Summary {
    sent: u64,
    /// Messages still in the queue when the worker stopped.
    left: u64,
    report: WorkerReport,
}

async fn run(client: &Client, messages: u64) -> Result<Summary, Box<dyn Error>> {
    // 1. The queue, and a dead-letter queue for what can never succeed.
    let topology = QueueSpec::standard(unique_name("quickstart-orders"))
        .dead_letter(5)
        .ensure(client)
        .await?;
    let (queue, dlq) = (topology.queue, topology.dlq.ok_or("no dead-letter queue")?);

    // 2. Send the orders.
    let producer: Producer<Order> = Producer::new(queue.clone());
    let orders: Vec<Order> = (0..messages)
        .map(|id| Order {
            id,
            customer: format!("customer-{}", id % 37),
            total_cents: 500 + id % 5_000,
        })
        .collect();
    for result in producer.send_batch(&orders).await {
        result?;
    }
    println!("sent {messages} orders to {}", queue.name());

    // 3. The worker, until the queue is empty (a service runs until its shutdown signal).
    let worker = Worker::builder(queue.clone())
        .handler(handler_fn(handle))
        .concurrency(50)
        .dead_letter(&dlq)
        // A short long-poll, so the demo stops promptly; services keep the default 20 s.
        .wait_time(Duration::from_secs(1))
        .build()?;
    let report = worker.run_until(until_drained(&queue)).await;

    let left = count(&queue).await?;
    delete_queues(&[&queue, &dlq]).await;
    Ok(Summary {
        sent: messages,
        left,
        report,
    })
}

/// Options: each can also be set by its environment variable (`--help` lists them).
#[derive(Debug, clap::Parser)]
struct Args {
    /// How many orders to send.
    #[arg(long, env = "WEIR_MESSAGES", default_value_t = 1_000)]
    messages: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let messages = Args::parse().messages;
    let client = weir_examples::client().await;
    let started = Instant::now();
    let s = run(&client, messages).await?;
    println!(
        "handled {} of {} orders in {:.2?}, in {} calls to SQS (receives and deletes of up to 10); {} left in the queue",
        s.report.acked,
        s.sent,
        started.elapsed(),
        s.report.sqs_requests,
        s.left
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn every_order_is_handled_once_and_deleted() {
        let client = weir::local::LocalSqs::new().client();
        let limit = Duration::from_secs(600);
        let s = tokio::time::timeout(limit, run(&client, 200))
            .await
            .expect("the queue drains")
            .unwrap();
        assert_eq!(s.report.received, 200, "no order delivered twice");
        assert_eq!(s.report.acked, 200);
        assert_eq!(s.report.dead_lettered, 0);
        assert_eq!(s.left, 0);
    }
}
