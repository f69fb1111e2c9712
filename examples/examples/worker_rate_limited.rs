//! Run with: cargo run --example worker_rate_limited [-- --messages 2000]
//!
//! A load spike, absorbed. A burst of messages lands in the queue at once; two workers
//! (think: two replicas) drain it at a steady 200 messages per second, however fast the
//! messages arrived, because they share one `RateLimiter` (a token bucket): clones of a
//! limiter share its budget. The downstream they protect (a database, a partner API)
//! never sees more than that.
//!
//! The limit is applied *before* each receive: a worker asks the limiter for as many
//! permits as it wants messages, so no message sits in memory waiting for a permit while
//! its visibility timeout runs out; the backlog waits in SQS, where it is safe. The
//! default 2000 messages take about 10 s (`--messages N` or `WEIR_MESSAGES`).

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::error::Error;
use std::time::Duration;

use clap::Parser as _;
use tokio::time::Instant;
use weir::aws_sdk_sqs::Client;
use weir::prelude::*;
use weir::test::unique_name;
use weir_examples::{count, delete_queues, until_drained};

const RATE: f64 = 200.0;

#[derive(Debug)]
struct Summary {
    drain_time: Duration,
    left: u64,
    /// One per worker.
    reports: [WorkerReport; 2],
}

fn worker(queue: &Queue, limiter: &RateLimiter) -> Result<Worker<u64>, Box<dyn Error>> {
    Ok(Worker::builder(queue.clone())
        .handler(handler_fn(|_event: Message<u64>| async {
            // The protected downstream call.
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, HandlerError>(())
        }))
        .concurrency(20)
        .rate_limit(limiter.clone())
        .wait_time(Duration::from_secs(1))
        .build()?)
}

async fn run(client: &Client, messages: u64) -> Result<Summary, Box<dyn Error>> {
    let queue = QueueSpec::standard(unique_name("spike-events"))
        .ensure(client)
        .await?
        .queue;
    // The spike: everything at once, 10 per call, 8 calls at a time.
    let producer: Producer<u64> = Producer::builder(queue.clone()).concurrency(8).build()?;
    let events: Vec<u64> = (0..messages).collect();
    for r in producer.send_batch(&events).await {
        r?;
    }
    println!("burst: {messages} messages in the queue; draining at {RATE}/s");

    // One budget for both workers: they share the limiter.
    let limiter = RateLimiter::builder().per_second(RATE).burst(10).build()?;
    let (a, b) = (worker(&queue, &limiter)?, worker(&queue, &limiter)?);
    let started = Instant::now();
    let reports = tokio::join!(
        a.run_until(until_drained(&queue)),
        b.run_until(until_drained(&queue))
    );
    let drain_time = started.elapsed();
    let left = count(&queue).await?;
    delete_queues(&[&queue]).await;
    Ok(Summary {
        drain_time,
        left,
        reports: [reports.0, reports.1],
    })
}

/// Options, also from the environment (`--help` lists them).
#[derive(Debug, clap::Parser)]
struct Args {
    /// How many messages the spike sends.
    #[arg(long, env = "WEIR_MESSAGES", default_value_t = 2_000)]
    messages: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let messages = Args::parse().messages;
    let client = weir_examples::client().await;
    let s = run(&client, messages).await?;
    let [a, b] = &s.reports;
    println!(
        "{} + {} messages acked by the two workers in {:.1?} ({:.0}/s; limit {RATE}/s); {} left",
        a.acked,
        b.acked,
        s.drain_time,
        (a.acked + b.acked) as f64 / s.drain_time.as_secs_f64().max(1e-3),
        s.left
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_drained_at_the_shared_rate() {
        let client = weir::local::LocalSqs::new().client();
        let s = tokio::time::timeout(Duration::from_secs(600), run(&client, 600))
            .await
            .expect("the queue drains")
            .unwrap();
        let [a, b] = &s.reports;
        assert_eq!(a.acked + b.acked, 600, "every message handled once");
        assert_eq!(s.left, 0);
        assert!(a.acked > 0 && b.acked > 0, "both workers took a share");
        // 600 at 200/s: about 3 s (the burst of 10 comes free), never faster. Two
        // limiters instead of one shared would take half as long.
        assert!(
            s.drain_time >= Duration::from_millis(2_900),
            "{:?}",
            s.drain_time
        );
        assert!(s.drain_time <= Duration::from_secs(4), "{:?}", s.drain_time);
    }
}
