//! A queue and its dead-letter queue on a fresh in-process SQS, and sending to it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use weir_local::LocalSqs;
use weir_sqs::error::QueueNotFound;
use weir_sqs::{
    AttributeValue, Error, Producer, Queue, QueueSpec, RawString, Result, SendOptions, SendOutput,
};

/// The message attribute that numbers what the kit sent, so that each message (and its
/// dead-letter copy, which keeps the original attributes) is found again.
pub(super) const INDEX: &str = "weir.test.index";

/// SQS's own redrive on the kit's queues never moves a message before the worker
/// decides: 1 000 receives is SQS's most.
const SQS_MAX_RECEIVE_COUNT: u32 = 1_000;

/// A queue and its dead-letter queue on their own [`LocalSqs`], for one test.
///
/// The queue's redrive policy allows 1 000 receives, so every dead letter is the
/// worker's decision (its `max_attempts`, a reject, a body that does not decode).
#[derive(Debug)]
pub struct TestQueue {
    local: LocalSqs,
    queue: Queue,
    dlq: Queue,
    sent: AtomicU64,
    pub(super) run_timeout: Duration,
}

impl TestQueue {
    /// A standard queue `test` and its dead-letter queue `test-dlq`.
    pub async fn standard() -> Result<Self> {
        Self::with_spec(LocalSqs::new(), QueueSpec::standard("test")).await
    }

    /// A FIFO queue `test.fifo` with content-based deduplication, and its dead-letter
    /// queue. [`send`](Self::send) puts every message in group `test` unless told
    /// otherwise.
    pub async fn fifo() -> Result<Self> {
        let spec = QueueSpec::fifo("test.fifo").content_based_deduplication(true);
        Self::with_spec(LocalSqs::new(), spec).await
    }

    /// The queue `spec` describes (its dead-letter queue is added) on `local`: for a
    /// visibility timeout, a delay, or a `LocalSqs` with latency or faults.
    pub async fn with_spec(local: LocalSqs, spec: QueueSpec) -> Result<Self> {
        let client = local.client();
        let topology = spec
            .dead_letter(SQS_MAX_RECEIVE_COUNT)
            .ensure(&client)
            .await?;
        // `dead_letter` always gives `ensure` a dead-letter queue to return.
        let dlq = topology.dlq.ok_or_else(|| {
            Error::QueueNotFound(QueueNotFound::new(format!("{}-dlq", topology.queue.name())))
        })?;
        Ok(Self {
            local,
            queue: topology.queue,
            dlq,
            sent: AtomicU64::new(0),
            run_timeout: Duration::from_secs(3_600),
        })
    }

    /// The longest a [`run`](Self::run) may last, on tokio's clock (default 1 h): then
    /// the worker is shut down, and what is still pending is reported as such.
    #[must_use]
    pub fn run_timeout(mut self, timeout: Duration) -> Self {
        self.run_timeout = timeout;
        self
    }

    /// The queue: build the worker under test on it.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Its dead-letter queue: give it to the worker (`.dead_letter(queue.dlq())`).
    pub fn dlq(&self) -> &Queue {
        &self.dlq
    }

    /// The in-process SQS both queues live on (faults, latency, its client).
    pub fn local(&self) -> &LocalSqs {
        &self.local
    }

    /// Sends `value` as JSON. Its outcome is `outcomes[n]` of the next run, `n` counting
    /// every message sent through the kit from 0.
    pub async fn send<T: Serialize>(&self, value: &T) -> Result<SendOutput> {
        self.send_with(value, SendOptions::default()).await
    }

    /// Sends `value` as JSON with `options` (attributes, delay, group id).
    pub async fn send_with<T: Serialize>(
        &self,
        value: &T,
        options: SendOptions,
    ) -> Result<SendOutput> {
        let options = self.numbered(options);
        Producer::<T>::new(self.queue.clone())
            .send_with(value, options)
            .await
    }

    /// Sends `body` exactly as given: a body that does not decode, say.
    pub async fn send_raw(&self, body: &str) -> Result<SendOutput> {
        let options = self.numbered(SendOptions::default());
        let producer = Producer::builder(self.queue.clone())
            .codec(RawString)
            .build()?;
        producer.send_with(&body.to_owned(), options).await
    }

    /// Messages sent through the kit so far.
    pub(super) fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    fn numbered(&self, mut options: SendOptions) -> SendOptions {
        let n = self.sent.fetch_add(1, Ordering::Relaxed);
        options = options.with_attribute(INDEX, AttributeValue::number(n));
        if self.queue.is_fifo() {
            if options.group_id.is_none() {
                options = options.with_group_id("test");
            }
            if options.dedup_id.is_none() {
                options = options.with_dedup_id(n.to_string());
            }
        }
        options
    }
}
