//! The S3 calls: upload (one `PutObject`, or a multipart upload), fetch, delete.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use crate::codec::DecodeError;
use crate::error::{CodecErrorKind, Error, Result};
use crate::s3::{Offload, S3Pointer};

/// S3's largest single `PutObject`: 5 GiB.
pub const MAX_SINGLE_PUT: u64 = 5 * 1024 * 1024 * 1024;
/// S3's largest object (a multipart upload): 5 TiB.
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024 * 1024;
/// S3's most parts in a multipart upload.
pub const MAX_PARTS: u64 = 10_000;
/// S3's smallest part (all but the last): 5 MiB.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// S3's largest part: 5 GiB.
pub const MAX_PART_SIZE: u64 = MAX_SINGLE_PUT;
/// weir's default size above which an upload is multipart: 100 MiB, where AWS's
/// guidance starts recommending it.
pub const DEFAULT_MULTIPART_THRESHOLD: u64 = 100 * 1024 * 1024;
/// weir's default part size: 16 MiB (10,000 of them hold 156 GiB).
pub const DEFAULT_PART_SIZE: u64 = 16 * 1024 * 1024;

/// The codec name a fetch failure's [`DecodeError`] carries.
pub(crate) const FETCH_CODEC: &str = "s3 payload";

fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Uploads `payload` to `pointer`'s bucket and key.
pub(crate) async fn put(o: &Offload, pointer: &S3Pointer, payload: Vec<u8>) -> Result<()> {
    if len_u64(payload.len()) > o.multipart_threshold {
        return put_multipart(o, pointer, payload).await;
    }
    o.client
        .put_object()
        .bucket(pointer.bucket())
        .key(pointer.key())
        .body(ByteStream::from(payload))
        .send()
        .await
        .map_err(|e| Error::from_s3_sdk("PutObject", pointer.bucket(), e))?;
    Ok(())
}

/// A multipart upload of `part_size` parts, one at a time. Parts are listed by ETag
/// only: the upload declares no checksum algorithm, and naming a part's CRC32 in
/// `CompleteMultipartUpload` then fails with `InvalidPart` (LocalStack 4.12).
async fn put_multipart(o: &Offload, pointer: &S3Pointer, payload: Vec<u8>) -> Result<()> {
    let (bucket, key) = (pointer.bucket(), pointer.key());
    let created = o
        .client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| Error::from_s3_sdk("CreateMultipartUpload", bucket, e))?;
    let upload_id = created.upload_id().unwrap_or_default().to_owned();
    let part_size = usize::try_from(o.part_size).unwrap_or(usize::MAX);
    let mut parts = Vec::new();
    let mut result = Ok(());
    for (i, chunk) in payload.chunks(part_size).enumerate() {
        let number = i32::try_from(i + 1).unwrap_or(i32::MAX);
        match o
            .client
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(chunk.to_vec()))
            .send()
            .await
        {
            Ok(out) => parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(out.e_tag)
                    .build(),
            ),
            Err(e) => {
                result = Err(Error::from_s3_sdk("UploadPart", bucket, e));
                break;
            }
        }
    }
    if result.is_ok() {
        result = o
            .client
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map(drop)
            .map_err(|e| Error::from_s3_sdk("CompleteMultipartUpload", bucket, e));
    }
    if result.is_err() {
        // Best effort: the parts cost storage until aborted (or a lifecycle rule's
        // AbortIncompleteMultipartUpload).
        if let Err(e) = o
            .client
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .send()
            .await
        {
            tracing::warn!(%pointer, error = %aws_sdk_s3::error::DisplayErrorContext(&e), "could not abort a failed multipart upload");
        }
    }
    result
}

/// How fetching a payload failed.
pub(crate) enum FetchError {
    /// The object is gone (`NoSuchKey`).
    NotFound(DecodeError),
    /// Trying again later may succeed (throttling, 5xx, timeouts, connections).
    Transient(Error),
    /// Anything else: the message cannot be decoded (access denied, no such bucket,
    /// not UTF-8).
    Permanent(DecodeError),
}

/// Fetches the payload `pointer` names.
pub(crate) async fn get(
    client: &aws_sdk_s3::Client,
    pointer: &S3Pointer,
) -> Result<String, FetchError> {
    let out = match client
        .get_object()
        .bucket(pointer.bucket())
        .key(pointer.key())
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let no_such_key = e.as_service_error().is_some_and(|s| s.is_no_such_key());
            let err = Error::from_s3_sdk("GetObject", pointer.bucket(), e);
            if no_such_key {
                return Err(FetchError::NotFound(fetch_error(
                    format!(
                        "the payload object {pointer} does not exist (NoSuchKey): deleted before its message, or expired by a lifecycle rule"
                    ),
                    err,
                )));
            }
            if err.is_retryable() {
                return Err(FetchError::Transient(err));
            }
            return Err(FetchError::Permanent(fetch_error(
                format!("the payload object {pointer} could not be read"),
                err,
            )));
        }
    };
    let bytes = match out.body.collect().await {
        Ok(b) => b.into_bytes(),
        Err(e) => {
            return Err(FetchError::Transient(Error::Sqs(
                crate::error::SqsError::new(
                    "GetObject",
                    crate::error::SqsErrorKind::Connection,
                    None,
                    Some(format!("reading the body of {pointer} failed: {e}")),
                    None,
                )
                .with_service(crate::error::AwsService::S3),
            )));
        }
    };
    String::from_utf8(Vec::from(bytes)).map_err(|e| {
        FetchError::Permanent(DecodeError::detailed(
            CodecErrorKind::Decode,
            FETCH_CODEC,
            format!("the payload object {pointer} is not UTF-8"),
            Some(std::sync::Arc::new(e)),
        ))
    })
}

fn fetch_error(detail: String, err: Error) -> DecodeError {
    DecodeError::detailed(
        CodecErrorKind::Decode,
        FETCH_CODEC,
        detail,
        Some(std::sync::Arc::new(err)),
    )
}

/// Deletes the object `pointer` names.
pub(crate) async fn delete(client: &aws_sdk_s3::Client, pointer: &S3Pointer) -> Result<()> {
    client
        .delete_object()
        .bucket(pointer.bucket())
        .key(pointer.key())
        .send()
        .await
        .map_err(|e| Error::from_s3_sdk("DeleteObject", pointer.bucket(), e))?;
    Ok(())
}

/// Deletes the object `pointer` names, logging a failure (the object is then an
/// orphan, left to the bucket's lifecycle rule). `why` says what the object was.
pub(crate) async fn delete_logged(client: &aws_sdk_s3::Client, pointer: &S3Pointer, why: &str) {
    if let Err(e) = delete(client, pointer).await {
        tracing::warn!(
            %pointer,
            error = %aws_sdk_s3::error::DisplayErrorContext(&e),
            "could not delete {why}: it stays until the bucket's lifecycle rule removes it"
        );
    }
}
