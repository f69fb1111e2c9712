//! An adaptive receive rate: handler outcomes that say "slow down" lower it, successes
//! raise it again, within its bounds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use weir_middleware::AdaptiveRateLimiter;
use weir_worker::{HandlerError, Message, RetryPolicy, Worker, handler_fn};

use crate::support::{Count, spawn};

worker_test! {
/// A downstream API that answers 429 for a while: the receive rate falls towards its
/// minimum while the handler reports throttling, and recovers to its maximum once the
/// API answers again. Every message is handled in the end.
async fn the_receive_rate_falls_on_throttling_and_recovers(env) {
    let q = env.queue("adaptive", &[]).await;
    env.send(&q, (0..300).map(|i| i.to_string())).await;
    let adaptive = AdaptiveRateLimiter::builder()
        .min_per_second(5.0)
        .max_per_second(200.0)
        .burst(10)
        .increase_step(50.0)
        .increase_interval(Duration::from_millis(100))
        .decrease_cooldown(Duration::from_millis(50))
        .build()
        .unwrap();
    let overloaded = Arc::new(AtomicBool::new(true));
    let done = Count::default();
    let (o, d) = (overloaded.clone(), done.clone());
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let (o, d) = (o.clone(), d.clone());
            async move {
                if o.load(Ordering::Relaxed) {
                    return Err(HandlerError::throttled("HTTP 429 from the downstream API"));
                }
                d.inc();
                Ok(())
            }
        }))
        .rate_limit(adaptive.clone())
        .retry_policy(RetryPolicy::fixed(Duration::ZERO))
        .max_attempts(10_000)
        .build()
        .unwrap();
    let (handle, run) = spawn(worker);
    let limit = Duration::from_secs(30);
    let start = tokio::time::Instant::now();
    while adaptive.per_second() > 5.0 {
        assert!(start.elapsed() < limit, "the rate did not fall: {}", adaptive.per_second());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(adaptive.decreases() >= 5, "halved from 200 to 5: {}", adaptive.decreases());
    overloaded.store(false, Ordering::Relaxed);
    while adaptive.per_second() < 200.0 || done.get() < 300 {
        assert!(
            start.elapsed() < limit,
            "no recovery: {} msg/s, {} handled",
            adaptive.per_second(),
            done.get()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    handle.shutdown();
    let report = run.await.unwrap();
    assert_eq!(report.succeeded, 300, "{report:?}");
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}
