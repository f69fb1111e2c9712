//! Back pressure and pacing: concurrency is never exceeded, the rate limit holds,
//! pause/resume and health.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use weir_worker::{HandlerError, Message, RateLimiter, Worker, handler_fn};

use crate::support::{Count, assert_accounted, eventually, run_until, spawn};

worker_test! {
async fn concurrency_is_never_exceeded(env) {
    let q = env.queue("conc", &[]).await;
    env.send(&q, (0..300).map(|i| i.to_string())).await;
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let done = Count::default();
    let (r, p, d) = (running.clone(), peak.clone(), done.clone());
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u64>| {
            let (r, p, d) = (r.clone(), p.clone(), d.clone());
            async move {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                // Varied durations so slots free up at different times.
                let ms = 5 + (m.body().unwrap() * 37) % 200;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                r.fetch_sub(1, Ordering::SeqCst);
                d.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .concurrency(7)
        .pollers(3)
        .build()
        .unwrap();
    let handle = worker.handle();
    let (h2, task) = (handle.clone(), tokio::spawn(worker.run()));
    let mut max_in_flight = 0;
    while done.get() < 300 {
        max_in_flight = max_in_flight.max(h2.health().in_flight);
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    handle.shutdown();
    let report = task.await.unwrap();
    assert!(
        peak.load(Ordering::SeqCst) <= 7,
        "peak {}",
        peak.load(Ordering::SeqCst)
    );
    assert_eq!(peak.load(Ordering::SeqCst), 7, "the slots were used");
    assert!(
        max_in_flight <= 7,
        "in flight (incl. waiting for ack) {max_in_flight}"
    );
    assert_eq!(report.acked, 300);
    assert_accounted(&report);
}
}

worker_test! {
async fn the_rate_limit_is_respected(env) {
    let q = env.queue("rate", &[]).await;
    env.send(&q, (0..100).map(|i| i.to_string())).await;
    let times = Arc::new(Mutex::new(Vec::new()));
    let t = times.clone();
    let limiter = RateLimiter::new(10.0, 5).unwrap();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u64>| {
            let t = t.clone();
            async move {
                t.lock().unwrap().push(Instant::now());
                Ok::<_, HandlerError>(())
            }
        }))
        .concurrency(50)
        .pollers(4)
        .rate_limit(limiter)
        .build()
        .unwrap();
    let start = Instant::now();
    let report = run_until(worker, Duration::from_secs(60), || {
        times.lock().unwrap().len() == 100
    })
    .await;
    let times = times.lock().unwrap().clone();
    // 100 messages at 10/s with a burst of 5: at least 9.5 s.
    let last = *times.iter().max().unwrap() - start;
    assert!(last >= Duration::from_millis(9_400), "{last:?}");
    // In any 1 s window: at most rate + burst.
    for &t0 in &times {
        let n = times
            .iter()
            .filter(|&&t| t >= t0 && t < t0 + Duration::from_secs(1))
            .count();
        assert!(n <= 15, "{n} messages within 1 s");
    }
    assert_eq!(report.acked, 100);
}
}

worker_test! {
async fn two_workers_share_one_limiter(env) {
    let q1 = env.queue("shared-1", &[]).await;
    let q2 = env.queue("shared-2", &[]).await;
    env.send(&q1, (0..50).map(|i| i.to_string())).await;
    env.send(&q2, (0..50).map(|i| i.to_string())).await;
    let limiter = RateLimiter::new(20.0, 5).unwrap();
    let done = Count::default();
    let mk = |q: weir_sqs::Queue| {
        let d = done.clone();
        Worker::builder(q)
            .handler(handler_fn(move |_m: Message<u64>| {
                let d = d.clone();
                async move {
                    d.inc();
                    Ok::<_, HandlerError>(())
                }
            }))
            .rate_limit(limiter.clone())
            .build()
            .unwrap()
    };
    let start = Instant::now();
    let (h1, t1) = spawn(mk(q1));
    let (h2, t2) = spawn(mk(q2));
    assert!(eventually(Duration::from_secs(60), || async { done.get() == 100 }).await);
    let took = start.elapsed();
    h1.shutdown();
    h2.shutdown();
    let (r1, r2) = (t1.await.unwrap(), t2.await.unwrap());
    assert_eq!(r1.acked + r2.acked, 100);
    // 100 messages at a shared 20/s: about 5 s, not 2.5 s.
    assert!(took >= Duration::from_millis(4_600), "{took:?}");
}
}

worker_test! {
async fn pause_stops_polling_and_health_reports_it(env) {
    let q = env.queue("pause", &[]).await;
    let done = Count::default();
    let d = done.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u64>| {
            let d = d.clone();
            async move {
                d.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .wait_time(env.pick(Duration::from_secs(20), Duration::from_secs(1)))
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    assert!(eventually(Duration::from_secs(5), || async { handle.health().live }).await);
    env.send(&q, ["1".to_owned()]).await;
    assert!(eventually(Duration::from_secs(30), || async { done.get() == 1 }).await);
    let health = handle.health();
    assert!(
        health.ready && health.last_successful_poll.is_some(),
        "{health:?}"
    );
    handle.pause();
    // A poll in flight when pausing may still deliver; wait it out.
    tokio::time::sleep(env.pick(Duration::from_secs(25), Duration::from_secs(2))).await;
    let before = done.get();
    env.send(&q, ["2".to_owned(), "3".to_owned()]).await;
    tokio::time::sleep(env.pick(Duration::from_secs(60), Duration::from_secs(3))).await;
    assert_eq!(done.get(), before, "nothing is received while paused");
    assert!(!handle.health().ready && handle.health().paused);
    handle.resume();
    assert!(eventually(Duration::from_secs(30), || async { done.get() == 3 }).await);
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!(report.acked, 3);
    assert!(!handle.health().live);
}
}

/// Takes at most `limit` messages at once: `poll_ready` waits for a permit, as
/// tower's `ConcurrencyLimit` does.
struct Limited {
    permits: tokio_util::sync::PollSemaphore,
    held: Option<tokio::sync::OwnedSemaphorePermit>,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    done: Count,
}

/// A clone shares the permits and reserves none, as tower's `ConcurrencyLimit`.
impl Clone for Limited {
    fn clone(&self) -> Self {
        Self {
            permits: self.permits.clone(),
            held: None,
            running: self.running.clone(),
            peak: self.peak.clone(),
            done: self.done.clone(),
        }
    }
}

impl tower::Service<Message<u64>> for Limited {
    type Response = ();
    type Error = HandlerError;
    type Future = futures_util::future::BoxFuture<'static, Result<(), HandlerError>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), HandlerError>> {
        if self.held.is_none() {
            match self.permits.poll_acquire(cx) {
                std::task::Poll::Ready(p) => self.held = p,
                std::task::Poll::Pending => return std::task::Poll::Pending,
            }
        }
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, m: Message<u64>) -> Self::Future {
        let permit = self.held.take();
        let (r, p, d) = (self.running.clone(), self.peak.clone(), self.done.clone());
        Box::pin(async move {
            let now = r.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            let ms = 1 + (m.body().unwrap() * 13) % 50;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            r.fetch_sub(1, Ordering::SeqCst);
            d.inc();
            drop(permit);
            Ok(())
        })
    }
}

worker_test! {
async fn a_service_that_is_not_always_ready_gets_every_message_in_turn(env) {
    // Pollers start messages themselves while the service is ready, and hand the
    // rest to the dispatcher, which waits for readiness: none may be stranded.
    let q = env.queue("limited", &[]).await;
    env.send(&q, (0..500).map(|i| i.to_string())).await;
    let (running, peak, done) = (
        Arc::default(),
        Arc::<AtomicUsize>::default(),
        Count::default(),
    );
    let worker = Worker::builder(q.clone())
        .handler(Limited {
            permits: tokio_util::sync::PollSemaphore::new(Arc::new(tokio::sync::Semaphore::new(3))),
            held: None,
            running,
            peak: peak.clone(),
            done: done.clone(),
        })
        .concurrency(40)
        .pollers(4)
        .build()
        .unwrap();
    let d = done.clone();
    let report = run_until(worker, Duration::from_secs(120), move || d.get() == 500).await;
    assert_eq!(
        peak.load(Ordering::SeqCst),
        3,
        "the service's limit held, and was used"
    );
    assert_eq!(report.acked, 500);
    assert_accounted(&report);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}
