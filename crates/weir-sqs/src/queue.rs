//! [`Queue`]: a handle on one SQS queue, with its attributes cached.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use tracing::Instrument;

use crate::batch::RetryConfig;
use crate::error::{Error, QueueNotFound, Result};
use crate::telemetry::{OpType, record_error, sqs_span};
use crate::validate::{self, DEFAULT_MAX_MESSAGE_SIZE};

/// A queue's attributes, read when the [`Queue`] was opened.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueAttributes {
    raw: BTreeMap<String, String>,
}

impl QueueAttributes {
    /// Attributes from SQS's names and values (as `GetQueueAttributes` returns them).
    #[must_use]
    pub fn from_map(raw: BTreeMap<String, String>) -> Self {
        Self { raw }
    }

    fn secs(&self, name: &str) -> Option<Duration> {
        self.raw
            .get(name)
            .and_then(|v| v.parse().ok())
            .map(Duration::from_secs)
    }

    fn flag(&self, name: &str) -> bool {
        self.raw.get(name).is_some_and(|v| v == "true")
    }

    /// Whether this is a FIFO queue (`FifoQueue`).
    #[must_use]
    pub fn is_fifo(&self) -> bool {
        self.flag("FifoQueue")
    }

    /// Whether content-based deduplication is on (`ContentBasedDeduplication`).
    #[must_use]
    pub fn content_based_deduplication(&self) -> bool {
        self.flag("ContentBasedDeduplication")
    }

    /// The default visibility timeout (`VisibilityTimeout`, 30 s if absent).
    #[must_use]
    pub fn visibility_timeout(&self) -> Duration {
        self.secs("VisibilityTimeout")
            .unwrap_or(Duration::from_secs(30))
    }

    /// The largest message the queue accepts, in bytes (`MaximumMessageSize`, 1 MiB if absent).
    #[must_use]
    pub fn max_message_size(&self) -> usize {
        self.raw
            .get("MaximumMessageSize")
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_MAX_MESSAGE_SIZE)
    }

    /// The queue's delivery delay (`DelaySeconds`).
    #[must_use]
    pub fn delay(&self) -> Duration {
        self.secs("DelaySeconds").unwrap_or_default()
    }

    /// How long messages are kept (`MessageRetentionPeriod`).
    #[must_use]
    pub fn retention(&self) -> Option<Duration> {
        self.secs("MessageRetentionPeriod")
    }

    /// The default long-poll wait (`ReceiveMessageWaitTimeSeconds`).
    #[must_use]
    pub fn receive_wait(&self) -> Duration {
        self.secs("ReceiveMessageWaitTimeSeconds")
            .unwrap_or_default()
    }

    /// The queue's ARN (`QueueArn`).
    #[must_use]
    pub fn arn(&self) -> Option<&str> {
        self.get("QueueArn")
    }

    /// The redrive policy JSON (`RedrivePolicy`), if the queue has a DLQ.
    #[must_use]
    pub fn redrive_policy(&self) -> Option<&str> {
        self.get("RedrivePolicy")
    }

    /// Any attribute by its SQS name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.raw.get(name).map(String::as_str)
    }

    /// All attributes by SQS name.
    #[must_use]
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.raw
    }
}

/// Approximate message counts of a queue, for back pressure and autoscaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDepth {
    /// Messages available for retrieval (`ApproximateNumberOfMessages`).
    pub visible: u64,
    /// Messages in flight (`ApproximateNumberOfMessagesNotVisible`).
    pub in_flight: u64,
    /// Messages not yet visible because of a delay (`ApproximateNumberOfMessagesDelayed`).
    pub delayed: u64,
}

struct Inner {
    client: Client,
    url: String,
    name: String,
    attributes: QueueAttributes,
    retry: RetryConfig,
}

/// A handle on one queue: a client, its URL, and its attributes, cached at open time.
///
/// Cheap to clone (an `Arc`). Open it by name, URL or ARN ([`Queue::open`]); call
/// [`Queue::refresh`] to read the attributes again.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> weir_sqs::Result<()> {
/// # let client = weir_local::LocalSqs::new().client();
/// # weir_sqs::QueueSpec::standard("orders").ensure(&client).await?;
/// let queue = weir_sqs::Queue::open(&client, "orders").await?;
/// assert_eq!(queue.name(), "orders");
/// assert!(!queue.is_fifo());
/// println!("max size {}", queue.attributes().max_message_size());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

impl fmt::Debug for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("url", &self.inner.url)
            .field("fifo", &self.is_fifo())
            .finish_non_exhaustive()
    }
}

/// The last path segment of a queue URL: its name.
fn name_from_url(url: &str) -> &str {
    url.trim_end_matches('/').rsplit('/').next().unwrap_or(url)
}

impl Queue {
    /// Opens a queue by name, URL (`http://` or `https://`) or ARN (`arn:...:sqs:...`).
    ///
    /// # Errors
    ///
    /// [`Error::QueueNotFound`] if it does not exist, [`Error::InvalidInput`] for a bad
    /// name or ARN, or [`Error::Sqs`].
    pub async fn open(client: &Client, queue: &str) -> Result<Self> {
        if queue.starts_with("arn:") {
            Self::from_arn(client, queue).await
        } else if queue.starts_with("http://") || queue.starts_with("https://") {
            Self::from_url(client, queue).await
        } else {
            Self::from_name(client, queue).await
        }
    }

    /// Opens a queue by name (`GetQueueUrl`, then `GetQueueAttributes`).
    ///
    /// # Errors
    ///
    /// As [`Queue::open`].
    pub async fn from_name(client: &Client, name: &str) -> Result<Self> {
        validate::check_queue_name(name, name.ends_with(".fifo"))?;
        let url = Self::lookup_url(client, name, None).await?;
        Self::from_url(client, &url).await
    }

    /// Opens a queue by ARN (`arn:aws:sqs:<region>:<account>:<name>`).
    ///
    /// # Errors
    ///
    /// As [`Queue::open`].
    pub async fn from_arn(client: &Client, arn: &str) -> Result<Self> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, _, service, _, account, name] = parts[..] else {
            return Err(Error::invalid(
                "queue ARN",
                format!("{arn:?} is not arn:<partition>:sqs:<region>:<account>:<name>"),
            ));
        };
        if service != "sqs" {
            return Err(Error::invalid(
                "queue ARN",
                format!("{arn:?} is not an SQS ARN"),
            ));
        }
        validate::check_queue_name(name, name.ends_with(".fifo"))?;
        let owner = (!account.is_empty()).then_some(account);
        let url = Self::lookup_url(client, name, owner)
            .await
            .map_err(|e| e.for_queue(arn))?;
        Self::from_url(client, &url).await
    }

    async fn lookup_url(client: &Client, name: &str, owner: Option<&str>) -> Result<String> {
        let span = sqs_span("GetQueueUrl", OpType::Create, name);
        let out = client
            .get_queue_url()
            .queue_name(name)
            .set_queue_owner_aws_account_id(owner.map(str::to_owned))
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| Error::from_sdk("GetQueueUrl", e).for_queue(name));
        let out = out.inspect_err(|e| record_error(&span, e))?;
        out.queue_url
            .ok_or_else(|| Error::QueueNotFound(QueueNotFound::new(name)))
    }

    /// Opens a queue by URL, reading its attributes.
    ///
    /// # Errors
    ///
    /// As [`Queue::open`].
    pub async fn from_url(client: &Client, url: &str) -> Result<Self> {
        let attributes = read_attributes(client, url).await?;
        Ok(Self::with_attributes(client.clone(), url, attributes))
    }

    /// A handle from parts already known, without any call. The attributes are trusted
    /// as given (use [`QueueAttributes::default`] for SQS's defaults).
    #[must_use]
    pub fn with_attributes(client: Client, url: &str, attributes: QueueAttributes) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                url: url.to_owned(),
                name: name_from_url(url).to_owned(),
                attributes,
                retry: RetryConfig::default(),
            }),
        }
    }

    /// The same queue with another retry configuration for its batch calls.
    #[must_use]
    pub fn with_retry(&self, retry: RetryConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                client: self.inner.client.clone(),
                url: self.inner.url.clone(),
                name: self.inner.name.clone(),
                attributes: self.inner.attributes.clone(),
                retry,
            }),
        }
    }

    /// Reads the attributes again, returning a fresh handle.
    ///
    /// # Errors
    ///
    /// As [`Queue::open`].
    pub async fn refresh(&self) -> Result<Self> {
        let attributes = read_attributes(&self.inner.client, &self.inner.url).await?;
        let q = Self::with_attributes(self.inner.client.clone(), &self.inner.url, attributes);
        Ok(q.with_retry(self.inner.retry))
    }

    /// The SDK client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The queue URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The queue name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The queue ARN, if known.
    #[must_use]
    pub fn arn(&self) -> Option<&str> {
        self.inner.attributes.arn()
    }

    /// The cached attributes.
    #[must_use]
    pub fn attributes(&self) -> &QueueAttributes {
        &self.inner.attributes
    }

    /// Whether this is a FIFO queue.
    #[must_use]
    pub fn is_fifo(&self) -> bool {
        self.inner.attributes.is_fifo() || self.inner.name.ends_with(".fifo")
    }

    /// The retry configuration of batch calls.
    #[must_use]
    pub fn retry_config(&self) -> RetryConfig {
        self.inner.retry
    }

    pub(crate) fn span(&self, op: &'static str, op_type: OpType) -> tracing::Span {
        sqs_span(op, op_type, &self.inner.name)
    }

    /// Approximate counts of visible, in-flight and delayed messages.
    ///
    /// # Errors
    ///
    /// [`Error::Sqs`] or [`Error::QueueNotFound`].
    pub async fn depth(&self) -> Result<QueueDepth> {
        let a = read_attributes(&self.inner.client, &self.inner.url).await?;
        let n = |k: &str| a.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(QueueDepth {
            visible: n("ApproximateNumberOfMessages"),
            in_flight: n("ApproximateNumberOfMessagesNotVisible"),
            delayed: n("ApproximateNumberOfMessagesDelayed"),
        })
    }

    /// Deletes every message in the queue (`PurgeQueue`; SQS allows one per 60 s).
    ///
    /// # Errors
    ///
    /// [`Error::Sqs`] (e.g. `PurgeQueueInProgress`) or [`Error::QueueNotFound`].
    pub async fn purge(&self) -> Result<()> {
        let span = self.span("PurgeQueue", OpType::Settle);
        self.inner
            .client
            .purge_queue()
            .queue_url(&self.inner.url)
            .send()
            .instrument(span.clone())
            .await
            .map(|_| ())
            .map_err(|e| self.sdk_err("PurgeQueue", e, &span))
    }

    pub(crate) fn sdk_err<E>(
        &self,
        op: &'static str,
        e: aws_sdk_sqs::error::SdkError<E, aws_sdk_sqs::config::http::HttpResponse>,
        span: &tracing::Span,
    ) -> Error
    where
        E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let err = Error::from_sdk(op, e).for_queue(&self.inner.url);
        record_error(span, &err);
        err
    }
}

/// Whole seconds as SQS's `i32` (callers validate the range first).
pub(crate) fn secs_i32(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

async fn read_attributes(client: &Client, url: &str) -> Result<QueueAttributes> {
    let span = sqs_span("GetQueueAttributes", OpType::Create, name_from_url(url));
    let out = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .instrument(span.clone())
        .await
        .map_err(|e| {
            let err = Error::from_sdk("GetQueueAttributes", e).for_queue(url);
            record_error(&span, &err);
            err
        })?;
    let raw = out
        .attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.as_str().to_owned(), v))
        .collect();
    Ok(QueueAttributes::from_map(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_urls() {
        assert_eq!(
            name_from_url("http://localhost:4566/000000000000/orders"),
            "orders"
        );
        assert_eq!(
            name_from_url("https://sqs.us-east-1.amazonaws.com/1/jobs.fifo/"),
            "jobs.fifo"
        );
    }

    #[test]
    fn attribute_defaults() {
        let a = QueueAttributes::default();
        assert!(!a.is_fifo());
        assert_eq!(a.max_message_size(), 1_048_576);
        assert_eq!(a.visibility_timeout(), Duration::from_secs(30));
        let a = QueueAttributes::from_map(
            [
                ("FifoQueue", "true"),
                ("MaximumMessageSize", "1024"),
                ("VisibilityTimeout", "5"),
                ("ContentBasedDeduplication", "true"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        );
        assert!(a.is_fifo());
        assert!(a.content_based_deduplication());
        assert_eq!(a.max_message_size(), 1024);
        assert_eq!(a.visibility_timeout(), Duration::from_secs(5));
    }
}
