//! What became of each message a test sent.

use std::time::Duration;

use weir_worker::WorkerReport;

/// A message's fate after [`TestQueue::run`](super::TestQueue::run), read from SQS.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Deleted from the queue, with no copy in the dead-letter queue.
    Acked,
    /// Its copy is in the dead-letter queue, with the worker's `weir.dlq.*` attributes.
    DeadLettered {
        /// `weir.dlq.reason`: `rejected`, `decode_failed` or `max_attempts`.
        reason: String,
        /// `weir.dlq.error`: the handler's or decoder's error text.
        error: Option<String>,
        /// `weir.dlq.attempts`: its receive count when it was dead-lettered.
        attempts: Option<u32>,
    },
    /// Still in the queue and invisible: SQS delivers it again after about this long,
    /// counted from the end of the run (the retry's backoff, less the few milliseconds
    /// the kit took to see that the worker was done).
    Retried {
        /// When it became visible again, after the end of the run.
        visible_again_after: Duration,
    },
    /// Visible at once when the run ended: shutdown released it unfinished.
    Released,
}

/// The result of a [`TestQueue::run`](super::TestQueue::run).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TestRun {
    /// One outcome per message sent through the kit, in the order they were sent.
    pub outcomes: Vec<Outcome>,
    /// The worker's own report.
    pub report: WorkerReport,
}
