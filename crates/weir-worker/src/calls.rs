//! The SQS calls the worker makes, all through weir-sqs, each counted and bounded by the
//! request timeout: a connection that accepts and never answers cannot hang a poller,
//! a lease or the shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use weir_sqs::error::{SqsError, SqsErrorKind};
use weir_sqs::{Queue, SendOptions};

use crate::report::{Op, Stats};

pub(crate) struct Calls {
    pub(crate) queue: Queue,
    pub(crate) stats: Arc<Stats>,
    /// Bounds every call (a receive: its long-poll wait, plus this).
    pub(crate) timeout: Duration,
}

impl Calls {
    /// Runs `call`, counted as one `op` request, within `extra` plus the request timeout.
    pub(crate) async fn timed<O>(
        &self,
        op: Op,
        extra: Duration,
        call: impl Future<Output = weir_sqs::Result<O>>,
    ) -> weir_sqs::Result<O> {
        self.stats.request(op);
        let limit = extra + self.timeout;
        tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
            Err(weir_sqs::Error::Sqs(SqsError::new(
                op.name(),
                SqsErrorKind::Timeout,
                None,
                Some(format!(
                    "no answer within {limit:?} (the worker's request timeout)"
                )),
                None,
            )))
        })
    }

    /// One `DeleteMessageBatch` (1 to 10 handles): the call's error, or one result per
    /// handle.
    pub(crate) async fn delete_batch(
        &self,
        receipts: &[&str],
    ) -> weir_sqs::Result<Vec<weir_sqs::Result<()>>> {
        self.timed(
            Op::DeleteBatch,
            Duration::ZERO,
            self.queue.delete_batch_once(receipts),
        )
        .await
    }

    /// One `ChangeMessageVisibilityBatch` (1 to 10 entries).
    pub(crate) async fn change_visibility_batch(
        &self,
        entries: &[(&str, Duration)],
    ) -> weir_sqs::Result<Vec<weir_sqs::Result<()>>> {
        self.timed(
            Op::ChangeVisibilityBatch,
            Duration::ZERO,
            self.queue.change_visibility_batch_once(entries),
        )
        .await
    }

    /// One `ChangeMessageVisibility`.
    pub(crate) async fn change_visibility(
        &self,
        receipt: &str,
        timeout: Duration,
    ) -> weir_sqs::Result<()> {
        self.timed(
            Op::ChangeVisibility,
            Duration::ZERO,
            self.queue.change_visibility(receipt, timeout),
        )
        .await
    }

    /// Sends a dead-letter copy (`SendMessage` to the dead-letter queue).
    pub(crate) async fn send_dead_letter(
        &self,
        dlq: &Queue,
        body: &str,
        options: SendOptions,
    ) -> weir_sqs::Result<()> {
        self.timed(
            Op::SendDeadLetter,
            Duration::ZERO,
            dlq.send_raw(body, options),
        )
        .await
        .map(|_| ())
    }
}
