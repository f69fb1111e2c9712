//! Settings that group several values: ack batching, leases, the dead-letter queue.

use std::time::Duration;

/// How acks are batched into `DeleteMessageBatch` calls.
///
/// A batch is sent when it holds `max_batch` entries, or `interval` after its first
/// entry arrived, whichever comes first, on standard and FIFO queues alike: acks of
/// different FIFO groups share calls. (A FIFO group's later messages are delivered once
/// the earlier ones are deleted; the worker starts the next message of a group it
/// holds as soon as the previous one succeeded, without waiting for its delete.)
///
/// A message keeps its [`Lease`] until its delete completes. Failed deletes are retried
/// with exponential backoff (100 ms doubling to 5 s) for as long as the lease keeps the
/// message invisible; once shutdown begins, a batch gets at most 4 more attempts.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir_worker::AckBatching;
///
/// let acks = AckBatching::new().max_batch(10).interval(Duration::from_millis(20));
/// # let _ = acks;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AckBatching {
    pub(crate) max_batch: usize,
    pub(crate) interval: Duration,
}

impl Default for AckBatching {
    /// 10 entries, 50 ms.
    fn default() -> Self {
        Self::new()
    }
}

impl AckBatching {
    /// 10 entries, flushed after at most 50 ms.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            max_batch: 10,
            interval: Duration::from_millis(50),
        }
    }

    /// One delete per message, at once.
    #[must_use]
    pub const fn disabled() -> Self {
        Self {
            max_batch: 1,
            interval: Duration::ZERO,
        }
    }

    /// Entries per batch: 1 to 10 (SQS's limit), checked by `build()`.
    #[must_use]
    pub const fn max_batch(mut self, n: usize) -> Self {
        self.max_batch = n;
        self
    }

    /// The longest an ack waits for its batch to fill: at most 10 s, and shorter than the
    /// visibility timeout, checked by `build()`.
    #[must_use]
    pub const fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }
}

/// How the worker keeps running messages invisible.
///
/// While a handler runs, its message's visibility is extended (by the visibility
/// timeout) whenever less than `threshold` of it is left, until the lease has lasted
/// `max_total` since the receive (12 h at most: SQS's limit). When an extension fails
/// or the lease reaches `max_total`, the handler is cancelled and the message is
/// counted as a lost lease: SQS will deliver it again.
///
/// The lease also covers a handled message until its delete completes (or is given
/// up), so acks waiting in their batch, being retried, or slow do not let the message
/// reappear; a lease that ends meanwhile stops the delete's retries (counted in
/// `ack_failures`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir_worker::Lease;
///
/// let lease = Lease::new()
///     .threshold(Duration::from_secs(10))
///     .max_total(Duration::from_secs(3600));
/// # let _ = lease;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lease {
    pub(crate) enabled: bool,
    pub(crate) threshold: Option<Duration>,
    pub(crate) max_total: Duration,
}

impl Default for Lease {
    fn default() -> Self {
        Self::new()
    }
}

impl Lease {
    /// Extension on: threshold half the visibility timeout (at least 1 s), max 12 h.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            enabled: true,
            threshold: None,
            max_total: crate::retry::MAX_VISIBILITY,
        }
    }

    /// No extension: a handler that outlives the visibility timeout may see its message
    /// delivered again.
    #[must_use]
    pub const fn disabled() -> Self {
        Self {
            enabled: false,
            threshold: None,
            max_total: crate::retry::MAX_VISIBILITY,
        }
    }

    /// Extend when this much visibility (or less) is left. Must be shorter than the
    /// visibility timeout.
    #[must_use]
    pub const fn threshold(mut self, threshold: Duration) -> Self {
        self.threshold = Some(threshold);
        self
    }

    /// The longest a lease lasts, from the receive: 1 s to 12 h.
    #[must_use]
    pub const fn max_total(mut self, max_total: Duration) -> Self {
        self.max_total = max_total;
        self
    }
}

/// Where rejected, undecodable and exhausted messages go.
///
/// The message is sent there with its body exactly as it was delivered, its attributes,
/// and attributes naming the reason (`weir.dlq.reason`: `rejected`, `decode_failed`,
/// `max_attempts`), the error (`weir.dlq.error`), the attempt count
/// (`weir.dlq.attempts`) and the source queue (`weir.dlq.source`). The copy always
/// fits the dead-letter queue's size limit: when it would not, the original attributes
/// are dropped first (largest first), then the error text is shortened, never the body,
/// and `weir.dlq.dropped` says what was left out. The original is deleted only after
/// that send succeeded.
///
/// Built from a [`Queue`](weir_sqs::Queue), the worker knows the dead-letter queue's own
/// `MaximumMessageSize`; from a URL, it assumes SQS's 1 MiB.
///
/// # Examples
///
/// ```
/// use weir_worker::DeadLetter;
///
/// let dlq = DeadLetter::new("https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq");
/// assert!(dlq.url().ends_with("orders-dlq"));
/// ```
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub(crate) url: String,
    pub(crate) queue: Option<weir_sqs::Queue>,
}

impl DeadLetter {
    /// The dead-letter queue at `url` (reached with the worker's client). A FIFO
    /// queue's dead-letter queue must be FIFO too.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            queue: None,
        }
    }

    /// The dead-letter queue's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl From<&weir_sqs::Queue> for DeadLetter {
    fn from(queue: &weir_sqs::Queue) -> Self {
        Self {
            url: queue.url().to_owned(),
            queue: Some(queue.clone()),
        }
    }
}

impl From<weir_sqs::Queue> for DeadLetter {
    fn from(queue: weir_sqs::Queue) -> Self {
        Self::from(&queue)
    }
}
