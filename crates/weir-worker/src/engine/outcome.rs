//! One message's task: run its handler (catching panics, watching its lease), then turn
//! the outcome into an SQS action: ack, retry with backoff, dead-letter, or release.

use std::any::Any;
use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aws_sdk_sqs::types::MessageAttributeValue;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::time::Instant;

use super::acker::{AckItem, AckMsg};
use super::{Held, Meta, Shared, Slot};
use crate::handler::{Action, BoxError, classify, with_cancellation};
use crate::retry::MAX_VISIBILITY;

/// Message attribute names the worker sets on dead-lettered messages.
pub mod dlq_attributes {
    /// Why the message was dead-lettered: `rejected`, `decode_failed` or `max_attempts`.
    pub const REASON: &str = "weir.dlq.reason";
    /// The handler's (or decoder's) error message, truncated to 1 024 characters.
    pub const ERROR: &str = "weir.dlq.error";
    /// The message's receive count when it was dead-lettered.
    pub const ATTEMPTS: &str = "weir.dlq.attempts";
    /// The source queue's ARN (or URL when the ARN is unknown).
    pub const SOURCE: &str = "weir.dlq.source";
}

const MAX_ERROR_LEN: usize = 1024;

pub(crate) enum Work {
    Handler(BoxFuture<'static, Result<(), BoxError>>),
    Undecodable(String),
    Panicked(String),
    /// Cancelled (lease lost, or shutdown) before it started.
    Skipped,
}

enum Outcome {
    Ok,
    Retry {
        after: Option<Duration>,
        error: String,
    },
    Dead {
        reason: &'static str,
        error: String,
    },
    LeaseLost,
    Cancelled,
}

pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        format!("handler panicked: {s}")
    } else if let Some(s) = panic.downcast_ref::<String>() {
        format!("handler panicked: {s}")
    } else {
        "handler panicked".to_owned()
    }
}

/// Runs one message to its end. Returns whether it failed (for FIFO group release).
pub(crate) async fn process(
    shared: &Arc<Shared>,
    meta: Meta,
    permit: Slot,
    work: Work,
    held: Held,
) -> bool {
    let Held {
        key,
        token,
        lost,
        mut registered,
    } = held;
    let stats = &shared.sqs.stats;
    let outcome = match work {
        Work::Skipped if lost.load(Ordering::SeqCst) => Outcome::LeaseLost,
        Work::Skipped => Outcome::Cancelled,
        Work::Undecodable(error) => {
            stats.decode_failures.add(1);
            tracing::warn!(message_id = %meta.id, error = %error, "body does not decode");
            Outcome::Dead {
                reason: "decode_failed",
                error,
            }
        }
        Work::Panicked(error) => {
            stats.panics.add(1);
            tracing::error!(message_id = %meta.id, error = %error, "handler panicked");
            Outcome::Retry { after: None, error }
        }
        Work::Handler(fut) => {
            let started = Instant::now();
            let guarded = with_cancellation(token.clone(), AssertUnwindSafe(fut).catch_unwind());
            let mut guarded = pin!(guarded);
            // The lease starts when the handler does not finish at once.
            let leased = poll_fn(|cx| {
                let poll = guarded.as_mut().poll(cx);
                if poll.is_pending() && !registered {
                    registered = true;
                    shared.leases.register(
                        key,
                        &meta.receipt,
                        meta.received_at,
                        shared.settings.visibility,
                        token.clone(),
                        lost.clone(),
                    );
                }
                poll
            });
            // Cancellation wins: once the token fired (lease lost, or shutdown gave up),
            // the message is not acked even if the handler returns Ok in the same poll.
            let result = tokio::select! {
                biased;
                () = token.cancelled() => None,
                r = leased => Some(r),
            };
            stats
                .handler_latency
                .record(started.elapsed().as_secs_f64());
            match result {
                None if lost.load(Ordering::SeqCst) => Outcome::LeaseLost,
                None => Outcome::Cancelled,
                Some(Ok(Ok(()))) => Outcome::Ok,
                Some(Ok(Err(e))) => match classify(&e) {
                    Action::Reject => Outcome::Dead {
                        reason: "rejected",
                        error: e.to_string(),
                    },
                    Action::Retry { after } => Outcome::Retry {
                        after,
                        error: e.to_string(),
                    },
                },
                Some(Err(panic)) => {
                    stats.panics.add(1);
                    let error = panic_message(&*panic);
                    tracing::error!(message_id = %meta.id, error = %error, "handler panicked");
                    Outcome::Retry { after: None, error }
                }
            }
        }
    };
    // A message to delete (or dead-letter) keeps its lease until its delete completes:
    // the acker ends it. The others give their message back (or lost it) now.
    let exhausted =
        meta.receive_count >= shared.settings.max_attempts && shared.settings.dead_letter.is_some();
    let keep = match &outcome {
        Outcome::Ok | Outcome::Dead { .. } => true,
        Outcome::Retry { .. } => exhausted,
        Outcome::LeaseLost | Outcome::Cancelled => false,
    } && shared.leases.enabled;
    // A handler that finished at once leaves its message out of the lease table until
    // its delete begins: the acker registers a whole batch under one lock.
    let unleased = keep && !registered && matches!(outcome, Outcome::Ok);
    if keep && !unleased {
        if !registered {
            shared.leases.register(
                key,
                &meta.receipt,
                meta.received_at,
                shared.settings.visibility,
                token.clone(),
                lost.clone(),
            );
        }
        shared.leases.mark_acking(key);
    } else if !keep && registered {
        shared.leases.unregister(key);
    }
    let lease = keep.then_some(key);
    let failed = !matches!(outcome, Outcome::Ok);
    // The SQS calls below are boxed: their futures are kilobytes, and inline they would
    // make every message's future (allocated, and copied, per message) that large.
    match outcome {
        Outcome::Ok => {
            if !super::dispatch::AckSink::count_success() {
                stats.succeeded.add(1);
            }
            ack(shared, &meta, permit, lease, unleased);
        }
        Outcome::Retry { after, error } => {
            if exhausted {
                tracing::warn!(message_id = %meta.id, attempts = meta.receive_count, error = %error, "too many attempts; dead-lettering");
                Box::pin(dead_letter(
                    shared,
                    &meta,
                    permit,
                    "max_attempts",
                    &error,
                    lease,
                ))
                .await;
            } else {
                tracing::debug!(message_id = %meta.id, attempts = meta.receive_count, error = %error, "handler failed; retrying later");
                Box::pin(retry(shared, &meta, after)).await;
            }
        }
        Outcome::Dead { reason, error } => {
            Box::pin(dead_letter(shared, &meta, permit, reason, &error, lease)).await;
        }
        Outcome::LeaseLost => {
            stats.leases_lost.add(1);
            tracing::warn!(message_id = %meta.id, "lease lost; the handler was cancelled and the message will be delivered again");
        }
        Outcome::Cancelled => {
            let _ = shared.release_tx.send(meta.receipt);
        }
    }
    failed
}

/// Hands the message to be deleted: to its poller's batch when the poller is running
/// it inline (see `Ctx::start_now`), to the acker otherwise. `lease` (its key in the
/// lease table) keeps it invisible until the delete completes.
fn ack(shared: &Shared, meta: &Meta, permit: Slot, lease: Option<u64>, unleased: bool) {
    let item = AckItem {
        receipt: meta.receipt.clone(),
        received_at: meta.received_at,
        lease,
        unleased,
        deadline: meta.returned_at + shared.settings.visibility,
        _permit: Some(permit),
    };
    if let Some(item) = super::dispatch::AckSink::offer(item) {
        send_ack(shared, item);
    }
}

/// Hands an ack to the acker task.
pub(crate) fn send_ack(shared: &Shared, item: AckItem) {
    let lease = item.lease;
    if shared.ack_tx.send(AckMsg::Ack(item)).is_err() {
        if let Some(key) = lease {
            shared.leases.unregister(key);
        }
        shared.sqs.stats.ack_failures.add(1);
        tracing::error!("the acker stopped before an ack; the message will be delivered again");
    }
}

fn secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

/// Gives the message back with the backoff for its receive count (or `after`).
async fn retry(shared: &Shared, meta: &Meta, after: Option<Duration>) {
    let stats = &shared.sqs.stats;
    let delay = after
        .unwrap_or_else(|| shared.settings.retry.backoff(meta.receive_count))
        .min(MAX_VISIBILITY.saturating_sub(meta.received_at.elapsed()));
    let _gate = shared.leases.gate.read().await;
    match shared
        .sqs
        .change_visibility(&meta.receipt, secs(delay))
        .await
    {
        Ok(()) => stats.retried.add(1),
        Err(e) => {
            stats.skipped.add(1);
            tracing::warn!(message_id = %meta.id, error = %e, "could not set the retry delay; the message reappears after its visibility timeout");
        }
    }
}

fn string_attr(value: &str) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .ok()
}

fn sdk_attr(value: &weir_sqs::AttributeValue) -> Option<MessageAttributeValue> {
    let b = MessageAttributeValue::builder().data_type(value.data_type());
    let b = if let Some(s) = value.as_str() {
        b.string_value(s)
    } else if let Some(bytes) = value.as_bytes() {
        b.binary_value(aws_sdk_sqs::primitives::Blob::new(bytes))
    } else {
        return None;
    };
    b.build().ok()
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Sends the message to the DLQ with the reason attached, then deletes it (only after
/// the send succeeded). Without a DLQ, or when the send fails, retries instead.
async fn dead_letter(
    shared: &Shared,
    meta: &Meta,
    permit: Slot,
    reason: &'static str,
    error: &str,
    lease: Option<u64>,
) {
    let stats = &shared.sqs.stats;
    // Retrying changes the message's visibility: its lease must end first.
    let end_lease = || {
        if let Some(key) = lease {
            shared.leases.unregister(key);
        }
    };
    let Some(dlq) = &shared.settings.dead_letter else {
        end_lease();
        tracing::warn!(message_id = %meta.id, reason, "no dead-letter queue configured; leaving the message to the queue's redrive policy");
        retry(shared, meta, None).await;
        return;
    };
    let mut attributes: HashMap<String, MessageAttributeValue> = HashMap::new();
    if let Some(original) = &meta.attributes {
        // SQS allows 10 attributes; ours take 4, the original keeps (at most) 6, in
        // name order.
        for (name, value) in original.iter().take(6) {
            if let Some(v) = sdk_attr(value) {
                attributes.insert(name.clone(), v);
            }
        }
    }
    let fields = [
        (dlq_attributes::REASON, reason.to_owned()),
        (
            dlq_attributes::ERROR,
            truncate(error, MAX_ERROR_LEN).to_owned(),
        ),
        (dlq_attributes::ATTEMPTS, meta.receive_count.to_string()),
        (dlq_attributes::SOURCE, shared.settings.source.clone()),
    ];
    for (name, value) in fields {
        let value = if value.is_empty() {
            "-".to_owned()
        } else {
            value
        };
        if let Some(v) = string_attr(&value) {
            attributes.insert(name.to_owned(), v);
        }
    }
    let fifo_dlq = dlq.ends_with(".fifo");
    let group = if fifo_dlq {
        Some(meta.group.as_deref().unwrap_or("weir-dlq"))
    } else {
        None
    };
    let dedup = fifo_dlq.then_some(meta.id.as_str());
    let body = meta.body.as_deref().unwrap_or_default();
    match shared
        .sqs
        .send_dead_letter(dlq, body, attributes, group, dedup)
        .await
    {
        Ok(()) => {
            stats.dead_lettered.add(1);
            tracing::warn!(message_id = %meta.id, reason, "dead-lettered");
            ack(shared, meta, permit, lease, false);
        }
        Err(e) => {
            end_lease();
            tracing::warn!(message_id = %meta.id, error = %e, "dead-letter send failed; the message is retried instead");
            retry(shared, meta, None).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_keeps_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("hello", 10), "hello");
    }

    #[test]
    fn panic_messages() {
        let p: Box<dyn Any + Send> = Box::new("boom");
        assert_eq!(panic_message(&*p), "handler panicked: boom");
        let p: Box<dyn Any + Send> = Box::new(7u8);
        assert_eq!(panic_message(&*p), "handler panicked");
    }
}
