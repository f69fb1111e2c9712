//! Run with: cargo run --example graceful_shutdown
//!
//! Stop a busy worker (Ctrl-C, a deploy, a scale-in) without losing a message.
//!
//! A worker is handling a load of jobs (50 at a time, 50–500 ms each, and every 100th
//! takes 10 s) when the shutdown comes: press Ctrl-C, or it comes by itself after
//! `--after SECS` (`WEIR_SHUTDOWN_AFTER`; 2 s by default, 15 s when run in a terminal).
//! The worker then, in order:
//!
//! 1. stops polling (a long poll in flight may still complete: its messages are released);
//! 2. releases the messages it received but had not started (visibility 0: they are
//!    at once available to another worker);
//! 3. waits for the running handlers, up to the shutdown timeout (3 s here);
//! 4. flushes the pending acks;
//! 5. cancels the handlers still running (the 10 s jobs) and releases their messages.
//!
//! Then the example counts what is left in the queue: every job was either processed
//! (and deleted), or is back in the queue. Nothing is lost.

#![allow(clippy::print_stdout)] // an example prints what it shows

use clap::Parser as _;
use std::collections::HashSet;
use std::error::Error;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use weir::aws_sdk_sqs::Client;
use weir::sqs::{Producer, QueueSpec};
use weir::worker::{HandlerError, Message, Worker, WorkerReport, handler_fn};
use weir_examples::{Either, ctrl_c, delete_queues, either, human, unique_name};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job {
    id: u64,
}

impl Job {
    fn duration(&self) -> Duration {
        if self.id.is_multiple_of(100) {
            Duration::from_secs(10)
        } else {
            Duration::from_millis(50 + self.id * 37 % 450)
        }
    }
}

#[derive(Debug)]
struct Options {
    messages: u64,
    /// Shut down by itself after this long (Ctrl-C may come first).
    after: Duration,
    shutdown_timeout: Duration,
}

#[derive(Debug)]
struct Summary {
    sent: u64,
    /// Distinct jobs whose handler completed.
    processed: u64,
    /// Jobs whose handler completed more than once (must be 0).
    duplicates: u64,
    /// Messages visible in the queue after the shutdown.
    visible: u64,
    /// Messages still invisible after the shutdown (only if a poll was cut off).
    invisible: u64,
    lost: u64,
    by_ctrl_c: bool,
    shutdown_started: Duration,
    shutdown_took: Duration,
    report: WorkerReport,
}

async fn run(client: &Client, options: &Options) -> Result<Summary, Box<dyn Error>> {
    let topology = QueueSpec::standard(unique_name("shutdown-jobs"))
        .visibility(Duration::from_secs(30))
        .dead_letter(5)
        .ensure(client)
        .await?;
    let queue = topology.queue;
    let dlq = topology
        .dlq
        .ok_or("the spec declares a dead-letter queue")?;

    let producer: Producer<Job> = Producer::new(queue.clone());
    let jobs: Vec<Job> = (0..options.messages).map(|id| Job { id }).collect();
    let mut sent: u64 = 0;
    for r in producer.send_batch(&jobs).await {
        r?;
        sent += 1;
    }
    println!("sent {sent} jobs to {}", queue.name());

    let done = Arc::new(Mutex::new((HashSet::new(), 0_u64)));
    let handler = handler_fn({
        let done = done.clone();
        move |msg: Message<Job>| {
            let done = done.clone();
            async move {
                let job = msg
                    .body()
                    .map_err(|e| HandlerError::reject(e.to_string()))?;
                tokio::time::sleep(job.duration()).await;
                if let Ok(mut d) = done.lock()
                    && !d.0.insert(job.id)
                {
                    d.1 += 1;
                }
                Ok::<_, HandlerError>(())
            }
        }
    });
    let worker = Worker::builder(queue.clone())
        .handler(handler)
        .concurrency(50)
        .dead_letter(&dlq)
        .shutdown_timeout(options.shutdown_timeout)
        .build()?;

    let started = Instant::now();
    let mut by_ctrl_c = false;
    let mut shutdown_started = Duration::ZERO;
    let report = worker
        .run_until(async {
            by_ctrl_c = matches!(
                either(ctrl_c(), tokio::time::sleep(options.after)).await,
                Either::First(())
            );
            shutdown_started = started.elapsed();
            let processed = done.lock().map_or(0, |d| d.0.len());
            println!(
                "{} after {}, with {processed} jobs done: shutting down",
                if by_ctrl_c {
                    "Ctrl-C"
                } else {
                    "shutdown signal"
                },
                human(shutdown_started)
            );
        })
        .await;
    let shutdown_took = started.elapsed() - shutdown_started;

    // Count what is left: every job not processed must be back in the queue.
    let depth = queue.depth().await?;
    let (processed, duplicates) = done
        .lock()
        .map(|d| (d.0.len() as u64, d.1))
        .unwrap_or_default();
    let left = depth.visible + depth.in_flight + depth.delayed;
    let lost = sent.saturating_sub(processed + left);
    delete_queues(&[&queue, &dlq]).await;
    Ok(Summary {
        sent,
        processed,
        duplicates,
        visible: depth.visible,
        invisible: depth.in_flight + depth.delayed,
        lost,
        by_ctrl_c,
        shutdown_started,
        shutdown_took,
        report,
    })
}

/// Options: each can also be set by its environment variable (`--help` lists them).
#[derive(Debug, clap::Parser)]
struct Args {
    /// How many messages to send.
    #[arg(long, env = "WEIR_MESSAGES", default_value_t = 2_000)]
    messages: u64,
    /// Seconds until the worker stops by itself (15 in a terminal, else 2).
    #[arg(long, env = "WEIR_SHUTDOWN_AFTER")]
    after: Option<u64>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let interactive = std::io::stdin().is_terminal();
    let args = Args::parse();
    let options = Options {
        messages: args.messages,
        after: Duration::from_secs(args.after.unwrap_or(if interactive { 15 } else { 2 })),
        shutdown_timeout: Duration::from_secs(3),
    };
    let client = weir_examples::client().await;
    println!(
        "press Ctrl-C to stop the worker mid-load (it stops by itself after {})",
        human(options.after)
    );
    let s = run(&client, &options).await?;
    let r = &s.report;
    println!("\nshutdown took {}:", human(s.shutdown_took));
    println!(
        "  1. stop polling: {} long polls completed and their messages released, {} cut off",
        r.polls_drained, r.polls_cancelled
    );
    println!(
        "  2. released before they started: {:>5}",
        r.released_prefetched
    );
    println!(
        "  3. finished within the {} deadline: {:>5}",
        human(options.shutdown_timeout),
        r.finished_in_shutdown
    );
    println!(
        "  4. acks flushed:                  {:>5}",
        r.acks_flushed_in_shutdown
    );
    println!(
        "  5. cancelled at the deadline and released: {}",
        r.released_unfinished
    );
    println!("\naccounting, by counting the queue afterwards:");
    println!("  sent                 {:>6}", s.sent);
    println!(
        "  processed            {:>6}   (acked: deleted from the queue)",
        s.processed
    );
    println!(
        "  back in the queue    {:>6}   (visible, ready for the next worker)",
        s.visible
    );
    println!(
        "  still invisible      {:>6}   (reappear after the visibility timeout)",
        s.invisible
    );
    println!("  processed twice      {:>6}", s.duplicates);
    println!("  lost                 {:>6}", s.lost);
    let _ = (s.by_ctrl_c, s.shutdown_started);
    if s.lost > 0 {
        return Err(format!("{} jobs lost", s.lost).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn nothing_is_lost_when_stopping_mid_load() {
        let client = weir::local::LocalSqs::new().client();
        let options = Options {
            messages: 400,
            after: Duration::from_secs(1),
            shutdown_timeout: Duration::from_secs(3),
        };
        let s = weir_examples::within(Duration::from_secs(600), run(&client, &options))
            .await
            .unwrap();
        assert!(!s.by_ctrl_c);
        assert_eq!(s.shutdown_started, Duration::from_secs(1));
        assert_eq!(s.lost, 0);
        assert_eq!(s.duplicates, 0);
        assert!(s.processed > 0 && s.processed < 400, "{}", s.processed);
        assert_eq!(s.processed + s.visible + s.invisible, 400);
        // Job 0 takes 10 s: it was still running at the deadline, then cancelled.
        assert!(s.report.released_unfinished >= 1);
        assert!(s.report.finished_in_shutdown >= 1);
        assert!(
            s.shutdown_took <= Duration::from_secs(4),
            "{:?}",
            s.shutdown_took
        );
    }
}
