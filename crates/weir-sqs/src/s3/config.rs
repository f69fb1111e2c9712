//! [`Offload`]: where and when large payloads go to S3.

use std::fmt;

use crate::error::{Error, Result};
use crate::s3::store::{
    DEFAULT_MULTIPART_THRESHOLD, DEFAULT_PART_SIZE, MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_PARTS,
    MAX_SINGLE_PUT, MIN_PART_SIZE,
};

/// What happens to a payload's object once its message is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Cleanup {
    /// Delete it after the SQS delete succeeds (the default, as the extended clients'
    /// `cleanupS3Payload = true`; but after, not before).
    #[default]
    DeleteAfterAck,
    /// Keep it: the bucket has a lifecycle rule, or another reader needs it.
    Keep,
}

/// Large payloads through S3: the client, the bucket and key prefix objects go to, and
/// when a body goes there.
///
/// Give it to a producer ([`ProducerBuilder::offload`](crate::ProducerBuilder::offload))
/// and to a consumer ([`Consumer::with_offload`](crate::Consumer::with_offload)). A
/// consumer reads the bucket from each pointer, so its bucket only matters when it
/// produces too. Checked by the producer's `build()` ([`validate`](Self::validate)).
///
/// # Examples
///
/// ```
/// # fn demo(s3: aws_sdk_s3::Client) {
/// use weir_sqs::s3::{Cleanup, Offload};
///
/// let offload = Offload::new(s3, "my-payloads")
///     .with_key_prefix("orders/")
///     .with_cleanup(Cleanup::Keep); // the bucket has a lifecycle rule
/// assert_eq!(offload.bucket(), "my-payloads");
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct Offload {
    pub(crate) client: aws_sdk_s3::Client,
    pub(crate) bucket: String,
    pub(crate) key_prefix: String,
    pub(crate) threshold: Option<usize>,
    pub(crate) always: bool,
    pub(crate) multipart_threshold: u64,
    pub(crate) part_size: u64,
    pub(crate) cleanup: Cleanup,
    pub(crate) ignore_payload_not_found: bool,
}

impl fmt::Debug for Offload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Offload")
            .field("bucket", &self.bucket)
            .field("key_prefix", &self.key_prefix)
            .field("threshold", &self.threshold)
            .field("always", &self.always)
            .field("multipart_threshold", &self.multipart_threshold)
            .field("part_size", &self.part_size)
            .field("cleanup", &self.cleanup)
            .field("ignore_payload_not_found", &self.ignore_payload_not_found)
            .finish_non_exhaustive()
    }
}

impl Offload {
    /// Payloads go to `bucket` through `client`; the defaults: no key prefix, the
    /// queue's `MaximumMessageSize` as threshold, multipart uploads above 100 MiB in
    /// 16 MiB parts, objects deleted after the ack, a missing object a poison message.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            key_prefix: String::new(),
            threshold: None,
            always: false,
            multipart_threshold: DEFAULT_MULTIPART_THRESHOLD,
            part_size: DEFAULT_PART_SIZE,
            cleanup: Cleanup::DeleteAfterAck,
            ignore_payload_not_found: false,
        }
    }

    /// Keys are `prefix` + a UUID (the Java client's `s3KeyPrefix + UUID.randomUUID()`).
    /// The prefix follows the Java client's rules: at most 988 characters, letters,
    /// digits, `.`, `/`, `_` and `-`, not starting with `.` or `/`, no `..`.
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Offloads a message when its size (body and attributes, as SQS counts it) is over
    /// `bytes`, instead of over the queue's `MaximumMessageSize`. At most that size.
    pub fn with_threshold(mut self, bytes: usize) -> Self {
        self.threshold = Some(bytes);
        self
    }

    /// Sends every message through S3, whatever its size (`alwaysThroughS3`).
    pub fn with_always_through_s3(mut self, on: bool) -> Self {
        self.always = on;
        self
    }

    /// Uploads payloads over `bytes` as multipart uploads of `part_size`-byte parts,
    /// instead of one `PutObject` (100 MiB and 16 MiB by default). S3 takes at most
    /// 5 GiB in one `PutObject`, parts of 5 MiB to 5 GiB, and 10,000 parts.
    pub fn with_multipart(mut self, bytes: u64, part_size: u64) -> Self {
        self.multipart_threshold = bytes;
        self.part_size = part_size;
        self
    }

    /// What to do with an object once its message is deleted.
    pub fn with_cleanup(mut self, cleanup: Cleanup) -> Self {
        self.cleanup = cleanup;
        self
    }

    /// When a pointer's object is missing, deletes the message and leaves it out of the
    /// receive, without a handler seeing it, as the Java client's
    /// `ignorePayloadNotFound` does (`AmazonSQSExtendedClient.java` lines 347–355).
    /// Off by default: the message is a poison message whose decode error says so.
    pub fn with_ignore_payload_not_found(mut self, on: bool) -> Self {
        self.ignore_payload_not_found = on;
        self
    }

    /// The bucket payloads go to.
    #[must_use]
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The S3 client.
    #[must_use]
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// The cleanup setting.
    #[must_use]
    pub fn cleanup(&self) -> Cleanup {
        self.cleanup
    }

    /// The largest payload an upload takes: 5 TiB, or fewer when 10,000 parts of the
    /// part size hold less; 5 GiB when multipart uploads are off (threshold ≥ 5 GiB).
    #[must_use]
    pub fn max_payload(&self) -> u64 {
        if self.multipart_threshold >= MAX_SINGLE_PUT {
            MAX_SINGLE_PUT
        } else {
            MAX_OBJECT_SIZE.min(self.part_size.saturating_mul(MAX_PARTS))
        }
    }

    /// Checks the settings for a queue whose `MaximumMessageSize` is `max_message_size`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the rule: an empty bucket name; a key prefix the
    /// Java client would refuse (`AmazonSQSExtendedClientUtil.java` lines 170–199); a
    /// threshold over `max_message_size`; a multipart threshold over 5 GiB, or a part size
    /// outside 5 MiB–5 GiB.
    pub fn validate(&self, max_message_size: usize) -> Result<()> {
        if self.bucket.is_empty() {
            return Err(Error::invalid("S3 bucket", "the bucket name is empty"));
        }
        check_key_prefix(&self.key_prefix)?;
        if let Some(t) = self.threshold
            && t > max_message_size
        {
            return Err(Error::invalid(
                "offload threshold",
                format!(
                    "{t} bytes is over the queue's MaximumMessageSize of {max_message_size} bytes: messages in between could not be sent"
                ),
            ));
        }
        if self.multipart_threshold > MAX_SINGLE_PUT {
            return Err(Error::invalid(
                "multipart threshold",
                format!(
                    "{} bytes is over S3's single PutObject limit of 5 GiB ({MAX_SINGLE_PUT} bytes)",
                    self.multipart_threshold
                ),
            ));
        }
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.part_size) {
            return Err(Error::invalid(
                "multipart part size",
                format!(
                    "{} bytes is outside S3's part size limits of 5 MiB to 5 GiB",
                    self.part_size
                ),
            ));
        }
        Ok(())
    }
}

/// The longest key prefix: S3's 1,024-byte key less the 36 characters of a UUID
/// (`SQSExtendedClientConstants.java` lines 37–41).
pub(crate) const MAX_KEY_PREFIX_LEN: usize = 1024 - 36;

fn check_key_prefix(prefix: &str) -> Result<()> {
    let field = "S3 key prefix";
    if prefix.len() > MAX_KEY_PREFIX_LEN {
        return Err(Error::invalid(
            field,
            format!(
                "{} characters is over the limit of {MAX_KEY_PREFIX_LEN} (1024 less a UUID)",
                prefix.len()
            ),
        ));
    }
    if prefix.starts_with('.') || prefix.starts_with('/') {
        return Err(Error::invalid(field, "must not start with '.' or '/'"));
    }
    if prefix.contains("..") {
        return Err(Error::invalid(field, "must not contain '..'"));
    }
    if let Some(c) = prefix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '_' | '-')))
    {
        return Err(Error::invalid(
            field,
            format!("{c:?} is not allowed: letters, digits, '/', '_', '-' and '.' only"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_prefix_rules_are_the_java_clients() {
        check_key_prefix("").unwrap();
        check_key_prefix("orders/2024_a-b.c/").unwrap();
        for bad in ["/x", ".x", "a..b", "a b", "é"] {
            assert!(check_key_prefix(bad).is_err(), "{bad}");
        }
        check_key_prefix(&"a".repeat(988)).unwrap();
        let e = check_key_prefix(&"a".repeat(989)).unwrap_err();
        assert!(e.to_string().contains("988"), "{e}");
    }
}
