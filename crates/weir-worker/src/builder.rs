//! [`WorkerBuilder`]: the handler, its layers, the codec, and every setting.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use tower::layer::util::{Identity, Stack};
use tower::util::BoxCloneService;
use tower::{Layer, Service, ServiceBuilder, ServiceExt};
use weir_middleware::BoxError;
use weir_sqs::{Consumer, Decode, Envelope, Json, Message, Queue};

use crate::codec::Guarded;
use crate::config::{AckBatching, DeadLetter, Lease};
use crate::error::BuildError;
use crate::health::HealthState;
use crate::limit::ReceiveLimit;
use crate::report::Stats;
use crate::retry::RetryPolicy;
use crate::settings::Options;
use crate::worker::Worker;

/// The handler is not set yet: [`WorkerBuilder::handler`] sets it, and `build()`
/// exists only once it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHandler;

/// Builds a [`Worker`]: the handler (required), the layers around it, the codec, and
/// settings, each checked by [`build`](Self::build) against SQS's limits.
///
/// # Layers
///
/// [`layer`](Self::layer) wraps the handler in any tower layer, as
/// `tower::ServiceBuilder` does: the first layer added is the outermost. Each poller
/// (and the FIFO scheduler) owns a clone of the layered service and calls `poll_ready`
/// and `call` on its own clone, so permit-reserving layers (`ConcurrencyLimit`, rate
/// limits, `Buffer`) work as tower means them to. A handler that is not `Clone` goes
/// behind `tower::buffer::BufferLayer` (the outermost layer), which is.
pub struct WorkerBuilder<T, C = Json, L = Identity, S = NoHandler> {
    queue: Queue,
    codec: C,
    layers: ServiceBuilder<L>,
    handler: S,
    options: Options,
    _t: PhantomData<fn() -> T>,
}

impl<T, C, L, S> fmt::Debug for WorkerBuilder<T, C, L, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerBuilder")
            .field("queue", &self.queue)
            .field("codec", &std::any::type_name::<C>())
            .field("layers", &std::any::type_name::<L>())
            .field("handler", &std::any::type_name::<S>())
            .field("options", &self.options)
            .finish()
    }
}

impl<T> WorkerBuilder<T> {
    pub(crate) fn new(queue: Queue) -> Self {
        Self {
            queue,
            codec: Json,
            layers: ServiceBuilder::new(),
            handler: NoHandler,
            options: Options::default(),
            _t: PhantomData,
        }
    }
}

impl<T, C, L, S> WorkerBuilder<T, C, L, S> {
    /// The handler: any `tower::Service<Message<T>>` (after the [layers](Self::layer))
    /// that is `Clone`, whose error converts into a [`BoxError`]. Its response is
    /// ignored; its error decides the message's fate (see
    /// [`HandlerError`](crate::HandlerError) and the
    /// [classification](weir_middleware::classify)).
    ///
    /// Wrap a closure with [`handler_fn`](crate::handler_fn), a struct with
    /// [`handler_service`](crate::handler_service), several message types with a
    /// [`Router`](crate::Router).
    #[must_use]
    pub fn handler<S2>(self, service: S2) -> WorkerBuilder<T, C, L, S2> {
        WorkerBuilder {
            queue: self.queue,
            codec: self.codec,
            layers: self.layers,
            handler: service,
            options: self.options,
            _t: PhantomData,
        }
    }

    /// Wraps the handler in `layer` (the first layer added is the outermost), as in
    /// axum and apalis: weir-middleware's `TraceLayer`, `TimeoutLayer`, `RetryLayer`,
    /// `RateLimitLayer`, `AdaptiveRateLimitLayer`, tower's `ConcurrencyLimitLayer`,
    /// `BufferLayer`, `LoadShedLayer`, or your own.
    #[must_use]
    pub fn layer<L2>(self, layer: L2) -> WorkerBuilder<T, C, Stack<L2, L>, S> {
        WorkerBuilder {
            queue: self.queue,
            codec: self.codec,
            layers: self.layers.layer(layer),
            handler: self.handler,
            options: self.options,
            _t: PhantomData,
        }
    }

    /// Decodes bodies with `codec` (any [`Decode<T>`](weir_sqs::Decode)) instead of
    /// [`Json`].
    #[must_use]
    pub fn codec<C2>(self, codec: C2) -> WorkerBuilder<T, C2, L, S> {
        WorkerBuilder {
            queue: self.queue,
            codec,
            layers: self.layers,
            handler: self.handler,
            options: self.options,
            _t: PhantomData,
        }
    }

    /// The most messages held at once, running, waiting to start, or waiting for their
    /// ack: 1 to [`MAX_CONCURRENCY`](crate::MAX_CONCURRENCY). Default 10. Each poll asks
    /// for at most the free slots (and at most 10).
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.options.concurrency = Some(n);
        self
    }

    /// Parallel long polls: 1 to [`MAX_POLLERS`](crate::MAX_POLLERS), and at most the
    /// concurrency. Default: one per 10 slots, at most 8.
    #[must_use]
    pub fn pollers(mut self, k: usize) -> Self {
        self.options.pollers = Some(k);
        self
    }

    /// The system attributes to receive, besides those the worker needs
    /// (`ApproximateReceiveCount`, and `MessageGroupId` on FIFO queues); pass
    /// [`MessageSystemAttributeName::All`] for all of them.
    ///
    /// Default: `AWSTraceHeader` (X-Ray's, sent only when set), and on FIFO queues
    /// `SequenceNumber` and `MessageDeduplicationId`. So by default
    /// [`Message::sent_at`] and [`Message::first_received_at`] are `None`: ask for
    /// `SentTimestamp` or `ApproximateFirstReceiveTimestamp` to read them. SQS sends
    /// each attribute asked for with every message, and the SDK parses each.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let client = weir_local::LocalSqs::new().client();
    /// # weir_sqs::QueueSpec::standard("orders").ensure(&client).await?;
    /// # let queue = weir_sqs::Queue::open(&client, "orders").await?;
    /// use aws_sdk_sqs::types::MessageSystemAttributeName as Sys;
    /// use weir_worker::{handler_fn, HandlerError, Message, Worker};
    ///
    /// let worker = Worker::builder(queue)
    ///     .handler(handler_fn(|m: Message<String>| async move {
    ///         println!("first received at {:?}", m.first_received_at());
    ///         Ok::<_, HandlerError>(())
    ///     }))
    ///     .system_attributes([Sys::ApproximateFirstReceiveTimestamp, Sys::SentTimestamp])
    ///     .build()?;
    /// # drop(worker); Ok(()) }
    /// ```
    #[must_use]
    pub fn system_attributes(
        mut self,
        names: impl IntoIterator<Item = MessageSystemAttributeName>,
    ) -> Self {
        self.options.system_attributes = Some(names.into_iter().collect());
        self
    }

    /// Unwraps the envelopes `envelope` names before decoding: SNS notifications (a
    /// queue subscribed to a topic without raw message delivery), EventBridge events,
    /// CloudEvents in structured JSON mode, or [`Envelope::Auto`] for any of the
    /// three. The handler's `Message<T>` then decodes `T` from the payload, and
    /// [`Message::envelope`] keeps the envelope's fields; a [`Router`](crate::Router)
    /// routes on the envelope's type (the SNS `weir.type` attribute or topic name, the
    /// EventBridge `detail-type`, the CloudEvents `type`). A body that should be an
    /// envelope and is not a valid one is a decode failure: dead-lettered with the
    /// reason, like any poison message. Its dead-letter copy is the body SQS delivered.
    ///
    /// Default [`Envelope::None`]: the body is the payload.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let client = weir_local::LocalSqs::new().client();
    /// # weir_sqs::QueueSpec::standard("order-events").ensure(&client).await?;
    /// # let queue = weir_sqs::Queue::open(&client, "order-events").await?;
    /// use weir_sqs::{Envelope, EnvelopeInfo};
    /// use weir_worker::{handler_fn, HandlerError, Message, Worker};
    ///
    /// let worker = Worker::builder(queue)
    ///     .envelope(Envelope::Sns)
    ///     .handler(handler_fn(|m: Message<u64>| async move {
    ///         if let Some(EnvelopeInfo::Sns(n)) = m.envelope() {
    ///             println!("order {:?} published to {}", m.body(), n.topic_arn);
    ///         }
    ///         Ok::<_, HandlerError>(())
    ///     }))
    ///     .build()?;
    /// # drop(worker); Ok(()) }
    /// ```
    #[must_use]
    pub fn envelope(mut self, envelope: Envelope) -> Self {
        self.options.envelope = envelope;
        self
    }

    /// Large payloads through S3 (the `s3` feature), in the format of AWS's extended
    /// clients: a message with the `ExtendedPayloadSize` (or legacy
    /// `SQSLargePayloadSize`) attribute has its pointer's object fetched before
    /// decoding, so the handler's `Message<T>` decodes the real payload
    /// ([`Message::raw_body`] is the payload, [`Message::sqs_body`] the pointer,
    /// [`Message::s3_pointer`] where it is). Then, by outcome:
    ///
    /// - **acked**: the object is deleted after SQS's delete succeeded, never before,
    ///   with `DeleteObjects` of up to 1,000 keys per bucket for the acks that flush
    ///   together, unless the offload [keeps](weir_sqs::s3::Cleanup::Keep) objects. A
    ///   failed object delete is logged and counted
    ///   ([`WorkerReport::payload_delete_failures`](crate::WorkerReport::payload_delete_failures)),
    ///   never an ack failure; a message whose SQS delete failed (or may not have
    ///   happened: a possible duplicate) keeps its object.
    /// - **dead-lettered**: the copy carries the pointer and its `ExtendedPayloadSize`
    ///   attribute (kept even when other attributes are dropped to fit), and the object
    ///   stays: a redrive delivers a message that still finds its payload.
    /// - **retried or released**: nothing happens to the object.
    /// - **object missing** (`NoSuchKey`): a decode failure, dead-lettered as
    ///   `decode_failed` with the S3 error in `weir.dlq.error`; with
    ///   [`with_ignore_payload_not_found`](weir_sqs::s3::Offload::with_ignore_payload_not_found),
    ///   the receive deletes the message without the handler seeing it (not counted as
    ///   received). A passing S3 failure (throttling, 5xx) leaves the message for SQS to
    ///   deliver again after its visibility timeout.
    ///
    /// Give the bucket a lifecycle rule for the objects no ack deletes (messages that
    /// expire, are purged, or whose object delete failed).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let local = weir_local::LocalSqs::new();
    /// # let client = local.client();
    /// # weir_sqs::QueueSpec::standard("videos").ensure(&client).await?;
    /// # let queue = weir_sqs::Queue::open(&client, "videos").await?;
    /// # let s3 = local.s3_client();
    /// use weir_sqs::s3::Offload;
    /// use weir_worker::{handler_fn, HandlerError, Message, Worker};
    ///
    /// let worker = Worker::builder(queue)
    ///     .offload(Offload::new(s3, "video-payloads"))
    ///     .handler(handler_fn(|m: Message<String>| async move {
    ///         println!("{} bytes, from {:?}", m.raw_body().len(), m.s3_pointer());
    ///         Ok::<_, HandlerError>(())
    ///     }))
    ///     .build()?;
    /// # drop(worker); Ok(()) }
    /// ```
    #[cfg(feature = "s3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
    #[must_use]
    pub fn offload(mut self, offload: weir_sqs::s3::Offload) -> Self {
        self.options.offload = Some(offload);
        self
    }

    /// The long-poll wait, 0 to 20 s (SQS's limit). Default 20 s.
    #[must_use]
    pub fn wait_time(mut self, wait: Duration) -> Self {
        self.options.wait_time = Some(wait);
        self
    }

    /// The visibility timeout to receive with, 1 s to 12 h. Default: the queue's own.
    #[must_use]
    pub fn visibility_timeout(mut self, visibility: Duration) -> Self {
        self.options.visibility_timeout = Some(visibility);
        self
    }

    /// A shared rate limit in messages per second, a
    /// [`RateLimiter`](weir_middleware::RateLimiter) or an
    /// [`AdaptiveRateLimiter`](weir_middleware::AdaptiveRateLimiter): permits for a whole
    /// receive are taken before it is sent, so no message waits in memory for a permit.
    /// Clone the limiter into several workers to share the budget. A poll asks for at
    /// most the limiter's burst. An adaptive limiter also hears every outcome: see
    /// [`ReceiveLimit`].
    #[must_use]
    pub fn rate_limit(mut self, limiter: impl Into<ReceiveLimit>) -> Self {
        self.options.limit = Some(limiter.into());
        self
    }

    /// The backoff for retried messages. Default [`RetryPolicy::default`].
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.options.retry_policy = Some(policy);
        self
    }

    /// Deliveries after which a failing message is dead-lettered instead of retried
    /// (≥ 1; default 10). Counted from SQS's `ApproximateReceiveCount`. Without a DLQ,
    /// the message keeps being retried and the queue's redrive policy decides.
    #[must_use]
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.options.max_attempts = Some(n);
        self
    }

    /// The dead-letter queue for rejected, undecodable and exhausted messages.
    #[must_use]
    pub fn dead_letter(mut self, dlq: impl Into<DeadLetter>) -> Self {
        self.options.dead_letter = Some(dlq.into());
        self
    }

    /// Ack batching. Default [`AckBatching::new`]: 10 entries, 50 ms.
    #[must_use]
    pub fn ack_batching(mut self, acks: AckBatching) -> Self {
        self.options.ack_batching = Some(acks);
        self
    }

    /// How long shutdown waits for running handlers before cancelling them. Default 30 s.
    #[must_use]
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.options.shutdown_timeout = Some(timeout);
        self
    }

    /// Lease extension. Default [`Lease::new`].
    #[must_use]
    pub fn lease(mut self, lease: Lease) -> Self {
        self.options.lease = Some(lease);
        self
    }

    /// How long a long poll in flight at shutdown may still complete (its messages are
    /// then released): at most the wait time. Default 2 s (or the wait time if shorter).
    #[must_use]
    pub fn poll_grace(mut self, grace: Duration) -> Self {
        self.options.poll_grace = Some(grace);
        self
    }

    /// The longest pause between receives that fail: 1 s to 5 min. Default 30 s.
    #[must_use]
    pub fn poll_backoff_max(mut self, max: Duration) -> Self {
        self.options.poll_backoff_max = Some(max);
        self
    }

    /// The longest any SQS call of the worker may take, SDK retries included: 100 ms to
    /// 5 min. A receive gets its long-poll wait on top. Default 10 s (so a 20 s long
    /// poll is given up after 30 s). A call that runs out counts as a retryable timeout.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.options.request_timeout = Some(timeout);
        self
    }

    /// The longest one handler call may run: when it runs out, the message's token fires,
    /// its future is dropped and the message is retried (a timeout, which lowers an
    /// adaptive rate). At most 12 h. Default: none (the lease keeps a long handler's
    /// message invisible up to the lease's maximum length).
    #[must_use]
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.options.handler_timeout = Some(timeout);
        self
    }
}

impl<T, C, L, S> WorkerBuilder<T, C, L, S>
where
    T: Send + Sync + 'static,
    C: Decode<T> + Send + Sync + 'static,
    L: Layer<S>,
    L::Service: Service<Message<T>> + Clone + Send + 'static,
    <L::Service as Service<Message<T>>>::Future: Send + 'static,
    <L::Service as Service<Message<T>>>::Error: Into<BoxError>,
{
    /// Applies the layers to the handler and checks every setting, against SQS's limits
    /// and the queue's attributes.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] naming the setting and the limit: concurrency not in 1..=10 000;
    /// pollers not in 1..=64 or above the concurrency; wait time above 20 s; visibility
    /// timeout not in 1 s..=12 h; max attempts 0; ack batch not in 1..=10 or interval
    /// above 10 s or not shorter than the visibility timeout; lease threshold not shorter
    /// than the visibility timeout, or lease maximum not in 1 s..=12 h; retry backoff
    /// above 12 h; a standard dead-letter queue for a FIFO queue; poll grace above the
    /// wait time; poll backoff cap not in 1 s..=5 min; request timeout not in 100 ms..=5
    /// min; a zero handler timeout.
    pub fn build(self) -> Result<Worker<T>, BuildError> {
        let envelope = self.options.envelope;
        #[cfg(feature = "s3")]
        let offload = self.options.offload.clone();
        let settings = self.options.resolve(&self.queue)?;
        let service = self
            .layers
            .service(self.handler)
            .map_response(|_| ())
            .map_err(Into::into);
        let stats = Arc::new(Stats::new(self.queue.name()));
        let consumer =
            Consumer::with_codec(self.queue.clone(), Guarded(self.codec)).with_envelope(envelope);
        #[cfg(feature = "s3")]
        let consumer = match offload {
            Some(offload) => consumer.with_offload(offload),
            None => consumer,
        };
        let source = Arc::new(consumer);
        Ok(Worker {
            queue: self.queue,
            source,
            service: BoxCloneService::new(service),
            settings,
            stats,
            health: Arc::new(HealthState::new()),
        })
    }
}
