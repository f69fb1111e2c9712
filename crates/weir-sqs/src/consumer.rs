//! [`Consumer<T>`]: receives typed messages and settles them (ack, nack, extend).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use tracing::Instrument;

use crate::codec::{Decode, Json};
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::queue::{Queue, secs_i32};
use crate::telemetry::OpType;
use crate::validate;

/// Options of one receive. Checked before the call.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir_sqs::ReceiveOptions;
///
/// let opts = ReceiveOptions {
///     max_messages: 5,
///     wait: Some(Duration::from_secs(20)),
///     ..ReceiveOptions::default()
/// };
/// assert!(opts.validate(false).is_ok());
/// assert!(ReceiveOptions { max_messages: 11, ..opts }.validate(false).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveOptions {
    /// How many messages at most: 1–10 (default 10).
    pub max_messages: usize,
    /// Long-poll wait, 0–20 s in whole seconds; `None` uses the queue's default
    /// (`ReceiveMessageWaitTimeSeconds`).
    pub wait: Option<Duration>,
    /// Visibility timeout for these messages, 0–12 h; `None` uses the queue's.
    pub visibility: Option<Duration>,
    /// `ReceiveRequestAttemptId`, FIFO queues only: retrying a receive with the same id
    /// returns the same messages.
    pub attempt_id: Option<String>,
    /// The system attributes to ask for (`MessageSystemAttributeNames`); `None` (the
    /// default) asks for all of them. Every attribute returned is parsed on every
    /// message, so a busy consumer asks only for those it reads: a [`Message`]'s
    /// accessors for the others return `None` (and
    /// [`receive_count`](Message::receive_count) 1). Message attributes are always
    /// received.
    pub system_attributes: Option<Vec<MessageSystemAttributeName>>,
}

impl Default for ReceiveOptions {
    fn default() -> Self {
        Self {
            max_messages: 10,
            wait: None,
            visibility: None,
            attempt_id: None,
            system_attributes: None,
        }
    }
}

impl ReceiveOptions {
    /// Sets the maximum number of messages.
    #[must_use]
    pub fn with_max_messages(mut self, n: usize) -> Self {
        self.max_messages = n;
        self
    }

    /// Sets the long-poll wait.
    #[must_use]
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = Some(wait);
        self
    }

    /// Sets the visibility timeout of the received messages.
    #[must_use]
    pub fn with_visibility(mut self, visibility: Duration) -> Self {
        self.visibility = Some(visibility);
        self
    }

    /// Sets the FIFO receive request attempt id.
    #[must_use]
    pub fn with_attempt_id(mut self, id: impl Into<String>) -> Self {
        self.attempt_id = Some(id.into());
        self
    }

    /// Asks for these system attributes only, instead of all of them.
    ///
    /// # Examples
    ///
    /// ```
    /// use aws_sdk_sqs::types::MessageSystemAttributeName as Sys;
    /// use weir_sqs::ReceiveOptions;
    ///
    /// let opts = ReceiveOptions::default()
    ///     .with_system_attributes([Sys::ApproximateReceiveCount, Sys::SentTimestamp]);
    /// assert_eq!(opts.system_attributes.map(|a| a.len()), Some(2));
    /// ```
    #[must_use]
    pub fn with_system_attributes(
        mut self,
        names: impl IntoIterator<Item = MessageSystemAttributeName>,
    ) -> Self {
        self.system_attributes = Some(names.into_iter().collect());
        self
    }

    /// Checks the options against SQS's limits, for a FIFO queue or not.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the limit: max messages 1–10, wait 0–20 s,
    /// visibility 0–43,200 s, an attempt id only on FIFO queues (1–128 characters).
    pub fn validate(&self, fifo: bool) -> Result<()> {
        validate::check_max_messages(self.max_messages)?;
        if let Some(w) = self.wait {
            validate::check_wait(w)?;
        }
        if let Some(v) = self.visibility {
            validate::check_visibility(v)?;
        }
        if let Some(id) = &self.attempt_id {
            if !fifo {
                return Err(Error::invalid(
                    "receive request attempt id",
                    "only FIFO queues take a ReceiveRequestAttemptId",
                ));
            }
            validate::check_id("receive request attempt id", id)?;
        }
        Ok(())
    }
}

/// Receives messages of type `T`, decoded by the codec `C` (JSON by default), and
/// settles them.
///
/// Cheap to clone. Bodies that do not decode are returned as messages whose
/// [`body`](Message::body) is an error; they never fail the receive.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> weir_sqs::Result<()> {
/// # let client = weir_local::LocalSqs::new().client();
/// # weir_sqs::QueueSpec::standard("orders").ensure(&client).await?;
/// use weir_sqs::{Consumer, Queue, ReceiveOptions};
///
/// let queue = Queue::open(&client, "orders").await?;
/// let consumer: Consumer<serde_json::Value> = Consumer::new(queue);
/// for msg in consumer.receive(&ReceiveOptions::default()).await? {
///     match msg.body() {
///         Ok(order) => println!("order {order}"),
///         Err(e) => eprintln!("poison message {}: {e}", msg.message_id()),
///     }
///     consumer.ack(&msg).await?;
/// }
/// # Ok(()) }
/// ```
pub struct Consumer<T, C = Json> {
    queue: Queue,
    queue_name: Arc<str>,
    codec: Arc<C>,
    envelope: Envelope,
    #[cfg(feature = "s3")]
    offload: Option<Arc<crate::s3::Offload>>,
    _t: PhantomData<fn() -> T>,
}

impl<T, C> Clone for Consumer<T, C> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            queue_name: Arc::clone(&self.queue_name),
            codec: Arc::clone(&self.codec),
            envelope: self.envelope,
            #[cfg(feature = "s3")]
            offload: self.offload.clone(),
            _t: PhantomData,
        }
    }
}

impl<T, C> fmt::Debug for Consumer<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("queue", &self.queue)
            .field("type", &std::any::type_name::<T>())
            .field("codec", &std::any::type_name::<C>())
            .field("envelope", &self.envelope)
            .finish()
    }
}

impl<T> Consumer<T, Json> {
    /// A consumer of JSON messages.
    #[must_use]
    pub fn new(queue: Queue) -> Self {
        Self::with_codec(queue, Json)
    }
}

impl<T, C> Consumer<T, C> {
    /// A consumer that decodes with `codec`.
    #[must_use]
    pub fn with_codec(queue: Queue, codec: C) -> Self {
        Self {
            queue_name: Arc::from(queue.name()),
            queue,
            codec: Arc::new(codec),
            envelope: Envelope::None,
            #[cfg(feature = "s3")]
            offload: None,
            _t: PhantomData,
        }
    }

    /// Fetches offloaded payloads from S3 before decoding (the `s3` feature): a message
    /// with the extended clients' `ExtendedPayloadSize` (or `SQSLargePayloadSize`)
    /// attribute has its pointer's object fetched, `T` is decoded from it,
    /// [`Message::raw_body`] is the payload and [`Message::sqs_body`] the pointer.
    /// [`ack`](Self::ack) and [`ack_batch`](Self::ack_batch) delete the object after
    /// the SQS delete succeeds, unless the offload [keeps](crate::s3::Cleanup::Keep)
    /// objects. A missing object makes a poison message whose decode error says so,
    /// unless the offload ignores them; a passing S3 failure leaves the message for SQS
    /// to deliver again.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo(queue: weir_sqs::Queue, s3: aws_sdk_s3::Client) -> weir_sqs::Result<()> {
    /// use weir_sqs::s3::Offload;
    /// use weir_sqs::{Consumer, ReceiveOptions};
    ///
    /// let consumer = Consumer::<serde_json::Value>::new(queue)
    ///     .with_offload(Offload::new(s3, "my-payloads"));
    /// for msg in consumer.receive(&ReceiveOptions::default()).await? {
    ///     if let Some(p) = msg.s3_pointer() {
    ///         println!("{} bytes from {p}", msg.raw_body().len());
    ///     }
    ///     consumer.ack(&msg).await?; // then the object is deleted
    /// }
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "s3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
    #[must_use]
    pub fn with_offload(mut self, offload: crate::s3::Offload) -> Self {
        self.offload = Some(Arc::new(offload));
        self
    }

    /// Unwraps the envelopes `envelope` names (SNS notifications, EventBridge events,
    /// CloudEvents) before decoding: `T` is decoded from the payload inside, and
    /// [`Message::envelope`] keeps the envelope's fields. A body that should be an
    /// envelope and is not a valid one does not decode ([`Message::body`] says why).
    ///
    /// # Examples
    ///
    /// ```
    /// # async fn demo(queue: weir_sqs::Queue) -> weir_sqs::Result<()> {
    /// use weir_sqs::{Consumer, Envelope, ReceiveOptions};
    ///
    /// // A queue subscribed to an SNS topic, without raw message delivery.
    /// let consumer = Consumer::<u64>::new(queue).with_envelope(Envelope::Sns);
    /// for msg in consumer.receive(&ReceiveOptions::default()).await? {
    ///     if let Some(weir_sqs::EnvelopeInfo::Sns(n)) = msg.envelope() {
    ///         println!("{} from {}", msg.raw_body(), n.topic_arn);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn with_envelope(mut self, envelope: Envelope) -> Self {
        self.envelope = envelope;
        self
    }

    /// The envelopes unwrapped before decoding.
    #[must_use]
    pub fn envelope(&self) -> Envelope {
        self.envelope
    }

    /// The queue.
    #[must_use]
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// The codec.
    #[must_use]
    pub fn codec(&self) -> &C {
        &self.codec
    }
}

impl<T, C: Decode<T>> Consumer<T, C> {
    /// Receives up to `options.max_messages` messages (`ReceiveMessage`), with all message
    /// attributes, and the system attributes the options name (all by default).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for options out of range (before any call),
    /// [`Error::Sqs`] or [`Error::QueueNotFound`]. Decode failures are not errors here.
    pub async fn receive(&self, options: &ReceiveOptions) -> Result<Vec<Message<T>>> {
        options.validate(self.queue.is_fifo())?;
        let span = self.queue.span("ReceiveMessage", OpType::Receive);
        let out = self
            .queue
            .client()
            .receive_message()
            .queue_url(self.queue.url())
            .max_number_of_messages(i32::try_from(options.max_messages).unwrap_or(10))
            .set_wait_time_seconds(options.wait.map(secs_i32))
            .set_visibility_timeout(options.visibility.map(secs_i32))
            .set_receive_request_attempt_id(options.attempt_id.clone())
            .set_message_system_attribute_names(Some(
                options
                    .system_attributes
                    .clone()
                    .unwrap_or_else(|| vec![MessageSystemAttributeName::All]),
            ))
            .message_attribute_names("All")
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| self.queue.sdk_err("ReceiveMessage", e, &span))?;
        let now = tokio::time::Instant::now();
        #[cfg(feature = "s3")]
        if let Some(offload) = &self.offload {
            let fetched = crate::s3::receive::fetch_all(
                offload,
                &self.queue,
                out.messages.unwrap_or_default(),
            )
            .instrument(span.clone())
            .await;
            let messages: Vec<Message<T>> = fetched
                .into_iter()
                .map(|(m, f)| {
                    let q = Some(&self.queue_name);
                    Message::from_sdk_fetched(m, &*self.codec, now, q, self.envelope, f)
                })
                .collect();
            return Ok(self.received(messages, &span));
        }
        let messages: Vec<Message<T>> = out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| Message::from_sdk(m, &*self.codec, now, Some(&self.queue_name), self.envelope))
            .collect();
        Ok(self.received(messages, &span))
    }

    fn received(&self, messages: Vec<Message<T>>, span: &tracing::Span) -> Vec<Message<T>> {
        span.record("messaging.batch.message_count", messages.len());
        let undecoded = messages.iter().filter(|m| !m.is_decoded()).count();
        if undecoded > 0 {
            tracing::warn!(parent: span, undecoded, "message bodies failed to decode");
        }
        messages
    }
}

impl<T, C> Consumer<T, C> {
    /// Acknowledges a message: deletes it (`DeleteMessage`). With an offload
    /// (`with_offload`, the `s3` feature), its payload object is deleted next, only once
    /// the SQS delete succeeded; a failed object delete is logged, not returned.
    ///
    /// # Errors
    ///
    /// [`Error::Sqs`] (e.g. an expired receipt handle) or [`Error::QueueNotFound`].
    pub async fn ack(&self, message: &Message<T>) -> Result<()> {
        self.queue.delete(message.receipt_handle()).await?;
        #[cfg(feature = "s3")]
        if let Some(o) = &self.offload {
            crate::s3::receive::after_delete(o, message.s3_pointer()).await;
        }
        Ok(())
    }

    /// Acknowledges several messages with `DeleteMessageBatch` (10 per call, retryable
    /// failed entries retried). One result per message, in order.
    pub async fn ack_batch(&self, messages: &[Message<T>]) -> Vec<Result<()>> {
        let handles: Vec<&str> = messages.iter().map(Message::receipt_handle).collect();
        let results = self.queue.delete_batch(&handles).await;
        #[cfg(feature = "s3")]
        if let Some(o) = &self.offload {
            let deleted = messages.iter().zip(&results).filter(|(_, r)| r.is_ok());
            crate::s3::receive::after_delete(o, deleted.filter_map(|(m, _)| m.s3_pointer())).await;
        }
        results
    }

    /// Gives a message back: it becomes visible again after `delay` (0 = now).
    ///
    /// # Errors
    ///
    /// As [`change_visibility`](Self::change_visibility).
    pub async fn nack(&self, message: &Message<T>, delay: Duration) -> Result<()> {
        self.change_visibility(message, delay).await
    }

    /// Sets a message's visibility timeout to `timeout` from now.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] over 12 h (before any call), [`Error::Sqs`].
    pub async fn change_visibility(&self, message: &Message<T>, timeout: Duration) -> Result<()> {
        self.queue
            .change_visibility(message.receipt_handle(), timeout)
            .await
    }

    /// Extends a message's lease: it stays invisible for `by` from now. SQS caps a
    /// message's total invisibility at 12 h from its receive.
    ///
    /// # Errors
    ///
    /// As [`change_visibility`](Self::change_visibility).
    pub async fn extend(&self, message: &Message<T>, by: Duration) -> Result<()> {
        self.change_visibility(message, by).await
    }

    /// Changes the visibility of several messages (`ChangeMessageVisibilityBatch`, 10
    /// per call). One result per message, in order.
    pub async fn change_visibility_batch(
        &self,
        messages: &[Message<T>],
        timeout: Duration,
    ) -> Vec<Result<()>> {
        let entries: Vec<(&str, Duration)> = messages
            .iter()
            .map(|m| (m.receipt_handle(), timeout))
            .collect();
        self.queue.change_visibility_batch(&entries).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_options_rules() {
        let ok = ReceiveOptions::default();
        ok.validate(false).unwrap();
        assert!(ok.clone().with_max_messages(0).validate(false).is_err());
        assert!(
            ok.clone()
                .with_wait(Duration::from_secs(21))
                .validate(false)
                .is_err()
        );
        assert!(
            ok.clone()
                .with_visibility(Duration::from_secs(43_201))
                .validate(false)
                .is_err()
        );
        let e = ok.clone().with_attempt_id("a").validate(false).unwrap_err();
        assert!(e.to_string().contains("only FIFO"));
        ok.clone().with_attempt_id("a").validate(true).unwrap();
        assert!(ok.with_attempt_id("a b").validate(true).is_err());
    }
}
