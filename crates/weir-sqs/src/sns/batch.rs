//! `PublishBatch`: a publisher's checked messages, split and sent through weir-sqs's
//! batch engine (the same one `SendMessageBatch` uses), failed entries retried.

use aws_sdk_sns::types::{BatchResultErrorEntry, PublishBatchRequestEntry};
use tracing::Instrument;

use crate::batch::{self, EntryResult};
use crate::codec::Encode;
use crate::error::{BatchEntryFailure, Error, Result};
use crate::telemetry::OpType;

use super::attributes::to_sns_map;
use super::options::PublishOutput;
use super::publisher::{Prepared, Publisher};
use super::validate::MAX_BATCH_ENTRIES;

impl<T, C: Encode<T>> Publisher<T, C> {
    /// Publishes checked messages in batches; one result per message, in order.
    pub(crate) async fn publish_prepared_batch(
        &self,
        ready: Vec<Prepared>,
    ) -> Vec<Result<PublishOutput>> {
        let sizes: Vec<usize> = ready.iter().map(|p| p.size).collect();
        let chunks = batch::split_batches(&sizes, MAX_BATCH_ENTRIES, self.max_size());
        let concurrency = if self.topic.is_fifo() {
            1
        } else {
            self.concurrency
        };
        let retry = self.topic.retry_config();
        batch::run(ready, chunks, concurrency, retry, |entries| {
            self.call_batch(entries)
        })
        .await
    }

    async fn call_batch(
        &self,
        entries: Vec<(usize, Prepared)>,
    ) -> Result<Vec<(usize, EntryResult<PublishOutput>)>> {
        let span = self.topic.span("PublishBatch", OpType::Send);
        span.record("messaging.batch.message_count", entries.len());
        let mut sdk_entries = Vec::with_capacity(entries.len());
        for (i, p) in entries {
            if self.log_bodies {
                tracing::trace!(parent: &span, body = %p.body, "publishing message");
            }
            let e = PublishBatchRequestEntry::builder()
                .id(i.to_string())
                .message(p.body)
                .set_subject(p.subject)
                .set_message_group_id(p.group_id)
                .set_message_deduplication_id(p.dedup_id)
                .set_message_attributes(to_sns_map(&p.attributes)?)
                .build()
                .map_err(|e| Error::invalid("batch entry", e.to_string()))?;
            sdk_entries.push(e);
        }
        let out = self
            .topic
            .client()
            .publish_batch()
            .topic_arn(self.topic.arn())
            .set_publish_batch_request_entries(Some(sdk_entries))
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| self.topic.sdk_err("PublishBatch", e, &span))?;
        let mut results = Vec::with_capacity(out.successful().len() + out.failed().len());
        for s in out.successful() {
            if let Some(i) = s.id().and_then(batch::index_of) {
                let output = PublishOutput::new(
                    s.message_id().unwrap_or_default().to_owned(),
                    s.sequence_number().map(str::to_owned),
                );
                results.push((i, Ok(output)));
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

/// One failed `PublishBatch` entry, classified as SQS's are.
fn entry_failure(index: usize, f: &BatchResultErrorEntry) -> BatchEntryFailure {
    BatchEntryFailure::new(
        index,
        f.id(),
        f.code(),
        f.message().map(str::to_owned),
        f.sender_fault(),
    )
}
