//! Publish and PublishBatch: every check SNS makes on a message, FIFO sequencing and
//! deduplication, then delivery to the topic's subscriptions.

use std::collections::BTreeMap;
use std::time::Duration;

use super::deliver;
use super::wire::{Form, SnsError, SnsResult, Xml};
use super::{SnsCtx, Subscription, Topic, check_topic_arn, no_topic};
use crate::checksum::{AttrValue, sha256_hex};
use crate::engine::Engine;

/// Largest message, attributes included (SNS quotas: 256 KiB).
pub(crate) const MAX_MESSAGE_BYTES: usize = 262_144;
/// How long a FIFO topic remembers a deduplication id.
const DEDUP_WINDOW: Duration = Duration::from_secs(300);

/// A message that passed every check, ready to deliver.
#[derive(Debug)]
pub(crate) struct Draft {
    /// What subscribers of the `sqs` protocol receive (the `sqs` or `default` entry of a
    /// `MessageStructure=json` message, else the message).
    pub(crate) message: String,
    pub(crate) subject: Option<String>,
    pub(crate) attrs: BTreeMap<String, AttrValue>,
    pub(crate) group_id: Option<String>,
    pub(crate) dedup_id: Option<String>,
}

/// A message as published: its draft plus the ids SNS gave it.
#[derive(Debug)]
pub(crate) struct Published {
    pub(crate) draft: Draft,
    pub(crate) message_id: String,
    pub(crate) sequence: Option<String>,
    pub(crate) timestamp_ms: u64,
}

fn valid_attr_name(name: &str) -> SnsResult<()> {
    if name.len() > 256 {
        return Err(SnsError::bad_value(
            "Length of message attribute name must be less than 256 bytes.",
        ));
    }
    if name.starts_with('.') {
        return Err(SnsError::bad_value(
            "Invalid message attribute name starting with character '.' was found.",
        ));
    }
    if name.ends_with('.') {
        return Err(SnsError::bad_value(
            "Invalid message attribute name ending with character '.' was found.",
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && !matches!(c, '.' | '-' | '_'))
    {
        return Err(SnsError::bad_value(format!(
            "Invalid non-alphanumeric character '#x{:X}' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots.",
            u32::from(c)
        )));
    }
    if name.contains("..") {
        return Err(SnsError::bad_value(
            "Message attribute name can not have successive '.' character.",
        ));
    }
    Ok(())
}

fn valid_type(t: &str) -> bool {
    matches!(t, "String" | "Number" | "Binary")
        || ["String.", "Number.", "Binary."]
            .iter()
            .any(|p| t.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

/// Reads and checks `MessageAttributes.entry.N.*`; `at` names the member in a
/// ValidationError (`messageAttributes` or `publishBatchRequestEntries.N.member...`).
fn message_attributes(form: &Form, at: &str) -> SnsResult<BTreeMap<String, AttrValue>> {
    let mut out = BTreeMap::new();
    for e in form.entries("MessageAttributes") {
        let name = e.get("Name").unwrap_or_default().to_owned();
        valid_attr_name(&name)?;
        let data_type = e
            .get("Value.DataType")
            .ok_or_else(|| SnsError::missing(&format!("{at}.{name}.member.dataType")))?;
        if !valid_type(data_type) {
            return Err(SnsError::bad_value(format!(
                "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
            )));
        }
        let empty = || {
            SnsError::bad_value(format!(
                "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{data_type}'."
            ))
        };
        let value = if data_type.starts_with("Binary") {
            let b64 = e
                .get("Value.BinaryValue")
                .filter(|v| !v.is_empty())
                .ok_or_else(empty)?;
            let bytes = aws_smithy_types::base64::decode(b64).map_err(|_| {
                SnsError::bad_value(format!(
                    "The message attribute '{name}' has an invalid binary value: not base64."
                ))
            })?;
            AttrValue {
                data_type: data_type.to_owned(),
                string: None,
                binary: Some(bytes),
            }
        } else {
            let s = e
                .get("Value.StringValue")
                .filter(|v| !v.is_empty())
                .ok_or_else(empty)?;
            check_string_value(&name, data_type, s)?;
            AttrValue {
                data_type: data_type.to_owned(),
                string: Some(s.to_owned()),
                binary: None,
            }
        };
        out.insert(name, value);
    }
    Ok(out)
}

fn check_string_value(name: &str, data_type: &str, s: &str) -> SnsResult<()> {
    if data_type.starts_with("Number") && !s.trim().parse::<f64>().is_ok_and(f64::is_finite) {
        return Err(SnsError::bad_value(format!(
            "Could not cast message attribute '{name}' value to number."
        )));
    }
    if data_type == "String.Array"
        && !matches!(
            serde_json::from_str::<serde_json::Value>(s),
            Ok(serde_json::Value::Array(_))
        )
    {
        return Err(SnsError::bad_value(format!(
            "The message attribute '{name}' with type 'String.Array' must be a JSON array."
        )));
    }
    Ok(())
}

/// The content `sqs` subscribers get from a `MessageStructure=json` message.
fn structured(message: &str) -> SnsResult<String> {
    let Ok(serde_json::Value::Object(obj)) = serde_json::from_str(message) else {
        return Err(SnsError::invalid(
            "Invalid parameter: Message Structure - JSON message body failed to parse",
        ));
    };
    let pick = |k: &str| obj.get(k).and_then(serde_json::Value::as_str);
    if pick("default").is_none() {
        return Err(SnsError::invalid(
            "Invalid parameter: Message Structure - No default entry in JSON message body",
        ));
    }
    Ok(pick("sqs")
        .or_else(|| pick("default"))
        .unwrap_or_default()
        .to_owned())
}

/// Every check that needs only the message (not the topic), in AWS's order.
fn draft(form: &Form, at: &str) -> SnsResult<Draft> {
    // AWS: UTF-8 text that begins with a letter, number or punctuation mark, with no
    // line breaks or control characters, under 100 characters.
    let subject = form.get("Subject");
    if let Some(s) = subject
        && (!s.starts_with(|c: char| c.is_alphanumeric() || c.is_ascii_punctuation())
            || s.chars().count() >= 100
            || s.chars().any(char::is_control))
    {
        return Err(SnsError::invalid("Invalid parameter: Subject"));
    }
    let message = form
        .get("Message")
        .ok_or_else(|| SnsError::missing("message"))?;
    if message.is_empty() {
        return Err(SnsError::invalid("Invalid parameter: Empty message"));
    }
    let attrs = message_attributes(form, at)?;
    let size = message.len() + attrs.iter().map(|(k, v)| k.len() + v.size()).sum::<usize>();
    if size > MAX_MESSAGE_BYTES {
        return Err(SnsError::invalid("Invalid parameter: Message too long"));
    }
    let message = match form.get("MessageStructure") {
        Some("json") => structured(message)?,
        Some(other) => {
            return Err(SnsError::invalid(format!(
                "Invalid parameter: MessageStructure Reason: Invalid value [{other}]: must be json"
            )));
        }
        None => message.to_owned(),
    };
    Ok(Draft {
        message,
        subject: subject.map(str::to_owned),
        attrs,
        group_id: form.get("MessageGroupId").map(str::to_owned),
        dedup_id: form.get("MessageDeduplicationId").map(str::to_owned),
    })
}

/// The checks that depend on the topic's type.
fn check_fifo(topic: &Topic, d: &Draft) -> SnsResult<()> {
    if topic.fifo {
        if d.group_id.is_none() {
            return Err(SnsError::invalid(
                "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
            ));
        }
        if d.dedup_id.is_none() && !topic.content_based_dedup() {
            return Err(SnsError::invalid(
                "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
            ));
        }
        for (id, name) in [
            (&d.group_id, "MessageGroupId"),
            (&d.dedup_id, "MessageDeduplicationId"),
        ] {
            if let Some(id) = id
                && (id.is_empty() || id.len() > 128 || !id.bytes().all(|b| (33..=126).contains(&b)))
            {
                return Err(SnsError::invalid(format!(
                    "Invalid parameter: {name} Reason: {name} can only include alphanumeric and punctuation characters. 1 to 128 in length."
                )));
            }
        }
    } else if d.dedup_id.is_some() {
        return Err(SnsError::invalid(
            "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
        ));
    }
    Ok(())
}

/// Gives a checked draft its ids and delivers it, unless a FIFO topic has seen its
/// deduplication id in the last five minutes (then the first publish's ids come back
/// and nothing is delivered).
fn accept(
    engine: &Engine,
    topic: &mut Topic,
    subs: &BTreeMap<String, Subscription>,
    d: Draft,
    ctx: &SnsCtx<'_>,
) -> (String, Option<String>) {
    let now = engine.clock.now();
    let dedup_key = topic.fifo.then(|| {
        d.dedup_id
            .clone()
            .unwrap_or_else(|| sha256_hex(d.message.as_bytes()))
    });
    if let Some(key) = &dedup_key {
        topic.dedup.retain(|_, (expires, _, _)| *expires > now);
        if let Some((_, id, seq)) = topic.dedup.get(key) {
            return (id.clone(), Some(seq.clone()));
        }
    }
    let message_id = crate::checksum::fast_uuid_string();
    let sequence = topic.fifo.then(|| {
        topic.sequence += 1;
        format!("{:020}", topic.sequence)
    });
    if let (Some(key), Some(seq)) = (dedup_key, &sequence) {
        topic
            .dedup
            .insert(key, (now + DEDUP_WINDOW, message_id.clone(), seq.clone()));
    }
    let published = Published {
        draft: d,
        message_id: message_id.clone(),
        sequence: sequence.clone(),
        timestamp_ms: engine.clock.epoch_ms(now),
    };
    for arn in &topic.subscriptions {
        if let Some(sub) = subs.get(arn) {
            deliver::deliver(engine, sub, topic.fifo, &published, ctx);
        }
    }
    (message_id, sequence)
}

fn topic_arn<'f>(form: &'f Form, ctx: &SnsCtx<'_>) -> SnsResult<&'f str> {
    let (arn, param) = match (form.get("TopicArn"), form.get("TargetArn")) {
        (Some(arn), _) => (arn, "TopicArn"),
        (None, Some(arn)) => (arn, "TargetArn"),
        (None, None) => {
            return Err(SnsError::invalid(
                "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
            ));
        }
    };
    check_topic_arn(arn, ctx, param)?;
    Ok(arn)
}

pub(crate) fn publish(engine: &Engine, form: &Form, ctx: &SnsCtx<'_>) -> SnsResult<Option<Xml>> {
    if form.get("PhoneNumber").is_some() {
        return Err(SnsError::invalid(
            "Invalid parameter: PhoneNumber Reason: weir-local's SNS publishes to topics only",
        ));
    }
    let d = draft(form, "messageAttributes")?;
    let arn = topic_arn(form, ctx)?;
    let mut reg = engine.sns.lock();
    let reg = &mut *reg;
    let topic = reg.topics.get_mut(arn).ok_or_else(no_topic)?;
    check_fifo(topic, &d)?;
    let (message_id, sequence) = accept(engine, topic, &reg.subscriptions, d, ctx);
    let mut x = Xml::default();
    x.leaf("MessageId", &message_id);
    if let Some(seq) = sequence {
        x.leaf("SequenceNumber", &seq);
    }
    Ok(Some(x))
}

/// A batch entry id: up to 80 letters, digits, hyphens and underscores.
fn check_ids(entries: &[Form]) -> SnsResult<()> {
    let mut seen: Vec<&str> = Vec::with_capacity(entries.len());
    for e in entries {
        let id = e.get("Id").unwrap_or_default();
        if seen.contains(&id) {
            return Err(SnsError::sender(
                "BatchEntryIdsNotDistinct",
                "Two or more batch entries in the request have the same Id.",
            ));
        }
        seen.push(id);
    }
    for id in seen {
        if id.len() > 80 {
            return Err(SnsError::sender(
                "InvalidBatchEntryId",
                format!("The Id of a batch entry in the batch request is too long: {id}"),
            ));
        }
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(SnsError::sender(
                "InvalidBatchEntryId",
                format!(
                    "The Id of a batch entry in the batch request contains an impermissible character: {id}"
                ),
            ));
        }
    }
    Ok(())
}

/// The checks that fail a whole batch: its size, ids and, on a FIFO topic, group and
/// deduplication ids on every entry (as AWS fails them, not entry by entry).
fn check_batch(topic: &Topic, entries: &[Form]) -> SnsResult<()> {
    check_ids(entries)?;
    let total: usize = entries
        .iter()
        .map(|e| {
            e.get("Message").map_or(0, str::len)
                + e.entries("MessageAttributes")
                    .iter()
                    .map(Form::byte_len)
                    .sum::<usize>()
        })
        .sum();
    if total > MAX_MESSAGE_BYTES {
        return Err(SnsError::sender(
            "BatchRequestTooLong",
            "The length of all the messages put together is more than the limit.",
        ));
    }
    if topic.fifo {
        if entries.iter().any(|e| e.get("MessageGroupId").is_none()) {
            return Err(SnsError::invalid(
                "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
            ));
        }
        if !topic.content_based_dedup()
            && entries
                .iter()
                .any(|e| e.get("MessageDeduplicationId").is_none())
        {
            return Err(SnsError::invalid(
                "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
            ));
        }
    }
    Ok(())
}

/// PublishBatch: an entry that fails its own checks is reported in `Failed` and the
/// others are published, in order.
pub(crate) fn publish_batch(
    engine: &Engine,
    form: &Form,
    ctx: &SnsCtx<'_>,
) -> SnsResult<Option<Xml>> {
    let arn = form.required("TopicArn")?;
    let entries = form.members("PublishBatchRequestEntries");
    if entries.is_empty() {
        return Err(SnsError::sender(
            "EmptyBatchRequest",
            "The batch request doesn't contain any entries.",
        ));
    }
    if entries.len() > 10 {
        return Err(SnsError::sender(
            "TooManyEntriesInBatchRequest",
            "The batch request contains more entries than permissible.",
        ));
    }
    check_topic_arn(arn, ctx, "TopicArn")?;
    let mut reg = engine.sns.lock();
    let reg = &mut *reg;
    let topic = reg.topics.get_mut(arn).ok_or_else(no_topic)?;
    check_batch(topic, &entries)?;
    let mut ok = Xml::default();
    let mut failed = Xml::default();
    for (n, e) in entries.iter().enumerate() {
        let id = e.get("Id").unwrap_or_default();
        let at = format!(
            "publishBatchRequestEntries.{}.member.messageAttributes",
            n + 1
        );
        match draft(e, &at).and_then(|d| check_fifo(topic, &d).map(|()| d)) {
            Ok(d) => {
                let (message_id, sequence) = accept(engine, topic, &reg.subscriptions, d, ctx);
                ok.open("member")
                    .leaf("Id", id)
                    .leaf("MessageId", &message_id);
                if let Some(seq) = sequence {
                    ok.leaf("SequenceNumber", &seq);
                }
                ok.close("member");
            }
            Err(err) => {
                failed
                    .open("member")
                    .leaf("Id", id)
                    .leaf("Code", err.code)
                    .leaf("Message", &err.message)
                    .leaf("SenderFault", "true")
                    .close("member");
            }
        }
    }
    let mut x = Xml::default();
    x.open("Successful").append(&ok).close("Successful");
    x.open("Failed").append(&failed).close("Failed");
    Ok(Some(x))
}
