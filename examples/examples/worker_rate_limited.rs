//! Run with: cargo run --example worker_rate_limited [-- --messages 10000 --rate 200]
//!
//! A load spike, absorbed. A burst of 10 000 messages lands in the queue at once; the
//! workers drain it at a steady 200 messages per second, however fast the messages
//! arrived, because they share one `RateLimiter` (a token bucket). The downstream they
//! protect (a database, a partner API) never sees more than its budget.
//!
//! The limit is applied *before* each receive: a worker asks the limiter for as many
//! permits as it wants messages, so no message sits in memory waiting for a permit while
//! its visibility timeout runs out; the backlog waits in SQS, where it is safe.
//!
//! Two workers (think: two replicas) share the limiter; a line per second shows the
//! queue's depth going down, the messages processed, and the rate. At 200/s the default
//! burst takes about 50 s; shrink it with `--messages N` (or `WEIR_MESSAGES`). Ctrl-C
//! stops the workers cleanly; what they hold goes back to the queue.

#![allow(clippy::print_stdout)] // an example prints what it shows

use clap::Parser as _;
use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use weir::aws_sdk_sqs::Client;
use weir::middleware::RateLimiter;
use weir::sqs::{Producer, QueueSpec};
use weir::worker::{HandlerError, Message, Worker, WorkerReport, handler_fn};
use weir_examples::{ctrl_c, delete_queues, human, unique_name};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Event {
    id: u64,
}

#[derive(Debug, Clone)]
struct Options {
    messages: u64,
    rate: u32,
    /// Print a line per second.
    verbose: bool,
}

#[derive(Debug)]
struct Summary {
    sent: u64,
    processed: u64,
    send_time: Duration,
    drain_time: Duration,
    /// The highest number of messages processed in any one second.
    peak_per_second: u64,
    left: u64,
    interrupted: bool,
    reports: Vec<WorkerReport>,
}

async fn run(client: &Client, options: &Options) -> Result<Summary, Box<dyn Error>> {
    let topology = QueueSpec::standard(unique_name("spike-events"))
        .dead_letter(5)
        .ensure(client)
        .await?;
    let queue = topology.queue;
    let dlq = topology
        .dlq
        .ok_or("the spec declares a dead-letter queue")?;

    // The spike: everything at once, 10 per call, 8 calls at a time.
    let started = Instant::now();
    let producer: Producer<Event> = Producer::builder(queue.clone()).concurrency(8).build()?;
    let events: Vec<Event> = (0..options.messages).map(|id| Event { id }).collect();
    let mut sent = 0;
    for chunk in events.chunks(1_000) {
        for r in producer.send_batch(chunk).await {
            r?;
            sent += 1;
        }
    }
    let send_time = started.elapsed();
    println!(
        "burst: {sent} messages sent in {} ({:.0}/s); draining at {}/s",
        human(send_time),
        sent as f64 / send_time.as_secs_f64().max(1e-3),
        options.rate
    );

    // One budget for every worker of the process: clones share it.
    let limiter = RateLimiter::builder()
        .per_second(f64::from(options.rate))
        .burst(10)
        .build()?;
    let processed = Arc::new(AtomicU64::new(0));
    let stop = CancellationToken::new();
    let mut workers = Vec::new();
    for _replica in 0..2 {
        let processed = processed.clone();
        let worker = Worker::builder(queue.clone())
            .handler(handler_fn(move |msg: Message<Event>| {
                let processed = processed.clone();
                async move {
                    msg.body()
                        .map_err(|e| HandlerError::reject(e.to_string()))?;
                    // The protected downstream call.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    processed.fetch_add(1, Ordering::Relaxed);
                    Ok::<_, HandlerError>(())
                }
            }))
            .concurrency(20)
            .rate_limit(limiter.clone())
            .dead_letter(&dlq)
            .wait_time(Duration::from_secs(1))
            .build()?;
        workers.push(tokio::spawn(
            worker.run_until(stop.clone().cancelled_owned()),
        ));
    }

    // The monitor: one line per second, until the burst is drained (or Ctrl-C).
    let drain_started = Instant::now();
    let mut ticks = tokio::time::interval_at(
        drain_started + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    let (mut last, mut peak_per_second, mut interrupted) = (0, 0, false);
    if options.verbose {
        println!(
            "{:>6} {:>8} {:>10} {:>7}",
            "time", "depth", "processed", "rate/s"
        );
    }
    while processed.load(Ordering::Relaxed) < sent {
        tokio::select! {
            _ = ticks.tick() => {}
            () = ctrl_c() => {
                interrupted = true;
                println!("Ctrl-C: stopping the workers");
                break;
            }
        }
        let done = processed.load(Ordering::Relaxed);
        let depth = queue.depth().await?;
        peak_per_second = peak_per_second.max(done - last);
        if options.verbose {
            println!(
                "{:>5}s {:>8} {:>10} {:>7}",
                drain_started.elapsed().as_secs(),
                depth.visible + depth.in_flight,
                done,
                done - last
            );
        }
        last = done;
    }
    let drain_time = drain_started.elapsed();
    stop.cancel();
    let mut reports = Vec::new();
    for w in workers {
        reports.push(w.await?);
    }
    let left = weir_examples::count(&queue).await?;
    delete_queues(&[&queue, &dlq]).await;
    Ok(Summary {
        sent,
        processed: processed.load(Ordering::Relaxed),
        send_time,
        drain_time,
        peak_per_second,
        left,
        interrupted,
        reports,
    })
}

/// Options: each can also be set by its environment variable (`--help` lists them).
#[derive(Debug, clap::Parser)]
struct Args {
    /// How many messages the spike sends.
    #[arg(long, env = "WEIR_MESSAGES", default_value_t = 10_000)]
    messages: u64,
    /// The shared limit, in messages per second.
    #[arg(long, env = "WEIR_RATE", default_value_t = 200)]
    rate: u32,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let options = Options {
        messages: args.messages,
        rate: args.rate,
        verbose: true,
    };
    let client = weir_examples::client().await;
    let s = run(&client, &options).await?;
    let per_worker: Vec<String> = s.reports.iter().map(|r| r.acked.to_string()).collect();
    println!(
        "\n{} of {} processed in {} ({:.0}/s on average, at most {} in one second; limit {}/s)",
        s.processed,
        s.sent,
        human(s.drain_time),
        s.processed as f64 / s.drain_time.as_secs_f64().max(1e-3),
        s.peak_per_second,
        options.rate
    );
    println!(
        "the burst arrived in {}; acked per worker: {}; left in the queue: {}{}",
        human(s.send_time),
        per_worker.join(" + "),
        s.left,
        if s.interrupted { " (interrupted)" } else { "" }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_drained_at_the_rate() {
        let client = weir::local::LocalSqs::new().client();
        let options = Options {
            messages: 600,
            rate: 100,
            verbose: false,
        };
        let s = weir_examples::within(Duration::from_secs(600), run(&client, &options))
            .await
            .unwrap();
        assert_eq!(s.processed, 600);
        assert_eq!(s.left, 0);
        // 600 at 100/s: about 6 s (the burst of 10 comes free), never faster.
        assert!(
            s.drain_time >= Duration::from_millis(5_800),
            "{:?}",
            s.drain_time
        );
        assert!(s.drain_time <= Duration::from_secs(8), "{:?}", s.drain_time);
        assert!(s.peak_per_second <= 100 + 10, "{}", s.peak_per_second);
        // Both workers took a share of the one budget.
        assert!(s.reports.iter().all(|r| r.acked > 0));
        assert_eq!(s.reports.iter().map(|r| r.acked).sum::<u64>(), 600);
    }
}
