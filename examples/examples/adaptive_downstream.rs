//! Run with: cargo run --example adaptive_downstream [-- --messages 3000]
//!
//! A handler protecting a slow downstream API. The API (simulated here) takes at most
//! `capacity` calls per second and answers "429 Too Many Requests" past it; for the
//! first few seconds its capacity drops to a quarter, then comes back. The worker does
//! not know the capacity: it starts at 400 messages per second, and an
//! `AdaptiveRateLimiter` given to `rate_limit` lowers the receive rate each time a
//! handler returns `HandlerError::throttled` (multiplicative decrease), and raises it
//! again as calls succeed (additive increase). The throttled messages are retried a
//! second later through their visibility timeout: none is lost, none waits in memory.
//!
//! A line per second shows the downstream's capacity, the receive rate the worker chose,
//! and the calls the API accepted and refused.

#![allow(clippy::print_stdout)] // an example prints what it shows

use clap::Parser as _;
use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use weir::aws_sdk_sqs::Client;
use weir::middleware::{AdaptiveRateLimiter, RateLimiter};
use weir::sqs::{Producer, QueueSpec};
use weir::worker::{HandlerError, Message, RetryPolicy, Worker, WorkerReport, handler_fn};
use weir_examples::{delete_queues, human, unique_name};

/// The downstream API: a token bucket of `capacity` calls per second that refuses
/// (instead of waiting) past it.
#[derive(Clone)]
struct Downstream {
    normal: RateLimiter,
    degraded: RateLimiter,
    degraded_until: Instant,
    accepted: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
}

impl Downstream {
    fn new(capacity: f64, degraded_for: Duration) -> Result<Self, Box<dyn Error>> {
        Ok(Self {
            normal: RateLimiter::new(capacity, 10)?,
            degraded: RateLimiter::new(capacity / 4.0, 5)?,
            degraded_until: Instant::now() + degraded_for,
            accepted: Arc::default(),
            refused: Arc::default(),
        })
    }

    fn capacity(&self) -> f64 {
        if Instant::now() < self.degraded_until {
            self.degraded.per_second()
        } else {
            self.normal.per_second()
        }
    }

    /// One call: accepted within the capacity, refused with a 429 past it.
    async fn call(&self) -> Result<(), HandlerError> {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let bucket = if Instant::now() < self.degraded_until {
            &self.degraded
        } else {
            &self.normal
        };
        if bucket.try_acquire(1).is_ok() {
            self.accepted.fetch_add(1, Ordering::Relaxed);
            Ok(())
        } else {
            self.refused.fetch_add(1, Ordering::Relaxed);
            Err(HandlerError::throttled("HTTP 429 Too Many Requests"))
        }
    }
}

#[derive(Debug)]
struct Summary {
    processed: u64,
    refused: u64,
    /// The lowest receive rate the limiter chose while the API was degraded.
    lowest_rate: f64,
    /// The receive rate at the end.
    final_rate: f64,
    report: WorkerReport,
    took: Duration,
}

async fn run(client: &Client, messages: u64, verbose: bool) -> Result<Summary, Box<dyn Error>> {
    let topology = QueueSpec::standard(unique_name("downstream-jobs"))
        .dead_letter(50)
        .ensure(client)
        .await?;
    let queue = topology.queue;
    let dlq = topology
        .dlq
        .ok_or("the spec declares a dead-letter queue")?;
    let producer: Producer<u64> = Producer::new(queue.clone());
    let ids: Vec<u64> = (0..messages).collect();
    for r in producer.send_batch(&ids).await {
        r?;
    }
    let downstream = Downstream::new(200.0, Duration::from_secs(4))?;
    let adaptive = AdaptiveRateLimiter::builder()
        .min_per_second(10.0)
        .max_per_second(400.0)
        .burst(10)
        .increase_step(20.0)
        .increase_interval(Duration::from_millis(250))
        .decrease_cooldown(Duration::from_millis(500))
        .build()?;
    let api = downstream.clone();
    let worker = Worker::builder(queue.clone())
        .handler(handler_fn(move |_job: Message<u64>| {
            let api = api.clone();
            async move { api.call().await }
        }))
        .concurrency(50)
        .rate_limit(adaptive.clone())
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(1)))
        .max_attempts(1_000)
        .build()?;
    let handle = worker.handle();
    let running = tokio::spawn(worker.run());
    let start = Instant::now();
    let mut lowest_rate = adaptive.per_second();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    while downstream.accepted.load(Ordering::Relaxed) < messages {
        tokio::select! {
            _ = tick.tick() => {
                if verbose {
                    println!(
                        "{:>5}  downstream capacity {:>3.0}/s  receive rate {:>5.1}/s  accepted {:>5}  refused {:>5}",
                        human(start.elapsed()),
                        downstream.capacity(),
                        adaptive.per_second(),
                        downstream.accepted.load(Ordering::Relaxed),
                        downstream.refused.load(Ordering::Relaxed),
                    );
                }
            }
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
        if Instant::now() < downstream.degraded_until {
            lowest_rate = lowest_rate.min(adaptive.per_second());
        }
    }
    let took = start.elapsed();
    handle.shutdown();
    let report = running.await?;
    delete_queues(&[&queue, &dlq]).await;
    Ok(Summary {
        processed: downstream.accepted.load(Ordering::Relaxed),
        refused: downstream.refused.load(Ordering::Relaxed),
        lowest_rate,
        final_rate: adaptive.per_second(),
        report,
        took,
    })
}

/// Options: each can also be set by its environment variable (`--help` lists them).
#[derive(Debug, clap::Parser)]
struct Args {
    /// How many messages to send.
    #[arg(long, env = "WEIR_MESSAGES", default_value_t = 3_000)]
    messages: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let messages = Args::parse().messages;
    let client = weir_examples::client().await;
    let s = run(&client, messages, true).await?;
    println!(
        "\n{} jobs done in {}; the API refused {} calls (each retried a second later, none lost)",
        s.processed,
        human(s.took),
        s.refused
    );
    println!(
        "receive rate: started at 400/s, fell to {:.0}/s while the API took 50/s, ended at {:.0}/s; acked {}, retried {}",
        s.lowest_rate, s.final_rate, s.report.acked, s.report.retried
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_rate_follows_the_downstream_and_nothing_is_lost() {
        let client = weir::local::LocalSqs::new().client();
        let s = weir_examples::within(Duration::from_secs(600), run(&client, 1_500, false))
            .await
            .unwrap();
        assert_eq!(s.processed, 1_500);
        assert_eq!(s.report.acked, 1_500);
        assert!(s.refused > 0, "the API refused some calls");
        assert!(s.lowest_rate <= 100.0, "the rate fell: {}", s.lowest_rate);
        assert!(s.final_rate > s.lowest_rate, "and recovered: {s:?}");
        assert_eq!(s.report.dead_lettered, 0);
    }
}
