//! Run with: cargo run --example retries_and_dlq
//!
//! What happens to a message whose handler fails.
//!
//! - A **transient** failure (`HandlerError::retry`) gives the message back to SQS with
//!   an exponential backoff (1 s, 2 s, 4 s, …): its visibility timeout is changed, so the
//!   retry survives a crash of the worker. Here job 2 fails twice, then succeeds.
//! - A job that keeps failing transiently (job 3) is dead-lettered after `max_attempts`
//!   (4) deliveries, with the reason `max_attempts`.
//! - A **permanent** failure (`HandlerError::reject`, job 4) goes to the dead-letter
//!   queue at once, with the reason `rejected` and the error message.
//! - A body that does not decode (a poison message) is dead-lettered as `decode_failed`.
//!
//! Getting dead letters back is the `redrive` example. Takes about 7 s (real backoffs).

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use weir::aws_sdk_sqs::Client;
use weir::prelude::*;
use weir::test::unique_name;
use weir_examples::{count, dead_letter_reasons, delete_queues, until_drained};

/// When the handler saw each job: job id → whole seconds since the start, per delivery.
type Deliveries = Arc<Mutex<BTreeMap<u32, Vec<u64>>>>;

const MAX_ATTEMPTS: u32 = 4;

/// Job 1 succeeds, 2 fails twice first, 3 always fails, 4 is invalid.
async fn handle(msg: Message<u32>, seen: Deliveries, start: Instant) -> Result<(), HandlerError> {
    let id = *msg
        .body()
        .map_err(|e| HandlerError::reject(e.to_string()))?;
    if let Ok(mut seen) = seen.lock() {
        seen.entry(id).or_default().push(start.elapsed().as_secs());
    }
    match id {
        2 if msg.receive_count() <= 2 => Err(HandlerError::retry("inventory service: 503")),
        3 => Err(HandlerError::retry("inventory service: connection reset")),
        4 => Err(HandlerError::reject("job 4: quantity must be positive")),
        _ => Ok(()),
    }
}

#[derive(Debug)]
struct Summary {
    deliveries: BTreeMap<u32, Vec<u64>>,
    dead_letters: Vec<String>,
    left: u64,
    report: WorkerReport,
}

async fn run(client: &Client) -> Result<Summary, Box<dyn Error>> {
    // The queue's redrive policy (10 receives) is a safety net: the worker comes first.
    let topology = QueueSpec::standard(unique_name("retry-jobs"))
        .dead_letter(10)
        .ensure(client)
        .await?;
    let (queue, dlq) = (topology.queue, topology.dlq.ok_or("no dead-letter queue")?);
    for r in Producer::<u32>::new(queue.clone())
        .send_batch(&[1, 2, 3, 4])
        .await
    {
        r?;
    }
    // A poison message, from a program that does not know the format.
    client
        .send_message()
        .queue_url(queue.url())
        .message_body("seven")
        .send()
        .await?;

    let (seen, start) = (Deliveries::default(), Instant::now());
    let handler = handler_fn({
        let seen = seen.clone();
        move |msg| handle(msg, seen.clone(), start)
    });
    let worker = Worker::builder(queue.clone())
        .handler(handler)
        .retry_policy(RetryPolicy::exponential(Duration::from_secs(1)).without_jitter())
        .max_attempts(MAX_ATTEMPTS)
        .dead_letter(&dlq)
        .wait_time(Duration::from_secs(1))
        .build()?;
    let report = worker.run_until(until_drained(&queue)).await;

    let dead_letters = dead_letter_reasons(&dlq).await?;
    let left = count(&queue).await?;
    delete_queues(&[&queue, &dlq]).await;
    let deliveries = seen.lock().map(|s| s.clone()).unwrap_or_default();
    Ok(Summary {
        deliveries,
        dead_letters,
        left,
        report,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let client = weir_examples::client().await;
    let s = run(&client).await?;
    for (id, secs) in &s.deliveries {
        println!("job {id} delivered at {secs:?} s (since the start)");
    }
    println!("dead-letter queue:\n  {}", s.dead_letters.join("\n  "));
    let r = &s.report;
    println!(
        "{} succeeded, {} retries, {} dead-lettered, {} left in the queue",
        r.succeeded, r.retried, r.dead_lettered, s.left
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn retried_with_backoff_then_dead_lettered_with_the_reason() {
        let client = weir::local::LocalSqs::new().client();
        let s = tokio::time::timeout(Duration::from_secs(600), run(&client))
            .await
            .expect("the queue drains")
            .unwrap();
        // Job 2 failed twice, then succeeded; job 3 was dead-lettered after 4 deliveries.
        // The delays between deliveries doubled: 1 s, 2 s, 4 s.
        assert_eq!(s.deliveries[&2], [0, 1, 3]);
        assert_eq!(s.deliveries[&3], [0, 1, 3, 7]);

        let mut reasons = s.dead_letters.clone();
        reasons.sort();
        let want = [
            "decode_failed after 1 ",
            "max_attempts after 4 ",
            "rejected after 1 ",
        ];
        assert_eq!(reasons.len(), 3);
        for (got, want) in reasons.iter().zip(want) {
            assert!(got.starts_with(want), "{reasons:?}");
        }
        assert!(reasons[2].ends_with("quantity must be positive"));
        // Every message accounted for: 2 succeeded + 3 dead-lettered == 5 sent.
        assert_eq!((s.report.succeeded, s.report.dead_lettered), (2, 3));
        assert_eq!(s.left, 0);
    }
}
