//! Settling: every outcome of a message becomes its SQS action, here and nowhere else.
//!
//! | outcome | action |
//! |---|---|
//! | handler `Ok` | [`ack`]: batched `DeleteMessageBatch`, then the payload's S3 object ([`objects`]) |
//! | retry (an error, a panic), attempts left | [`retry`]: `ChangeMessageVisibility` to the backoff |
//! | reject, undecodable, or attempts used up | [`dead_letter`]: `SendMessage` to the DLQ, then delete, keeping the payload's object (no DLQ: retry) |
//! | lease lost | nothing: SQS delivers it again |
//! | abandoned at shutdown | [`release`]: visibility 0, in batches, at the end |

pub(crate) mod ack;
pub(crate) mod dead_letter;
pub(crate) mod objects;
pub(crate) mod release;
pub(crate) mod retry;

use std::time::Duration;

use weir_middleware::classify::Action;

use crate::context::{Ctx, Ticket};

/// How a message's run ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    Ok,
    /// The handler (or its readiness) failed.
    Failed {
        action: Action,
        /// The error says "slow down" (throttling, a timeout): an adaptive receive rate
        /// falls.
        slow_down: bool,
        error: String,
    },
    /// The handler panicked (retried like a failure).
    Panicked(String),
    /// The body did not decode: never handed to the handler.
    Undecodable(String),
    /// Its lease ended while it waited or ran.
    LeaseLost,
    /// Shutdown gave up on it.
    Abandoned,
}

/// Whether a FIFO group may go on with its next message: its message was acked or
/// dead-lettered (settled in order), or it will be delivered again (the rest of its
/// group in hand must be released so that order holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settled {
    Continue,
    Stop,
}

/// Turns `outcome` into its SQS action.
///
/// The SDK calls' futures are large (kilobytes): the paths other than an ack are boxed,
/// so that the task every message runs in stays small.
pub(crate) async fn settle(ctx: &Ctx, ticket: Ticket, outcome: Outcome) -> Settled {
    let stats = &ctx.stats;
    let id = ticket.msg.message_id();
    let attempts = ticket.msg.receive_count();
    match outcome {
        Outcome::Ok => {
            stats.succeeded.add(1);
            ack::enqueue(ctx, ticket, ack::After::Handled);
            Settled::Continue
        }
        Outcome::Undecodable(error) => {
            stats.decode_failures.add(1);
            // The decoder's error may quote the body: it goes to the dead-letter copy,
            // not to the log.
            tracing::warn!(message_id = %id, "body does not decode");
            Box::pin(dead_letter::send(ctx, ticket, "decode_failed", &error)).await
        }
        Outcome::Failed {
            action: Action::Reject,
            error,
            ..
        } => {
            tracing::warn!(message_id = %id, error = %error, "handler rejected the message");
            Box::pin(dead_letter::send(ctx, ticket, "rejected", &error)).await
        }
        Outcome::Failed {
            action: Action::Retry { after },
            error,
            ..
        } => Box::pin(failed(ctx, ticket, after, &error)).await,
        // A future variant of Action: retried, the safe default.
        Outcome::Failed { error, .. } => Box::pin(failed(ctx, ticket, None, &error)).await,
        Outcome::Panicked(error) => {
            stats.panics.add(1);
            tracing::error!(message_id = %id, attempts, error = %error, "handler panicked");
            Box::pin(failed(ctx, ticket, None, &error)).await
        }
        Outcome::LeaseLost => {
            stats.leases_lost.add(1);
            tracing::warn!(message_id = %id, "lease lost; the message will be delivered again");
            ctx.leases.finish(ticket.key);
            Settled::Stop
        }
        Outcome::Abandoned => {
            ctx.abandoned
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(ticket);
            Settled::Stop
        }
    }
}

/// A failure to retry: with the backoff, or to the DLQ once the attempts are used up.
async fn failed(ctx: &Ctx, ticket: Ticket, after: Option<Duration>, error: &str) -> Settled {
    let s = &ctx.settings;
    let attempts = ticket.msg.receive_count();
    if attempts >= s.max_attempts && s.dead_letter.is_some() {
        tracing::warn!(message_id = %ticket.msg.message_id(), attempts, error = %error, "too many attempts; dead-lettering");
        return dead_letter::send(ctx, ticket, "max_attempts", error).await;
    }
    tracing::debug!(message_id = %ticket.msg.message_id(), attempts, error = %error, "handler failed; retrying later");
    retry::backoff(ctx, ticket, after).await;
    Settled::Stop
}
