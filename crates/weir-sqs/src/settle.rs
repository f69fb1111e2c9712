//! Settling received messages: delete them, or change their visibility, one at a time or
//! in batches; the retried batch calls for applications, and the single-attempt ones a
//! worker runs its own retries around.

use std::time::Duration;

use aws_sdk_sqs::types::{
    BatchResultErrorEntry, ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
};
use tracing::Instrument;

use crate::batch::{self, EntryResult};
use crate::error::{BatchEntryFailure, Error, Result};
use crate::queue::{Queue, secs_i32};
use crate::telemetry::OpType;
use crate::validate::{self, MAX_BATCH_ENTRIES};

impl Queue {
    /// Deletes one message by receipt handle (`DeleteMessage`).
    ///
    /// # Errors
    ///
    /// [`Error::Sqs`] (e.g. `ReceiptHandleIsInvalid`) or [`Error::QueueNotFound`].
    pub async fn delete(&self, receipt_handle: &str) -> Result<()> {
        validate::check_receipt_handle(receipt_handle)?;
        let span = self.span("DeleteMessage", OpType::Settle);
        self.client()
            .delete_message()
            .queue_url(self.url())
            .receipt_handle(receipt_handle)
            .send()
            .instrument(span.clone())
            .await
            .map(|_| ())
            .map_err(|e| self.sdk_err("DeleteMessage", e, &span))
    }

    /// Sets one message's visibility timeout to `timeout` from now
    /// (`ChangeMessageVisibility`; zero makes it visible again at once).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] over 12 h or for fractional seconds, [`Error::Sqs`].
    pub async fn change_visibility(&self, receipt_handle: &str, timeout: Duration) -> Result<()> {
        validate::check_receipt_handle(receipt_handle)?;
        validate::check_visibility(timeout)?;
        let span = self.span("ChangeMessageVisibility", OpType::Settle);
        self.client()
            .change_message_visibility()
            .queue_url(self.url())
            .receipt_handle(receipt_handle)
            .visibility_timeout(secs_i32(timeout))
            .send()
            .instrument(span.clone())
            .await
            .map(|_| ())
            .map_err(|e| self.sdk_err("ChangeMessageVisibility", e, &span))
    }

    /// Deletes messages by receipt handle with `DeleteMessageBatch`, 10 per call, calls
    /// run concurrently; entries that fail retryably are retried with backoff. Returns
    /// one result per handle, in order.
    pub async fn delete_batch<S: AsRef<str>>(&self, receipt_handles: &[S]) -> Vec<Result<()>> {
        let items: Vec<&str> = receipt_handles.iter().map(AsRef::as_ref).collect();
        let checks: Vec<Result<()>> = items
            .iter()
            .map(|h| validate::check_receipt_handle(h))
            .collect();
        let (valid, to_send) = passed(&checks, &items);
        let chunks = batch::chunks_of_ten(to_send.len());
        let sent = batch::run(to_send, chunks, 4, self.retry_config(), |entries| {
            self.delete_call(entries)
        })
        .await;
        merge_checked(checks, &valid, sent)
    }

    /// Changes the visibility of messages with `ChangeMessageVisibilityBatch`, 10 per
    /// call: each `(receipt handle, timeout)` sets that message's timeout from now. Used
    /// to release messages (zero) and to extend leases. Retries like
    /// [`delete_batch`](Self::delete_batch); one result per entry, in order.
    pub async fn change_visibility_batch<S: AsRef<str>>(
        &self,
        entries: &[(S, Duration)],
    ) -> Vec<Result<()>> {
        let items: Vec<(&str, Duration)> = entries.iter().map(|(h, d)| (h.as_ref(), *d)).collect();
        let checks = visibility_checks(&items);
        let (valid, to_send) = passed(&checks, &items);
        let chunks = batch::chunks_of_ten(to_send.len());
        let sent = batch::run(to_send, chunks, 4, self.retry_config(), |entries| {
            self.visibility_call(entries)
        })
        .await;
        merge_checked(checks, &valid, sent)
    }

    /// One `DeleteMessageBatch` call, with no retries, for 1 to 10 receipt handles: for
    /// callers that retry on their own terms (a worker retries a failed delete while the
    /// message's lease holds). Traced like every call.
    ///
    /// Returns the error of the call as a whole, or one result per handle, in order: a
    /// failed entry is [`Error::BatchEntry`], with SQS's code and `SenderFault`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for no handles or more than 10 (before any call), then
    /// [`Error::Sqs`] or [`Error::QueueNotFound`] when the call failed as a whole.
    pub async fn delete_batch_once<S: AsRef<str>>(
        &self,
        receipt_handles: &[S],
    ) -> Result<Vec<Result<()>>> {
        check_batch_len(receipt_handles.len())?;
        let items: Vec<&str> = receipt_handles.iter().map(AsRef::as_ref).collect();
        let checks: Vec<Result<()>> = items
            .iter()
            .map(|h| validate::check_receipt_handle(h))
            .collect();
        let (valid, to_send) = passed(&checks, &items);
        let sent = if to_send.is_empty() {
            Vec::new()
        } else {
            let results = self
                .delete_call(to_send.into_iter().enumerate().collect())
                .await?;
            per_entry(valid.len(), results)
        };
        Ok(merge_checked(checks, &valid, sent))
    }

    /// One `ChangeMessageVisibilityBatch` call, with no retries, for 1 to 10
    /// `(receipt handle, timeout)` entries; see
    /// [`delete_batch_once`](Self::delete_batch_once).
    ///
    /// # Errors
    ///
    /// As [`delete_batch_once`](Self::delete_batch_once).
    pub async fn change_visibility_batch_once<S: AsRef<str>>(
        &self,
        entries: &[(S, Duration)],
    ) -> Result<Vec<Result<()>>> {
        check_batch_len(entries.len())?;
        let items: Vec<(&str, Duration)> = entries.iter().map(|(h, d)| (h.as_ref(), *d)).collect();
        let checks = visibility_checks(&items);
        let (valid, to_send) = passed(&checks, &items);
        let sent = if to_send.is_empty() {
            Vec::new()
        } else {
            let results = self
                .visibility_call(to_send.into_iter().enumerate().collect())
                .await?;
            per_entry(valid.len(), results)
        };
        Ok(merge_checked(checks, &valid, sent))
    }

    /// One `DeleteMessageBatch` call; each entry's id is its index.
    async fn delete_call(
        &self,
        entries: Vec<(usize, &str)>,
    ) -> Result<Vec<(usize, EntryResult<()>)>> {
        let span = self.span("DeleteMessageBatch", OpType::Settle);
        span.record("messaging.batch.message_count", entries.len());
        let sdk_entries = entries
            .iter()
            .map(|(i, h)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(*h)
                    .build()
                    .map_err(|e| Error::invalid("receipt handle", e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let out = self
            .client()
            .delete_message_batch()
            .queue_url(self.url())
            .set_entries(Some(sdk_entries))
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| self.sdk_err("DeleteMessageBatch", e, &span))?;
        Ok(settled(
            out.successful().iter().map(|e| e.id()),
            out.failed(),
        ))
    }

    /// One `ChangeMessageVisibilityBatch` call; each entry's id is its index.
    async fn visibility_call(
        &self,
        entries: Vec<(usize, (&str, Duration))>,
    ) -> Result<Vec<(usize, EntryResult<()>)>> {
        let span = self.span("ChangeMessageVisibilityBatch", OpType::Settle);
        span.record("messaging.batch.message_count", entries.len());
        let sdk_entries = entries
            .iter()
            .map(|(i, (h, d))| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(*h)
                    .visibility_timeout(secs_i32(*d))
                    .build()
                    .map_err(|e| Error::invalid("receipt handle", e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let out = self
            .client()
            .change_message_visibility_batch()
            .queue_url(self.url())
            .set_entries(Some(sdk_entries))
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| self.sdk_err("ChangeMessageVisibilityBatch", e, &span))?;
        Ok(settled(
            out.successful().iter().map(|e| e.id()),
            out.failed(),
        ))
    }
}

fn check_batch_len(n: usize) -> Result<()> {
    if (1..=MAX_BATCH_ENTRIES).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid(
            "batch entries",
            format!("a batch call takes 1 to {MAX_BATCH_ENTRIES} entries, got {n}"),
        ))
    }
}

fn visibility_checks(items: &[(&str, Duration)]) -> Vec<Result<()>> {
    items
        .iter()
        .map(|(h, d)| validate::check_receipt_handle(h).and(validate::check_visibility(*d)))
        .collect()
}

/// The slots whose checks passed, and their items, to send.
fn passed<E: Copy>(checks: &[Result<()>], items: &[E]) -> (Vec<usize>, Vec<E>) {
    let valid: Vec<usize> = (0..items.len()).filter(|&i| checks[i].is_ok()).collect();
    let to_send = valid.iter().map(|&i| items[i]).collect();
    (valid, to_send)
}

/// One result per entry `0..n` of a single call: what SQS said, or an error for an entry
/// its answer left out.
fn per_entry(n: usize, results: Vec<(usize, EntryResult<()>)>) -> Vec<Result<()>> {
    let mut out: Vec<Option<Result<()>>> = (0..n).map(|_| None).collect();
    for (i, r) in results {
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(r.map_err(Error::BatchEntry));
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or_else(|| {
                Err(Error::BatchEntry(BatchEntryFailure::new(
                    i,
                    i.to_string(),
                    "MissingFromResponse",
                    Some("the batch response did not mention this entry".into()),
                    false,
                )))
            })
        })
        .collect()
}

/// The per-entry results of a delete or visibility batch: the ids SQS reports as
/// successful, then its failures, each at the index its entry id carries.
fn settled<'a>(
    successful: impl Iterator<Item = &'a str>,
    failed: &[BatchResultErrorEntry],
) -> Vec<(usize, EntryResult<()>)> {
    let ok = successful.filter_map(|id| batch::index_of(id).map(|i| (i, Ok(()))));
    let err = failed
        .iter()
        .filter_map(|f| batch::index_of(f.id()).map(|i| (i, Err(entry_failure(i, f)))));
    ok.chain(err).collect()
}

/// Puts the results of the entries that were sent (`valid[k]` is the slot of `sent[k]`)
/// into the slots of the up-front checks, so callers get one result per entry, in order.
fn merge_checked(
    checks: Vec<Result<()>>,
    valid: &[usize],
    sent: Vec<Result<()>>,
) -> Vec<Result<()>> {
    let mut out = checks;
    for (&slot, r) in valid.iter().zip(sent) {
        out[slot] = r;
    }
    out
}

/// Converts SQS's failed batch entry.
pub(crate) fn entry_failure(index: usize, f: &BatchResultErrorEntry) -> BatchEntryFailure {
    BatchEntryFailure::new(
        index,
        f.id(),
        f.code(),
        f.message().map(str::to_owned),
        f.sender_fault(),
    )
}
