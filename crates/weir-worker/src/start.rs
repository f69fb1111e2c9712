//! Starting a message: readiness and the call happen on the caller's own clone of the
//! handler service (a poller's, or the FIFO scheduler's), so the readiness a
//! permit-reserving layer granted is spent by that call and no other; then the call's
//! future runs in a task of its own.
//!
//! A panic in `poll_ready` or `call` (in a layer, say) is caught: the message is
//! retried like any failure, and the clone, which may be broken, is replaced by a fresh
//! clone of the service as it was built. So is a clone whose `poll_ready` failed (tower
//! says such a service cannot be used again).

use std::future::poll_fn;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::Poll;

use tokio_util::sync::CancellationToken;
use tower::Service;
use tower::util::BoxCloneService;
use weir_middleware::BoxError;
use weir_sqs::Message;

use crate::context::{Ctx, Ticket, panic_message};
use crate::run::{self, OnDone, Work};
use crate::settle::Outcome;

/// The handler service as the worker holds it.
pub(crate) type HandlerBox<T> = BoxCloneService<Message<T>, (), BoxError>;

/// One owner's handler: its clone, and the service as built, to clone again.
pub(crate) struct Handler<T> {
    service: HandlerBox<T>,
    prototype: HandlerBox<T>,
}

/// How waiting for readiness ended.
enum Ready {
    Yes,
    Failed(BoxError),
    Panicked(String),
    /// The message's token fired while it waited (its lease was lost).
    Cancelled,
    /// `stop` fired: the message was not started.
    Stopped,
}

impl<T: Send + Sync + 'static> Handler<T> {
    pub(crate) fn new(prototype: &HandlerBox<T>) -> Self {
        Self {
            service: prototype.clone(),
            prototype: prototype.clone(),
        }
    }

    /// Starts `msg` in a task of its own, once the service is ready. Gives the message
    /// back, not started, when `stop` fires first.
    pub(crate) async fn start(
        &mut self,
        ctx: &Arc<Ctx>,
        msg: Message<T>,
        ticket: Ticket,
        token: CancellationToken,
        stop: &CancellationToken,
        done: Option<OnDone>,
    ) -> Result<(), (Message<T>, Ticket)> {
        let work = match msg.body() {
            Err(e) => Work::Known(Outcome::Undecodable(with_sources(e))),
            Ok(_) => match self.ready(&token, stop).await {
                Ready::Yes => self.call(msg, &token),
                Ready::Failed(e) => {
                    self.replace();
                    Work::Known(run::failure(&e))
                }
                Ready::Panicked(p) => {
                    self.replace();
                    Work::Known(Outcome::Panicked(format!("poll_ready panicked: {p}")))
                }
                Ready::Cancelled => Work::Known(Outcome::LeaseLost),
                Ready::Stopped => return Err((msg, ticket)),
            },
        };
        run::spawn(ctx, ticket, token, work, done);
        Ok(())
    }

    async fn ready(&mut self, token: &CancellationToken, stop: &CancellationToken) -> Ready {
        let service = &mut self.service;
        let ready = poll_fn(|cx| {
            match std::panic::catch_unwind(AssertUnwindSafe(|| service.poll_ready(cx))) {
                Ok(Poll::Pending) => Poll::Pending,
                Ok(Poll::Ready(Ok(()))) => Poll::Ready(Ready::Yes),
                Ok(Poll::Ready(Err(e))) => Poll::Ready(Ready::Failed(e)),
                Err(panic) => Poll::Ready(Ready::Panicked(panic_message(&*panic))),
            }
        });
        tokio::select! {
            biased;
            r = ready => r,
            () = token.cancelled() => Ready::Cancelled,
            () = stop.cancelled() => Ready::Stopped,
        }
    }

    fn call(&mut self, msg: Message<T>, token: &CancellationToken) -> Work {
        let msg = msg.with_cancellation(token.clone());
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.service.call(msg))) {
            Ok(fut) => Work::Handler(fut),
            Err(panic) => {
                self.replace();
                Work::Known(Outcome::Panicked(format!(
                    "the handler's call panicked: {}",
                    panic_message(&*panic)
                )))
            }
        }
    }

    fn replace(&mut self) {
        self.service = self.prototype.clone();
    }
}

/// An error and its sources, for the dead-letter copy's `weir.dlq.error` (a decoder's
/// source may quote the body, so this text is never logged).
fn with_sources(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
