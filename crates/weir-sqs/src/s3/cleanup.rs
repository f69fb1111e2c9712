//! Deleting the objects of acknowledged messages: `DeleteObjects` of up to 1,000 keys
//! per bucket, after the messages' SQS deletes succeeded.

use std::collections::HashMap;

use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use crate::error::Error;
use crate::s3::{Cleanup, Offload, S3Pointer};

/// S3's most keys in one `DeleteObjects`.
pub const MAX_DELETE_KEYS: usize = 1000;

/// How [`Offload::delete_acked`] went, in objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PayloadDeletes {
    /// Objects S3 deleted (or already did not have: a delete of a missing key succeeds).
    pub deleted: usize,
    /// Objects whose delete failed (logged): they stay until the bucket's lifecycle
    /// rule removes them.
    pub failed: usize,
    /// Objects left alone because the offload [keeps](Cleanup::Keep) them.
    pub kept: usize,
}

impl PayloadDeletes {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: Self) {
        self.deleted += other.deleted;
        self.failed += other.failed;
        self.kept += other.kept;
    }
}

impl Offload {
    /// Deletes the payload objects of messages whose SQS deletes **succeeded**, unless
    /// the offload [keeps](Cleanup::Keep) them: one `DeleteObjects` per bucket and per
    /// 1,000 keys, the calls concurrent. A failure (of a call, or of a key) is logged and
    /// counted, never returned: the messages are gone, and their objects are left to the
    /// bucket's lifecycle rule.
    ///
    /// [`Consumer::ack`](crate::Consumer::ack) and
    /// [`ack_batch`](crate::Consumer::ack_batch) call this after their deletes; a
    /// runtime that deletes messages itself (weir-worker's batched acks) calls it with
    /// the [pointers](crate::Message::s3_pointer) of the messages SQS deleted. Never
    /// call it for a message whose SQS delete failed or is in doubt, nor for one that
    /// was dead-lettered: its dead-letter copy points at the same object.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo(queue: weir_sqs::Queue, offload: weir_sqs::s3::Offload,
    /// #     msgs: Vec<weir_sqs::Message<String>>) -> weir_sqs::Result<()> {
    /// let handles: Vec<&str> = msgs.iter().map(|m| m.receipt_handle()).collect();
    /// let results = queue.delete_batch(&handles).await;
    /// let deleted = msgs.iter().zip(&results).filter(|(_, r)| r.is_ok());
    /// let done = offload
    ///     .delete_acked(deleted.filter_map(|(m, _)| m.s3_pointer()))
    ///     .await;
    /// assert_eq!(done.failed, 0);
    /// # Ok(()) }
    /// ```
    pub async fn delete_acked<'a>(
        &self,
        pointers: impl IntoIterator<Item = &'a S3Pointer>,
    ) -> PayloadDeletes {
        let mut by_bucket: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut n = 0;
        for p in pointers {
            n += 1;
            by_bucket.entry(p.bucket()).or_default().push(p.key());
        }
        if self.cleanup == Cleanup::Keep {
            return PayloadDeletes {
                kept: n,
                ..PayloadDeletes::default()
            };
        }
        let calls = by_bucket.iter().flat_map(|(bucket, keys)| {
            keys.chunks(MAX_DELETE_KEYS)
                .map(|chunk| delete_chunk(&self.client, bucket, chunk))
        });
        let mut total = PayloadDeletes::default();
        for done in futures_util::future::join_all(calls).await {
            total.add(done);
        }
        total
    }
}

/// One `DeleteObjects` (quiet: S3 answers only the keys that failed).
async fn delete_chunk(client: &aws_sdk_s3::Client, bucket: &str, keys: &[&str]) -> PayloadDeletes {
    let objects: Result<Vec<ObjectIdentifier>, _> = keys
        .iter()
        .map(|k| ObjectIdentifier::builder().key(*k).build())
        .collect();
    let delete = objects.and_then(|o| Delete::builder().set_objects(Some(o)).quiet(true).build());
    let delete = match delete {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(bucket, keys = keys.len(), error = %e, "could not build a DeleteObjects request; the objects stay until the bucket's lifecycle rule removes them");
            return failed(keys.len());
        }
    };
    match client
        .delete_objects()
        .bucket(bucket)
        .delete(delete)
        .send()
        .await
    {
        Ok(out) => {
            let errors = out.errors();
            if let Some(first) = errors.first() {
                tracing::warn!(
                    bucket,
                    failed = errors.len(),
                    of = keys.len(),
                    key = first.key().unwrap_or_default(),
                    code = first.code().unwrap_or_default(),
                    message = first.message().unwrap_or_default(),
                    "could not delete the payloads of acknowledged messages: they stay until the bucket's lifecycle rule removes them"
                );
            }
            let failed = errors.len().min(keys.len());
            PayloadDeletes {
                deleted: keys.len() - failed,
                failed,
                kept: 0,
            }
        }
        Err(e) => {
            let e = Error::from_s3_sdk("DeleteObjects", bucket, e);
            tracing::warn!(
                bucket,
                keys = keys.len(),
                error = %aws_sdk_s3::error::DisplayErrorContext(&e),
                "could not delete the payloads of acknowledged messages: they stay until the bucket's lifecycle rule removes them"
            );
            failed(keys.len())
        }
    }
}

fn failed(n: usize) -> PayloadDeletes {
    PayloadDeletes {
        failed: n,
        ..PayloadDeletes::default()
    }
}
