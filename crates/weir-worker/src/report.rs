//! Counters: kept as atomics for the [`WorkerReport`], and sent to the `metrics` facade.

use std::sync::atomic::{AtomicU64, Ordering};

use metrics::{Counter, Gauge, Histogram};

/// What a worker did, returned by [`Worker::run_until`](crate::Worker::run_until).
///
/// Every received message is accounted for by exactly one outcome:
///
/// `received == succeeded + retried + dead_lettered + released_on_failure +
/// released_prefetched + released_unfinished + leases_lost + skipped`
///
/// and, once the run has ended, `acked + possible_duplicates + ack_failures ==
/// succeeded + dead_lettered` (a message is deleted after success, or after its
/// dead-letter send). `skipped` counts failed messages whose visibility change itself
/// failed (they reappear after their visibility timeout); it is 0 unless an SQS call
/// failed.
///
/// The shutdown fields count each phase of the shutdown, in order, and
/// [`stopped`](Self::stopped) says why the worker stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerReport {
    /// Why the worker stopped.
    pub stopped: StopReason,
    /// Messages received.
    pub received: u64,
    /// Messages deleted after their handler succeeded (or after they were dead-lettered).
    pub acked: u64,
    /// Handler successes (acked or still to be acked).
    pub succeeded: u64,
    /// Messages given back with a backoff delay to be tried again.
    pub retried: u64,
    /// Messages sent to the dead-letter queue (then deleted).
    pub dead_lettered: u64,
    /// Messages whose body did not decode.
    pub decode_failures: u64,
    /// Handlers that panicked (each counted as a retryable failure).
    pub panics: u64,
    /// FIFO messages released (visibility 0) because an earlier message of their group
    /// failed.
    pub released_on_failure: u64,
    /// Successful lease extensions (one per message per extension).
    pub lease_extensions: u64,
    /// Leases lost: an extension failed or the lease reached its maximum length. The
    /// handler was cancelled, and the message will be delivered again.
    pub leases_lost: u64,
    /// Deletes that SQS refused with `ReceiptHandleIsInvalid`, or that completed after
    /// the message's visibility deadline (SQS answers a stale receipt handle with
    /// success without deleting): the message may have been (or will be) delivered
    /// again: a possible duplicate.
    pub possible_duplicates: u64,
    /// Deletes that failed for another reason and were given up: their lease ended
    /// (its maximum length, or an extension failed) before a retry succeeded, or the
    /// shutdown's last attempts failed. The message will be delivered again.
    pub ack_failures: u64,
    /// Messages that failed and whose visibility change itself failed.
    pub skipped: u64,
    /// Empty receives.
    pub empty_polls: u64,
    /// Failed receives.
    pub poll_errors: u64,
    /// SQS requests made, all operations together.
    pub sqs_requests: u64,
    /// Shutdown phase 1: long polls cancelled while in flight (their response, if any,
    /// was lost; such messages reappear after their visibility timeout).
    pub polls_cancelled: u64,
    /// Shutdown phase 1: long polls that completed within the grace period; their
    /// messages were released.
    pub polls_drained: u64,
    /// Shutdown phases 1–2: received messages released (visibility 0) before their
    /// handler started.
    pub released_prefetched: u64,
    /// Shutdown phase 3: handlers that finished within the shutdown timeout.
    pub finished_in_shutdown: u64,
    /// Shutdown phase 4: acks flushed after shutdown began.
    pub acks_flushed_in_shutdown: u64,
    /// Shutdown phase 5: handlers cancelled after the timeout, their messages released.
    pub released_unfinished: u64,
    /// Payload objects deleted from S3 after their messages' acks (a worker with an
    /// offload, `WorkerBuilder::offload` of the `s3` feature; 0 otherwise).
    pub payloads_deleted: u64,
    /// Payload objects whose delete failed after their messages' acks (logged; the
    /// message is gone, the object stays until the bucket's lifecycle rule removes it).
    /// Never an ack failure.
    pub payload_delete_failures: u64,
}

/// Why a worker stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// Its shutdown signal completed, or a [`ShutdownHandle`](crate::ShutdownHandle) fired.
    #[default]
    Requested,
    /// One of its own tasks failed (a panic outside the handler, which is a bug in weir):
    /// it stopped receiving and shut down as on a signal. The text names the task and
    /// the panic.
    Failed(String),
}

pub(crate) struct Tally {
    value: AtomicU64,
    metric: Counter,
}

impl Tally {
    fn new(name: &'static str, queue: &str) -> Self {
        Self {
            value: AtomicU64::new(0),
            metric: metrics::counter!(name, "queue" => queue.to_owned()),
        }
    }

    fn plain() -> Self {
        Self {
            value: AtomicU64::new(0),
            metric: Counter::noop(),
        }
    }

    pub(crate) fn add(&self, n: u64) {
        if n > 0 {
            self.value.fetch_add(n, Ordering::Relaxed);
            self.metric.increment(n);
        }
    }

    pub(crate) fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }
}

/// The SQS operations the worker calls, for the per-operation request counter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    Receive,
    DeleteBatch,
    ChangeVisibility,
    ChangeVisibilityBatch,
    SendDeadLetter,
}

impl Op {
    /// The SQS operation's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Receive => "ReceiveMessage",
            Self::DeleteBatch => "DeleteMessageBatch",
            Self::ChangeVisibility => "ChangeMessageVisibility",
            Self::ChangeVisibilityBatch => "ChangeMessageVisibilityBatch",
            Self::SendDeadLetter => "SendMessage",
        }
    }
}

pub(crate) struct Stats {
    pub(crate) received: Tally,
    pub(crate) acked: Tally,
    pub(crate) succeeded: Tally,
    pub(crate) retried: Tally,
    pub(crate) dead_lettered: Tally,
    pub(crate) decode_failures: Tally,
    pub(crate) panics: Tally,
    pub(crate) released: Tally,
    pub(crate) released_on_failure: Tally,
    pub(crate) lease_extensions: Tally,
    pub(crate) leases_lost: Tally,
    pub(crate) possible_duplicates: Tally,
    pub(crate) ack_failures: Tally,
    pub(crate) skipped: Tally,
    pub(crate) empty_polls: Tally,
    pub(crate) poll_errors: Tally,
    pub(crate) polls_cancelled: Tally,
    pub(crate) polls_drained: Tally,
    pub(crate) released_prefetched: Tally,
    pub(crate) finished_in_shutdown: Tally,
    pub(crate) acks_flushed_in_shutdown: Tally,
    pub(crate) released_unfinished: Tally,
    pub(crate) payloads_deleted: Tally,
    pub(crate) payload_delete_failures: Tally,
    requests: [Tally; 5],
    pub(crate) in_flight: Gauge,
    pub(crate) handler_latency: Histogram,
    pub(crate) receive_to_ack: Histogram,
}

impl Stats {
    pub(crate) fn new(queue: &str) -> Self {
        let req = |op: &'static str| Tally {
            value: AtomicU64::new(0),
            metric: metrics::counter!(
                "weir_worker_sqs_requests_total",
                "queue" => queue.to_owned(),
                "operation" => op
            ),
        };
        Self {
            received: Tally::new("weir_worker_received_total", queue),
            acked: Tally::new("weir_worker_acked_total", queue),
            succeeded: Tally::new("weir_worker_processed_total", queue),
            retried: Tally::new("weir_worker_retried_total", queue),
            dead_lettered: Tally::new("weir_worker_dead_lettered_total", queue),
            decode_failures: Tally::new("weir_worker_decode_failures_total", queue),
            panics: Tally::new("weir_worker_panics_total", queue),
            released: Tally::new("weir_worker_released_total", queue),
            released_on_failure: Tally::plain(),
            lease_extensions: Tally::new("weir_worker_lease_extensions_total", queue),
            leases_lost: Tally::new("weir_worker_leases_lost_total", queue),
            possible_duplicates: Tally::new("weir_worker_possible_duplicates_total", queue),
            ack_failures: Tally::new("weir_worker_ack_failures_total", queue),
            skipped: Tally::plain(),
            empty_polls: Tally::new("weir_worker_empty_polls_total", queue),
            poll_errors: Tally::new("weir_worker_poll_errors_total", queue),
            polls_cancelled: Tally::plain(),
            polls_drained: Tally::plain(),
            released_prefetched: Tally::plain(),
            finished_in_shutdown: Tally::plain(),
            acks_flushed_in_shutdown: Tally::plain(),
            released_unfinished: Tally::plain(),
            payloads_deleted: Tally::new("weir_worker_payloads_deleted_total", queue),
            payload_delete_failures: Tally::new("weir_worker_payload_delete_failures_total", queue),
            requests: [
                req("ReceiveMessage"),
                req("DeleteMessageBatch"),
                req("ChangeMessageVisibility"),
                req("ChangeMessageVisibilityBatch"),
                req("SendMessage"),
            ],
            in_flight: metrics::gauge!("weir_worker_in_flight", "queue" => queue.to_owned()),
            handler_latency: metrics::histogram!(
                "weir_worker_handler_seconds",
                "queue" => queue.to_owned()
            ),
            receive_to_ack: metrics::histogram!(
                "weir_worker_receive_to_ack_seconds",
                "queue" => queue.to_owned()
            ),
        }
    }

    pub(crate) fn request(&self, op: Op) {
        self.requests[op as usize].add(1);
    }

    pub(crate) fn report(&self, stopped: StopReason) -> WorkerReport {
        WorkerReport {
            stopped,
            received: self.received.get(),
            acked: self.acked.get(),
            succeeded: self.succeeded.get(),
            retried: self.retried.get(),
            dead_lettered: self.dead_lettered.get(),
            decode_failures: self.decode_failures.get(),
            panics: self.panics.get(),
            released_on_failure: self.released_on_failure.get(),
            lease_extensions: self.lease_extensions.get(),
            leases_lost: self.leases_lost.get(),
            possible_duplicates: self.possible_duplicates.get(),
            ack_failures: self.ack_failures.get(),
            skipped: self.skipped.get(),
            empty_polls: self.empty_polls.get(),
            poll_errors: self.poll_errors.get(),
            sqs_requests: self.requests.iter().map(Tally::get).sum(),
            polls_cancelled: self.polls_cancelled.get(),
            polls_drained: self.polls_drained.get(),
            released_prefetched: self.released_prefetched.get(),
            finished_in_shutdown: self.finished_in_shutdown.get(),
            acks_flushed_in_shutdown: self.acks_flushed_in_shutdown.get(),
            released_unfinished: self.released_unfinished.get(),
            payloads_deleted: self.payloads_deleted.get(),
            payload_delete_failures: self.payload_delete_failures.get(),
        }
    }
}
