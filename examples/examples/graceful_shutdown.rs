//! Run with: cargo run --example graceful_shutdown [-- --after 3]
//!
//! Stop a busy worker (Ctrl-C, a deploy, a scale-in) without losing a message.
//!
//! The shutdown comes while 50 jobs run (50–500 ms each; every 100th takes 10 s): on
//! Ctrl-C, or by itself after `--after SECS` (`WEIR_SHUTDOWN_AFTER`, default 3).
//! `run_until` then stops polling, releases the messages not started, waits for running
//! handlers up to the shutdown timeout (3 s), flushes the acks, and cancels and
//! releases what still runs. Counting the queue afterwards shows every job processed
//! (and deleted) or back in the queue.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Parser as _;
use weir::aws_sdk_sqs::Client;
use weir::prelude::*;
use weir::test::unique_name;
use weir_examples::{count, ctrl_c, delete_queues};

const SENT: u64 = 2_000;

/// How long job `id` takes.
fn duration(id: u64) -> Duration {
    if id.is_multiple_of(100) {
        Duration::from_secs(10)
    } else {
        Duration::from_millis(50 + id * 37 % 450)
    }
}

#[derive(Debug)]
struct Summary {
    /// Handler completions (a job done twice would count twice).
    processed: u64,
    /// Messages in the queue after the shutdown (visible, or invisible if a poll was cut off).
    left: u64,
    report: WorkerReport,
}

async fn run(client: &Client, messages: u64, after: Duration) -> Result<Summary, Box<dyn Error>> {
    let queue = QueueSpec::standard(unique_name("shutdown-jobs"))
        .visibility(Duration::from_secs(30))
        .ensure(client)
        .await?
        .queue;
    let ids: Vec<u64> = (0..messages).collect();
    for r in Producer::<u64>::new(queue.clone()).send_batch(&ids).await {
        r?;
    }
    let done = Arc::new(AtomicU64::new(0));
    let handler = handler_fn({
        let done = done.clone();
        move |msg: Message<u64>| {
            let (id, done) = (msg.body().ok().copied(), done.clone());
            async move {
                let id = id.ok_or_else(|| HandlerError::reject("not a job id"))?;
                tokio::time::sleep(duration(id)).await;
                done.fetch_add(1, Ordering::Relaxed);
                Ok::<_, HandlerError>(())
            }
        }
    });
    let worker = Worker::builder(queue.clone())
        .handler(handler)
        .concurrency(50)
        .shutdown_timeout(Duration::from_secs(3))
        .build()?;
    println!(
        "{messages} jobs sent; press Ctrl-C to stop the worker (it stops by itself after {after:?})"
    );
    let report = worker
        .run_until(async {
            tokio::select! {
                () = ctrl_c() => println!("Ctrl-C: shutting down"),
                () = tokio::time::sleep(after) => println!("{after:?}: shutting down"),
            }
        })
        .await;

    let left = count(&queue).await?;
    delete_queues(&[&queue]).await;
    let processed = done.load(Ordering::Relaxed);
    Ok(Summary {
        processed,
        left,
        report,
    })
}

/// Options, also from the environment (`--help` lists them).
#[derive(Debug, clap::Parser)]
struct Args {
    /// Seconds until the worker stops by itself.
    #[arg(long, env = "WEIR_SHUTDOWN_AFTER", default_value_t = 3)]
    after: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let after = Duration::from_secs(Args::parse().after);
    let client = weir_examples::client().await;
    let s = run(&client, SENT, after).await?;
    let r = &s.report;
    println!(
        "shutdown: {} released before they started, {} finished within the timeout, {} acks flushed, {} cancelled and released",
        r.released_prefetched,
        r.finished_in_shutdown,
        r.acks_flushed_in_shutdown,
        r.released_unfinished
    );
    let lost = SENT.saturating_sub(s.processed + s.left);
    println!(
        "sent {SENT}, processed {}, back in the queue {}, lost {lost}",
        s.processed, s.left
    );
    if lost > 0 {
        return Err(format!("{lost} jobs lost").into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn nothing_is_lost_when_stopping_mid_load() {
        let client = weir::local::LocalSqs::new().client();
        let s = tokio::time::timeout(
            Duration::from_secs(600),
            run(&client, 400, Duration::from_secs(1)),
        )
        .await
        .expect("the shutdown ends")
        .unwrap();
        assert!(
            s.processed > 0 && s.processed < 400,
            "stopped mid-load: {}",
            s.processed
        );
        assert_eq!(
            s.processed + s.left,
            400,
            "every job processed or back in the queue"
        );
        assert_eq!(s.processed, s.report.succeeded);
        // Job 0 takes 10 s: it was still running at the deadline, then cancelled.
        assert!(s.report.released_unfinished >= 1);
        assert!(s.report.finished_in_shutdown >= 1);
    }
}
