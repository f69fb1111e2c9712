//! Dead letters: a copy that always fits goes to the dead-letter queue, then the
//! original is deleted (only after the send succeeded).
//!
//! The copy carries the body exactly as it was delivered (so a redrive delivers the
//! same message), the original attributes, and the `weir.dlq.*` attributes. SQS counts
//! attributes in the 1 MiB limit and allows 10 of them, so when the copy would not fit,
//! the original attributes go first (largest first), then the error text is shortened,
//! then weir's own attributes, never the body; `weir.dlq.dropped` says what was left out.
//!
//! An offloaded message (the `s3` feature) is a pointer body: the copy carries that
//! pointer and its `ExtendedPayloadSize` (or `SQSLargePayloadSize`) marker, which is
//! never dropped, and the original's delete keeps the S3 object, so a redrive delivers
//! a message that still finds its payload.

use weir_sqs::{AttributeValue, Attributes, Message, SendOptions, validate};

use self::dlq_attributes as names;
use super::{Settled, ack, retry};
use crate::context::{Ctx, Ticket};

/// Message attribute names the worker sets on dead-lettered messages.
pub mod dlq_attributes {
    /// Why the message was dead-lettered: `rejected`, `decode_failed` or `max_attempts`.
    pub const REASON: &str = "weir.dlq.reason";
    /// The handler's (or decoder's) error message, at most 1 024 bytes (less when the
    /// copy would not fit otherwise).
    pub const ERROR: &str = "weir.dlq.error";
    /// The message's receive count when it was dead-lettered.
    pub const ATTEMPTS: &str = "weir.dlq.attempts";
    /// The source queue's ARN (or URL when the ARN is unknown).
    pub const SOURCE: &str = "weir.dlq.source";
    /// What was left out so that the copy fits: `attributes: a,b` (original attributes
    /// dropped) and `error: 120 of 5000 bytes` (the error text shortened). Absent when
    /// nothing was.
    pub const DROPPED: &str = "weir.dlq.dropped";
}

/// SQS's most attributes per message.
const MAX_ATTRIBUTES: usize = 10;
/// The longest error text kept.
const MAX_ERROR_LEN: usize = 1024;

/// Sends `ticket`'s message to the dead-letter queue with `reason`, then deletes it.
/// Without a dead-letter queue, or when the send fails, retries it instead.
pub(crate) async fn send(ctx: &Ctx, ticket: Ticket, reason: &'static str, error: &str) -> Settled {
    let msg = &ticket.msg;
    let Some(dlq) = &ctx.settings.dead_letter else {
        tracing::warn!(message_id = %msg.message_id(), reason, "no dead-letter queue configured; leaving the message to the queue's redrive policy");
        retry::backoff(ctx, ticket, None).await;
        return Settled::Stop;
    };
    let fields = Fields {
        reason,
        error,
        attempts: msg.receive_count(),
        source: &ctx.settings.source,
    };
    let attributes = fit(msg, &fields, dlq.attributes().max_message_size());
    let options = SendOptions {
        attributes,
        group_id: dlq
            .is_fifo()
            .then(|| msg.group_id().unwrap_or("weir-dlq").to_owned()),
        dedup_id: dlq.is_fifo().then(|| msg.message_id().to_owned()),
        ..SendOptions::default()
    };
    match ctx
        .calls
        .send_dead_letter(dlq, msg.sqs_body(), options)
        .await
    {
        Ok(()) => {
            ctx.stats.dead_lettered.add(1);
            tracing::warn!(message_id = %msg.message_id(), reason, "dead-lettered");
            // The copy points at the same S3 object, if any: it stays.
            ack::enqueue(ctx, ticket, ack::After::DeadLettered);
            Settled::Continue
        }
        Err(e) => {
            tracing::warn!(message_id = %msg.message_id(), error = %e, "dead-letter send failed; the message is retried instead");
            retry::backoff(ctx, ticket, None).await;
            Settled::Stop
        }
    }
}

/// What the `weir.dlq.*` attributes say.
pub(crate) struct Fields<'a> {
    pub(crate) reason: &'static str,
    pub(crate) error: &'a str,
    pub(crate) attempts: u32,
    pub(crate) source: &'a str,
}

/// The extended clients' marker attributes (`ExtendedPayloadSize`, and its legacy
/// name): a pointer body without one is not read as a pointer, so a dead-letter copy
/// keeps them whatever else must go (`weir_sqs::s3::SIZE_ATTRIBUTE` and
/// `LEGACY_SIZE_ATTRIBUTE`, named here so that a worker without the `s3` feature keeps
/// them too).
pub(crate) const PAYLOAD_MARKERS: [&str; 2] = ["ExtendedPayloadSize", "SQSLargePayloadSize"];

/// The attributes of the dead-letter copy of `msg`, within `max_size` with its body
/// and within SQS's 10 attributes. The payload markers are always kept.
pub(crate) fn fit(msg: &Message<()>, fields: &Fields<'_>, max_size: usize) -> Attributes {
    let body = msg.sqs_body();
    let (pinned, mut originals): (Vec<(&String, &AttributeValue)>, Vec<_>) = msg
        .attributes()
        .iter()
        .filter(|(k, _)| !k.starts_with("weir.dlq."))
        .partition(|(k, _)| PAYLOAD_MARKERS.contains(&k.as_str()));
    let mut dropped: Vec<&str> = Vec::new();
    // Room for weir's four, and the note when anything is left out.
    if pinned.len() + originals.len() > MAX_ATTRIBUTES - 4 {
        let keep = (MAX_ATTRIBUTES - 5).saturating_sub(pinned.len());
        for (name, _) in originals.drain(keep.min(originals.len())..) {
            dropped.push(name);
        }
    }
    let mut error = truncate(fields.error, MAX_ERROR_LEN);
    let mut own = vec![
        (names::REASON, nonempty(fields.reason)),
        (names::ATTEMPTS, fields.attempts.to_string()),
        (names::SOURCE, nonempty(fields.source)),
    ];
    loop {
        let note = note(&dropped, error.len(), fields.error.len());
        let attrs = render(&pinned, &originals, &own, error, note.as_deref());
        let size = validate::message_size(body, &attrs);
        if size <= max_size {
            return attrs;
        }
        let excess = size - max_size;
        if let Some(i) = largest(&originals) {
            dropped.push(originals.remove(i).0);
        } else if !error.is_empty() {
            // The error and its attribute's name and type go when it cannot keep a byte.
            error = truncate(error, error.len().saturating_sub(excess));
        } else if own.pop().is_none() {
            // Nothing of ours is left: the body alone, with its markers (together they
            // fitted the source queue).
            return render(&pinned, &[], &[], "", None);
        }
    }
}

/// The attributes: the markers, the originals kept, weir's own, the error, and the note.
fn render(
    pinned: &[(&String, &AttributeValue)],
    originals: &[(&String, &AttributeValue)],
    own: &[(&'static str, String)],
    error: &str,
    note: Option<&str>,
) -> Attributes {
    let mut attrs: Attributes = pinned
        .iter()
        .chain(originals)
        .map(|(k, v)| ((*k).clone(), (*v).clone()))
        .collect();
    for (name, value) in own {
        attrs.insert((*name).to_owned(), AttributeValue::string(value.clone()));
    }
    if !error.is_empty() {
        attrs.insert(names::ERROR.to_owned(), AttributeValue::string(error));
    }
    if let Some(note) = note {
        attrs.insert(names::DROPPED.to_owned(), AttributeValue::string(note));
    }
    attrs
}

/// `weir.dlq.dropped`: the attributes left out, and how much of the error was kept.
fn note(dropped: &[&str], kept: usize, full: usize) -> Option<String> {
    let mut parts = Vec::new();
    if !dropped.is_empty() {
        parts.push(format!("attributes: {}", dropped.join(",")));
    }
    if kept < full {
        parts.push(format!("error: {kept} of {full} bytes"));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn largest(originals: &[(&String, &AttributeValue)]) -> Option<usize> {
    (0..originals.len()).max_by_key(|&i| originals[i].1.size(originals[i].0))
}

fn nonempty(s: &str) -> String {
    if s.is_empty() {
        "-".to_owned()
    } else {
        s.to_owned()
    }
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

#[cfg(test)]
mod tests;
