//! Large payloads through S3 for `send` and `peek` (`--s3-bucket`): the offload
//! settings, the bucket check before any SQS call, and what `peek` shows of a payload
//! that came through S3.

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};
use weir::aws_sdk_s3::Client;
use weir::aws_sdk_s3::config::interceptors::BeforeSerializationInterceptorContextRef;
use weir::aws_sdk_s3::config::{ConfigBag, Intercept};
use weir::aws_sdk_s3::error::BoxError;
use weir::aws_sdk_s3::operation::create_multipart_upload::CreateMultipartUploadInput;
use weir::aws_sdk_s3::operation::delete_object::DeleteObjectInput;
use weir::aws_sdk_s3::operation::put_object::PutObjectInput;
use weir::sqs::s3::{LEGACY_SIZE_ATTRIBUTE, Offload, S3Pointer, SIZE_ATTRIBUTE};
use weir::sqs::{Error as SqsError, Message, RawString};

use crate::error::{CliError, Result};

/// How much of a payload from S3 `peek` prints (text output): its start, as a body in
/// a message would be read, without filling the terminal with megabytes.
const SHOWN_BYTES: usize = 1024;

/// The objects this command put in S3, in the order their uploads started (an S3
/// client interceptor: the producer reports message ids, not where payloads went).
/// Objects deleted again (the upload of a message whose send failed) are dropped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Uploads {
    objects: Arc<Mutex<Vec<S3Object>>>,
}

/// An object put in S3: bucket, key, and size when the upload was one `PutObject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Object {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) size: Option<u64>,
}

impl Uploads {
    pub(crate) fn objects(&self) -> Vec<S3Object> {
        self.objects
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn json(&self) -> Value {
        Value::Array(
            self.objects()
                .into_iter()
                .map(|o| json!({ "bucket": o.bucket, "key": o.key, "payload_size": o.size }))
                .collect(),
        )
    }
}

impl Intercept for Uploads {
    fn name(&self) -> &'static str {
        "weir_cli::s3::Uploads"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        let input = context.input();
        let mut objects = self.objects.lock().unwrap_or_else(PoisonError::into_inner);
        let object = |bucket: Option<&str>, key: Option<&str>, size| S3Object {
            bucket: bucket.unwrap_or_default().to_owned(),
            key: key.unwrap_or_default().to_owned(),
            size,
        };
        if let Some(put) = input.downcast_ref::<PutObjectInput>() {
            let size = put.content_length().and_then(|n| u64::try_from(n).ok());
            let size = size.or_else(|| put.body().size_hint().1);
            objects.push(object(put.bucket(), put.key(), size));
        } else if let Some(mp) = input.downcast_ref::<CreateMultipartUploadInput>() {
            objects.push(object(mp.bucket(), mp.key(), None));
        } else if let Some(del) = input.downcast_ref::<DeleteObjectInput>() {
            objects.retain(|o| {
                Some(o.key.as_str()) != del.key() || Some(o.bucket.as_str()) != del.bucket()
            });
        }
        Ok(())
    }
}

/// The `--s3-*` options of `send` and `peek`.
#[derive(Debug, Clone, Default)]
pub(crate) struct S3Options {
    pub(crate) bucket: Option<String>,
    pub(crate) prefix: Option<String>,
    pub(crate) always: bool,
}

/// The offload `options` ask for, checked before anything is sent: its settings (a key
/// prefix the extended clients would refuse is a usage error, exit 2), then the bucket
/// (`HeadBucket`: a missing bucket is an error before any SQS call, exit 1).
pub(crate) async fn offload(s3: Client, options: &S3Options) -> Result<Option<Offload>> {
    let Some(bucket) = &options.bucket else {
        return Ok(None);
    };
    let mut offload = Offload::new(s3, bucket).with_always_through_s3(options.always);
    if let Some(prefix) = &options.prefix {
        offload = offload.with_key_prefix(prefix);
    }
    // No threshold is set, so the queue's MaximumMessageSize plays no part here.
    offload.validate(usize::MAX)?;
    check_bucket(&offload).await?;
    Ok(Some(offload))
}

async fn check_bucket(offload: &Offload) -> Result<()> {
    let bucket = offload.bucket();
    match offload.client().head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e) => match SqsError::from_s3_sdk("HeadBucket", bucket, e) {
            SqsError::BucketNotFound(_) => Err(CliError::Other(format!(
                "NoSuchBucket: the S3 bucket {bucket} does not exist (HeadBucket answered 404); \
                 create it, or give another --s3-bucket"
            ))),
            other => Err(CliError::Other(format!(
                "S3 bucket {bucket}: {}",
                CliError::from(other)
            ))),
        },
    }
}

/// The pointer of an offloaded message: the one its payload was fetched from, or, when
/// it was not fetched (no `--s3-bucket`), the one its body carries.
fn pointer(m: &Message<String>) -> Option<S3Pointer> {
    m.s3_pointer().cloned().or_else(|| {
        offloaded_size(m)
            .is_some()
            .then(|| S3Pointer::from_body(m.raw_body()))
            .flatten()
    })
}

/// The payload size the extended clients' attribute gives, when the message has it.
fn offloaded_size(m: &Message<String>) -> Option<u64> {
    [SIZE_ATTRIBUTE, LEGACY_SIZE_ATTRIBUTE]
        .iter()
        .find_map(|name| m.attribute(name))
        .and_then(|v| v.parse().ok())
}

/// Whether the payload was fetched from S3: `raw_body` is then the payload.
fn resolved(m: &Message<String>) -> bool {
    m.s3_pointer().is_some() && m.is_decoded()
}

/// The fields `peek --json` adds for S3: the pointer (null when the message did not
/// come through S3), the payload's size, and whether `body` is the payload (fetched)
/// or the pointer (no `--s3-bucket`, or the fetch failed: `payload_error` says why).
pub(crate) fn peek_json(m: &Message<String>, fields: &mut serde_json::Map<String, Value>) {
    let pointer = pointer(m);
    let size = if resolved(m) || pointer.is_none() {
        u64::try_from(m.raw_body().len()).ok()
    } else {
        offloaded_size(m)
    };
    fields.insert(
        "s3_pointer".into(),
        pointer.as_ref().map_or(
            Value::Null,
            |p| json!({ "bucket": p.bucket(), "key": p.key() }),
        ),
    );
    fields.insert("payload_size".into(), json!(size));
    fields.insert(
        "payload_resolved".into(),
        json!(pointer.is_none() || resolved(m)),
    );
    if let (Some(_), Err(e)) = (&pointer, m.body()) {
        fields.insert("payload_error".into(), json!(e.to_string()));
    }
}

/// What `peek` prints of a message's body (text output), one line each: as today for
/// a message that did not come through S3; for one that did, where its payload is and
/// its size, then the payload's start (or the pointer, when it was not fetched).
pub(crate) fn peek_lines(m: &Message<String>, fetching: bool) -> Vec<String> {
    let Some(pointer) = pointer(m) else {
        return vec![format!("  {}", m.raw_body())];
    };
    if resolved(m) {
        let payload = m.raw_body();
        let mut lines = vec![format!("  payload from {pointer}: {} bytes", payload.len())];
        lines.push(format!("  {}", start(payload)));
        return lines;
    }
    let size = offloaded_size(m).map_or_else(|| "?".to_owned(), |n| n.to_string());
    let why = match m.body() {
        Err(e) if fetching => format!("not fetched: {e}"),
        _ => "give --s3-bucket to show it".to_owned(),
    };
    vec![
        format!("  payload in {pointer}: {size} bytes ({why})"),
        format!("  {}", m.raw_body()),
    ]
}

/// The first [`SHOWN_BYTES`] of `payload` (cut at a character boundary), and how much
/// more there is.
fn start(payload: &str) -> String {
    if payload.len() <= SHOWN_BYTES {
        return payload.to_owned();
    }
    let mut end = SHOWN_BYTES;
    while !payload.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &payload[..end], payload.len() - end)
}

/// A consumer for `peek`: with an offload when `--s3-bucket` is given, so payloads
/// are fetched (peek never acks, so no object is deleted).
pub(crate) fn consumer(
    queue: weir::sqs::Queue,
    offload: Option<Offload>,
) -> weir::sqs::Consumer<String, RawString> {
    let consumer = weir::sqs::Consumer::with_codec(queue, RawString);
    match offload {
        Some(o) => consumer.with_offload(o),
        None => consumer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_of_a_long_payload_is_cut_at_a_character() {
        assert_eq!(start("short"), "short");
        let long = format!("{}é{}", "a".repeat(SHOWN_BYTES - 1), "b".repeat(10));
        let shown = start(&long);
        assert!(shown.starts_with(&"a".repeat(SHOWN_BYTES - 1)), "{shown}");
        assert!(shown.ends_with("… (12 more bytes)"), "{shown}");
    }
}
