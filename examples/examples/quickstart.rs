//! Run with: cargo run --example quickstart
//!
//! The whole path in one file: a typed producer sends orders to a queue, a worker
//! handles them, and a summary accounts for every message.
//!
//! - `QueueSpec` creates the queue and its dead-letter queue (idempotent).
//! - `Producer<Order>` sends JSON bodies in batches of 10.
//! - `Worker` receives only as many messages as it has free slots, runs the handler on
//!   each, and acks the successes in batches. A handler error decides the message's fate:
//!   `HandlerError::retry` gives it back to SQS with a backoff (it is delivered again),
//!   `HandlerError::reject` sends it to the dead-letter queue with the reason.
//! - The summary proves nothing was lost: every order is processed, in the dead-letter
//!   queue, or still in the queue (none, at the end).
//!
//! It runs on the in-process SQS unless `AWS_ENDPOINT_URL` (LocalStack) or AWS
//! credentials are set; see examples/README.md. `--messages N` changes the load (1000).

#![allow(clippy::print_stdout)] // an example prints what it shows

use clap::Parser as _;
use std::collections::HashSet;
use std::error::Error;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::time::Instant;
use weir::aws_sdk_sqs::Client;
use weir::sqs::{Producer, QueueSpec};
use weir::worker::{HandlerError, Message, RetryPolicy, Worker, WorkerReport, handler_fn};
use weir_examples::{Either, ctrl_c, delete_queues, human, unique_name};

/// What the producer sends: a plain serde type, a JSON body on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Order {
    id: u64,
    customer: String,
    total_cents: u64,
}

impl Order {
    fn new(id: u64) -> Self {
        Self {
            id,
            customer: format!("customer-{}", id % 37),
            // Every 100th order is invalid: it can never succeed.
            total_cents: if id % 100 == 99 { 0 } else { 500 + id % 5_000 },
        }
    }
}

#[derive(Debug, Clone)]
struct Options {
    messages: u64,
    concurrency: usize,
}

#[derive(Debug)]
struct Summary {
    sent: u64,
    /// Orders whose handler succeeded (distinct ids).
    processed: u64,
    /// Orders the handler rejected (distinct ids).
    rejected: u64,
    /// Messages found in the dead-letter queue at the end.
    in_dlq: u64,
    dlq_name: String,
    /// Messages still in the queue at the end.
    left: u64,
    /// Sent, and neither processed, dead-lettered nor left in the queue.
    lost: u64,
    interrupted: bool,
    /// From the first send until every order was handled.
    handled_in: Duration,
    /// From the first send until the worker had stopped.
    elapsed: Duration,
    report: WorkerReport,
}

/// Which orders the handler has seen through, shared by all handler calls.
#[derive(Default)]
struct Progress {
    processed: Mutex<HashSet<u64>>,
    rejected: Mutex<HashSet<u64>>,
    done: Notify,
}

impl Progress {
    fn finished(&self) -> u64 {
        let processed = self.processed.lock().map_or(0, |s| s.len());
        let rejected = self.rejected.lock().map_or(0, |s| s.len());
        (processed + rejected) as u64
    }

    fn record(&self, set: &Mutex<HashSet<u64>>, id: u64) {
        if let Ok(mut s) = set.lock() {
            s.insert(id);
        }
        self.done.notify_one();
    }
}

/// The business logic. Failures are simulated: every 25th order fails once with a
/// transient error (think: a downstream timeout), every 100th is invalid.
async fn handle(msg: Message<Order>, progress: Arc<Progress>) -> Result<(), HandlerError> {
    // A body that is not an Order can never succeed: reject it (dead-letter queue).
    let order = msg
        .body()
        .map_err(|e| HandlerError::reject(e.to_string()))?;
    if order.total_cents == 0 {
        progress.record(&progress.rejected, order.id);
        return Err(HandlerError::reject(format!(
            "order {} has no total",
            order.id
        )));
    }
    if order.id % 25 == 0 && msg.receive_count() == 1 {
        return Err(HandlerError::retry("payment service timed out"));
    }
    // The "work".
    tokio::time::sleep(Duration::from_millis(2 + order.id % 8)).await;
    progress.record(&progress.processed, order.id);
    Ok(())
}

async fn run(client: &Client, options: &Options) -> Result<Summary, Box<dyn Error>> {
    // 1. The queue and its dead-letter queue. The redrive policy (5 receives) is the
    //    safety net; the worker itself dead-letters rejected orders at once.
    let topology = QueueSpec::standard(unique_name("quickstart-orders"))
        .dead_letter(5)
        .ensure(client)
        .await?;
    let queue = topology.queue;
    let dlq = topology
        .dlq
        .ok_or("the spec declares a dead-letter queue")?;
    println!("queues: {} (dead letters: {})", queue.name(), dlq.name());

    let started = Instant::now();

    // 2. Send the orders, 10 per SendMessageBatch call, a few calls at a time.
    let producer: Producer<Order> = Producer::new(queue.clone());
    let orders: Vec<Order> = (0..options.messages).map(Order::new).collect();
    let mut sent = 0;
    for result in producer.send_batch(&orders).await {
        match result {
            Ok(_) => sent += 1,
            Err(e) => eprintln!("send failed: {e}"),
        }
    }
    println!("sent {sent} orders in {}", human(started.elapsed()));

    // 3. The worker. Retries wait 1 s (SQS counts visibility in whole seconds).
    let progress = Arc::new(Progress::default());
    let worker = Worker::builder(queue.clone())
        .handler(handler_fn({
            let progress = progress.clone();
            move |msg: Message<Order>| handle(msg, progress.clone())
        }))
        .concurrency(options.concurrency)
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(1)))
        .dead_letter(&dlq)
        // A short long-poll, so the demo stops promptly once the queue is empty;
        // services keep the default 20 s.
        .wait_time(Duration::from_secs(1))
        .build()?;
    println!(
        "worker: {} orders at a time; a failed order is retried 1 s later, an invalid one dead-lettered",
        options.concurrency
    );

    // 4. Run until every order is processed or rejected, or Ctrl-C.
    let handled_in = Mutex::new(None);
    let all_done = async {
        while progress.finished() < sent {
            progress.done.notified().await;
        }
        if let Ok(mut t) = handled_in.lock() {
            *t = Some(started.elapsed());
        }
    };
    let interrupted = AtomicBool::new(false);
    let report = worker
        .run_until(async {
            if let Either::First(()) = weir_examples::either(ctrl_c(), all_done).await {
                interrupted.store(true, Ordering::Relaxed);
            }
        })
        .await;
    let elapsed = started.elapsed();
    let interrupted = interrupted.load(Ordering::Relaxed);
    let handled_in = handled_in.lock().ok().and_then(|t| *t).unwrap_or(elapsed);

    // 5. Account for every order.
    let in_dlq = weir_examples::count(&dlq).await?;
    let left = weir_examples::count(&queue).await?;
    let processed = progress.processed.lock().map_or(0, |s| s.len()) as u64;
    let rejected = progress.rejected.lock().map_or(0, |s| s.len()) as u64;
    let lost = sent.saturating_sub(processed + in_dlq + left);
    delete_queues(&[&queue, &dlq]).await;
    Ok(Summary {
        sent,
        processed,
        rejected,
        in_dlq,
        dlq_name: dlq.name().to_owned(),
        left,
        lost,
        interrupted,
        handled_in,
        elapsed,
        report,
    })
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.report;
        writeln!(f)?;
        if self.interrupted {
            writeln!(f, "interrupted (Ctrl-C): stopped without losing a message")?;
        }
        writeln!(f, "  sent           {:>6}", self.sent)?;
        writeln!(
            f,
            "  processed      {:>6}   handler succeeded",
            self.processed
        )?;
        writeln!(
            f,
            "  retried        {:>6}   failed once (\"payment service timed out\"), succeeded 1 s later",
            r.retried
        )?;
        writeln!(
            f,
            "  dead-lettered  {:>6}   rejected as invalid; {} found in {}",
            self.rejected, self.in_dlq, self.dlq_name
        )?;
        writeln!(f, "  left in queue  {:>6}", self.left)?;
        writeln!(
            f,
            "  lost           {:>6}   = sent - processed - dead-lettered - left",
            self.lost
        )?;
        let until = if self.interrupted {
            "until Ctrl-C"
        } else {
            "to handle every order (1 s of it is the retry delay)"
        };
        writeln!(
            f,
            "  time        {:>9}   {until}; stopped cleanly at {}",
            human(self.handled_in),
            human(self.elapsed)
        )?;
        writeln!(
            f,
            "  worker calls   {:>6}   to SQS: receives of up to 10 messages, deletes in batches of 10",
            r.sqs_requests
        )
    }
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
    let options = Options {
        messages: Args::parse().messages,
        concurrency: 50,
    };
    let (client, _target) = weir_examples::client().await;
    let summary = run(&client, &options).await?;
    println!("{summary}");
    if summary.lost > 0 {
        return Err(format!("{} messages lost", summary.lost).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn every_order_is_accounted_for() {
        let client = weir::local::LocalSqs::new().client();
        let options = Options {
            messages: 200,
            concurrency: 20,
        };
        let s = weir_examples::within(Duration::from_secs(600), run(&client, &options))
            .await
            .unwrap();
        assert_eq!(s.sent, 200);
        assert_eq!(s.lost, 0);
        assert_eq!(s.left, 0);
        // Orders 99 and 199 are invalid; 0, 25, .., 175 fail once each.
        assert_eq!(s.rejected, 2);
        assert_eq!(s.in_dlq, 2);
        assert_eq!(s.report.dead_lettered, 2);
        assert_eq!(s.processed, 198);
        assert_eq!(s.report.retried, 8);
        assert!(!s.interrupted);
    }
}
