//! [`Topic`]: a handle on one SNS topic, with its attributes cached.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use aws_sdk_sns::Client;
use aws_sdk_sns::config::http::HttpResponse;
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use tracing::Instrument;

use crate::batch::RetryConfig;
use crate::error::{Error, Result, TopicNotFound};
use crate::telemetry::{OpType, record_error, sns_span};

use super::validate::{self, DEFAULT_MAX_MESSAGE_SIZE};

/// A topic's attributes, read when the [`Topic`] was opened.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicAttributes {
    raw: BTreeMap<String, String>,
}

impl TopicAttributes {
    /// Attributes from SNS's names and values (as `GetTopicAttributes` returns them).
    #[must_use]
    pub fn from_map(raw: BTreeMap<String, String>) -> Self {
        Self { raw }
    }

    /// Whether this is a FIFO topic (`FifoTopic`).
    #[must_use]
    pub fn is_fifo(&self) -> bool {
        self.get("FifoTopic") == Some("true")
    }

    /// Whether content-based deduplication is on (`ContentBasedDeduplication`).
    #[must_use]
    pub fn content_based_deduplication(&self) -> bool {
        self.get("ContentBasedDeduplication") == Some("true")
    }

    /// The largest message the topic accepts, body and attributes (`MaximumMessageSize`,
    /// 256 KiB when absent).
    #[must_use]
    pub fn max_message_size(&self) -> usize {
        self.get("MaximumMessageSize")
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_MAX_MESSAGE_SIZE)
    }

    /// Any attribute by its SNS name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.raw.get(name).map(String::as_str)
    }

    /// All attributes by SNS name.
    #[must_use]
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.raw
    }
}

struct Inner {
    client: Client,
    arn: String,
    name: String,
    attributes: TopicAttributes,
    retry: RetryConfig,
}

/// A handle on one topic: an SNS client, the topic's ARN, and its attributes, cached
/// at open time. Cheap to clone (an `Arc`).
///
/// # Examples
///
/// ```no_run
/// # async fn demo(sns: aws_sdk_sns::Client) -> weir_sqs::Result<()> {
/// let topic = weir_sqs::sns::Topic::open(&sns, "orders-events").await?;
/// println!("{} fifo={}", topic.arn(), topic.is_fifo());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Topic {
    inner: Arc<Inner>,
}

impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topic")
            .field("arn", &self.inner.arn)
            .field("fifo", &self.is_fifo())
            .finish_non_exhaustive()
    }
}

/// The topic name in an ARN (`arn:<partition>:sns:<region>:<account>:<name>`).
fn name_from_arn(arn: &str) -> Result<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "sns", _, _, name] if !name.is_empty() => Ok(name),
        _ => Err(Error::invalid(
            "topic ARN",
            format!("{arn:?} is not arn:<partition>:sns:<region>:<account>:<name>"),
        )),
    }
}

impl Topic {
    /// Opens a topic by name or ARN (`arn:...:sns:...`): a name is looked up with
    /// `ListTopics`, then the attributes are read (`GetTopicAttributes`).
    ///
    /// # Errors
    ///
    /// [`Error::TopicNotFound`], [`Error::InvalidInput`] for a bad name or ARN, or
    /// [`Error::Sqs`] (an SNS call failure).
    pub async fn open(client: &Client, topic: &str) -> Result<Self> {
        let arn = if topic.starts_with("arn:") {
            topic.to_owned()
        } else {
            validate::check_topic_name(topic, topic.ends_with(".fifo"))?;
            find_arn(client, topic)
                .await?
                .ok_or_else(|| Error::TopicNotFound(TopicNotFound::new(topic)))?
        };
        Self::from_arn(client, &arn).await
    }

    /// Opens a topic by ARN (`GetTopicAttributes`).
    ///
    /// # Errors
    ///
    /// As [`Topic::open`].
    pub async fn from_arn(client: &Client, arn: &str) -> Result<Self> {
        let name = name_from_arn(arn)?.to_owned();
        let span = sns_span("GetTopicAttributes", OpType::Create, &name, arn);
        let out = client
            .get_topic_attributes()
            .topic_arn(arn)
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| sns_err("GetTopicAttributes", e, &span).for_topic(arn))?;
        let raw = out.attributes.unwrap_or_default().into_iter().collect();
        Ok(Self::with_attributes(
            client.clone(),
            arn,
            TopicAttributes::from_map(raw),
        ))
    }

    /// A handle from parts already known, without any call (tests, or a topic just read).
    ///
    /// The name is the ARN's last segment.
    #[must_use]
    pub fn with_attributes(client: Client, arn: &str, attributes: TopicAttributes) -> Self {
        let name = arn.rsplit(':').next().unwrap_or(arn).to_owned();
        Self {
            inner: Arc::new(Inner {
                client,
                arn: arn.to_owned(),
                name,
                attributes,
                retry: RetryConfig::default(),
            }),
        }
    }

    /// The same topic with another retry configuration for its batch calls.
    #[must_use]
    pub fn with_retry(&self, retry: RetryConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                client: self.inner.client.clone(),
                arn: self.inner.arn.clone(),
                name: self.inner.name.clone(),
                attributes: self.inner.attributes.clone(),
                retry,
            }),
        }
    }

    /// The SNS client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The topic's ARN.
    #[must_use]
    pub fn arn(&self) -> &str {
        &self.inner.arn
    }

    /// The topic's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The attributes read at open time.
    #[must_use]
    pub fn attributes(&self) -> &TopicAttributes {
        &self.inner.attributes
    }

    /// Whether this is a FIFO topic.
    #[must_use]
    pub fn is_fifo(&self) -> bool {
        self.inner.attributes.is_fifo()
    }

    /// The retry configuration of batch calls.
    #[must_use]
    pub fn retry_config(&self) -> RetryConfig {
        self.inner.retry
    }

    pub(crate) fn span(&self, op: &'static str, op_type: OpType) -> tracing::Span {
        sns_span(op, op_type, self.name(), self.arn())
    }

    pub(crate) fn sdk_err<E>(
        &self,
        op: &'static str,
        e: SdkError<E, HttpResponse>,
        span: &tracing::Span,
    ) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        sns_err(op, e, span).for_topic(self.arn())
    }
}

/// Converts an SNS SDK error and records it on `span`.
pub(crate) fn sns_err<E>(
    op: &'static str,
    e: SdkError<E, HttpResponse>,
    span: &tracing::Span,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let err = Error::from_sns_sdk(op, e);
    record_error(span, &err);
    err
}

/// The ARN of the topic named `name`, if `ListTopics` lists one.
pub(crate) async fn find_arn(client: &Client, name: &str) -> Result<Option<String>> {
    let span = sns_span("ListTopics", OpType::Create, name, "");
    let suffix = format!(":{name}");
    let mut next = None;
    loop {
        let page = client
            .list_topics()
            .set_next_token(next)
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| sns_err("ListTopics", e, &span))?;
        if let Some(arn) = page
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .find(|arn| arn.ends_with(&suffix))
        {
            return Ok(Some(arn.to_owned()));
        }
        next = page.next_token;
        if next.is_none() {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns() {
        assert_eq!(
            name_from_arn("arn:aws:sns:us-east-1:000000000000:orders").unwrap(),
            "orders"
        );
        assert!(name_from_arn("arn:aws:sqs:us-east-1:000000000000:orders").is_err());
        assert!(name_from_arn("orders").is_err());
    }

    #[test]
    fn attribute_defaults() {
        let a = TopicAttributes::default();
        assert_eq!(a.max_message_size(), 262_144);
        assert!(!a.is_fifo());
        let mut raw = BTreeMap::new();
        raw.insert("FifoTopic".to_owned(), "true".to_owned());
        raw.insert("MaximumMessageSize".to_owned(), "1048576".to_owned());
        let a = TopicAttributes::from_map(raw);
        assert!(a.is_fifo());
        assert_eq!(a.max_message_size(), 1_048_576);
    }
}
