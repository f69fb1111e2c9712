//! Envelopes around a payload: SNS notifications, EventBridge events and CloudEvents in
//! structured JSON mode, unwrapped on receive when the consumer is told to
//! ([`Consumer::with_envelope`](crate::Consumer::with_envelope)).
//!
//! A queue subscribed to an SNS topic (without raw message delivery) receives each
//! publish as a JSON notification whose `Message` field is the payload; an EventBridge
//! rule that targets a queue delivers the whole event, payload in `detail`; a CloudEvent
//! in structured mode carries it in `data` (or `data_base64`). With the matching
//! [`Envelope`] setting, a [`Message<T>`](crate::Message) decodes `T` from the payload,
//! and [`Message::envelope`](crate::Message::envelope) keeps the envelope's fields.
//!
//! Formats: SNS, <https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html>;
//! EventBridge, <https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html>;
//! CloudEvents 1.0 JSON format, <https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md>.

use std::time::SystemTime;

use aws_smithy_types::date_time::{DateTime, Format};
use serde_json::{Map, Value};

use crate::attributes::{AttributeValue, Attributes};
use crate::codec::DecodeError;
use crate::error::{CodecError, CodecErrorKind};

/// Which envelopes a consumer unwraps. Nothing is unwrapped unless asked: a raw body
/// that happens to hold `"Type"` or `"source"` is never taken for an envelope under
/// [`Envelope::None`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Envelope {
    /// The body is the payload (the default; also SNS with raw message delivery).
    #[default]
    None,
    /// Every body is an SNS notification.
    Sns,
    /// Every body is an EventBridge event.
    EventBridge,
    /// Every body is a CloudEvent in structured JSON mode.
    CloudEvents,
    /// Each body is looked at: an SNS notification (`"Type": "Notification"`), an
    /// EventBridge event (`detail-type`), or a CloudEvent (`specversion`) is unwrapped;
    /// anything else is the payload itself.
    Auto,
}

/// The envelope a message arrived in, with its fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EnvelopeInfo {
    /// An SNS notification.
    Sns(SnsNotification),
    /// An EventBridge event.
    EventBridge(EventBridgeEvent),
    /// A CloudEvent.
    CloudEvent(CloudEvent),
}

impl EnvelopeInfo {
    /// The type a [`Router`](https://docs.rs/weir-worker) routes on: the SNS message
    /// attribute `weir.type` if the publisher set one, else the topic's name; the
    /// EventBridge `detail-type`; the CloudEvents `type`.
    #[must_use]
    pub fn type_tag(&self) -> Option<&str> {
        match self {
            Self::Sns(n) => n
                .attributes
                .get(crate::codec::TYPE_TAG_ATTRIBUTE)
                .and_then(AttributeValue::as_str)
                .or_else(|| n.topic_arn.rsplit(':').next()),
            Self::EventBridge(e) => Some(&e.detail_type),
            Self::CloudEvent(c) => Some(&c.event_type),
        }
    }
}

/// An SNS notification's fields (all but the payload, which is `Message`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SnsNotification {
    /// `TopicArn`.
    pub topic_arn: String,
    /// `MessageId`: SNS's id, not the SQS message's.
    pub message_id: String,
    /// `Subject`, when the publisher gave one.
    pub subject: Option<String>,
    /// `Timestamp`: when SNS received the publish.
    pub timestamp: Option<SystemTime>,
    /// `MessageAttributes`, typed as SQS message attributes are (`String`, `Number`,
    /// `Binary`, `String.Array`).
    pub attributes: Attributes,
}

/// An EventBridge event's fields (all but the payload, which is `detail`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EventBridgeEvent {
    /// `id`.
    pub id: String,
    /// `source`, e.g. `com.example.orders`.
    pub source: String,
    /// `detail-type`, e.g. `OrderPlaced`.
    pub detail_type: String,
    /// `time`.
    pub time: Option<SystemTime>,
    /// `account`.
    pub account: Option<String>,
    /// `region`.
    pub region: Option<String>,
    /// `resources`: ARNs the event concerns.
    pub resources: Vec<String>,
}

/// A CloudEvent's context attributes (all but the payload, which is `data`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CloudEvent {
    /// `specversion`, e.g. `1.0`.
    pub spec_version: String,
    /// `type`.
    pub event_type: String,
    /// `source`.
    pub source: String,
    /// `id`.
    pub id: String,
    /// `time`.
    pub time: Option<SystemTime>,
    /// `subject`.
    pub subject: Option<String>,
    /// `datacontenttype`.
    pub data_content_type: Option<String>,
}

/// A body unwrapped: the payload and the envelope it came in.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Unwrapped {
    /// What the envelope carried: SNS's `Message`, EventBridge's `detail` (as JSON
    /// text), the CloudEvent's `data`.
    pub payload: String,
    /// The envelope's fields.
    pub info: EnvelopeInfo,
}

impl Envelope {
    /// Opens `body` as this setting says, outside a consumer: for bodies that reach
    /// you another way (a Lambda function's SQS event, a message read with the SDK).
    /// `Ok(None)` when there is nothing to unwrap (always, for [`Envelope::None`]).
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] that says why, when the body claims (or, with `Sns`,
    /// `EventBridge` or `CloudEvents`, must be) an envelope and is not a valid one.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_sqs::{Envelope, EnvelopeInfo};
    ///
    /// let body = r#"{"version":"0","id":"1","detail-type":"OrderPlaced","source":"shop","detail":{"id":7}}"#;
    /// let opened = Envelope::Auto.open(body)?.expect("an EventBridge event");
    /// assert_eq!(opened.payload, r#"{"id":7}"#);
    /// assert!(matches!(opened.info, EnvelopeInfo::EventBridge(e) if e.detail_type == "OrderPlaced"));
    /// # Ok::<(), weir_sqs::DecodeError>(())
    /// ```
    pub fn open(self, body: &str) -> Result<Option<Unwrapped>, DecodeError> {
        unwrap(self, body)
    }
}

/// Unwraps `body` as `setting` says: `Ok(None)` when there is no envelope to unwrap,
/// an error when the body claims (or must be) an envelope and is not a valid one.
pub(crate) fn unwrap(setting: Envelope, body: &str) -> Result<Option<Unwrapped>, DecodeError> {
    if setting == Envelope::None {
        return Ok(None);
    }
    let object = match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    let kind = match (setting, &object) {
        (Envelope::Auto, None) => return Ok(None),
        (Envelope::Auto, Some(map)) => match detect(map) {
            Some(kind) => kind,
            None => return Ok(None),
        },
        (kind, _) => kind,
    };
    let Some(map) = object else {
        return Err(malformed(kind, "the body is not a JSON object"));
    };
    let unwrapped = match kind {
        Envelope::Sns => sns(map),
        Envelope::EventBridge => event_bridge(map),
        _ => cloud_event(map),
    };
    unwrapped.map(Some).map_err(|why| malformed(kind, &why))
}

/// Which envelope an object claims to be, by the field each format always has.
fn detect(map: &Map<String, Value>) -> Option<Envelope> {
    if map.get("Type").and_then(Value::as_str) == Some("Notification") {
        Some(Envelope::Sns)
    } else if map.contains_key("detail-type") {
        Some(Envelope::EventBridge)
    } else if map.contains_key("specversion") {
        Some(Envelope::CloudEvents)
    } else {
        None
    }
}

fn malformed(kind: Envelope, why: &str) -> DecodeError {
    let what = match kind {
        Envelope::Sns => "an SNS notification",
        Envelope::EventBridge => "an EventBridge event",
        _ => "a CloudEvent (structured JSON mode)",
    };
    CodecError::msg(
        CodecErrorKind::Decode,
        "envelope",
        format!("expected {what}: {why}"),
    )
}

fn string(map: &Map<String, Value>, field: &str) -> Result<String, String> {
    map.get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("no string field `{field}`"))
}

fn optional(map: &Map<String, Value>, field: &str) -> Option<String> {
    map.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// An RFC 3339 time (`2024-05-02T00:54:06.655Z`); a field that is not one reads as none.
fn time(map: &Map<String, Value>, field: &str) -> Option<SystemTime> {
    let text = map.get(field)?.as_str()?;
    SystemTime::try_from(DateTime::from_str(text, Format::DateTime).ok()?).ok()
}

fn sns(mut map: Map<String, Value>) -> Result<Unwrapped, String> {
    let Some(Value::String(payload)) = map.remove("Message") else {
        return Err("no string field `Message`".to_owned());
    };
    let info = SnsNotification {
        topic_arn: string(&map, "TopicArn")?,
        message_id: string(&map, "MessageId")?,
        subject: optional(&map, "Subject"),
        timestamp: time(&map, "Timestamp"),
        attributes: match map.get("MessageAttributes") {
            Some(Value::Object(attrs)) => sns_attributes(attrs)?,
            None | Some(Value::Null) => Attributes::new(),
            Some(_) => return Err("`MessageAttributes` is not an object".to_owned()),
        },
    };
    Ok(Unwrapped {
        payload,
        info: EnvelopeInfo::Sns(info),
    })
}

/// SNS writes each attribute as `{"Type": "String", "Value": "..."}`, binary values in
/// base64.
fn sns_attributes(attrs: &Map<String, Value>) -> Result<Attributes, String> {
    let mut out = Attributes::new();
    for (name, attr) in attrs {
        let (Some(kind), Some(value)) = (
            attr.get("Type").and_then(Value::as_str),
            attr.get("Value").and_then(Value::as_str),
        ) else {
            return Err(format!("message attribute `{name}` has no Type and Value"));
        };
        let base = kind.split('.').next().unwrap_or(kind);
        let label = kind.split_once('.').map(|(_, l)| l);
        let mut value = match base {
            "Binary" => AttributeValue::binary(
                aws_smithy_types::base64::decode(value)
                    .map_err(|_| format!("message attribute `{name}` is not base64"))?,
            ),
            "Number" => AttributeValue::number(value),
            _ => AttributeValue::string(value),
        };
        if let Some(label) = label {
            value = value.with_label(label);
        }
        out.insert(name.clone(), value);
    }
    Ok(out)
}

fn event_bridge(mut map: Map<String, Value>) -> Result<Unwrapped, String> {
    let detail = map.remove("detail").ok_or("no field `detail`")?;
    let info = EventBridgeEvent {
        id: string(&map, "id")?,
        source: string(&map, "source")?,
        detail_type: string(&map, "detail-type")?,
        time: time(&map, "time"),
        account: optional(&map, "account"),
        region: optional(&map, "region"),
        resources: map
            .get("resources")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    };
    Ok(Unwrapped {
        payload: detail.to_string(),
        info: EnvelopeInfo::EventBridge(info),
    })
}

fn cloud_event(mut map: Map<String, Value>) -> Result<Unwrapped, String> {
    let info = CloudEvent {
        spec_version: string(&map, "specversion")?,
        event_type: string(&map, "type")?,
        source: string(&map, "source")?,
        id: string(&map, "id")?,
        time: time(&map, "time"),
        subject: optional(&map, "subject"),
        data_content_type: optional(&map, "datacontenttype"),
    };
    let json = info
        .data_content_type
        .as_deref()
        .is_none_or(|t| t.contains("json"));
    let payload = match (map.remove("data"), map.remove("data_base64")) {
        (Some(_), Some(_)) => return Err("both `data` and `data_base64`".to_owned()),
        // A text payload (`text/plain`, XML) is the string itself; JSON data is its text.
        (Some(Value::String(s)), None) if !json => s,
        (Some(data), None) => data.to_string(),
        (None, Some(Value::String(b64))) => {
            let bytes = aws_smithy_types::base64::decode(&b64)
                .map_err(|_| "`data_base64` is not base64".to_owned())?;
            String::from_utf8(bytes).map_err(|_| "`data_base64` is not UTF-8 text".to_owned())?
        }
        (None, Some(_)) => return Err("`data_base64` is not a string".to_owned()),
        (None, None) => "null".to_owned(),
    };
    Ok(Unwrapped {
        payload,
        info: EnvelopeInfo::CloudEvent(info),
    })
}

#[cfg(test)]
mod tests;
