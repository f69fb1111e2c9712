//! The extended clients' pointer: the SQS body that names the S3 object holding the
//! payload, and the message attribute that marks it.
//!
//! Byte for byte what awslabs' Java client writes: Jackson with default typing
//! (`payload-offloading-java-common-lib-for-aws`, `JsonDataConverter.java` line 22,
//! `enableDefaultTyping(NON_FINAL)`) serializes `PayloadS3Pointer` (fields
//! `s3BucketName`, `s3Key`, `PayloadS3Pointer.java` lines 12–13) as a two-element array,
//! class name first, with no spaces. The Python client writes the same array through
//! `json.dumps`, with spaces (`client.py` lines 252–256); both read any JSON.

use serde::{Deserialize, Serialize};

/// The pointer class name the extended clients write (`client.py` line 16;
/// `PayloadS3Pointer.java`'s package).
pub const POINTER_CLASS: &str = "software.amazon.payloadoffloading.PayloadS3Pointer";

/// The class name of version 1 of the Java client, still read (the Java client rewrites
/// it on receive, `AmazonSQSExtendedClient.java` line 342; Python's
/// `LEGACY_MESSAGE_POINTER_CLASS`, `client.py` line 15).
pub const LEGACY_POINTER_CLASS: &str = "com.amazon.sqs.javamessaging.MessageS3Pointer";

/// The message attribute that marks an offloaded message, its value the payload's size
/// in bytes, data type `Number` (`SQSExtendedClientConstants.java` line 24;
/// `AmazonSQSExtendedClientUtil.java` lines 118–119).
pub const SIZE_ATTRIBUTE: &str = "ExtendedPayloadSize";

/// The attribute's legacy name, still written by the Java client by default
/// (`ExtendedClientConfiguration.java` line 36, `useLegacyReservedAttributeName = true`)
/// and read by both clients (`AmazonSQSExtendedClientUtil.java` line 25).
pub const LEGACY_SIZE_ATTRIBUTE: &str = "SQSLargePayloadSize";

/// Where an offloaded payload is: a bucket and a key.
///
/// # Examples
///
/// ```
/// use weir_sqs::s3::S3Pointer;
///
/// let p = S3Pointer::new("payloads", "2f0c7d7e-8a7b-4c39-9d57-0c4b5c1d2e3f");
/// let body = p.to_body();
/// assert_eq!(
///     body,
///     r#"["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"payloads","s3Key":"2f0c7d7e-8a7b-4c39-9d57-0c4b5c1d2e3f"}]"#
/// );
/// assert_eq!(S3Pointer::from_body(&body), Some(p));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Pointer {
    bucket: String,
    key: String,
}

#[derive(Serialize, Deserialize)]
struct Fields<'a> {
    #[serde(rename = "s3BucketName", borrow)]
    bucket: std::borrow::Cow<'a, str>,
    #[serde(rename = "s3Key", borrow)]
    key: std::borrow::Cow<'a, str>,
}

impl S3Pointer {
    /// A pointer to `key` in `bucket`.
    #[must_use]
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    /// The bucket.
    #[must_use]
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The SQS body that carries this pointer, as the Java client writes it.
    #[must_use]
    pub fn to_body(&self) -> String {
        let fields = Fields {
            bucket: self.bucket.as_str().into(),
            key: self.key.as_str().into(),
        };
        serde_json::to_string(&(POINTER_CLASS, fields))
            .expect("a tuple of a string and two string fields always serializes")
    }

    /// Reads a pointer body (either class name, any JSON spacing, unknown fields
    /// ignored as Jackson's `FAIL_ON_UNKNOWN_PROPERTIES = false` does); `None` when the
    /// body is not one.
    #[must_use]
    pub fn from_body(body: &str) -> Option<Self> {
        let (class, fields): (&str, Fields<'_>) = serde_json::from_str(body).ok()?;
        if class != POINTER_CLASS && class != LEGACY_POINTER_CLASS {
            return None;
        }
        Some(Self::new(fields.bucket, fields.key))
    }
}

impl std::fmt::Display for S3Pointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_python_spacing_legacy_class_and_extra_fields() {
        let py = r#"["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "b", "s3Key": "k"}]"#;
        assert_eq!(S3Pointer::from_body(py), Some(S3Pointer::new("b", "k")));
        let legacy = r#"["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"b","s3Key":"k","x":1}]"#;
        assert_eq!(S3Pointer::from_body(legacy), Some(S3Pointer::new("b", "k")));
    }

    #[test]
    fn refuses_what_is_not_a_pointer() {
        for body in [
            r#"["other.Class",{"s3BucketName":"b","s3Key":"k"}]"#,
            r#"{"s3BucketName":"b","s3Key":"k"}"#,
            r#"["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b"}]"#,
            "hello",
        ] {
            assert_eq!(S3Pointer::from_body(body), None, "{body}");
        }
    }

    #[test]
    fn escapes_like_json() {
        let p = S3Pointer::new("b", "a\"b");
        assert_eq!(S3Pointer::from_body(&p.to_body()), Some(p));
    }
}
