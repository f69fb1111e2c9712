//! What every task of a running worker shares, the tokens that stop them, and the
//! ticket a held message carries until it is settled.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use weir_sqs::Message;

use crate::calls::Calls;
use crate::health::HealthState;
use crate::lease::{LeaseKey, Leases};
use crate::report::Stats;
use crate::settings::Settings;
use crate::settle::ack::AckItem;
use crate::slots::Slot;

/// A held message, from its receive until it is settled: its metadata (the body is
/// not needed to settle it), its lease and its slot.
pub(crate) struct Ticket {
    pub(crate) msg: Message<()>,
    pub(crate) key: LeaseKey,
    pub(crate) _slot: Slot,
}

/// The tokens that stop the worker's tasks, from the gentlest to the last.
#[derive(Clone)]
pub(crate) struct Tokens {
    /// Fired when the run future is dropped, or at the very end: every task stops at
    /// once, wherever it is.
    pub(crate) kill: CancellationToken,
    /// Stop receiving (shutdown phase 1).
    pub(crate) polling: CancellationToken,
    /// Stop scheduling FIFO groups (shutdown phase 2).
    pub(crate) scheduling: CancellationToken,
    /// Give up on running handlers (shutdown phase 5): every message token is a child.
    pub(crate) force: CancellationToken,
    /// An internal task failed: the worker shuts down.
    pub(crate) failed: CancellationToken,
}

impl Tokens {
    pub(crate) fn new() -> Self {
        let kill = CancellationToken::new();
        Self {
            polling: kill.child_token(),
            scheduling: kill.child_token(),
            force: kill.child_token(),
            failed: CancellationToken::new(),
            kill,
        }
    }
}

/// Shared by every task of one run.
pub(crate) struct Ctx {
    pub(crate) settings: Settings,
    pub(crate) calls: Calls,
    pub(crate) leases: Leases,
    pub(crate) stats: Arc<Stats>,
    pub(crate) health: Arc<HealthState>,
    pub(crate) tokens: Tokens,
    /// Handler tasks (and the settling after them).
    pub(crate) handlers: TaskTracker,
    /// Handler tasks started and not finished.
    pub(crate) running: AtomicUsize,
    /// Deletes go here, to be batched.
    pub(crate) acks: mpsc::UnboundedSender<AckItem>,
    /// Messages whose handler shutdown gave up on, released together at the end.
    pub(crate) abandoned: Mutex<Vec<Ticket>>,
    /// Set when shutdown begins.
    pub(crate) shutting_down: AtomicBool,
    /// The first internal failure: why the worker stopped on its own.
    pub(crate) failure: Mutex<Option<String>>,
}

impl Ctx {
    /// Records an internal failure (a panic outside the handler): the worker is no
    /// longer ready, and shuts down.
    pub(crate) fn fail(&self, task: &'static str, error: &str) {
        let why = format!("the {task} task failed: {error}");
        tracing::error!(task, error, "internal task failed; the worker shuts down");
        self.health.set_failed(&why);
        let mut first = self
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        first.get_or_insert(why);
        self.tokens.failed.cancel();
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }

    /// Spawns one of the worker's own tasks: it stops when the run future is dropped,
    /// and a panic in it is reported (the worker stops) instead of going unnoticed.
    pub(crate) fn spawn_internal<F>(self: &Arc<Self>, task: &'static str, body: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(self.guarded(task, body))
    }

    /// `body` as one of the worker's own tasks runs it, for a caller that spawns it
    /// itself (into a `TaskTracker`, say): stopped by the kill token, panics reported.
    pub(crate) fn guarded<F>(
        self: &Arc<Self>,
        task: &'static str,
        body: F,
    ) -> impl Future<Output = ()> + Send + 'static
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let ctx = self.clone();
        async move {
            let kill = ctx.tokens.kill.clone();
            let guarded = AssertUnwindSafe(body).catch_unwind();
            tokio::select! {
                biased;
                () = kill.cancelled() => {}
                r = guarded => if let Err(panic) = r {
                    ctx.fail(task, &panic_message(&*panic));
                }
            }
        }
    }
}

/// The text of a panic's payload.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a payload that is not a string".to_owned()
    }
}
