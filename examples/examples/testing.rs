//! Run with: cargo run --example testing   (and its tests: cargo test --example testing)
//!
//! How to test a handler the way it runs: through a real `Worker` (with its retry
//! policy, attempts and dead-letter queue) on the in-process SQS, with `weir::test`.
//! The kit reads each message's fate from SQS (acked, dead-lettered with a reason,
//! retried and when, released), so a test asserts what production would do, not what
//! the handler returned.
//!
//! The handler here charges orders through a payment service that can be down. Copy a
//! test from the bottom of this file: the only things it needs are `weir` (with the
//! `test-util` feature, as a dev-dependency) and `tokio`.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use weir::prelude::*;
use weir::test::TestQueue;

#[derive(Debug, Serialize, Deserialize)]
struct Order {
    id: u64,
    cents: u64,
}

/// The downstream the handler calls: fails its first `outages` calls.
#[derive(Debug, Default)]
struct Payments {
    outages: AtomicU32,
}

impl Payments {
    async fn charge(&self, _order: &Order) -> Result<(), std::io::Error> {
        let down = self
            .outages
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        if down {
            return Err(std::io::Error::other("payment service unavailable"));
        }
        Ok(())
    }
}

/// The handler under test: invalid orders are rejected (dead-lettered at once), a
/// payment failure is retried with the worker's backoff.
async fn handle(msg: Message<Order>, payments: Arc<Payments>) -> Result<(), HandlerError> {
    let order = msg
        .body()
        .map_err(|e| HandlerError::reject(e.to_string()))?;
    if order.cents == 0 {
        return Err(HandlerError::reject(format!(
            "order {} has no amount",
            order.id
        )));
    }
    payments.charge(order).await.map_err(HandlerError::retry)
}

/// The worker as the service builds it; tests build the same one on the kit's queue.
fn worker(
    queue: &Queue,
    dlq: &Queue,
    payments: Arc<Payments>,
) -> Result<Worker<Order>, weir::worker::BuildError> {
    Worker::builder(queue.clone())
        .handler(handler_fn(move |msg| handle(msg, payments.clone())))
        .max_attempts(4)
        .retry_policy(RetryPolicy::exponential(Duration::from_secs(2)))
        .dead_letter(dlq)
        .build()
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let queue = TestQueue::standard().await?;
    queue.send(&Order { id: 1, cents: 500 }).await?;
    queue.send(&Order { id: 2, cents: 0 }).await?;
    queue.send_raw("{not an order").await?;

    let payments = Arc::new(Payments {
        outages: AtomicU32::new(2),
    });
    let run = queue
        .run(worker(queue.queue(), queue.dlq(), payments)?)
        .await?;
    for (i, outcome) in run.outcomes.iter().enumerate() {
        println!("message {i}: {outcome:?}");
    }
    println!(
        "handled {} times in all, {} retries",
        run.report.received, run.report.retried
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir::test::Outcome;

    async fn run(orders: &[&str], outages: u32) -> weir::test::TestRun {
        let queue = TestQueue::standard().await.unwrap();
        for body in orders {
            queue.send_raw(body).await.unwrap();
        }
        let payments = Arc::new(Payments {
            outages: AtomicU32::new(outages),
        });
        queue
            .run(worker(queue.queue(), queue.dlq(), payments).unwrap())
            .await
            .unwrap()
    }

    fn reason(outcome: &Outcome) -> Option<&str> {
        match outcome {
            Outcome::DeadLettered { reason, .. } => Some(reason),
            _ => None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_payment_outage_is_retried_until_it_passes() {
        let run = run(&[r#"{"id":1,"cents":500}"#], 2).await;
        assert_eq!(run.outcomes, vec![Outcome::Acked]);
        assert_eq!(run.report.retried, 2, "two failed charges, then success");
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_outage_ends_in_the_dead_letter_queue() {
        let run = run(&[r#"{"id":1,"cents":500}"#], 100).await;
        assert_eq!(reason(&run.outcomes[0]), Some("max_attempts"));
    }

    #[tokio::test(start_paused = true)]
    async fn invalid_orders_are_dead_lettered_at_once_with_the_reason() {
        let run = run(&[r#"{"id":2,"cents":0}"#, "{not an order"], 0).await;
        assert_eq!(reason(&run.outcomes[0]), Some("rejected"));
        assert_eq!(reason(&run.outcomes[1]), Some("decode_failed"));
        assert_eq!(run.report.retried, 0);
    }
}
