//! [`Message<T>`]: one received message, its decoded body (or the decode error) and its
//! SQS metadata.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::types::MessageSystemAttributeName as Sys;
use tokio_util::sync::CancellationToken;

use crate::attributes::{AttributeValue, Attributes};
use crate::codec::{Decode, DecodeError, TYPE_TAG_ATTRIBUTE};
use crate::envelope::{self, Envelope, EnvelopeInfo};

/// A received message.
///
/// The body is decoded when the message is received; a body that does not decode is kept
/// as an error next to the raw body ([`Message::body`], [`Message::raw_body`]) and never
/// fails the batch it came in. Acknowledge a message with its receipt handle
/// (`Consumer::ack`, `Queue::delete_batch`).
///
/// # Clone
///
/// Cloning is cheap, whatever `T` is: the body and the metadata are behind `Arc`s, so a
/// retry layer can keep a copy of the request. Clones share the body and the
/// [cancellation token](Self::cancellation).
///
/// `Debug` never prints the body.
pub struct Message<T> {
    body: Arc<Result<T, DecodeError>>,
    parts: Arc<Parts>,
    cancel: CancellationToken,
}

/// Everything but the body, shared by clones.
struct Parts {
    raw_body: String,
    /// The body as SQS delivered it, when it differs from the payload in `raw_body`
    /// (an envelope unwrapped, an offloaded payload fetched).
    sqs_body: Option<String>,
    /// The envelope the payload came in, when one was unwrapped.
    envelope: Option<EnvelopeInfo>,
    /// Where the payload was, when it was offloaded to S3.
    #[cfg(feature = "s3")]
    s3_pointer: Option<crate::s3::S3Pointer>,
    message_id: String,
    receipt_handle: String,
    receive_count: u32,
    sent_at: Option<SystemTime>,
    first_received_at: Option<SystemTime>,
    group_id: Option<String>,
    sequence_number: Option<String>,
    dedup_id: Option<String>,
    attributes: Attributes,
    trace_header: Option<String>,
    received_at: tokio::time::Instant,
    queue_name: Option<Arc<str>>,
}

impl<T> Clone for Message<T> {
    fn clone(&self) -> Self {
        Self {
            body: Arc::clone(&self.body),
            parts: Arc::clone(&self.parts),
            cancel: self.cancel.clone(),
        }
    }
}

impl<T> fmt::Debug for Message<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &*self.parts;
        f.debug_struct("Message")
            .field("message_id", &p.message_id)
            .field("receive_count", &p.receive_count)
            .field("decoded", &self.body.is_ok())
            .field("body_len", &p.raw_body.len())
            .field("group_id", &p.group_id)
            .field("sequence_number", &p.sequence_number)
            .field("attributes", &p.attributes.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn millis(s: &str) -> Option<SystemTime> {
    s.parse::<u64>()
        .ok()
        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
}

/// What decoding a body gives: the body (or why not), the payload it came from, the body
/// as SQS delivered it (when an envelope was unwrapped), the envelope, and the message
/// attributes (an SNS notification's added to SQS's, which win on a clash).
type Decoded<T> = (
    Result<T, DecodeError>,
    String,
    Option<String>,
    Option<EnvelopeInfo>,
    Attributes,
);

/// Unwraps `sqs_body` as `setting` says and decodes the payload with `codec`, tagged
/// with the envelope's type or the `weir.type` attribute.
fn decode<T, C: Decode<T> + ?Sized>(
    sqs_body: String,
    mut attributes: Attributes,
    codec: &C,
    setting: Envelope,
) -> Decoded<T> {
    match envelope::unwrap(setting, &sqs_body) {
        Ok(None) => {
            let tag = attributes
                .get(TYPE_TAG_ATTRIBUTE)
                .and_then(AttributeValue::as_str);
            (
                codec.decode_tagged(&sqs_body, tag),
                sqs_body,
                None,
                None,
                attributes,
            )
        }
        Ok(Some(unwrapped)) => {
            if let EnvelopeInfo::Sns(n) = &unwrapped.info {
                for (name, value) in &n.attributes {
                    attributes
                        .entry(name.clone())
                        .or_insert_with(|| value.clone());
                }
            }
            let tag = unwrapped.info.type_tag();
            let body = codec.decode_tagged(&unwrapped.payload, tag);
            let info = Some(unwrapped.info);
            (body, unwrapped.payload, Some(sqs_body), info, attributes)
        }
        Err(e) => (Err(e), sqs_body, None, None, attributes),
    }
}

impl<T> Message<T> {
    /// Builds a message from the SDK's, decoding its body with `codec`.
    pub(crate) fn from_sdk<C: Decode<T> + ?Sized>(
        m: aws_sdk_sqs::types::Message,
        codec: &C,
        received_at: tokio::time::Instant,
        queue_name: Option<&Arc<str>>,
        envelope: Envelope,
    ) -> Self {
        Self::from_sdk_with(m, codec, received_at, queue_name, envelope, None)
    }

    /// [`from_sdk`](Self::from_sdk) for a message whose payload was fetched from S3
    /// (or could not be): the payload is decoded, the pointer stays the SQS body.
    #[cfg(feature = "s3")]
    pub(crate) fn from_sdk_fetched<C: Decode<T> + ?Sized>(
        m: aws_sdk_sqs::types::Message,
        codec: &C,
        received_at: tokio::time::Instant,
        queue_name: Option<&Arc<str>>,
        envelope: Envelope,
        fetched: Option<crate::s3::receive::Fetched>,
    ) -> Self {
        Self::from_sdk_with(m, codec, received_at, queue_name, envelope, fetched)
    }

    fn from_sdk_with<C: Decode<T> + ?Sized>(
        m: aws_sdk_sqs::types::Message,
        codec: &C,
        received_at: tokio::time::Instant,
        queue_name: Option<&Arc<str>>,
        envelope: Envelope,
        #[cfg(feature = "s3")] fetched: Option<crate::s3::receive::Fetched>,
        #[cfg(not(feature = "s3"))] _fetched: Option<std::convert::Infallible>,
    ) -> Self {
        let (mut receive_count, mut sent_at, mut first_received_at) = (None, None, None);
        let (mut group_id, mut sequence_number, mut dedup_id, mut trace_header) =
            (None, None, None, None);
        // One pass over the map, which holds what the receive asked for.
        for (name, value) in m.attributes.unwrap_or_default() {
            match name {
                Sys::ApproximateReceiveCount => receive_count = value.parse().ok(),
                Sys::SentTimestamp => sent_at = millis(&value),
                Sys::ApproximateFirstReceiveTimestamp => first_received_at = millis(&value),
                Sys::MessageGroupId => group_id = Some(value),
                Sys::SequenceNumber => sequence_number = Some(value),
                Sys::MessageDeduplicationId => dedup_id = Some(value),
                Sys::AwsTraceHeader => trace_header = Some(value),
                _ => {}
            }
        }
        let attributes: Attributes = m
            .message_attributes
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, AttributeValue::from_sdk(v)))
            .collect();
        let sqs_body = m.body.unwrap_or_default();
        #[cfg(feature = "s3")]
        let (s3_pointer, (body, raw_body, sqs_body, envelope, attributes)) = match fetched {
            None => (None, decode(sqs_body, attributes, codec, envelope)),
            Some(f) => {
                let decoded = match f.payload {
                    Ok(payload) => {
                        let (body, raw, _, info, attributes) =
                            decode(payload, attributes, codec, envelope);
                        (body, raw, Some(sqs_body), info, attributes)
                    }
                    Err(e) => (Err(e), sqs_body, None, None, attributes),
                };
                (f.pointer, decoded)
            }
        };
        #[cfg(not(feature = "s3"))]
        let (body, raw_body, sqs_body, envelope, attributes) =
            decode(sqs_body, attributes, codec, envelope);
        Self {
            body: Arc::new(body),
            parts: Arc::new(Parts {
                raw_body,
                sqs_body,
                envelope,
                #[cfg(feature = "s3")]
                s3_pointer,
                message_id: m.message_id.unwrap_or_default(),
                receipt_handle: m.receipt_handle.unwrap_or_default(),
                receive_count: receive_count.unwrap_or(1),
                sent_at,
                first_received_at,
                group_id,
                sequence_number,
                dedup_id,
                trace_header,
                attributes,
                received_at,
                queue_name: queue_name.cloned(),
            }),
            cancel: CancellationToken::new(),
        }
    }

    /// A message from one the SDK received by other means (your own `ReceiveMessage`
    /// call, a test's canned response), decoded with `codec`, received now. It has no
    /// queue name and a fresh cancellation token.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_sqs::{Json, Message};
    ///
    /// let sdk = aws_sdk_sqs::types::Message::builder()
    ///     .message_id("m-1")
    ///     .receipt_handle("r-1")
    ///     .body("42")
    ///     .build();
    /// let msg: Message<u32> = Message::from_sdk_message(sdk, &Json);
    /// assert_eq!(msg.body().ok(), Some(&42));
    /// assert_eq!(msg.receive_count(), 1);
    /// ```
    #[must_use]
    pub fn from_sdk_message<C: Decode<T> + ?Sized>(
        m: aws_sdk_sqs::types::Message,
        codec: &C,
    ) -> Self {
        Self::from_sdk(m, codec, tokio::time::Instant::now(), None, Envelope::None)
    }

    /// The decoded body, or why it could not be decoded.
    ///
    /// # Errors
    ///
    /// The [`DecodeError`] when the body did not decode (a poison message).
    pub fn body(&self) -> Result<&T, &DecodeError> {
        self.body.as_ref().as_ref()
    }

    /// Takes the decoded body (or the decode error), consuming the message. The body
    /// moves out when this is its only handle, and is cloned when a clone of the message
    /// (a retry layer's copy, say) still shares it.
    ///
    /// # Errors
    ///
    /// The [`DecodeError`] when the body did not decode.
    pub fn into_body(self) -> Result<T, DecodeError>
    where
        T: Clone,
    {
        Arc::try_unwrap(self.body).unwrap_or_else(|shared| (*shared).clone())
    }

    /// Whether the body decoded.
    #[must_use]
    pub fn is_decoded(&self) -> bool {
        self.body.is_ok()
    }

    /// The payload the body was decoded from: the body as SQS delivered it, or what
    /// was inside it (an envelope's payload, an offloaded object).
    #[must_use]
    pub fn raw_body(&self) -> &str {
        &self.parts.raw_body
    }

    /// The body exactly as SQS delivered it (an envelope or a pointer included): what a
    /// dead-letter copy carries, so that a redrive delivers the same message again.
    #[must_use]
    pub fn sqs_body(&self) -> &str {
        self.parts
            .sqs_body
            .as_deref()
            .unwrap_or(&self.parts.raw_body)
    }

    /// Where the payload was, when it came through S3 (the `s3` feature): the pointer
    /// [`sqs_body`](Self::sqs_body) carries, read by a consumer
    /// [with an offload](crate::Consumer::with_offload). Also set when the object could
    /// not be fetched ([`body`](Self::body) then says why).
    #[cfg(feature = "s3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
    #[must_use]
    pub fn s3_pointer(&self) -> Option<&crate::s3::S3Pointer> {
        self.parts.s3_pointer.as_ref()
    }

    /// SQS's message id.
    #[must_use]
    pub fn message_id(&self) -> &str {
        &self.parts.message_id
    }

    /// The receipt handle of this receive, used to delete it or change its visibility.
    #[must_use]
    pub fn receipt_handle(&self) -> &str {
        &self.parts.receipt_handle
    }

    /// How many times the message has been received, this time included
    /// (`ApproximateReceiveCount`).
    #[must_use]
    pub fn receive_count(&self) -> u32 {
        self.parts.receive_count
    }

    /// When the message was sent (`SentTimestamp`).
    #[must_use]
    pub fn sent_at(&self) -> Option<SystemTime> {
        self.parts.sent_at
    }

    /// When the message was first received (`ApproximateFirstReceiveTimestamp`).
    #[must_use]
    pub fn first_received_at(&self) -> Option<SystemTime> {
        self.parts.first_received_at
    }

    /// The message group id (FIFO queues, and fair standard queues).
    #[must_use]
    pub fn group_id(&self) -> Option<&str> {
        self.parts.group_id.as_deref()
    }

    /// The sequence number (FIFO queues).
    #[must_use]
    pub fn sequence_number(&self) -> Option<&str> {
        self.parts.sequence_number.as_deref()
    }

    /// The deduplication id (FIFO queues).
    #[must_use]
    pub fn dedup_id(&self) -> Option<&str> {
        self.parts.dedup_id.as_deref()
    }

    /// The message attributes (user attributes, not system attributes).
    #[must_use]
    pub fn attributes(&self) -> &Attributes {
        &self.parts.attributes
    }

    /// One message attribute's string value.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.parts
            .attributes
            .get(name)
            .and_then(AttributeValue::as_str)
    }

    /// The type tag ([`TYPE_TAG_ATTRIBUTE`]), if the producer set one.
    #[must_use]
    pub fn type_tag(&self) -> Option<&str> {
        match &self.parts.envelope {
            Some(envelope) => envelope.type_tag(),
            None => self.attribute(TYPE_TAG_ATTRIBUTE),
        }
    }

    /// The envelope the payload arrived in (SNS, EventBridge, CloudEvents), when the
    /// consumer unwrapped one ([`Envelope`]); [`raw_body`](Self::raw_body) is then the
    /// payload and [`sqs_body`](Self::sqs_body) the envelope.
    #[must_use]
    pub fn envelope(&self) -> Option<&EnvelopeInfo> {
        self.parts.envelope.as_ref()
    }

    /// The W3C `traceparent` attribute, if the producer injected one.
    #[must_use]
    pub fn traceparent(&self) -> Option<&str> {
        self.attribute(crate::TRACEPARENT_ATTRIBUTE)
    }

    /// The X-Ray trace header (`AWSTraceHeader` system attribute).
    #[must_use]
    pub fn trace_header(&self) -> Option<&str> {
        self.parts.trace_header.as_deref()
    }

    /// When the receive that brought this message returned (tokio's clock): its
    /// visibility timeout runs from about then.
    #[must_use]
    pub fn received_at(&self) -> tokio::time::Instant {
        self.parts.received_at
    }

    /// The name of the queue it was received from.
    #[must_use]
    pub fn queue_name(&self) -> Option<&str> {
        self.parts.queue_name.as_deref()
    }

    /// The token that fires when the work on this message should stop. A worker fires
    /// it when the message's lease is lost, when a timeout layer gives up on it, and
    /// when shutdown stops waiting; pass it (or a child) to tasks the handler spawns.
    /// A message from [`Consumer::receive`](crate::Consumer::receive) has a token of
    /// its own that only its holder cancels.
    #[must_use]
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }

    /// The same message with another cancellation token (the worker gives each
    /// message a child of its shutdown token).
    #[must_use]
    pub fn with_cancellation(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }

    /// The same message with another body (or decode error): the metadata and the
    /// token are kept. Decoding a body again (a router decoding into its route's type,
    /// an envelope unwrapped) goes through here.
    #[must_use]
    pub fn with_body<U>(self, body: Result<U, DecodeError>) -> Message<U> {
        Message {
            body: Arc::new(body),
            parts: self.parts,
            cancel: self.cancel,
        }
    }

    /// Maps the decoded body, keeping everything else (the body is cloned first when a
    /// clone of the message still shares it; see [`into_body`](Self::into_body)).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Message<U>
    where
        T: Clone,
    {
        let parts = self.parts;
        let cancel = self.cancel;
        let body = Arc::try_unwrap(self.body).unwrap_or_else(|shared| (*shared).clone());
        Message {
            body: Arc::new(body.map(f)),
            parts,
            cancel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Json;
    use aws_sdk_sqs::types::MessageAttributeValue;

    #[test]
    fn decode_error_is_kept_with_raw_body() {
        let m = aws_sdk_sqs::types::Message::builder()
            .message_id("m1")
            .receipt_handle("r1")
            .body("not json")
            .attributes(Sys::ApproximateReceiveCount, "3")
            .attributes(Sys::SentTimestamp, "1700000000000")
            .attributes(Sys::MessageGroupId, "g")
            .attributes(Sys::AwsTraceHeader, "Root=1-abc")
            .message_attributes(
                "k",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("v")
                    .build()
                    .unwrap(),
            )
            .build();
        let msg: Message<u32> =
            Message::from_sdk(m, &Json, tokio::time::Instant::now(), None, Envelope::None);
        assert!(msg.body().is_err());
        assert_eq!(msg.raw_body(), "not json");
        assert_eq!(msg.receive_count(), 3);
        assert_eq!(
            msg.sent_at(),
            Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
        assert_eq!(msg.group_id(), Some("g"));
        assert_eq!(msg.trace_header(), Some("Root=1-abc"));
        assert_eq!(msg.attribute("k"), Some("v"));
        assert!(
            !format!("{msg:?}").contains("not json"),
            "Debug hides the body"
        );
    }

    #[test]
    fn clones_share_body_and_token_and_bodies_can_be_replaced() {
        #[derive(Debug, PartialEq)]
        struct NotClone(u32);
        let m = aws_sdk_sqs::types::Message::builder()
            .message_id("m1")
            .receipt_handle("r1")
            .body("7")
            .build();
        let queue: Arc<str> = Arc::from("orders");
        let msg: Message<u32> = Message::from_sdk(
            m,
            &Json,
            tokio::time::Instant::now(),
            Some(&queue),
            Envelope::None,
        );
        assert_eq!(msg.queue_name(), Some("orders"));
        let copy = msg.clone();
        assert!(std::ptr::eq(msg.body().unwrap(), copy.body().unwrap()));
        msg.cancellation().cancel();
        assert!(copy.cancellation().is_cancelled(), "clones share the token");
        let fresh = copy.with_cancellation(CancellationToken::new());
        assert!(!fresh.cancellation().is_cancelled());
        // Shared: into_body clones; alone, it moves.
        assert_eq!(fresh.clone().into_body().ok(), Some(7));
        let other: Message<NotClone> = fresh.with_body(Ok(NotClone(8)));
        let again = other.clone();
        assert_eq!(again.body().ok(), Some(&NotClone(8)));
        assert_eq!(other.message_id(), "m1");
        assert_eq!(msg.map(|n| n + 1).into_body().ok(), Some(8));
    }
}
