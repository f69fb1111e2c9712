//! What the rebuilt core guarantees where the old one raced: an extension never undoes
//! a retry or a release, the lease deadline counts from when the receive returned, and
//! dropping the run future stops every task.

use std::time::Duration;

use tokio::time::Instant;
use weir_local::{FaultAction, FaultRule};
use weir_worker::{HandlerError, Lease, Message, Worker, handler_fn};

use crate::support::{Count, OnDrop, assert_accounted, eventually, run_until, spawn};

/// The first `ChangeMessageVisibilityBatch` (the lease's first extension) lands 2 s
/// after it is sent.
fn slow_first_extension(env: &crate::support::Env) {
    env.local.faults().inject(
        FaultRule::new(FaultAction::Latency(Duration::from_secs(2)))
            .operation("ChangeMessageVisibilityBatch")
            .times(1),
    );
}

worker_test! {
/// A retry decided while an extension is in flight waits for it to land: the backoff
/// (1 s) is what SQS keeps, not the extension's 10 s.
async fn an_extension_in_flight_never_undoes_a_retry(env) {
    let q = env.queue("race-retry", &[]).await;
    env.send(&q, ["1".to_owned()]).await;
    slow_first_extension(&env);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u32>| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(Instant::now());
                if m.receive_count() == 1 {
                    // The extension (sent at once: see the threshold) is in flight now.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    return Err(HandlerError::retry_after(Duration::from_secs(1), "again"));
                }
                Ok(())
            }
        }))
        .visibility_timeout(Duration::from_secs(10))
        // Extend as soon as a message is held.
        .lease(Lease::new().threshold(Duration::from_millis(9_500)))
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(30), || seen.lock().unwrap().len() == 2).await;
    let seen = seen.lock().unwrap().clone();
    let gap = seen[1] - seen[0];
    // Landed at 2 s, then 1 s of backoff; an extension landing after the retry would
    // have made it 12 s.
    assert!(gap >= Duration::from_secs(2) && gap < Duration::from_secs(6), "{gap:?}");
    assert_eq!(report.retried, 1);
    assert_eq!(report.acked, 1);
    assert_accounted(&report);
}
}

/// Never ready: what it receives waits, prefetched, until shutdown releases it.
#[derive(Clone)]
struct NeverReady;

impl tower::Service<Message<u32>> for NeverReady {
    type Response = ();
    type Error = HandlerError;
    type Future = std::future::Ready<Result<(), HandlerError>>;
    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), HandlerError>> {
        std::task::Poll::Pending
    }
    fn call(&mut self, _: Message<u32>) -> Self::Future {
        unreachable!("never ready")
    }
}

worker_test! {
/// The shutdown's releases wait for an extension in flight too: released messages are
/// visible again at once, not after the extension's 10 s.
async fn an_extension_in_flight_never_undoes_a_release_at_shutdown(env) {
    let q = env.queue("race-release", &[]).await;
    env.send(&q, (0..5).map(|i| i.to_string())).await;
    slow_first_extension(&env);
    let worker = Worker::builder(q.clone())
        .handler(NeverReady)
        .visibility_timeout(Duration::from_secs(10))
        .lease(Lease::new().threshold(Duration::from_millis(9_500)))
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    assert!(eventually(Duration::from_secs(10), || async { handle.health().in_flight == 5 }).await);
    // The extension is in flight (landing 2 s after it was sent).
    tokio::time::sleep(Duration::from_millis(300)).await;
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!(report.released_prefetched, 5, "{report:?}");
    assert_eq!(env.counts(q.url()).await, (5, 0, 0), "visible again, at once");
    assert_accounted(&report);
}
}

worker_test! {
/// A long poll that waits longer than the visibility timeout: the message's deadline
/// counts from when the receive returned, so its lease is extended in time and the
/// handler is not cancelled.
async fn the_deadline_counts_from_the_receive_returning(env) {
    let q = env.queue("late-arrival", &[]).await;
    let done = Count::default();
    let d = done.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let d = d.clone();
            async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                d.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .visibility_timeout(Duration::from_secs(3))
        .concurrency(1)
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    assert!(eventually(Duration::from_secs(5), || async { handle.health().live }).await);
    // The long poll is in flight; the message arrives 4 s in (past the 3 s visibility
    // counted from when the poll was sent).
    tokio::time::sleep(Duration::from_secs(4)).await;
    env.send(&q, ["1".to_owned()]).await;
    assert!(eventually(Duration::from_secs(30), || async { done.get() == 1 }).await);
    assert!(eventually(Duration::from_secs(10), || async { handle.health().in_flight == 0 }).await);
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!(report.leases_lost, 0, "{report:?}");
    assert!(report.lease_extensions >= 1, "{report:?}");
    assert_eq!((report.received, report.acked), (1, 1), "{report:?}");
}
}

worker_test! {
/// Dropping (aborting) the run future stops every task: the handlers' futures are
/// dropped, nothing more is received or extended, and the messages reappear after
/// their visibility timeout.
async fn dropping_the_run_future_stops_every_task(env) {
    let base = env.queue("dropped", &[]).await;
    env.send(&base, (0..3).map(|i| i.to_string())).await;
    let (client, requests) = env.counted();
    let q = env.reopen(&client, &base).await;
    let (started, dropped) = (Count::default(), Count::default());
    let (s, d) = (started.clone(), dropped.clone());
    let worker = Worker::builder(q)
        .handler(handler_fn(move |_m: Message<u32>| {
            let (s, d) = (s.clone(), d.clone());
            async move {
                let _guard = OnDrop(d);
                s.inc();
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok::<_, HandlerError>(())
            }
        }))
        .visibility_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let (_handle, task) = spawn(worker);
    assert!(eventually(Duration::from_secs(10), || async { started.get() == 3 }).await);
    assert!(eventually(Duration::from_secs(10), || async { requests.get("ChangeMessageVisibilityBatch") >= 1 }).await);
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(eventually(Duration::from_secs(5), || async { dropped.get() == 3 }).await);
    let (extensions, receives) = (
        requests.get("ChangeMessageVisibilityBatch"),
        requests.get("ReceiveMessage"),
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(requests.get("ChangeMessageVisibilityBatch"), extensions, "no lease is extended");
    assert_eq!(requests.get("ReceiveMessage"), receives, "nothing is received");
    assert_eq!(env.counts(base.url()).await, (3, 0, 0), "back after their visibility timeout");
}
}
