//! Delivery to an `sqs` subscription: the filter policy, the notification envelope AWS
//! writes (or the raw message), and the send into the shared queue.
//!
//! The envelope's fields are those of
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html>:
//! `Type`, `MessageId`, `TopicArn`, `Subject` (when given), `Message`, `Timestamp`,
//! `SignatureVersion`, `Signature`, `SigningCertURL`, `UnsubscribeURL` and
//! `MessageAttributes` (when any, each `{"Type", "Value"}`). A FIFO topic's envelope
//! carries `SequenceNumber` instead of the signature fields, as AWS's does.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::publish::Published;
use super::{SnsCtx, Subscription};
use crate::checksum::{AttrValue, sha256_hex};
use crate::engine::{Ctx, Engine};
use crate::wire::{AttrIn, SendEntry};

/// The `SenderId` of messages SNS sends into a queue.
const SNS_SENDER_ID: &str = "AIDAIT2UOQQY3AUEKVGXU";

/// `2024-05-02T00:54:06.655Z` from epoch milliseconds.
pub(crate) fn timestamp(epoch_ms: u64) -> String {
    let ms = epoch_ms % 1000;
    let secs = epoch_ms / 1000;
    let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
    // Howard Hinnant's civil_from_days.
    let z = i64::try_from(secs / 86_400).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

fn envelope_attributes(attrs: &std::collections::BTreeMap<String, AttrValue>) -> Value {
    let map: Map<String, Value> = attrs
        .iter()
        .map(|(name, a)| {
            let value = match &a.binary {
                Some(b) => aws_smithy_types::base64::encode(b),
                None => a.string.clone().unwrap_or_default(),
            };
            (name.clone(), json!({ "Type": a.data_type, "Value": value }))
        })
        .collect();
    Value::Object(map)
}

/// The notification JSON a non-raw subscription receives.
pub(crate) fn envelope(sub: &Subscription, fifo: bool, p: &Published, ctx: &SnsCtx<'_>) -> String {
    let d = &p.draft;
    let mut env = Map::new();
    let mut put = |k: &str, v: Value| {
        env.insert(k.to_owned(), v);
    };
    put("Type", json!("Notification"));
    put("MessageId", json!(p.message_id));
    put("TopicArn", json!(sub.topic_arn));
    if let Some(subject) = &d.subject {
        put("Subject", json!(subject));
    }
    put("Message", json!(d.message));
    put("Timestamp", json!(timestamp(p.timestamp_ms)));
    put(
        "UnsubscribeURL",
        json!(format!(
            "{}/?Action=Unsubscribe&SubscriptionArn={}",
            ctx.base_url, sub.arn
        )),
    );
    if !d.attrs.is_empty() {
        put("MessageAttributes", envelope_attributes(&d.attrs));
    }
    if fifo {
        put(
            "SequenceNumber",
            json!(p.sequence.clone().unwrap_or_default()),
        );
    } else {
        // Not a real signature (there is no SNS key here): a digest of AWS's canonical
        // string, base64 as a real one is.
        let canonical = format!(
            "Message\n{}\nMessageId\n{}\n{}Timestamp\n{}\nTopicArn\n{}\nType\nNotification\n",
            d.message,
            p.message_id,
            d.subject
                .as_ref()
                .map_or_else(String::new, |s| format!("Subject\n{s}\n")),
            timestamp(p.timestamp_ms),
            sub.topic_arn
        );
        let digest = sha256_hex(canonical.as_bytes());
        put("SignatureVersion", json!("1"));
        put(
            "Signature",
            json!(aws_smithy_types::base64::encode(digest.as_bytes())),
        );
        put(
            "SigningCertURL",
            json!(format!(
                "{}/SimpleNotificationService-weir-local.pem",
                ctx.base_url
            )),
        );
    }
    Value::Object(env).to_string()
}

fn sqs_attributes(
    attrs: &std::collections::BTreeMap<String, AttrValue>,
) -> HashMap<String, AttrIn> {
    attrs
        .iter()
        .map(|(name, a)| {
            let attr = AttrIn {
                string_value: a.string.clone(),
                binary_value: a.binary.as_deref().map(aws_smithy_types::base64::encode),
                string_list_values: Vec::new(),
                binary_list_values: Vec::new(),
                data_type: Some(a.data_type.clone()),
            };
            (name.clone(), attr)
        })
        .collect()
}

/// Whether the subscription's filter policy lets the message through.
fn passes(sub: &Subscription, p: &Published) -> bool {
    match &sub.filter {
        None => true,
        Some(f) if sub.body_scope() => f.matches_body(&p.draft.message),
        Some(f) => f.matches_attributes(&p.draft.attrs),
    }
}

/// The SQS send for one subscription: the body, raw attributes, and on a FIFO queue the
/// group and deduplication ids (the topic's, or the SHA-256 of the message).
fn entry(sub: &Subscription, fifo: bool, p: &Published, ctx: &SnsCtx<'_>) -> SendEntry {
    let d = &p.draft;
    let raw = sub.raw();
    let body = if raw {
        d.message.clone()
    } else {
        envelope(sub, fifo, p, ctx)
    };
    let to_fifo_queue = sub.endpoint.ends_with(".fifo");
    SendEntry {
        message_body: Some(Arc::from(body)),
        message_attributes: if raw {
            sqs_attributes(&d.attrs)
        } else {
            HashMap::new()
        },
        message_group_id: if fifo && !to_fifo_queue {
            None
        } else {
            d.group_id.clone()
        },
        message_deduplication_id: (fifo && to_fifo_queue).then(|| {
            d.dedup_id
                .clone()
                .unwrap_or_else(|| sha256_hex(d.message.as_bytes()))
        }),
        ..SendEntry::default()
    }
}

/// Delivers a published message to one subscription, if its filter policy matches.
/// A delivery SQS refuses (a deleted queue; more than 10 attributes on a raw delivery)
/// goes to the subscription's dead-letter queue when it has a RedrivePolicy, and is
/// otherwise dropped, as on AWS.
pub(crate) fn deliver(
    engine: &Engine,
    sub: &Subscription,
    fifo: bool,
    p: &Published,
    ctx: &SnsCtx<'_>,
) {
    if sub.protocol != "sqs" || !passes(sub, p) {
        return;
    }
    let e = entry(sub, fifo, p, ctx);
    let send_ctx = Ctx {
        base_url: ctx.base_url,
        sender_id: SNS_SENDER_ID,
        account: ctx.account,
        region: ctx.region,
        trace_header: ctx.trace_header,
    };
    let sent = engine
        .by_arn(&sub.endpoint)
        .ok_or_else(|| "AWS.SimpleQueueService.NonExistentQueue".to_owned())
        .and_then(|q| {
            engine
                .send_to(&q, &e, &send_ctx)
                .map_err(|err| err.kind.wire().2.to_owned())
        });
    let Err(code) = sent else {
        return;
    };
    tracing::debug!(subscription = %sub.arn, %code, "weir-local SNS delivery to SQS failed");
    let dlq = sub
        .attributes
        .get("RedrivePolicy")
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .and_then(|p| p.get("deadLetterTargetArn")?.as_str().map(str::to_owned));
    if let Some(q) = dlq.and_then(|arn| engine.by_arn(&arn)) {
        let mut e = e;
        e.message_attributes.clear();
        if engine.send_to(&q, &e, &send_ctx).is_err() {
            tracing::debug!(subscription = %sub.arn, "weir-local SNS dead-letter delivery failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso8601_with_milliseconds() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(1_714_611_246_655), "2024-05-02T00:54:06.655Z");
        assert_eq!(timestamp(951_782_400_001), "2000-02-29T00:00:00.001Z");
    }
}
