//! Lossless shutdown, at each phase: nothing lost, nothing left in flight.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use weir_worker::{HandlerError, Message, Worker, handler_fn};

use crate::support::{Count, Env, assert_accounted, eventually, spawn};

/// After shutdown: nothing in flight, and every message either acked (seen by the
/// handler) or back in the queue.
async fn assert_nothing_lost(env: &Env, url: &str, sent: usize, acked: u64) {
    let (visible, invisible, delayed) = env.counts(url).await;
    assert_eq!(invisible, 0, "nothing left in flight");
    assert_eq!(delayed, 0);
    assert_eq!(
        visible + acked,
        sent as u64,
        "every message acked or back in the queue"
    );
}

/// A service that is never ready: everything received stays prefetched.
#[derive(Clone)]
struct NeverReady;

impl tower::Service<Message<u32>> for NeverReady {
    type Response = ();
    type Error = HandlerError;
    type Future = BoxFuture<'static, Result<(), HandlerError>>;
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), HandlerError>> {
        Poll::Pending
    }
    fn call(&mut self, _m: Message<u32>) -> Self::Future {
        unreachable!("never ready")
    }
}

worker_test! {
async fn prefetched_messages_are_released(env) {
    let q = env.queue("sd-prefetch", &[]).await;
    env.send(&q, (0..25).map(|i| i.to_string())).await;
    let worker = Worker::builder(q.clone())
        .handler(NeverReady)
        .concurrency(20)
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    assert!(eventually(Duration::from_secs(10), || async { handle.health().in_flight == 20 }).await);
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!(report.received, 20);
    assert_eq!(report.released_prefetched, 20);
    assert_accounted(&report);
    assert_nothing_lost(&env, q.url(), 25, 0).await;
}
}

worker_test! {
async fn running_handlers_finish_within_the_timeout_and_acks_are_flushed(env) {
    let q = env.queue("sd-finish", &[]).await;
    env.send(&q, (0..30).map(|i| i.to_string())).await;
    let started = Count::default();
    let s = started.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let s = s.clone();
            async move {
                s.inc();
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok::<_, HandlerError>(())
            }
        }))
        .concurrency(10)
        .shutdown_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    assert!(eventually(Duration::from_secs(10), || async { started.get() == 10 }).await);
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!(report.finished_in_shutdown, 10, "{report:?}");
    assert_eq!(report.acks_flushed_in_shutdown, 10);
    assert_eq!(report.acked, 10);
    assert_eq!(report.released_unfinished, 0);
    assert_accounted(&report);
    assert_nothing_lost(&env, q.url(), 30, report.acked).await;
}
}

worker_test! {
async fn handlers_past_the_timeout_are_cancelled_and_released(env) {
    let q = env.queue("sd-cancel", &[]).await;
    env.send(&q, (0..12).map(|i| i.to_string())).await;
    let started = Count::default();
    let cancelled = Count::default();
    let (s, c) = (started.clone(), cancelled.clone());
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let (s, c) = (s.clone(), c.clone());
            async move {
                s.inc();
                let token = weir_worker::current_cancellation().unwrap();
                let guard = scopeguard(c);
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(3600)) => {}
                    () = token.cancelled() => {}
                }
                drop(guard);
                Ok::<_, HandlerError>(())
            }
        }))
        .concurrency(5)
        .shutdown_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    assert!(eventually(Duration::from_secs(10), || async { started.get() == 5 }).await);
    let t0 = tokio::time::Instant::now();
    handle.shutdown();
    let report = task.await.unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "bounded by the timeout"
    );
    assert_eq!(
        cancelled.get(),
        5,
        "every running handler was cancelled: {report:?}"
    );
    assert_eq!(report.released_unfinished, 5);
    assert_eq!(report.acked, 0);
    assert_accounted(&report);
    assert_nothing_lost(&env, q.url(), 12, 0).await;
}
}

/// Counts the drop of the handler's future (cancellation drops it).
fn scopeguard(c: Count) -> impl Drop {
    struct G(Count);
    impl Drop for G {
        fn drop(&mut self) {
            self.0.inc();
        }
    }
    G(c)
}

worker_test! {
async fn shutdown_during_an_idle_long_poll(env) {
    let q = env.queue("sd-idle", &[]).await;
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(|_m: Message<u32>| async {
            Ok::<_, HandlerError>(())
        }))
        .pollers(3)
        .concurrency(30)
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    assert!(eventually(Duration::from_secs(5), || async { handle.health().live }).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let t0 = tokio::time::Instant::now();
    handle.shutdown();
    let report = task.await.unwrap();
    assert!(t0.elapsed() <= Duration::from_secs(3), "{:?}", t0.elapsed());
    assert_eq!(report.polls_cancelled, 3, "{report:?}");
    assert_eq!(report.received, 0);
}
}

worker_test! {
async fn a_long_poll_completing_during_the_grace_period_is_released(env) {
    let q = env.queue("sd-grace", &[]).await;
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(|_m: Message<u32>| async {
            Ok::<_, HandlerError>(())
        }))
        .poll_grace(Duration::from_secs(5))
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    assert!(eventually(Duration::from_secs(5), || async { handle.health().live }).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    handle.shutdown();
    // A message arrives while the poll is in its grace period.
    tokio::time::sleep(Duration::from_millis(500)).await;
    env.send(&q, ["7".to_owned()]).await;
    let report = task.await.unwrap();
    assert_eq!(report.polls_drained, 1, "{report:?}");
    assert_eq!(report.received, 1);
    assert_eq!(report.released_prefetched, 1);
    assert_accounted(&report);
    assert_nothing_lost(&env, q.url(), 1, 0).await;
}
}

worker_test! {
async fn shutdown_under_load_loses_nothing(env) {
    // Shut down at several moments of a busy run; each time every message is acked
    // exactly once or back in the queue, and nothing stays in flight.
    for (i, at_ms) in [3u64, 40, 150, 700].into_iter().enumerate() {
        let env = env.fresh();
        let q = env.queue(&format!("sd-load-{i}"), &[]).await;
        env.send(&q, (0..200).map(|i| i.to_string())).await;
        let seen = Arc::new(Mutex::new(HashSet::new()));
        let s = seen.clone();
        let worker = Worker::builder(q.clone())
            .handler(handler_fn(move |m: Message<u32>| {
                let s = s.clone();
                async move {
                    let n = *m.body().unwrap();
                    tokio::time::sleep(Duration::from_millis(u64::from(n % 7) * 20)).await;
                    s.lock().unwrap().insert(n);
                    Ok::<_, HandlerError>(())
                }
            }))
            .concurrency(32)
            .pollers(4)
            .shutdown_timeout(Duration::from_millis(60))
            .build()
            .unwrap();
        let (handle, task) = spawn(worker);
        tokio::time::sleep(Duration::from_millis(at_ms)).await;
        handle.shutdown();
        let report = task.await.unwrap();
        assert_accounted(&report);
        assert_eq!(report.possible_duplicates + report.ack_failures, 0);
        assert_nothing_lost(&env, q.url(), 200, report.acked).await;
        // Whatever is back in the queue was never acked.
        let back: HashSet<u32> = env
            .drain(q.url())
            .await
            .iter()
            .map(|m| m.body().unwrap().parse().unwrap())
            .collect();
        assert_eq!(back.len() as u64 + report.acked, 200, "{report:?}");
    }
}
}
