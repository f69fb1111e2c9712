//! One task per handler call: it runs the handler's future with panics caught, stops it
//! when the message's token fires (lease lost, shutdown gave up, the handler timeout),
//! and settles the outcome. Synchronous work in a handler delays only its own task.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::FutureExt;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use weir_middleware::BoxError;
use weir_middleware::classify::{self, Action};
use weir_middleware::timeout::Elapsed;

use crate::context::{Ctx, Ticket, panic_message};
use crate::handler::with_cancellation;
use crate::settle::{self, Outcome, Settled};

/// A handler call's future.
pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

/// What a run does when it is done: a FIFO group's scheduler hears how it settled.
pub(crate) type OnDone = Box<dyn FnOnce(Settled) + Send>;

/// Spawns the task that runs `work` for `ticket`, then settles it.
pub(crate) fn spawn(
    ctx: &Arc<Ctx>,
    ticket: Ticket,
    token: CancellationToken,
    work: Work,
    done: Option<OnDone>,
) {
    ctx.running.fetch_add(1, Ordering::Relaxed);
    let c = ctx.clone();
    let kill = ctx.tokens.kill.clone();
    ctx.handlers.spawn(async move {
        let body = AssertUnwindSafe(async {
            let outcome = outcome(&c, ticket.key, token, work).await;
            report(&c, &outcome);
            settle::settle(&c, ticket, outcome).await
        })
        .catch_unwind();
        let settled = tokio::select! {
            biased;
            () = kill.cancelled() => None,
            r = body => match r {
                Ok(settled) => Some(settled),
                Err(panic) => {
                    c.fail("settle", &panic_message(&*panic));
                    None
                }
            },
        };
        c.running.fetch_sub(1, Ordering::Relaxed);
        if let (Some(done), Some(settled)) = (done, settled) {
            done(settled);
        }
    });
}

/// What a message's task runs.
pub(crate) enum Work {
    /// The handler's future, from a call on a ready service.
    Handler(HandlerFuture),
    /// No handler call: the outcome is known (undecodable, a failed readiness, a panic
    /// in `call`).
    Known(Outcome),
}

async fn outcome(ctx: &Ctx, key: u64, token: CancellationToken, work: Work) -> Outcome {
    let fut = match work {
        Work::Known(outcome) => return outcome,
        Work::Handler(_) if token.is_cancelled() => return cancelled(ctx, key),
        Work::Handler(fut) => fut,
    };
    let started = Instant::now();
    let guarded = with_cancellation(token.clone(), AssertUnwindSafe(fut).catch_unwind());
    let timeout = ctx.settings.handler_timeout;
    let result = tokio::select! {
        biased;
        () = token.cancelled() => None,
        () = sleep_for(timeout) => {
            token.cancel();
            let after = timeout.unwrap_or_default();
            Some(Ok(Err(Elapsed::new("handler_timeout", after).into())))
        }
        r = guarded => Some(r),
    };
    ctx.stats
        .handler_latency
        .record(started.elapsed().as_secs_f64());
    match result {
        // Cancellation wins: once the token fired, the message is not acked even if the
        // handler returned Ok in the same poll.
        None => cancelled(ctx, key),
        Some(Ok(Ok(()))) => Outcome::Ok,
        Some(Ok(Err(e))) => failure(&e),
        Some(Err(panic)) => {
            Outcome::Panicked(format!("handler panicked: {}", panic_message(&*panic)))
        }
    }
}

async fn sleep_for(timeout: Option<std::time::Duration>) {
    match timeout {
        Some(t) => tokio::time::sleep(t).await,
        None => std::future::pending().await,
    }
}

fn cancelled(ctx: &Ctx, key: u64) -> Outcome {
    if ctx.leases.is_lost(key) {
        Outcome::LeaseLost
    } else {
        Outcome::Abandoned
    }
}

/// A handler error, by the one classification: an unknown error is retried.
pub(crate) fn failure(e: &BoxError) -> Outcome {
    let action = classify::action(&**e).unwrap_or(Action::Retry { after: None });
    Outcome::Failed {
        action,
        slow_down: classify::is_throttling(&**e) || classify::error_type(&**e) == "timeout",
        error: e.to_string(),
    }
}

/// Tells an adaptive receive rate how the message went.
fn report(ctx: &Ctx, outcome: &Outcome) {
    let Some(limit) = &ctx.settings.limit else {
        return;
    };
    match outcome {
        Outcome::Ok => limit.on_success(),
        Outcome::Failed {
            slow_down: true, ..
        } => limit.on_throttled(),
        _ => {}
    }
}
