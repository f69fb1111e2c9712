//! Health, pause/resume and shutdown, from outside the running worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A snapshot of a worker's health, for a `/healthz` endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// The worker is running (between the start of `run_until` and the end of its
    /// shutdown), and none of its own tasks failed.
    pub live: bool,
    /// The worker is live, not paused, not shutting down, its last receive succeeded
    /// and its last delete (ack) did not fail. False while receives fail, and while
    /// deletes fail (until one succeeds).
    pub ready: bool,
    /// Polling is paused with [`WorkerHandle::pause`].
    pub paused: bool,
    /// When a receive last succeeded (tokio's clock), if ever.
    pub last_successful_poll: Option<Instant>,
    /// Messages received and not yet finished (handled and acked, or given back).
    pub in_flight: usize,
    /// Why the worker failed, when one of its own tasks did (it then shuts down):
    /// neither live nor ready from then on.
    pub failure: Option<String>,
}

pub(crate) struct HealthState {
    pub(crate) live: AtomicBool,
    pub(crate) shutting_down: AtomicBool,
    failing: AtomicBool,
    /// The last delete failed (and none succeeded since).
    acks_failing: AtomicBool,
    /// When a receive last succeeded, in nanoseconds after `base`, plus one (0: never).
    /// An atomic, not a lock: every receive of every poller writes it.
    last_ok: AtomicU64,
    base: Instant,
    pub(crate) paused: watch::Sender<bool>,
    pub(crate) shutdown: CancellationToken,
    /// Messages held (received and not finished).
    pub(crate) held: Arc<AtomicUsize>,
    failure: std::sync::Mutex<Option<String>>,
}

impl HealthState {
    pub(crate) fn new() -> Self {
        Self {
            live: AtomicBool::new(false),
            shutting_down: AtomicBool::new(false),
            failing: AtomicBool::new(false),
            acks_failing: AtomicBool::new(false),
            last_ok: AtomicU64::new(0),
            base: Instant::now(),
            paused: watch::Sender::new(false),
            shutdown: CancellationToken::new(),
            held: Arc::new(AtomicUsize::new(0)),
            failure: std::sync::Mutex::new(None),
        }
    }

    /// One of the worker's own tasks failed.
    pub(crate) fn set_failed(&self, why: &str) {
        self.failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert_with(|| why.to_owned());
    }

    pub(crate) fn poll_ok(&self) {
        let since = Instant::now().saturating_duration_since(self.base);
        let nanos = u64::try_from(since.as_nanos()).unwrap_or(u64::MAX - 1);
        self.last_ok
            .store(nanos.saturating_add(1), Ordering::Relaxed);
        if self.failing.load(Ordering::Relaxed) && self.failing.swap(false, Ordering::Relaxed) {
            tracing::info!("receiving again; the worker is ready");
        }
    }

    pub(crate) fn poll_failed(&self, err: &weir_sqs::Error) {
        if !self.failing.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %err, retryable = err.is_retryable(), "receive failed; backing off and retrying, the worker is not ready until a receive succeeds");
        }
    }

    pub(crate) fn ack_ok(&self) {
        // Read first: a swap would write the shared line on every call.
        if self.acks_failing.load(Ordering::Relaxed)
            && self.acks_failing.swap(false, Ordering::Relaxed)
        {
            tracing::info!("deleting again; the worker is ready");
        }
    }

    pub(crate) fn ack_failed(&self, error: &dyn std::fmt::Display) {
        if !self.acks_failing.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %error, "delete failed; retrying, the worker is not ready until a delete succeeds");
        }
    }

    fn snapshot(&self) -> Health {
        let failure = self
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let live = self.live.load(Ordering::Relaxed) && failure.is_none();
        let paused = *self.paused.borrow();
        let failing =
            self.failing.load(Ordering::Relaxed) || self.acks_failing.load(Ordering::Relaxed);
        let shutting_down = self.shutting_down.load(Ordering::Relaxed);
        let last_successful_poll = match self.last_ok.load(Ordering::Relaxed) {
            0 => None,
            n => Some(self.base + Duration::from_nanos(n - 1)),
        };
        Health {
            live,
            ready: live && !paused && !failing && !shutting_down && last_successful_poll.is_some(),
            paused,
            last_successful_poll,
            in_flight: self.held.load(Ordering::Relaxed),
            failure,
        }
    }
}

/// A cheap, cloneable handle on a worker: its health, pause/resume, and shutdown.
///
/// Get it with [`Worker::handle`](crate::Worker::handle) before running the worker.
#[derive(Clone)]
pub struct WorkerHandle {
    pub(crate) state: Arc<HealthState>,
}

impl std::fmt::Debug for WorkerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerHandle")
            .field("health", &self.health())
            .finish()
    }
}

impl WorkerHandle {
    /// The worker's health now.
    #[must_use]
    pub fn health(&self) -> Health {
        self.state.snapshot()
    }

    /// Stops receiving new messages; running handlers go on. Readiness turns false.
    pub fn pause(&self) {
        self.state.paused.send_replace(true);
    }

    /// Starts receiving again after [`pause`](Self::pause).
    pub fn resume(&self) {
        self.state.paused.send_replace(false);
    }

    /// Starts a lossless shutdown (see [`Worker::run_until`](crate::Worker::run_until)).
    pub fn shutdown(&self) {
        self.state.shutdown.cancel();
    }

    /// A handle that can only start the shutdown.
    #[must_use]
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            token: self.state.shutdown.clone(),
        }
    }
}

/// Starts a worker's lossless shutdown from anywhere (a signal handler, another task).
///
/// # Examples
///
/// ```no_run
/// # async fn f(worker: weir_worker::Worker<String>) {
/// let stop = worker.shutdown_handle();
/// tokio::spawn(async move {
///     // e.g. tokio::signal::ctrl_c().await
///     tokio::time::sleep(std::time::Duration::from_secs(60)).await;
///     stop.shutdown();
/// });
/// let report = worker.run().await;
/// # let _ = report;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    token: CancellationToken,
}

impl ShutdownHandle {
    /// Starts the shutdown. Calling it again does nothing.
    pub fn shutdown(&self) {
        self.token.cancel();
    }

    /// Whether the shutdown was started.
    #[must_use]
    pub fn is_shutdown(&self) -> bool {
        self.token.is_cancelled()
    }
}
