//! Run with: cargo run --example adaptive_downstream [-- --messages 3000]
//!
//! A handler protecting a slow downstream API that answers "429 Too Many Requests" past
//! 200 calls per second (50 during the first 4 s). The worker does not know that: an
//! `AdaptiveRateLimiter` given to `rate_limit` lowers the receive rate each time a
//! handler returns `HandlerError::throttled`, and raises it again as calls succeed
//! (AIMD). Throttled messages are retried a second later through their visibility
//! timeout: none is lost, none waits in memory. A line per second shows the rate.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Parser as _;
use tokio::time::Instant;
use weir::aws_sdk_sqs::Client;
use weir::middleware::AdaptiveRateLimiter;
use weir::prelude::*;
use weir::test::unique_name;
use weir_examples::delete_queues;

/// The downstream API: a token bucket that refuses (instead of waiting) past its rate.
#[derive(Clone)]
struct Downstream {
    normal: RateLimiter,
    degraded: RateLimiter,
    degraded_until: Instant,
    accepted: Arc<AtomicU64>,
}

impl Downstream {
    fn bucket(&self) -> &RateLimiter {
        if Instant::now() < self.degraded_until {
            &self.degraded
        } else {
            &self.normal
        }
    }

    async fn call(&self) -> Result<(), HandlerError> {
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.bucket()
            .try_acquire(1)
            .map_err(|_| HandlerError::throttled("HTTP 429 Too Many Requests"))?;
        self.accepted.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[derive(Debug)]
struct Summary {
    /// The lowest receive rate chosen while the API was degraded, and the last.
    lowest_rate: f64,
    final_rate: f64,
    report: WorkerReport,
}

async fn run(client: &Client, messages: u64) -> Result<Summary, Box<dyn Error>> {
    let queue = QueueSpec::standard(unique_name("downstream-jobs"))
        .ensure(client)
        .await?
        .queue;
    let ids: Vec<u64> = (0..messages).collect();
    for r in Producer::<u64>::new(queue.clone()).send_batch(&ids).await {
        r?;
    }
    let api = Downstream {
        normal: RateLimiter::new(200.0, 10)?,
        degraded: RateLimiter::new(50.0, 5)?,
        degraded_until: Instant::now() + Duration::from_secs(4),
        accepted: Arc::default(),
    };
    let adaptive = AdaptiveRateLimiter::builder()
        .min_per_second(10.0)
        .max_per_second(400.0)
        .burst(10)
        .increase_step(20.0)
        .increase_interval(Duration::from_millis(250))
        .decrease_cooldown(Duration::from_millis(500))
        .build()?;
    let handler_api = api.clone();
    let worker = Worker::builder(queue.clone())
        .handler(handler_fn(move |_job: Message<u64>| {
            let api = handler_api.clone();
            async move { api.call().await }
        }))
        .concurrency(50)
        .rate_limit(adaptive.clone())
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(1)))
        .max_attempts(1_000)
        .build()?;

    // A line per second, until every job is accepted.
    let (start, mut lowest_rate) = (Instant::now(), adaptive.per_second());
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let monitor = async {
        while api.accepted.load(Ordering::Relaxed) < messages {
            tick.tick().await;
            let (capacity, rate) = (api.bucket().per_second(), adaptive.per_second());
            if Instant::now() < api.degraded_until {
                lowest_rate = lowest_rate.min(rate);
            }
            let accepted = api.accepted.load(Ordering::Relaxed);
            let at = start.elapsed().as_secs();
            println!(
                "{at:>3} s  API capacity {capacity:>3.0}/s  receive rate {rate:>5.1}/s  accepted {accepted:>5}"
            );
        }
    };
    let report = worker.run_until(monitor).await;
    delete_queues(&[&queue]).await;
    Ok(Summary {
        lowest_rate,
        final_rate: adaptive.per_second(),
        report,
    })
}

/// Options, also from the environment (`--help` lists them).
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
    let s = run(&client, messages).await?;
    println!(
        "{} jobs acked, {} throttled calls retried a second later; the rate fell to {:.0}/s while the API took 50/s, and ended at {:.0}/s",
        s.report.acked, s.report.retried, s.lowest_rate, s.final_rate
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_rate_follows_the_downstream_and_nothing_is_lost() {
        let client = weir::local::LocalSqs::new().client();
        let s = tokio::time::timeout(Duration::from_secs(600), run(&client, 1_500))
            .await
            .expect("every job is accepted")
            .unwrap();
        assert_eq!(s.report.acked, 1_500, "every job done once");
        assert_eq!(s.report.dead_lettered, 0);
        assert!(s.report.retried > 0, "the API refused some calls");
        assert!(s.lowest_rate <= 100.0, "the rate fell: {}", s.lowest_rate);
        assert!(s.final_rate > s.lowest_rate, "and recovered: {s:?}");
    }
}
