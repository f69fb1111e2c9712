//! The producer's side: deciding to offload, the pointer message, the upload before
//! the send and the orphan's deletion when the send fails.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::attributes::{AttributeValue, Attributes};
use crate::error::{Error, PayloadTooLarge, Result};
use crate::producer::{Prepared, SendOutput};
use crate::queue::Queue;
use crate::s3::pointer::{LEGACY_SIZE_ATTRIBUTE, SIZE_ATTRIBUTE};
use crate::s3::{Offload, S3Pointer, store};
use crate::validate;

/// A payload to upload before its pointer is sent.
#[derive(Clone)]
pub(crate) struct Upload {
    offload: Arc<Offload>,
    pub(crate) pointer: S3Pointer,
    payload: Arc<String>,
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("pointer", &self.pointer)
            .field("payload_len", &self.payload.len())
            .finish_non_exhaustive()
    }
}

impl Upload {
    /// Uploads the payload; the memory goes with the last handle.
    pub(crate) async fn put(self) -> Result<UploadedObject> {
        let payload = Arc::try_unwrap(self.payload)
            .unwrap_or_else(|shared| (*shared).clone())
            .into_bytes();
        store::put(&self.offload, &self.pointer, payload).await?;
        tracing::debug!(pointer = %self.pointer, "payload offloaded to S3");
        Ok(UploadedObject {
            offload: self.offload,
            pointer: self.pointer,
        })
    }
}

/// An object uploaded for a message not yet sent.
pub(crate) struct UploadedObject {
    offload: Arc<Offload>,
    pointer: S3Pointer,
}

impl UploadedObject {
    /// The send failed: deletes the object again, best effort (logged when it fails).
    pub(crate) async fn discard(self) {
        store::delete_logged(
            &self.offload.client,
            &self.pointer,
            "the payload of a message whose send failed",
        )
        .await;
    }
}

/// What a message becomes: its body, attributes, dedup id and size, and the upload
/// when it goes through S3.
pub(crate) struct Offloaded {
    pub(crate) body: String,
    pub(crate) attributes: Attributes,
    pub(crate) dedup_id: Option<String>,
    pub(crate) size: usize,
    pub(crate) upload: Option<Upload>,
}

/// Checks a message and offloads it when `offload` says so: over the threshold (the
/// queue's `MaximumMessageSize` unless set, body and attributes counted as SQS counts
/// them, as the extended clients' `isLarge` does), or always. The pointer message is
/// checked against the queue's limits before anything is uploaded.
pub(crate) fn prepare(
    offload: Option<&Arc<Offload>>,
    queue: &Queue,
    body: String,
    mut attributes: Attributes,
    dedup_id: Option<String>,
) -> Result<Offloaded> {
    let max_size = queue.attributes().max_message_size();
    let Some(o) = offload else {
        let size = validate::check_message(&body, &attributes, max_size)?;
        return Ok(Offloaded {
            body,
            attributes,
            dedup_id,
            size,
            upload: None,
        });
    };
    for reserved in [SIZE_ATTRIBUTE, LEGACY_SIZE_ATTRIBUTE] {
        if attributes.contains_key(reserved) {
            return Err(Error::invalid(
                "message attribute name",
                format!("{reserved} is reserved for the S3 pointer of an offloaded message"),
            ));
        }
    }
    let threshold = o.threshold.unwrap_or(max_size);
    let large = o.always || validate::message_size(&body, &attributes) > threshold;
    if !large || body.is_empty() {
        let size = validate::check_message(&body, &attributes, max_size)?;
        return Ok(Offloaded {
            body,
            attributes,
            dedup_id,
            size,
            upload: None,
        });
    }
    let payload_len = u64::try_from(body.len()).unwrap_or(u64::MAX);
    if payload_len > o.max_payload() {
        let limit = usize::try_from(o.max_payload()).unwrap_or(usize::MAX);
        return Err(Error::PayloadTooLarge(
            PayloadTooLarge::new("offloaded payload", limit, body.len()).with_limit_name(
                if o.max_payload() == store::MAX_SINGLE_PUT {
                    "S3's 5 GiB single PutObject"
                } else {
                    "S3's object size: 5 TiB, or 10,000 parts"
                },
            ),
        ));
    }
    let key = format!("{}{}", o.key_prefix, uuid::Uuid::new_v4());
    let pointer = S3Pointer::new(o.bucket.clone(), key);
    attributes.insert(
        SIZE_ATTRIBUTE.to_owned(),
        AttributeValue::number(body.len()),
    );
    let pointer_body = pointer.to_body();
    let size = validate::check_message(&pointer_body, &attributes, max_size)?;
    let dedup_id = match dedup_id {
        None if queue.is_fifo() && queue.attributes().content_based_deduplication() => {
            Some(sha256_hex(body.as_bytes()))
        }
        other => other,
    };
    Ok(Offloaded {
        body: pointer_body,
        attributes,
        dedup_id,
        size,
        upload: Some(Upload {
            offload: Arc::clone(o),
            pointer,
            payload: Arc::new(body),
        }),
    })
}

/// The lowercase hex SHA-256 of `bytes`: 64 characters, within the 128 of a
/// deduplication id.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Sends `ready` through `send`, uploading the offloaded entries first (at most
/// `concurrency` uploads at once): an entry whose upload fails gets that error and is
/// not sent; an entry whose send fails has its object deleted again.
pub(crate) async fn send_batch<F, Fut>(
    mut ready: Vec<Prepared>,
    concurrency: usize,
    send: F,
) -> Vec<Result<SendOutput>>
where
    F: FnOnce(Vec<Prepared>) -> Fut,
    Fut: Future<Output = Vec<Result<SendOutput>>>,
{
    let uploads: Vec<Option<Upload>> = ready.iter_mut().map(|p| p.upload.take()).collect();
    let uploaded: Vec<Option<Result<UploadedObject>>> =
        futures_util::stream::iter(uploads.into_iter().map(|u| async move {
            match u {
                Some(u) => Some(u.put().await),
                None => None,
            }
        }))
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let mut results: Vec<Option<Result<SendOutput>>> = Vec::with_capacity(ready.len());
    let mut to_send = Vec::new();
    let mut objects: Vec<Option<UploadedObject>> = Vec::new();
    for (p, u) in ready.into_iter().zip(uploaded) {
        match u {
            Some(Err(e)) => results.push(Some(Err(e))),
            other => {
                results.push(None);
                to_send.push(p);
                objects.push(other.and_then(Result::ok));
            }
        }
    }
    let mut sent = send(to_send).await.into_iter();
    let mut orphans = Vec::new();
    let mut objects = objects.into_iter();
    for slot in results.iter_mut().filter(|r| r.is_none()) {
        let r = sent
            .next()
            .unwrap_or_else(|| Err(Error::invalid("batch", "entry was not sent")));
        let object = objects.next().flatten();
        if r.is_err()
            && let Some(o) = object
        {
            orphans.push(o.discard());
        }
        *slot = Some(r);
    }
    futures_util::future::join_all(orphans).await;
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::invalid("batch", "entry was not sent"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_is_the_standard_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
