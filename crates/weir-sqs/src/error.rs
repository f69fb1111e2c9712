//! The error type of `weir-sqs`, and how SQS failures are classified.
//!
//! One enum, [`Error`], following smithy RFC 0022: each variant wraps a context struct
//! with private fields and accessors; `Display` describes only its own level; the cause
//! (an SDK error, a serde error) is reachable through [`std::error::Error::source`].
//! Retry decisions consult only [`Error::is_retryable`] and [`Error::retry_after`].

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};

/// `Result` with [`Error`] as its default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A shared, type-erased cause.
pub(crate) type Source = Arc<dyn StdError + Send + Sync + 'static>;

/// Error codes that SQS (or the SDK's query-compatible mapping) uses for throttling or
/// transient server trouble. Matched exactly against [`Error::code`].
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "RequestThrottled",
    "AWS.SimpleQueueService.RequestThrottled",
    "RequestThrottledException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "AWS.SimpleQueueService.ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "AWS.SimpleQueueService.InternalError",
    "OverLimit",
    "AWS.SimpleQueueService.OverLimit",
    "KmsThrottled",
    "KMS.ThrottlingException",
    "RequestTimeout",
    "RequestTimeoutException",
    "SlowDown",
    // SNS (the `sns` feature): `ThrottledException` and `KMSThrottlingException`.
    "Throttled",
    "KMSThrottling",
];

/// Batch entry codes that are the caller's fault whatever `SenderFault` says (LocalStack,
/// for one, reports `ReceiptHandleIsInvalid` with `SenderFault: false`).
const CLIENT_ENTRY_CODES: &[&str] = &[
    "ReceiptHandleIsInvalid",
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "MessageTooLong",
    "InvalidMessageContents",
    "InvalidBatchEntryId",
    "BatchEntryIdsNotDistinct",
    "InvalidIdFormat",
    "MessageNotInflight",
    "UnsupportedOperation",
    "AWS.SimpleQueueService.UnsupportedOperation",
    "AccessDenied",
    "AccessDeniedException",
    // SNS (the `sns` feature).
    "InvalidParameter",
    "ParameterValueInvalid",
    "AuthorizationError",
    "NotFound",
    "ValidationException",
];

/// Error codes that mean the queue does not exist.
const QUEUE_NOT_FOUND_CODES: &[&str] = &[
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "NonExistentQueue",
];

/// Error codes that mean the SNS topic does not exist (`NotFoundException`).
#[cfg(feature = "sns")]
const TOPIC_NOT_FOUND_CODES: &[&str] = &["NotFound"];

/// Every failure `weir-sqs` reports.
///
/// Match on it with a wildcard arm: new variants may be added.
///
/// # Examples
///
/// ```
/// use weir_sqs::Error;
///
/// fn should_retry(err: &Error) -> bool {
///     match err {
///         Error::PayloadTooLarge(e) => {
///             eprintln!("{} > {}", e.actual(), e.limit());
///             false
///         }
///         other => other.is_retryable(),
///     }
/// }
/// # let _ = should_retry;
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An SQS call failed: a service error, a timeout, or a transport failure. With the
    /// `sns` feature, SNS calls fail with this variant too ([`SqsError::service`] says
    /// which service answered): one classification for both.
    #[error(transparent)]
    Sqs(SqsError),
    /// A message (or a batch) is larger than the queue allows.
    #[error(transparent)]
    PayloadTooLarge(PayloadTooLarge),
    /// Input that SQS would refuse, refused before any network call.
    #[error(transparent)]
    InvalidInput(InvalidInput),
    /// The queue does not exist (or the caller may not see it).
    #[error(transparent)]
    QueueNotFound(QueueNotFound),
    /// A message body could not be encoded or decoded.
    #[error(transparent)]
    Codec(CodecError),
    /// Some entries of a batch call failed; the others succeeded.
    #[error(transparent)]
    PartialBatch(BatchFailure),
    /// One entry of a batch call failed (the per-entry result of a batch operation).
    #[error(transparent)]
    BatchEntry(BatchEntryFailure),
    /// The SNS topic does not exist (or the caller may not see it): the `sns` feature.
    #[error(transparent)]
    TopicNotFound(TopicNotFound),
    /// The S3 bucket a large payload goes to does not exist: the `s3` feature.
    #[error(transparent)]
    BucketNotFound(BucketNotFound),
}

impl Error {
    /// Whether trying the same call again later may succeed.
    ///
    /// True for throttling, server (5xx) errors, timeouts and connection errors; for a
    /// [`PartialBatch`](Error::PartialBatch), true when at least one failed entry is
    /// retryable. Always false for input, size, codec and queue-not-found errors.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Sqs(e) => e.is_retryable(),
            Self::PartialBatch(e) => e.entries().iter().any(BatchEntryFailure::is_retryable),
            Self::BatchEntry(e) => e.is_retryable(),
            Self::PayloadTooLarge(_)
            | Self::InvalidInput(_)
            | Self::QueueNotFound(_)
            | Self::TopicNotFound(_)
            | Self::BucketNotFound(_)
            | Self::Codec(_) => false,
        }
    }

    /// Whether SQS refused a receipt handle (`ReceiptHandleIsInvalid`, with or without
    /// the `AWS.SimpleQueueService.` prefix): the message was received again since, or
    /// the handle is not one of this queue's. Trying the same handle again cannot help.
    #[must_use]
    pub fn is_receipt_handle_invalid(&self) -> bool {
        self.code().is_some_and(|c| {
            c.strip_prefix("AWS.SimpleQueueService.").unwrap_or(c) == "ReceiptHandleIsInvalid"
        })
    }

    /// How long the service asked the caller to wait, when it said so (a `Retry-After`
    /// header on a throttled response). `None` means "use your own backoff".
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Sqs(e) => e.retry_after(),
            Self::PayloadTooLarge(_)
            | Self::InvalidInput(_)
            | Self::QueueNotFound(_)
            | Self::Codec(_)
            | Self::PartialBatch(_)
            | Self::BatchEntry(_)
            | Self::TopicNotFound(_)
            | Self::BucketNotFound(_) => None,
        }
    }

    /// The SQS (or SNS) error code (`AWS.SimpleQueueService.NonExistentQueue`,
    /// `ThrottlingException`, ...), when the error came from the service.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Sqs(e) => e.code(),
            Self::QueueNotFound(e) => e.code(),
            Self::TopicNotFound(e) => e.code(),
            Self::BucketNotFound(e) => e.code(),
            Self::BatchEntry(e) => Some(e.code()),
            Self::PayloadTooLarge(_)
            | Self::InvalidInput(_)
            | Self::Codec(_)
            | Self::PartialBatch(_) => None,
        }
    }

    /// The error message SQS sent, when the error came from SQS.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Sqs(e) => e.message(),
            Self::QueueNotFound(e) => e.message(),
            Self::TopicNotFound(e) => e.message(),
            Self::BucketNotFound(e) => e.message(),
            Self::BatchEntry(e) => e.message(),
            Self::PayloadTooLarge(_)
            | Self::InvalidInput(_)
            | Self::Codec(_)
            | Self::PartialBatch(_) => None,
        }
    }

    /// Converts an SDK error from the operation `operation` (e.g. `"SendMessage"`).
    ///
    /// Queue-not-found codes become [`Error::QueueNotFound`]; everything else becomes
    /// [`Error::Sqs`], keeping the code, the message, the HTTP status and the SDK error as
    /// the source.
    pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let sqs = SqsError::from_sdk(operation, err);
        if sqs
            .code()
            .is_some_and(|c| QUEUE_NOT_FOUND_CODES.contains(&c))
        {
            return Self::QueueNotFound(QueueNotFound {
                queue: String::new(),
                code: sqs.code.clone(),
                message: sqs.message.clone(),
                source: Some(Arc::new(sqs)),
            });
        }
        Self::Sqs(sqs)
    }

    /// Converts an SDK error of the SNS operation `operation` (e.g. `"Publish"`), as
    /// [`from_sdk`](Self::from_sdk) does for SQS: `NotFound` becomes
    /// [`Error::TopicNotFound`]; everything else [`Error::Sqs`] with
    /// [`AwsService::Sns`], classified by the same rules (throttling, 5xx, timeouts and
    /// connection errors are retryable).
    #[cfg(feature = "sns")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sns")))]
    pub fn from_sns_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let mut sns = SqsError::from_sdk(operation, err);
        sns.service = AwsService::Sns;
        if sns
            .code()
            .is_some_and(|c| TOPIC_NOT_FOUND_CODES.contains(&c))
        {
            return Self::TopicNotFound(TopicNotFound {
                topic: String::new(),
                code: sns.code.clone(),
                message: sns.message.clone(),
                source: Some(Arc::new(sns)),
            });
        }
        Self::Sqs(sns)
    }

    /// Attaches the topic name or ARN to a [`TopicNotFound`] error; others pass through.
    #[cfg(feature = "sns")]
    #[must_use]
    pub(crate) fn for_topic(mut self, topic: &str) -> Self {
        if let Self::TopicNotFound(e) = &mut self
            && e.topic.is_empty()
        {
            e.topic = topic.to_owned();
        }
        self
    }

    /// Converts an SDK error of the S3 operation `operation` (e.g. `"PutObject"`), as
    /// [`from_sdk`](Self::from_sdk) does for SQS: `NoSuchBucket` (and a `HeadBucket`'s
    /// bare 404) becomes [`Error::BucketNotFound`] naming `bucket`; everything else
    /// [`Error::Sqs`] with [`AwsService::S3`], classified by the same rules (`SlowDown`,
    /// 5xx, timeouts and connection errors are retryable; `AccessDenied` is not).
    #[cfg(feature = "s3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
    pub fn from_s3_sdk<E>(
        operation: &'static str,
        bucket: &str,
        err: SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let mut s3 = SqsError::from_sdk(operation, err);
        s3.service = AwsService::S3;
        let not_found = s3.code() == Some("NoSuchBucket")
            || (operation == "HeadBucket" && s3.status() == Some(404));
        if not_found {
            return Self::BucketNotFound(BucketNotFound {
                bucket: bucket.to_owned(),
                code: s3.code.clone(),
                message: s3.message.clone(),
                source: Some(Arc::new(s3)),
            });
        }
        Self::Sqs(s3)
    }

    /// Whether the service refused the call for lack of permission (`AccessDenied`,
    /// `AccessDeniedException`, SNS's `AuthorizationError`): fix the policy, retrying
    /// cannot help. S3 also answers `AccessDenied` for a missing object when the
    /// caller may not list the bucket.
    #[must_use]
    pub fn is_access_denied(&self) -> bool {
        self.code().is_some_and(|c| {
            matches!(
                c,
                "AccessDenied" | "AccessDeniedException" | "AuthorizationError"
            )
        })
    }

    /// Attaches the queue name or URL to a [`QueueNotFound`] error; other errors pass through.
    #[must_use]
    pub(crate) fn for_queue(mut self, queue: &str) -> Self {
        if let Self::QueueNotFound(e) = &mut self
            && e.queue.is_empty()
        {
            e.queue = queue.to_owned();
        }
        self
    }

    /// Shorthand for an [`InvalidInput`] error.
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput(InvalidInput::new(field, reason))
    }
}

/// How an SQS call failed, as the SDK reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SqsErrorKind {
    /// SQS answered with an error (4xx or 5xx).
    Service,
    /// The call timed out (SDK operation or attempt timeout, or a connector timeout).
    Timeout,
    /// The request could not be sent or the connection broke (I/O error).
    Connection,
    /// The response could not be read or parsed.
    Response,
    /// The request could not be built, or another non-retryable client-side failure.
    Construction,
}

/// The AWS service a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AwsService {
    /// Amazon SQS.
    Sqs,
    /// Amazon SNS (the `sns` feature).
    Sns,
    /// Amazon S3 (the `s3` feature: large payloads).
    S3,
}

impl fmt::Display for AwsService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqs => "SQS",
            Self::Sns => "SNS",
            Self::S3 => "S3",
        })
    }
}

/// An SQS (or SNS) call that failed: the SDK's error code, message and status, kept as
/// data.
///
/// The SDK error itself is the [`source`](std::error::Error::source).
#[derive(Debug, Clone)]
pub struct SqsError {
    service: AwsService,
    operation: &'static str,
    kind: SqsErrorKind,
    code: Option<String>,
    message: Option<String>,
    status: Option<u16>,
    retry_after: Option<Duration>,
    source: Option<Source>,
}

impl SqsError {
    fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let kind = match &err {
            SdkError::ServiceError(_) => SqsErrorKind::Service,
            SdkError::TimeoutError(_) => SqsErrorKind::Timeout,
            SdkError::DispatchFailure(d) if d.is_timeout() => SqsErrorKind::Timeout,
            SdkError::DispatchFailure(d) if d.is_io() => SqsErrorKind::Connection,
            SdkError::DispatchFailure(d) if d.is_user() => SqsErrorKind::Construction,
            SdkError::DispatchFailure(d) => match d.as_other() {
                Some(
                    aws_smithy_types::retry::ErrorKind::TransientError
                    | aws_smithy_types::retry::ErrorKind::ThrottlingError
                    | aws_smithy_types::retry::ErrorKind::ServerError,
                ) => SqsErrorKind::Connection,
                _ => SqsErrorKind::Construction,
            },
            SdkError::ResponseError(_) => SqsErrorKind::Response,
            _ => SqsErrorKind::Construction,
        };
        let raw = err.raw_response();
        let status = raw.map(|r| r.status().as_u16());
        let retry_after = raw
            .and_then(|r| r.headers().get("retry-after"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        Self {
            service: AwsService::Sqs,
            operation,
            kind,
            code: err.code().map(str::to_owned),
            message: err.message().map(str::to_owned),
            status,
            retry_after,
            source: Some(Arc::new(err)),
        }
    }

    /// Builds an error from parts, for errors found in a successful response (for
    /// example a batch entry failure), or for tests.
    #[must_use]
    pub fn new(
        operation: &'static str,
        kind: SqsErrorKind,
        code: Option<String>,
        message: Option<String>,
        status: Option<u16>,
    ) -> Self {
        Self {
            service: AwsService::Sqs,
            operation,
            kind,
            code,
            message,
            status,
            retry_after: None,
            source: None,
        }
    }

    /// The same error, from another service (for errors built with [`new`](Self::new)).
    #[must_use]
    pub fn with_service(mut self, service: AwsService) -> Self {
        self.service = service;
        self
    }

    /// The service that failed: SQS, or SNS for the `sns` feature's calls.
    #[must_use]
    pub fn service(&self) -> AwsService {
        self.service
    }

    /// The SQS operation that failed, e.g. `"SendMessageBatch"`.
    #[must_use]
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// How the call failed.
    #[must_use]
    pub fn kind(&self) -> SqsErrorKind {
        self.kind
    }

    /// The SQS error code, when SQS answered.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The error message, when SQS answered.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The HTTP status of the response, when there was one.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The wait the service asked for, if any.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether the same call may succeed later: throttling, 5xx, timeouts and
    /// connection errors.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            SqsErrorKind::Timeout | SqsErrorKind::Connection | SqsErrorKind::Response => true,
            SqsErrorKind::Construction => false,
            SqsErrorKind::Service => {
                self.status.is_some_and(|s| s >= 500)
                    || self.status == Some(429)
                    || self.is_throttling()
                    || self.code().is_some_and(|c| RETRYABLE_CODES.contains(&c))
            }
        }
    }

    /// Whether SQS throttled the call.
    #[must_use]
    pub fn is_throttling(&self) -> bool {
        self.code()
            .is_some_and(|c| c.contains("Throttl") || c == "SlowDown")
    }
}

impl fmt::Display for SqsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} failed", self.service, self.operation)?;
        match (&self.code, &self.message) {
            (Some(c), Some(m)) => write!(f, ": {c}: {m}"),
            (Some(c), None) => write!(f, ": {c}"),
            (None, Some(m)) => write!(f, ": {m}"),
            (None, None) => match self.kind {
                SqsErrorKind::Timeout => f.write_str(": timed out"),
                SqsErrorKind::Connection => f.write_str(": connection error"),
                SqsErrorKind::Response => f.write_str(": unreadable response"),
                SqsErrorKind::Construction => f.write_str(": request not sent"),
                SqsErrorKind::Service => f.write_str(": service error"),
            },
        }
    }
}

impl StdError for SqsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// A message or a batch is larger than the queue's maximum message size.
///
/// Sizes count the body plus every attribute's name, data type and value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is {actual} bytes, over the limit of {limit} bytes ({limit_name})")]
pub struct PayloadTooLarge {
    what: &'static str,
    limit: usize,
    actual: usize,
    limit_name: &'static str,
}

impl PayloadTooLarge {
    /// A payload of `actual` bytes over a `limit`. `what` names it ("message", "batch").
    #[must_use]
    pub fn new(what: &'static str, limit: usize, actual: usize) -> Self {
        Self {
            what,
            limit,
            actual,
            limit_name: "MaximumMessageSize",
        }
    }

    /// The same error over another limit than the queue's `MaximumMessageSize`, named
    /// `limit_name` (e.g. S3's `5 TiB object size` for an offloaded payload).
    #[must_use]
    pub fn with_limit_name(mut self, limit_name: &'static str) -> Self {
        self.limit_name = limit_name;
        self
    }

    /// The limit's name: `"MaximumMessageSize"` unless another limit was exceeded.
    #[must_use]
    pub fn limit_name(&self) -> &'static str {
        self.limit_name
    }

    /// The limit in bytes.
    #[must_use]
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The size that was refused, in bytes.
    #[must_use]
    pub fn actual(&self) -> usize {
        self.actual
    }

    /// What was too large: `"message"` or `"batch"`.
    #[must_use]
    pub fn what(&self) -> &'static str {
        self.what
    }
}

/// Input SQS would refuse: the field, and the rule it breaks (naming the limit).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidInput {
    field: &'static str,
    reason: String,
}

impl InvalidInput {
    /// `field` is invalid because of `reason`.
    #[must_use]
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }

    /// The field or parameter, e.g. `"delay"`, `"message attribute name"`.
    #[must_use]
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// Why it is invalid, naming the limit and the actual value.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// The queue does not exist, or is not visible to the caller.
#[derive(Debug, Clone)]
pub struct QueueNotFound {
    queue: String,
    code: Option<String>,
    message: Option<String>,
    source: Option<Source>,
}

impl QueueNotFound {
    /// A queue (name, URL or ARN) that was not found.
    #[must_use]
    pub fn new(queue: impl Into<String>) -> Self {
        Self {
            queue: queue.into(),
            code: None,
            message: None,
            source: None,
        }
    }

    /// The queue's name, URL or ARN as given, when known.
    #[must_use]
    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// The SQS error code, when SQS answered.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The SQS error message, when SQS answered.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Display for QueueNotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.queue.is_empty() {
            f.write_str("queue not found")
        } else {
            write!(f, "queue not found: {}", self.queue)
        }
    }
}

impl StdError for QueueNotFound {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// The SNS topic does not exist, or is not visible to the caller.
#[derive(Debug, Clone)]
pub struct TopicNotFound {
    topic: String,
    code: Option<String>,
    message: Option<String>,
    source: Option<Source>,
}

impl TopicNotFound {
    /// A topic (name or ARN) that was not found.
    #[must_use]
    pub fn new(topic: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            code: None,
            message: None,
            source: None,
        }
    }

    /// The topic's name or ARN as given, when known.
    #[must_use]
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The SNS error code, when SNS answered.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The SNS error message, when SNS answered.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Display for TopicNotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.topic.is_empty() {
            f.write_str("topic not found")
        } else {
            write!(f, "topic not found: {}", self.topic)
        }
    }
}

impl StdError for TopicNotFound {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// The S3 bucket for large payloads does not exist (the `s3` feature).
#[derive(Debug, Clone)]
pub struct BucketNotFound {
    bucket: String,
    code: Option<String>,
    message: Option<String>,
    source: Option<Source>,
}

impl BucketNotFound {
    /// A bucket that was not found.
    #[must_use]
    pub fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            code: None,
            message: None,
            source: None,
        }
    }

    /// The bucket's name.
    #[must_use]
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The S3 error code (`NoSuchBucket`), when S3 answered.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The S3 error message, when S3 answered.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Display for BucketNotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3 bucket not found: {}", self.bucket)
    }
}

impl StdError for BucketNotFound {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// Which way a codec failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecErrorKind {
    /// A value could not be encoded into a body.
    Encode,
    /// A body could not be decoded into a value.
    Decode,
}

/// A codec failed to encode or decode a message body.
///
/// The serializer's error is the [`source`](std::error::Error::source). The body itself is
/// never part of this error's `Display` or `Debug` (bodies are not logged unless the user
/// opts in). The source may quote parts of the body (serde's "invalid type: string
/// \"...\""), so `Debug` names it without printing it; walk
/// [`source`](std::error::Error::source) explicitly when you want that detail.
#[derive(Clone)]
pub struct CodecError {
    kind: CodecErrorKind,
    codec: &'static str,
    detail: String,
    source: Option<Source>,
}

impl CodecError {
    /// An encoding failure of `codec`, caused by `source`.
    pub fn encode(codec: &'static str, source: impl StdError + Send + Sync + 'static) -> Self {
        Self::with_source(CodecErrorKind::Encode, codec, source)
    }

    /// A decoding failure of `codec`, caused by `source`.
    pub fn decode(codec: &'static str, source: impl StdError + Send + Sync + 'static) -> Self {
        Self::with_source(CodecErrorKind::Decode, codec, source)
    }

    /// A failure with a description and no underlying error (e.g. an unknown type tag).
    #[must_use]
    pub fn msg(kind: CodecErrorKind, codec: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind,
            codec,
            detail: detail.into(),
            source: None,
        }
    }

    /// A failure with a description and the error behind it (an offloaded payload that
    /// could not be fetched: the S3 error).
    #[cfg(feature = "s3")]
    pub(crate) fn detailed(
        kind: CodecErrorKind,
        codec: &'static str,
        detail: impl Into<String>,
        source: Option<Source>,
    ) -> Self {
        Self {
            kind,
            codec,
            detail: detail.into(),
            source,
        }
    }

    fn with_source(
        kind: CodecErrorKind,
        codec: &'static str,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            codec,
            detail: String::new(),
            source: Some(Arc::new(source)),
        }
    }

    /// Encode or decode.
    #[must_use]
    pub fn kind(&self) -> CodecErrorKind {
        self.kind
    }

    /// The codec's name (e.g. `"json"`).
    #[must_use]
    pub fn codec(&self) -> &'static str {
        self.codec
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let way = match self.kind {
            CodecErrorKind::Encode => "encode",
            CodecErrorKind::Decode => "decode",
        };
        write!(f, "{} codec failed to {way} the message body", self.codec)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl fmt::Debug for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodecError")
            .field("kind", &self.kind)
            .field("codec", &self.codec)
            .field("detail", &self.detail)
            .field(
                "source",
                &self
                    .source
                    .as_ref()
                    .map(|_| "(not shown: it may quote the body)"),
            )
            .finish()
    }
}

impl StdError for CodecError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// One failed entry of a batch call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEntryFailure {
    index: usize,
    id: String,
    code: String,
    message: Option<String>,
    sender_fault: bool,
}

impl BatchEntryFailure {
    /// A failure of the entry at `index` (in the caller's input order), with the batch
    /// entry `id` and SQS's `code`, `message` and `sender_fault` flag.
    #[must_use]
    pub fn new(
        index: usize,
        id: impl Into<String>,
        code: impl Into<String>,
        message: Option<String>,
        sender_fault: bool,
    ) -> Self {
        Self {
            index,
            id: id.into(),
            code: code.into(),
            message,
            sender_fault,
        }
    }

    /// The entry's position in the caller's input.
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// The batch entry id sent to SQS.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// SQS's error code for this entry.
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }

    /// SQS's error message for this entry.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Whether SQS blamed the request (true) or itself (false).
    #[must_use]
    pub fn is_sender_fault(&self) -> bool {
        self.sender_fault
    }

    /// Whether sending this entry again may succeed: a throttling or transient code, or
    /// not the sender's fault (unless the code is a known client error).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        if CLIENT_ENTRY_CODES.contains(&self.code.as_str()) {
            return false;
        }
        !self.sender_fault
            || RETRYABLE_CODES.contains(&self.code.as_str())
            || self.code.contains("Throttl")
    }
}

impl fmt::Display for BatchEntryFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {} ({}): {}", self.index, self.id, self.code)?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        Ok(())
    }
}

impl StdError for BatchEntryFailure {}

/// Some entries of a batch call failed: the detail of each failed entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: {} of {total} entries failed", entries.len())]
pub struct BatchFailure {
    operation: &'static str,
    total: usize,
    entries: Vec<BatchEntryFailure>,
}

impl BatchFailure {
    /// `entries` of `total` failed in `operation`.
    #[must_use]
    pub fn new(operation: &'static str, total: usize, entries: Vec<BatchEntryFailure>) -> Self {
        Self {
            operation,
            total,
            entries,
        }
    }

    /// The SQS operation, e.g. `"DeleteMessageBatch"`.
    #[must_use]
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// How many entries the batch had.
    #[must_use]
    pub fn total(&self) -> usize {
        self.total
    }

    /// The entries that failed.
    #[must_use]
    pub fn entries(&self) -> &[BatchEntryFailure] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::error::ErrorMetadata;
    use aws_sdk_sqs::operation::send_message::SendMessageError;
    use aws_smithy_types::body::SdkBody;

    fn service_err(status: u16, code: &str) -> SdkError<SendMessageError, HttpResponse> {
        let meta = ErrorMetadata::builder().code(code).message("boom").build();
        let raw = HttpResponse::try_from(http_response(status)).unwrap();
        SdkError::service_error(SendMessageError::generic(meta), raw)
    }

    fn http_response(status: u16) -> ::http::Response<SdkBody> {
        ::http::Response::builder()
            .status(status)
            .body(SdkBody::empty())
            .unwrap()
    }

    #[test]
    fn a_refused_receipt_handle_is_recognised_with_or_without_the_prefix() {
        for code in [
            "ReceiptHandleIsInvalid",
            "AWS.SimpleQueueService.ReceiptHandleIsInvalid",
        ] {
            let e = Error::from_sdk("SendMessage", service_err(400, code));
            assert!(e.is_receipt_handle_invalid(), "{code}");
        }
        let e = Error::from_sdk("SendMessage", service_err(400, "InvalidParameterValue"));
        assert!(!e.is_receipt_handle_invalid());
    }

    #[test]
    fn throttling_is_retryable() {
        let e = Error::from_sdk("SendMessage", service_err(400, "ThrottlingException"));
        assert!(e.is_retryable());
        assert_eq!(e.code(), Some("ThrottlingException"));
        assert_eq!(e.message(), Some("boom"));
        let e = Error::from_sdk("SendMessage", service_err(400, "RequestThrottled"));
        assert!(e.is_retryable());
    }

    #[test]
    fn server_errors_are_retryable() {
        let e = Error::from_sdk("SendMessage", service_err(503, "Whatever"));
        assert!(e.is_retryable());
        let e = Error::from_sdk("SendMessage", service_err(400, "InternalError"));
        assert!(e.is_retryable());
    }

    #[test]
    fn client_errors_are_not_retryable() {
        let e = Error::from_sdk("SendMessage", service_err(400, "InvalidParameterValue"));
        assert!(!e.is_retryable());
        assert!(e.retry_after().is_none());
        assert!(StdError::source(&e).is_some(), "SDK error kept as source");
    }

    #[test]
    fn queue_not_found_is_its_own_variant() {
        let e = Error::from_sdk(
            "GetQueueUrl",
            service_err(400, "AWS.SimpleQueueService.NonExistentQueue"),
        )
        .for_queue("orders");
        match &e {
            Error::QueueNotFound(q) => assert_eq!(q.queue(), "orders"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(!e.is_retryable());
        assert_eq!(e.to_string(), "queue not found: orders");
    }

    #[test]
    fn timeouts_and_io_are_retryable() {
        let t: SdkError<SendMessageError, HttpResponse> = SdkError::timeout_error("slow");
        assert!(Error::from_sdk("SendMessage", t).is_retryable());
        let io: SdkError<SendMessageError, HttpResponse> =
            SdkError::dispatch_failure(aws_sdk_sqs::error::ConnectorError::io("reset".into()));
        assert!(Error::from_sdk("SendMessage", io).is_retryable());
        let user: SdkError<SendMessageError, HttpResponse> =
            SdkError::dispatch_failure(aws_sdk_sqs::error::ConnectorError::user("bad".into()));
        assert!(!Error::from_sdk("SendMessage", user).is_retryable());
        let c: SdkError<SendMessageError, HttpResponse> = SdkError::construction_failure("x");
        assert!(!Error::from_sdk("SendMessage", c).is_retryable());
    }

    #[test]
    fn retry_after_header_is_read() {
        let meta = ErrorMetadata::builder().code("ThrottlingException").build();
        let mut resp = http_response(400);
        resp.headers_mut()
            .insert("retry-after", ::http::HeaderValue::from_static("3"));
        let raw = HttpResponse::try_from(resp).unwrap();
        let e = Error::from_sdk(
            "SendMessage",
            SdkError::service_error(SendMessageError::generic(meta), raw),
        );
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn partial_batch_retryable_when_an_entry_is() {
        let f = BatchFailure::new(
            "SendMessageBatch",
            3,
            vec![BatchEntryFailure::new(
                1,
                "1",
                "InvalidMessageContents",
                None,
                true,
            )],
        );
        assert!(!Error::PartialBatch(f).is_retryable());
        let f = BatchFailure::new(
            "SendMessageBatch",
            3,
            vec![BatchEntryFailure::new(2, "2", "InternalError", None, false)],
        );
        let e = Error::PartialBatch(f);
        assert!(e.is_retryable());
        assert_eq!(e.to_string(), "SendMessageBatch: 1 of 3 entries failed");
    }

    #[test]
    fn display_does_not_repeat_source() {
        let e = Error::Codec(CodecError::decode(
            "json",
            serde_json::from_str::<u8>("x").unwrap_err(),
        ));
        assert_eq!(
            e.to_string(),
            "json codec failed to decode the message body"
        );
        assert!(StdError::source(&e).is_some());
        let p = Error::PayloadTooLarge(PayloadTooLarge::new("message", 1_048_576, 1_048_577));
        assert!(p.to_string().contains("1048577"));
        assert!(p.to_string().contains("1048576"));
    }

    #[cfg(feature = "sns")]
    #[test]
    fn sns_errors_share_the_classification() {
        use aws_sdk_sns::operation::publish::PublishError;
        let sns_err = |status: u16, code: &str| {
            let meta = ErrorMetadata::builder().code(code).message("boom").build();
            let raw = HttpResponse::try_from(http_response(status)).unwrap();
            Error::from_sns_sdk(
                "Publish",
                SdkError::service_error(PublishError::generic(meta), raw),
            )
        };
        for (status, code) in [
            (400, "Throttled"),
            (400, "KMSThrottling"),
            (500, "InternalError"),
            (503, "Whatever"),
        ] {
            let e = sns_err(status, code);
            assert!(e.is_retryable(), "{code}");
            match &e {
                Error::Sqs(s) => assert_eq!(s.service(), AwsService::Sns),
                other => panic!("{other:?}"),
            }
        }
        let e = sns_err(400, "InvalidParameter");
        assert!(!e.is_retryable());
        assert_eq!(e.to_string(), "SNS Publish failed: InvalidParameter: boom");
        let e = sns_err(404, "NotFound").for_topic("arn:aws:sns:us-east-1:0:t");
        assert!(matches!(&e, Error::TopicNotFound(t) if t.topic() == "arn:aws:sns:us-east-1:0:t"));
        assert!(!e.is_retryable());
        assert_eq!(e.code(), Some("NotFound"));
        assert!(!BatchEntryFailure::new(0, "0", "InvalidParameter", None, false).is_retryable());
    }
}
