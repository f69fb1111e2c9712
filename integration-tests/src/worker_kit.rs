//! What the worker's suites share (weir-worker's own tests, on the in-process SQS, and
//! `worker_e2e.rs` / `worker_core_e2e.rs` here, on LocalStack): running a worker until a
//! condition holds, counters for handlers, and the report's invariant, written once.
//! Queues and sending are in [`queues`](crate::queues).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir::test::eventually;
use weir_middleware::{InPlaceRetry, RetryLayer};
use weir_worker::{HandlerError, Worker, WorkerHandle, WorkerReport};

/// Runs `worker` until `done()` holds (checked every 10 ms of tokio time, up to
/// `limit`), then shuts it down and returns its report.
///
/// # Panics
///
/// When `done()` does not hold within `limit` (the message gives the worker's health),
/// or the worker's task panicked.
pub async fn run_until<T: Send + Sync + 'static>(
    worker: Worker<T>,
    limit: Duration,
    done: impl Fn() -> bool,
) -> WorkerReport {
    let (handle, task) = spawn(worker);
    let met = eventually(limit, || {
        let met = done();
        async move { met }
    })
    .await;
    assert!(met, "not done within {limit:?}: {:?}", handle.health());
    handle.shutdown();
    task.await.unwrap()
}

/// Spawns the worker's run and returns its handle and the run's join handle.
pub fn spawn<T: Send + Sync + 'static>(
    worker: Worker<T>,
) -> (WorkerHandle, tokio::task::JoinHandle<WorkerReport>) {
    let handle = worker.handle();
    (handle, tokio::spawn(worker.run()))
}

/// A counter shared with handlers (clones share one count).
#[derive(Debug, Clone, Default)]
pub struct Count(pub Arc<AtomicUsize>);

impl Count {
    /// Adds one; returns the new count.
    pub fn inc(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The count so far.
    #[must_use]
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Counts the drops of what it guards (a handler's future, cancelled or done).
#[derive(Debug)]
pub struct OnDrop(pub Count);

impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.inc();
    }
}

/// A received message's string attributes, by name.
#[must_use]
pub fn attrs_of(m: &aws_sdk_sqs::types::Message) -> HashMap<String, String> {
    m.message_attributes
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.string_value.unwrap_or_default()))
        .collect()
}

/// Every message received has exactly one outcome in `r`.
///
/// # Panics
///
/// When it does not.
pub fn assert_accounted(r: &WorkerReport) {
    assert_eq!(
        r.received,
        r.succeeded
            + r.retried
            + r.dead_lettered
            + r.released_on_failure
            + r.released_prefetched
            + r.released_unfinished
            + r.leases_lost
            + r.skipped,
        "every received message has exactly one outcome: {r:?}"
    );
}

/// Attempts per message body, as [`transient_or_rejected`] records them.
pub type Attempts = Arc<Mutex<HashMap<u32, u32>>>;

/// What the recommended-stack scenarios' handler does with body `n`: records the
/// attempt in `attempts`, then fails as transient on the first two attempts when
/// `n % 4 == 0`, rejects when `n % 4 == 1`, and succeeds otherwise. Around it,
/// [`in_process_retries`] makes every message but the rejected ones succeed.
///
/// # Errors
///
/// As said: a retry or a reject, by `n`.
///
/// # Panics
///
/// When `attempts`'s lock is poisoned.
pub fn transient_or_rejected(attempts: &Attempts, n: u32) -> Result<(), HandlerError> {
    let attempt = {
        let mut attempts = attempts.lock().unwrap();
        let e = attempts.entry(n).or_default();
        *e += 1;
        *e
    };
    match n % 4 {
        0 if attempt < 3 => Err(HandlerError::retry("transient")),
        1 => Err(HandlerError::reject("never valid")),
        _ => Ok(()),
    }
}

/// weir-middleware's in-process retries as the scenarios use them: 3 attempts, from
/// 10 ms apart.
///
/// # Panics
///
/// Never: the settings are valid.
#[must_use]
pub fn in_process_retries() -> RetryLayer {
    RetryLayer::new(
        InPlaceRetry::builder()
            .max_attempts(3)
            .min_delay(Duration::from_millis(10))
            .build()
            .unwrap(),
    )
}
