//! The SQS calls the engine makes, each counted by operation.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, ChangeMessageVisibilityBatchRequestEntry,
    DeleteMessageBatchRequestEntry, MessageAttributeValue,
};

use crate::report::{Op, Stats};

/// How one entry of a batch call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EntryResult {
    Ok,
    /// Failed with this code; `sender_fault` as SQS reported it.
    Failed {
        code: String,
        sender_fault: bool,
    },
}

pub(crate) const RECEIPT_INVALID: &str = "ReceiptHandleIsInvalid";

fn invalid(field: &'static str, e: &dyn std::fmt::Display) -> weir_sqs::Error {
    weir_sqs::Error::InvalidInput(weir_sqs::error::InvalidInput::new(field, e.to_string()))
}

pub(crate) fn is_receipt_invalid(code: &str) -> bool {
    code == RECEIPT_INVALID || code.ends_with(".ReceiptHandleIsInvalid")
}

/// One result per entry of a batch call of `n` entries (ids `0..n`): `Ok` unless SQS
/// listed it in `failed`.
fn entry_results(n: usize, failed: Vec<BatchResultErrorEntry>) -> Vec<EntryResult> {
    let mut results = vec![EntryResult::Ok; n];
    for f in failed {
        if let Ok(i) = f.id.parse::<usize>()
            && let Some(slot) = results.get_mut(i)
        {
            *slot = EntryResult::Failed {
                code: f.code,
                sender_fault: f.sender_fault,
            };
        }
    }
    results
}

pub(crate) struct Sqs {
    pub(crate) client: Client,
    pub(crate) url: String,
    pub(crate) stats: Arc<Stats>,
}

impl Sqs {
    /// `DeleteMessageBatch` for up to 10 receipt handles.
    pub(crate) async fn delete_batch(
        &self,
        receipts: &[&str],
    ) -> Result<Vec<EntryResult>, weir_sqs::Error> {
        self.stats.request(Op::DeleteBatch);
        let entries = receipts
            .iter()
            .enumerate()
            .map(|(i, r)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(*r)
                    .build()
                    .map_err(|e| invalid("DeleteMessageBatch entry", &e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .delete_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| weir_sqs::Error::from_sdk("DeleteMessageBatch", e))?;
        Ok(entry_results(receipts.len(), out.failed))
    }

    /// `ChangeMessageVisibilityBatch` for up to 10 entries of (receipt, seconds).
    pub(crate) async fn change_visibility_batch(
        &self,
        entries: &[(&str, i32)],
    ) -> Result<Vec<EntryResult>, weir_sqs::Error> {
        self.stats.request(Op::ChangeVisibilityBatch);
        let req = entries
            .iter()
            .enumerate()
            .map(|(i, (r, secs))| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(*r)
                    .visibility_timeout(*secs)
                    .build()
                    .map_err(|e| invalid("ChangeMessageVisibilityBatch entry", &e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .change_message_visibility_batch()
            .queue_url(&self.url)
            .set_entries(Some(req))
            .send()
            .await
            .map_err(|e| weir_sqs::Error::from_sdk("ChangeMessageVisibilityBatch", e))?;
        Ok(entry_results(entries.len(), out.failed))
    }

    pub(crate) async fn change_visibility(
        &self,
        receipt: &str,
        secs: i32,
    ) -> Result<(), weir_sqs::Error> {
        self.stats.request(Op::ChangeVisibility);
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(secs)
            .send()
            .await
            .map_err(|e| weir_sqs::Error::from_sdk("ChangeMessageVisibility", e))?;
        Ok(())
    }

    /// Releases messages (visibility 0) in batches of 10; returns how many were released.
    pub(crate) async fn release(&self, receipts: &[impl AsRef<str> + Sync]) -> u64 {
        let mut released = 0;
        for chunk in receipts.chunks(10) {
            let entries: Vec<(&str, i32)> = chunk.iter().map(|r| (r.as_ref(), 0)).collect();
            match self.change_visibility_batch(&entries).await {
                Ok(results) => {
                    for r in results {
                        match r {
                            EntryResult::Ok => released += 1,
                            EntryResult::Failed { code, .. } => {
                                tracing::debug!(
                                    code,
                                    "release refused; the message reappears after its visibility timeout"
                                );
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, count = chunk.len(), "release failed; the messages reappear after their visibility timeout");
                }
            }
        }
        released
    }

    pub(crate) async fn send_dead_letter(
        &self,
        dlq_url: &str,
        body: &str,
        attributes: HashMap<String, MessageAttributeValue>,
        group: Option<&str>,
        dedup: Option<&str>,
    ) -> Result<(), weir_sqs::Error> {
        self.stats.request(Op::SendDeadLetter);
        self.client
            .send_message()
            .queue_url(dlq_url)
            .message_body(body)
            .set_message_attributes(Some(attributes))
            .set_message_group_id(group.map(str::to_owned))
            .set_message_deduplication_id(dedup.map(str::to_owned))
            .send()
            .await
            .map_err(|e| weir_sqs::Error::from_sdk("SendMessage", e))?;
        Ok(())
    }
}
