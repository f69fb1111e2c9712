//! Run with: cargo run --example retries_and_dlq
//!
//! What happens to a message whose handler fails, and how to get it back.
//!
//! - A **transient** failure (`HandlerError::retry`) gives the message back to SQS with
//!   an exponential backoff (1 s, 2 s, 4 s, …): its visibility timeout is changed, so the
//!   retry survives a crash of the worker. Here one job fails twice, then succeeds.
//! - A job that keeps failing transiently is dead-lettered after `max_attempts` (4)
//!   deliveries, with the reason `max_attempts`.
//! - A **permanent** failure (`HandlerError::reject`) goes to the dead-letter queue at
//!   once, with the reason `rejected` and the error message.
//! - A body that does not decode (a poison message) is dead-lettered as `decode_failed`.
//! - Once the bug is fixed, a **redrive** (an SQS message move task) sends the
//!   dead letters back to the source queue, and the worker processes them; only the
//!   poison message comes back to the DLQ.
//!
//! Takes about 10 s (the backoffs are real time).

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use weir::aws_sdk_sqs::Client;
use weir::sqs::redrive::{self, ManualMove};
use weir::sqs::{Producer, Queue, QueueSpec};
use weir::worker::{HandlerError, Message, RetryPolicy, Worker, WorkerReport, handler_fn};
use weir_examples::{
    DeadLetterView, Either, ctrl_c, delete_queues, drained, either, human, peek_dead_letters,
    unique_name,
};

/// How a job behaves, so the example can show each path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Behaviour {
    Ok,
    /// Fails transiently on its first two deliveries.
    FlakyTwice,
    /// Always fails transiently (until the bug is fixed).
    AlwaysFlaky,
    /// Invalid input: permanently rejected (until the bug is fixed).
    Invalid,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job {
    id: u32,
    behaviour: Behaviour,
}

/// Every delivery the handler saw: job id → (receive count, time since start).
type Attempts = Arc<Mutex<BTreeMap<u32, Vec<(u32, Duration)>>>>;

#[derive(Debug)]
struct Summary {
    attempts: BTreeMap<u32, Vec<(u32, Duration)>>,
    first_run: WorkerReport,
    dead_letters: Vec<DeadLetterView>,
    redrive: String,
    second_run: WorkerReport,
    dlq_after: Vec<DeadLetterView>,
    left_in_queue: u64,
}

const MAX_ATTEMPTS: u32 = 4;

fn worker(
    queue: &Queue,
    dlq: &Queue,
    attempts: &Attempts,
    fixed: &Arc<AtomicBool>,
    started: Instant,
) -> Result<Worker<Job>, Box<dyn Error>> {
    let (attempts, fixed) = (attempts.clone(), fixed.clone());
    let handler = handler_fn(move |msg: Message<Job>| {
        let (attempts, fixed) = (attempts.clone(), fixed.clone());
        async move {
            let job = msg
                .body()
                .map_err(|e| HandlerError::reject(e.to_string()))?;
            let n = msg.receive_count();
            if let Ok(mut a) = attempts.lock() {
                a.entry(job.id).or_default().push((n, started.elapsed()));
            }
            let fixed = fixed.load(Ordering::Relaxed);
            match job.behaviour {
                Behaviour::FlakyTwice if n <= 2 => {
                    Err(HandlerError::retry("inventory service: 503"))
                }
                Behaviour::AlwaysFlaky if !fixed => {
                    Err(HandlerError::retry("inventory service: connection reset"))
                }
                Behaviour::Invalid if !fixed => Err(HandlerError::reject(format!(
                    "job {}: quantity must be positive",
                    job.id
                ))),
                _ => Ok(()),
            }
        }
    });
    Ok(Worker::builder(queue.clone())
        .handler(handler)
        .concurrency(10)
        .retry_policy(
            RetryPolicy::exponential(Duration::from_secs(1))
                .with_max(Duration::from_secs(8))
                .without_jitter(),
        )
        .max_attempts(MAX_ATTEMPTS)
        .dead_letter(dlq)
        .wait_time(Duration::from_secs(1))
        .build()?)
}

/// Stops the worker when the queue is empty, or on Ctrl-C.
async fn until_drained_or_ctrl_c(queue: &Queue) {
    if let Either::First(()) = either(ctrl_c(), drained(queue, Duration::from_millis(100))).await {
        println!("Ctrl-C: stopping (unfinished messages go back to the queue)");
    }
}

async fn run(client: &Client) -> Result<Summary, Box<dyn Error>> {
    // The queue's own redrive policy (after 10 receives) is only the safety net: the
    // worker dead-letters earlier, with the reason attached.
    let topology = QueueSpec::standard(unique_name("retry-jobs"))
        .dead_letter(10)
        .ensure(client)
        .await?;
    let queue = topology.queue;
    let dlq = topology
        .dlq
        .ok_or("the spec declares a dead-letter queue")?;

    let jobs: Vec<Job> = [
        Behaviour::Ok,
        Behaviour::FlakyTwice,
        Behaviour::Ok,
        Behaviour::AlwaysFlaky,
        Behaviour::Invalid,
        Behaviour::Ok,
    ]
    .into_iter()
    .zip(1..)
    .map(|(behaviour, id)| Job { id, behaviour })
    .collect();
    let producer: Producer<Job> = Producer::new(queue.clone());
    for r in producer.send_batch(&jobs).await {
        r?;
    }
    // A poison message: not a Job at all.
    client
        .send_message()
        .queue_url(queue.url())
        .message_body(r#"{"id": "seven", "behaviour": "?"}"#)
        .send()
        .await?;
    println!(
        "sent {} jobs and 1 poison message to {}",
        jobs.len(),
        queue.name()
    );

    // --- Run 1: the bug is still there -------------------------------------------------
    let started = Instant::now();
    let attempts: Attempts = Arc::default();
    let fixed = Arc::new(AtomicBool::new(false));
    let first_run = worker(&queue, &dlq, &attempts, &fixed, started)?
        .run_until(until_drained_or_ctrl_c(&queue))
        .await;
    let dead_letters = peek_dead_letters(&dlq).await?;

    // --- The fix ships; redrive the dead letters back to the source queue -------------
    fixed.store(true, Ordering::Relaxed);
    let redrive = match redrive::start(&dlq, queue.arn(), Some(50)).await {
        Ok(_handle) => loop {
            // ListMessageMoveTasks lists the most recent task first.
            let tasks = redrive::list(&dlq).await?;
            match tasks.first() {
                Some(t) if t.status.as_deref() == Some("RUNNING") => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Some(t) => {
                    break format!(
                        "message move task {}, {} moved",
                        t.status.as_deref().unwrap_or("?"),
                        t.moved
                    );
                }
                None => break "message move task finished".to_owned(),
            }
        },
        // Some endpoints have no move tasks; move by hand (receive, send, delete).
        Err(e) => {
            println!("no message move task ({e}); moving by hand");
            let report = redrive::manual(&dlq, &queue, &ManualMove::default()).await?;
            format!(
                "manual move: {} moved, {} failed",
                report.moved, report.failed
            )
        }
    };

    // --- Run 2: the fixed worker drains the redriven messages -------------------------
    let second_run = worker(&queue, &dlq, &attempts, &fixed, started)?
        .run_until(until_drained_or_ctrl_c(&queue))
        .await;
    let dlq_after = peek_dead_letters(&dlq).await?;
    let left_in_queue = weir_examples::count(&queue).await?;
    delete_queues(&[&queue, &dlq]).await;

    let attempts = attempts.lock().map(|a| a.clone()).unwrap_or_default();
    Ok(Summary {
        attempts,
        first_run,
        dead_letters,
        redrive,
        second_run,
        dlq_after,
        left_in_queue,
    })
}

fn print(s: &Summary) {
    println!(
        "\nrun 1: {} succeeded, {} retried, {} dead-lettered",
        s.first_run.succeeded, s.first_run.retried, s.first_run.dead_lettered
    );
    println!("  deliveries per job, both runs (receive count @ time since start):");
    for (id, tries) in &s.attempts {
        let line: Vec<String> = tries
            .iter()
            .map(|(n, at)| format!("#{n} @ {}", human(*at)))
            .collect();
        println!("    job {id}: {}", line.join(", "));
    }
    println!("  dead-letter queue:");
    for d in &s.dead_letters {
        println!(
            "    {:<13} after {} deliveries: {}   body: {}",
            d.reason, d.attempts, d.error, d.body
        );
    }
    println!("\nredrive: {}", s.redrive);
    println!(
        "run 2 (bug fixed): {} succeeded, {} dead-lettered",
        s.second_run.succeeded, s.second_run.dead_lettered
    );
    println!("  dead-letter queue now:");
    for d in &s.dlq_after {
        println!("    {:<13} {}   body: {}", d.reason, d.error, d.body);
    }
    println!("  left in the source queue: {}", s.left_in_queue);
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let client = weir_examples::client().await;
    let summary = run(&client).await?;
    print(&summary);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn retried_dead_lettered_and_redriven() {
        let client = weir::local::LocalSqs::new().client();
        let s = weir_examples::within(Duration::from_secs(600), run(&client))
            .await
            .unwrap();

        // Job 2 failed twice, then succeeded; the delays doubled: 1 s, then 2 s.
        let flaky = &s.attempts[&2];
        assert_eq!(flaky.iter().map(|t| t.0).collect::<Vec<_>>(), [1, 2, 3]);
        let gap = |i: usize| flaky[i + 1].1 - flaky[i].1;
        assert!(gap(0) >= Duration::from_secs(1) && gap(0) < Duration::from_secs(2));
        assert!(gap(1) >= Duration::from_secs(2) && gap(1) < Duration::from_secs(3));

        // Run 1: job 4 exhausted, job 5 rejected, the poison message undecodable.
        let mut reasons: Vec<&str> = s.dead_letters.iter().map(|d| d.reason.as_str()).collect();
        reasons.sort_unstable();
        assert_eq!(reasons, ["decode_failed", "max_attempts", "rejected"]);
        assert_eq!(s.first_run.dead_lettered, 3);
        assert!(
            s.dead_letters
                .iter()
                .any(|d| d.attempts == MAX_ATTEMPTS.to_string())
        );

        // Run 2: the two jobs succeed; the poison message is back in the DLQ.
        assert_eq!(s.second_run.succeeded, 2);
        assert_eq!(s.second_run.dead_lettered, 1);
        assert_eq!(s.dlq_after.len(), 1);
        assert_eq!(s.dlq_after[0].reason, "decode_failed");
        assert_eq!(s.left_in_queue, 0);
    }
}
