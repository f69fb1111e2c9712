//! [`Producer<T>`]: typed sends, one at a time or in batches.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use tracing::Instrument;

use crate::TRACEPARENT_ATTRIBUTE;
use crate::attributes::{AttributeValue, Attributes, to_sdk_map};
use crate::batch::{self, EntryResult, RetryConfig};
use crate::codec::{Encode, Json, TYPE_TAG_ATTRIBUTE};
use crate::error::{Error, Result};
use crate::queue::{Queue, secs_i32};
use crate::settle::entry_failure;
use crate::telemetry::OpType;
use crate::validate::{self, MAX_BATCH_ENTRIES};

/// A function that returns the current W3C `traceparent`, if there is a current trace.
///
/// `tracing` alone has no trace ids; plug in your OpenTelemetry bridge here.
pub type TraceparentProvider = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// Per-message send options.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir_sqs::{AttributeValue, SendOptions};
///
/// let opts = SendOptions::default()
///     .with_delay(Duration::from_secs(5))
///     .with_attribute("tenant", AttributeValue::string("acme"));
/// assert_eq!(opts.attributes.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// Delivery delay, 0–900 s in whole seconds. Not allowed on FIFO queues (their delay
    /// is per queue).
    pub delay: Option<Duration>,
    /// Message group id: required on FIFO queues; on standard queues it enables fair
    /// queueing.
    pub group_id: Option<String>,
    /// Deduplication id: FIFO queues only; required unless the queue has content-based
    /// deduplication.
    pub dedup_id: Option<String>,
    /// Message attributes (at most 10 in total, including the type tag and traceparent
    /// that weir may add).
    pub attributes: Attributes,
}

impl SendOptions {
    /// Sets the delay.
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Sets the message group id.
    #[must_use]
    pub fn with_group_id(mut self, id: impl Into<String>) -> Self {
        self.group_id = Some(id.into());
        self
    }

    /// Sets the deduplication id.
    #[must_use]
    pub fn with_dedup_id(mut self, id: impl Into<String>) -> Self {
        self.dedup_id = Some(id.into());
        self
    }

    /// Adds a message attribute.
    #[must_use]
    pub fn with_attribute(mut self, name: impl Into<String>, value: AttributeValue) -> Self {
        self.attributes.insert(name.into(), value);
        self
    }
}

/// What SQS returned for a sent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOutput {
    message_id: String,
    sequence_number: Option<String>,
}

impl SendOutput {
    pub(crate) fn new(message_id: String, sequence_number: Option<String>) -> Self {
        Self {
            message_id,
            sequence_number,
        }
    }

    /// SQS's message id.
    #[must_use]
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// The sequence number (FIFO queues).
    #[must_use]
    pub fn sequence_number(&self) -> Option<&str> {
        self.sequence_number.as_deref()
    }
}

/// A message encoded and checked, ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) body: String,
    pub(crate) attributes: Attributes,
    pub(crate) delay: Option<Duration>,
    pub(crate) group_id: Option<String>,
    pub(crate) dedup_id: Option<String>,
    pub(crate) size: usize,
    /// The payload to put in S3 before the pointer in `body` is sent.
    #[cfg(feature = "s3")]
    pub(crate) upload: Option<crate::s3::send::Upload>,
}

/// Checks the FIFO rules and the standard-queue rules of one message's options.
///
/// # Errors
///
/// [`Error::InvalidInput`]: on FIFO queues a group id is required, a dedup id is
/// required unless `content_dedup`, and per-message delays are refused; on standard
/// queues a dedup id is refused. Delays must be 0–900 s.
pub fn check_send_options(options: &SendOptions, fifo: bool, content_dedup: bool) -> Result<()> {
    if let Some(d) = options.delay {
        validate::check_delay(d)?;
    }
    if let Some(g) = &options.group_id {
        validate::check_id("message group id", g)?;
    }
    if let Some(d) = &options.dedup_id {
        validate::check_id("message deduplication id", d)?;
    }
    if fifo {
        if options.group_id.is_none() {
            return Err(Error::invalid(
                "message group id",
                "FIFO queues require a message group id on every message",
            ));
        }
        if options.dedup_id.is_none() && !content_dedup {
            return Err(Error::invalid(
                "message deduplication id",
                "this FIFO queue has no content-based deduplication, so every message needs a deduplication id",
            ));
        }
        if options.delay.is_some_and(|d| !d.is_zero()) {
            return Err(Error::invalid(
                "delay",
                "FIFO queues do not take a per-message delay (set DelaySeconds on the queue)",
            ));
        }
    } else if options.dedup_id.is_some() {
        return Err(Error::invalid(
            "message deduplication id",
            "only FIFO queues take a deduplication id",
        ));
    }
    Ok(())
}

/// Sends messages of type `T`, encoded by the codec `C` (JSON by default).
///
/// Every message is checked before the network (size with attributes, characters,
/// attribute rules, FIFO rules, delay). Cheap to clone.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> weir_sqs::Result<()> {
/// # let client = weir_local::LocalSqs::new().client();
/// # weir_sqs::QueueSpec::standard("orders").ensure(&client).await?;
/// use weir_sqs::{Producer, Queue};
///
/// let queue = Queue::open(&client, "orders").await?;
/// let producer: Producer<serde_json::Value> = Producer::new(queue);
/// let out = producer.send(&serde_json::json!({"id": 1})).await?;
/// println!("sent {}", out.message_id());
/// let results = producer
///     .send_batch(&[serde_json::json!({"id": 2}), serde_json::json!({"id": 3})])
///     .await;
/// assert!(results.iter().all(Result::is_ok));
/// # Ok(()) }
/// ```
pub struct Producer<T, C = Json> {
    queue: Queue,
    codec: Arc<C>,
    traceparent: Option<TraceparentProvider>,
    concurrency: usize,
    log_bodies: bool,
    #[cfg(feature = "s3")]
    offload: Option<Arc<crate::s3::Offload>>,
    _t: PhantomData<fn(&T)>,
}

impl<T, C> Clone for Producer<T, C> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            codec: Arc::clone(&self.codec),
            traceparent: self.traceparent.clone(),
            concurrency: self.concurrency,
            log_bodies: self.log_bodies,
            #[cfg(feature = "s3")]
            offload: self.offload.clone(),
            _t: PhantomData,
        }
    }
}

impl<T, C> fmt::Debug for Producer<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("queue", &self.queue)
            .field("type", &std::any::type_name::<T>())
            .field("codec", &std::any::type_name::<C>())
            .field("traceparent", &self.traceparent.is_some())
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// Builds a [`Producer`].
#[must_use]
pub struct ProducerBuilder<T, C = Json> {
    queue: Queue,
    codec: C,
    traceparent: Option<TraceparentProvider>,
    concurrency: usize,
    log_bodies: bool,
    #[cfg(feature = "s3")]
    offload: Option<crate::s3::Offload>,
    _t: PhantomData<fn(&T)>,
}

impl<T, C> fmt::Debug for ProducerBuilder<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProducerBuilder")
            .field("queue", &self.queue)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl<T, C> ProducerBuilder<T, C> {
    /// Uses another codec.
    pub fn codec<C2>(self, codec: C2) -> ProducerBuilder<T, C2> {
        ProducerBuilder {
            queue: self.queue,
            codec,
            traceparent: self.traceparent,
            concurrency: self.concurrency,
            log_bodies: self.log_bodies,
            #[cfg(feature = "s3")]
            offload: self.offload,
            _t: PhantomData,
        }
    }

    /// Puts large bodies in S3 and sends the extended clients' pointer instead (the
    /// `s3` feature): a body whose message is over the offload's threshold (by default
    /// the queue's `MaximumMessageSize`, attributes counted) is uploaded first, then its
    /// pointer sent with the `ExtendedPayloadSize` attribute. On a FIFO queue with
    /// content-based deduplication an offloaded message without a deduplication id
    /// gets the SHA-256 of its payload as one, so duplicates still dedupe on the
    /// payload. When the send fails, the object is deleted again (best effort).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo(queue: weir_sqs::Queue, s3: aws_sdk_s3::Client) -> weir_sqs::Result<()> {
    /// use weir_sqs::Producer;
    /// use weir_sqs::s3::Offload;
    ///
    /// let producer = Producer::<String>::builder(queue)
    ///     .offload(Offload::new(s3, "my-payloads").with_key_prefix("reports/"))
    ///     .build()?;
    /// producer.send(&"x".repeat(5 << 20)).await?; // 5 MiB: through S3
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "s3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
    pub fn offload(mut self, offload: crate::s3::Offload) -> Self {
        self.offload = Some(offload);
        self
    }

    /// Injects a W3C `traceparent` attribute from `provider` on every send where it
    /// returns `Some` (and the caller did not set one).
    pub fn traceparent(
        mut self,
        provider: impl Fn() -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.traceparent = Some(Arc::new(provider));
        self
    }

    /// How many batch calls [`Producer::send_batch`] runs at once (default 4; FIFO queues
    /// always use 1, to keep the order within groups).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }

    /// Logs message bodies at `TRACE` level. Off by default: bodies may hold personal data.
    pub fn log_bodies(mut self, on: bool) -> Self {
        self.log_bodies = on;
        self
    }

    /// Builds the producer.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the concurrency is 0, or (the `s3` feature) the
    /// offload's settings are invalid (`s3::Offload::validate`).
    pub fn build(self) -> Result<Producer<T, C>> {
        if self.concurrency == 0 {
            return Err(Error::invalid("concurrency", "must be at least 1"));
        }
        #[cfg(feature = "s3")]
        if let Some(o) = &self.offload {
            o.validate(self.queue.attributes().max_message_size())?;
        }
        Ok(Producer {
            queue: self.queue,
            codec: Arc::new(self.codec),
            traceparent: self.traceparent,
            concurrency: self.concurrency,
            log_bodies: self.log_bodies,
            #[cfg(feature = "s3")]
            offload: self.offload.map(Arc::new),
            _t: PhantomData,
        })
    }
}

impl<T> Producer<T, Json> {
    /// A JSON producer for `queue`.
    #[must_use]
    pub fn new(queue: Queue) -> Self {
        Self {
            queue,
            codec: Arc::new(Json),
            traceparent: None,
            concurrency: 4,
            log_bodies: false,
            #[cfg(feature = "s3")]
            offload: None,
            _t: PhantomData,
        }
    }

    /// A builder, to set the codec, a traceparent provider or the concurrency.
    pub fn builder(queue: Queue) -> ProducerBuilder<T, Json> {
        ProducerBuilder {
            queue,
            codec: Json,
            traceparent: None,
            concurrency: 4,
            log_bodies: false,
            #[cfg(feature = "s3")]
            offload: None,
            _t: PhantomData,
        }
    }
}

impl<T, C> Producer<T, C> {
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

    fn max_size(&self) -> usize {
        self.queue.attributes().max_message_size()
    }
}

impl<T, C: Encode<T>> Producer<T, C> {
    /// Encodes and checks one message, without sending it.
    pub(crate) fn prepare(&self, value: &T, options: SendOptions) -> Result<Prepared> {
        let attrs = self.queue.attributes();
        check_send_options(
            &options,
            self.queue.is_fifo(),
            attrs.content_based_deduplication(),
        )?;
        let body = self.codec.encode(value).map_err(Error::Codec)?;
        let mut attributes = options.attributes;
        if let Some(tag) = self.codec.type_tag(value) {
            attributes
                .entry(TYPE_TAG_ATTRIBUTE.to_owned())
                .or_insert_with(|| AttributeValue::string(tag));
        }
        if let Some(provider) = &self.traceparent
            && !attributes.contains_key(TRACEPARENT_ATTRIBUTE)
            && let Some(tp) = provider()
        {
            attributes.insert(TRACEPARENT_ATTRIBUTE.to_owned(), AttributeValue::string(tp));
        }
        #[cfg(feature = "s3")]
        {
            let o = crate::s3::send::prepare(
                self.offload.as_ref(),
                &self.queue,
                body,
                attributes,
                options.dedup_id,
            )?;
            Ok(Prepared {
                body: o.body,
                attributes: o.attributes,
                delay: options.delay,
                group_id: options.group_id,
                dedup_id: o.dedup_id,
                size: o.size,
                upload: o.upload,
            })
        }
        #[cfg(not(feature = "s3"))]
        {
            let size = validate::check_message(&body, &attributes, self.max_size())?;
            Ok(Prepared {
                body,
                attributes,
                delay: options.delay,
                group_id: options.group_id,
                dedup_id: options.dedup_id,
                size,
            })
        }
    }

    /// Sends one message (`SendMessage`).
    ///
    /// # Errors
    ///
    /// Before any call: [`Error::Codec`], [`Error::PayloadTooLarge`] or
    /// [`Error::InvalidInput`] (e.g. FIFO options missing). Then [`Error::Sqs`] or
    /// [`Error::QueueNotFound`].
    pub async fn send(&self, value: &T) -> Result<SendOutput> {
        self.send_with(value, SendOptions::default()).await
    }

    /// Sends one message with options.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn send_with(&self, value: &T, options: SendOptions) -> Result<SendOutput> {
        let p = self.prepare(value, options)?;
        self.send_prepared(p).await
    }

    pub(crate) async fn send_prepared(&self, p: Prepared) -> Result<SendOutput> {
        self.queue.send_prepared(p, self.log_bodies).await
    }

    /// Sends messages with `SendMessageBatch`: split by 10 entries and by the queue's
    /// maximum message size (total per call), calls run concurrently (bounded), failed
    /// entries retried when retryable. One result per message, in order.
    ///
    /// On FIFO queues use [`send_batch_with`](Self::send_batch_with) to give group ids.
    pub async fn send_batch<'a, I>(&self, values: I) -> Vec<Result<SendOutput>>
    where
        I: IntoIterator<Item = &'a T>,
        T: 'a,
    {
        self.send_batch_with(values.into_iter().map(|v| (v, SendOptions::default())))
            .await
    }

    /// Sends messages with their own options, as [`send_batch`](Self::send_batch) does.
    ///
    /// Every message is checked first; a message that fails the checks gets its error
    /// and is not sent, the others are. On FIFO queues calls run one at a time, in order;
    /// an entry that SQS fails retryably is sent again after the rest of its call, so
    /// within a group it may land after messages that followed it.
    pub async fn send_batch_with<'a, I>(&self, values: I) -> Vec<Result<SendOutput>>
    where
        I: IntoIterator<Item = (&'a T, SendOptions)>,
        T: 'a,
    {
        let prepared: Vec<Result<Prepared>> = values
            .into_iter()
            .map(|(v, o)| self.prepare(v, o))
            .collect();
        let mut results: Vec<Option<Result<SendOutput>>> = Vec::with_capacity(prepared.len());
        let mut ready = Vec::new();
        let mut slots = Vec::new();
        for (i, p) in prepared.into_iter().enumerate() {
            match p {
                Ok(p) => {
                    ready.push(p);
                    slots.push(i);
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        let sent = self.send_prepared_batch(ready).await;
        for (slot, r) in slots.into_iter().zip(sent) {
            results[slot] = Some(r);
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::invalid("batch", "entry was not sent"))))
            .collect()
    }

    /// Sends checked messages in batches; one result per message, in order.
    pub(crate) async fn send_prepared_batch(
        &self,
        ready: Vec<Prepared>,
    ) -> Vec<Result<SendOutput>> {
        #[cfg(feature = "s3")]
        if ready.iter().any(|p| p.upload.is_some()) {
            let send = |ready| self.send_checked_batch(ready);
            return crate::s3::send::send_batch(ready, self.concurrency, send).await;
        }
        self.send_checked_batch(ready).await
    }

    async fn send_checked_batch(&self, ready: Vec<Prepared>) -> Vec<Result<SendOutput>> {
        let sizes: Vec<usize> = ready.iter().map(|p| p.size).collect();
        let chunks = batch::split_batches(&sizes, MAX_BATCH_ENTRIES, self.max_size());
        let concurrency = if self.queue.is_fifo() {
            1
        } else {
            self.concurrency
        };
        let retry: RetryConfig = self.queue.retry_config();
        batch::run(ready, chunks, concurrency, retry, |entries| {
            self.call_batch(entries)
        })
        .await
    }

    async fn call_batch(
        &self,
        entries: Vec<(usize, Prepared)>,
    ) -> Result<Vec<(usize, EntryResult<SendOutput>)>> {
        let span = self.queue.span("SendMessageBatch", OpType::Send);
        span.record("messaging.batch.message_count", entries.len());
        let mut sdk_entries = Vec::with_capacity(entries.len());
        for (i, p) in entries {
            if self.log_bodies {
                tracing::trace!(parent: &span, body = %p.body, "sending message");
            }
            let attrs = if p.attributes.is_empty() {
                None
            } else {
                Some(to_sdk_map(&p.attributes)?)
            };
            let e = SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(p.body)
                .set_delay_seconds(p.delay.map(secs_i32))
                .set_message_group_id(p.group_id)
                .set_message_deduplication_id(p.dedup_id)
                .set_message_attributes(attrs)
                .build()
                .map_err(|e| Error::invalid("batch entry", e.to_string()))?;
            sdk_entries.push(e);
        }
        let out = self
            .queue
            .client()
            .send_message_batch()
            .queue_url(self.queue.url())
            .set_entries(Some(sdk_entries))
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| self.queue.sdk_err("SendMessageBatch", e, &span))?;
        let mut results = Vec::with_capacity(out.successful().len() + out.failed().len());
        for s in out.successful() {
            if let Some(i) = batch::index_of(s.id()) {
                results.push((
                    i,
                    Ok(SendOutput {
                        message_id: s.message_id().to_owned(),
                        sequence_number: s.sequence_number().map(str::to_owned),
                    }),
                ));
            }
        }
        for f in out.failed() {
            if let Some(i) = batch::index_of(f.id()) {
                results.push((i, Err(entry_failure(i, f))));
            }
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> SendOptions {
        SendOptions::default()
    }

    #[test]
    fn fifo_requires_group_id() {
        let e = check_send_options(&opts().with_dedup_id("d"), true, false).unwrap_err();
        assert!(e.to_string().contains("group id"));
    }

    #[test]
    fn fifo_requires_dedup_or_content_dedup() {
        let o = opts().with_group_id("g");
        assert!(check_send_options(&o, true, false).is_err());
        check_send_options(&o, true, true).unwrap();
        check_send_options(&o.with_dedup_id("d"), true, false).unwrap();
    }

    #[test]
    fn fifo_refuses_per_message_delay() {
        let o = opts().with_group_id("g").with_delay(Duration::from_secs(1));
        let e = check_send_options(&o, true, true).unwrap_err();
        assert!(e.to_string().contains("per-message delay"));
    }

    #[test]
    fn standard_allows_group_but_not_dedup() {
        check_send_options(&opts().with_group_id("tenant-1"), false, false).unwrap();
        assert!(check_send_options(&opts().with_dedup_id("d"), false, false).is_err());
    }

    #[test]
    fn delay_range() {
        check_send_options(&opts().with_delay(Duration::from_secs(900)), false, false).unwrap();
        let e = check_send_options(&opts().with_delay(Duration::from_secs(901)), false, false)
            .unwrap_err();
        assert!(e.to_string().contains("900"));
    }

    #[test]
    fn id_rules_apply() {
        assert!(check_send_options(&opts().with_group_id("g".repeat(129)), false, false).is_err());
    }
}
