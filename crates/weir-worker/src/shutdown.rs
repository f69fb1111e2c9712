//! The lossless shutdown, one function per phase, each bounded in time: phases 1 to 3
//! end by the shutdown timeout, phases 4 and 5 by one request timeout more. What a
//! phase cannot finish in time is left to its visibility timeout: delayed, never lost.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};
use tokio_util::sync::CancellationToken;

use crate::context::Ctx;
use crate::settle::release::release;

/// The worker's own tasks, as started.
pub(crate) struct Running {
    pub(crate) pollers: Vec<JoinHandle<()>>,
    pub(crate) scheduler: Option<JoinHandle<()>>,
    pub(crate) acker: JoinHandle<()>,
    /// Tells the acker no more acks will come.
    pub(crate) acks_done: CancellationToken,
    pub(crate) lease: JoinHandle<()>,
}

/// Shuts the worker down, phase by phase.
pub(crate) async fn run(ctx: &Arc<Ctx>, running: Running) {
    ctx.shutting_down.store(true, Ordering::SeqCst);
    ctx.health.shutting_down.store(true, Ordering::SeqCst);
    let s = &ctx.settings;
    let soft = Instant::now() + s.shutdown_timeout;
    let hard = soft + s.request_timeout;
    stop_polling(ctx, running.pollers, soft).await;
    stop_scheduling(ctx, running.scheduler, soft).await;
    wait_for_handlers(ctx, soft).await;
    tracing::info!("shutting down: 4. flush acks");
    give_up_on_handlers(ctx, hard).await;
    close_acks(running.acker, &running.acks_done, hard).await;
    running.lease.abort();
    ctx.tokens.kill.cancel();
}

/// Phase 1: no more receives. A poll in flight gets the grace period; what it brings,
/// and messages waiting for the handler to be ready, are released by their poller.
async fn stop_polling(ctx: &Ctx, pollers: Vec<JoinHandle<()>>, deadline: Instant) {
    tracing::info!("shutting down: 1. stop polling");
    ctx.tokens.polling.cancel();
    for poller in pollers {
        let abort = poller.abort_handle();
        if timeout_at(deadline, poller).await.is_err() {
            abort.abort();
        }
    }
}

/// Phase 2: FIFO messages in hand and not started are released.
async fn stop_scheduling(ctx: &Ctx, scheduler: Option<JoinHandle<()>>, deadline: Instant) {
    tracing::info!("shutting down: 2. release prefetched messages");
    ctx.tokens.scheduling.cancel();
    if let Some(scheduler) = scheduler {
        let abort = scheduler.abort_handle();
        if timeout_at(deadline, scheduler).await.is_err() {
            abort.abort();
        }
    }
}

/// Phase 3: running handlers finish, until the shutdown timeout.
async fn wait_for_handlers(ctx: &Ctx, deadline: Instant) {
    tracing::info!("shutting down: 3. wait for running handlers");
    ctx.handlers.close();
    let before = ctx.running.load(Ordering::SeqCst);
    let _ = timeout_at(deadline, ctx.handlers.wait()).await;
    let after = ctx.running.load(Ordering::SeqCst);
    ctx.stats
        .finished_in_shutdown
        .add(before.saturating_sub(after) as u64);
}

/// Phase 5: the handlers still running are cancelled (their tokens fire, their futures
/// are dropped) and their messages released.
async fn give_up_on_handlers(ctx: &Ctx, deadline: Instant) {
    let left = ctx.running.load(Ordering::SeqCst);
    if left > 0 {
        tracing::warn!(
            handlers = left,
            "shutting down: 5. cancelling handlers still running and releasing their messages"
        );
    }
    ctx.tokens.force.cancel();
    let _ = timeout_at(deadline, ctx.handlers.wait()).await;
    let abandoned = std::mem::take(
        &mut *ctx
            .abandoned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    if !abandoned.is_empty() {
        ctx.stats.released_unfinished.add(abandoned.len() as u64);
        let _ = timeout_at(deadline, release(ctx, abandoned)).await;
    }
}

/// The last acks are flushed; then the acker ends.
async fn close_acks(acker: JoinHandle<()>, done: &CancellationToken, deadline: Instant) {
    done.cancel();
    let abort = acker.abort_handle();
    if timeout_at(deadline, acker).await.is_err() {
        tracing::warn!(
            "the last acks did not complete in time; those messages will be delivered again"
        );
        abort.abort();
    }
}
