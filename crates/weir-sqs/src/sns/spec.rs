//! [`TopicSpec`]: declare a topic and the queues subscribed to it, create what is
//! missing idempotently, and report drift where what exists differs.

use std::collections::BTreeMap;

use tracing::Instrument;

use crate::error::{Error, Result};
use crate::queue::QueueAttributes;
use crate::spec::{AttributeDrift, QueueSpec};
use crate::telemetry::{OpType, sns_span};

use super::subscribe::Subscription;
use super::topic::{Topic, find_arn, sns_err};
use super::validate;

/// Where a filter policy looks (`FilterPolicyScope`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FilterScope {
    /// The message attributes (SNS's default).
    #[default]
    MessageAttributes,
    /// The message body, which must then be JSON.
    MessageBody,
}

impl FilterScope {
    /// SNS's name for the scope.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MessageAttributes => "MessageAttributes",
            Self::MessageBody => "MessageBody",
        }
    }
}

/// A queue subscribed to a topic: raw delivery or not, and an optional filter policy.
///
/// # Examples
///
/// ```
/// use weir_sqs::sns::{FilterScope, SubscriptionSpec};
///
/// let spec = SubscriptionSpec::queue("billing")
///     .raw(true)
///     .filter_policy(r#"{"kind":["placed"]}"#)
///     .filter_scope(FilterScope::MessageAttributes);
/// spec.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct SubscriptionSpec {
    queue: String,
    raw: bool,
    filter_policy: Option<String>,
    filter_scope: FilterScope,
}

impl SubscriptionSpec {
    /// The queue, by name, URL or ARN (it must exist).
    pub fn queue(queue: impl Into<String>) -> Self {
        Self {
            queue: queue.into(),
            raw: false,
            filter_policy: None,
            filter_scope: FilterScope::default(),
        }
    }

    /// Raw message delivery: the queue gets the published body itself, with the
    /// message attributes as SQS attributes (at most 10), instead of a JSON
    /// notification. Off by default.
    pub fn raw(mut self, on: bool) -> Self {
        self.raw = on;
        self
    }

    /// A filter policy (JSON): only messages it accepts reach the queue.
    pub fn filter_policy(mut self, json: impl Into<String>) -> Self {
        self.filter_policy = Some(json.into());
        self
    }

    /// What the filter policy looks at (message attributes by default).
    pub fn filter_scope(mut self, scope: FilterScope) -> Self {
        self.filter_scope = scope;
        self
    }

    /// The queue as given.
    #[must_use]
    pub fn queue_ref(&self) -> &str {
        &self.queue
    }

    /// Checks the filter policy against SNS's limits, without any call.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the limit broken.
    pub fn validate(&self) -> Result<()> {
        if self.queue.is_empty() {
            return Err(Error::invalid("queue", "no queue given"));
        }
        if let Some(p) = &self.filter_policy {
            validate::check_filter_policy(p, self.filter_scope == FilterScope::MessageBody)?;
        }
        Ok(())
    }

    /// The subscription attributes this spec sets.
    pub(crate) fn attributes(&self) -> BTreeMap<&'static str, String> {
        let mut a = BTreeMap::new();
        a.insert("RawMessageDelivery", self.raw.to_string());
        if let Some(p) = &self.filter_policy {
            a.insert("FilterPolicy", p.clone());
            a.insert("FilterPolicyScope", self.filter_scope.as_str().to_owned());
        }
        a
    }
}

/// The topic a [`TopicSpec`] ensured, its subscriptions, and any drift found.
#[derive(Debug, Clone)]
pub struct TopicTopology {
    /// The topic.
    pub topic: Topic,
    /// One per [`SubscriptionSpec`], in order.
    pub subscriptions: Vec<Subscription>,
    /// Attributes of the topic and subscriptions that already existed and differ from
    /// the spec (weir reports them and never overwrites them); the subscriptions' drift
    /// is also on each [`Subscription`].
    pub drift: Vec<AttributeDrift>,
}

/// A topic declaration: standard or FIFO, its attributes, and the queues subscribed
/// to it. [`ensure`](Self::ensure) creates what is missing and reports drift.
///
/// # Examples
///
/// ```no_run
/// # async fn demo(sns: aws_sdk_sns::Client, sqs: aws_sdk_sqs::Client) -> weir_sqs::Result<()> {
/// use weir_sqs::sns::{SubscriptionSpec, TopicSpec};
///
/// let topology = TopicSpec::fifo("orders.fifo")
///     .content_based_deduplication(true)
///     .subscribe(SubscriptionSpec::queue("billing.fifo").raw(true))
///     .ensure(&sns, &sqs)
///     .await?;
/// assert!(topology.topic.is_fifo());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct TopicSpec {
    name: String,
    fifo: bool,
    content_based_dedup: Option<bool>,
    max_message_size: Option<usize>,
    subscriptions: Vec<SubscriptionSpec>,
}

impl TopicSpec {
    /// A standard topic.
    pub fn standard(name: impl Into<String>) -> Self {
        Self::new(name.into(), false)
    }

    /// A FIFO topic (the name must end in `.fifo`).
    pub fn fifo(name: impl Into<String>) -> Self {
        Self::new(name.into(), true)
    }

    fn new(name: String, fifo: bool) -> Self {
        Self {
            name,
            fifo,
            content_based_dedup: None,
            max_message_size: None,
            subscriptions: Vec::new(),
        }
    }

    /// Content-based deduplication (FIFO only).
    pub fn content_based_deduplication(mut self, on: bool) -> Self {
        self.content_based_dedup = Some(on);
        self
    }

    /// The topic's maximum message size in bytes (1,024–1,048,576; SNS's default is
    /// 262,144).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = Some(bytes);
        self
    }

    /// Subscribes a queue.
    pub fn subscribe(mut self, subscription: SubscriptionSpec) -> Self {
        self.subscriptions.push(subscription);
        self
    }

    /// The topic name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks the spec against SNS's limits, without any call.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the limit broken.
    pub fn validate(&self) -> Result<()> {
        validate::check_topic_name(&self.name, self.fifo)?;
        if self.content_based_dedup == Some(true) && !self.fifo {
            return Err(Error::invalid(
                "content-based deduplication",
                "only FIFO topics take ContentBasedDeduplication",
            ));
        }
        if let Some(s) = self.max_message_size {
            validate::check_max_message_size(s)?;
        }
        self.subscriptions
            .iter()
            .try_for_each(SubscriptionSpec::validate)
    }

    /// The attributes this spec sets on the topic.
    fn attributes(&self) -> BTreeMap<&'static str, String> {
        let mut a = BTreeMap::new();
        if self.fifo {
            a.insert("FifoTopic", "true".to_owned());
        }
        if let Some(v) = self.content_based_dedup {
            a.insert("ContentBasedDeduplication", v.to_string());
        }
        if let Some(v) = self.max_message_size {
            a.insert("MaximumMessageSize", v.to_string());
        }
        a
    }

    /// Creates the topic when missing, subscribes each queue (with the queue policy
    /// that lets the topic send to it, merged into the queue's own) when not yet
    /// subscribed, and reports how what existed differs from the spec. Safe to run
    /// again and again.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] from [`validate`](Self::validate) before any call, or
    /// when a FIFO queue is to subscribe to a standard topic; [`Error::QueueNotFound`];
    /// then [`Error::Sqs`] (SQS or SNS failures).
    pub async fn ensure(
        &self,
        sns: &aws_sdk_sns::Client,
        sqs: &aws_sdk_sqs::Client,
    ) -> Result<TopicTopology> {
        self.validate()?;
        let (topic, mut drift) = self.ensure_topic(sns).await?;
        let mut subscriptions = Vec::with_capacity(self.subscriptions.len());
        for spec in &self.subscriptions {
            let s = topic.subscribe(sqs, spec).await?;
            drift.extend(s.drift.iter().cloned());
            subscriptions.push(s);
        }
        for d in &drift {
            tracing::warn!(resource = %d.queue, attribute = %d.attribute, expected = %d.expected, actual = ?d.actual, "topic attribute drift");
        }
        Ok(TopicTopology {
            topic,
            subscriptions,
            drift,
        })
    }

    /// Opens the topic if `ListTopics` has it (reporting drift), or creates it.
    async fn ensure_topic(
        &self,
        sns: &aws_sdk_sns::Client,
    ) -> Result<(Topic, Vec<AttributeDrift>)> {
        let want = self.attributes();
        if let Some(arn) = find_arn(sns, &self.name).await? {
            let topic = Topic::from_arn(sns, &arn).await?;
            let actual = QueueAttributes::from_map(topic.attributes().as_map().clone());
            return Ok((topic, QueueSpec::diff(&self.name, &want, &actual)));
        }
        let span = sns_span("CreateTopic", OpType::Create, &self.name, "");
        let out = sns
            .create_topic()
            .name(&self.name)
            .set_attributes(Some(
                want.iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect(),
            ))
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| sns_err("CreateTopic", e, &span).for_topic(&self.name))?;
        let arn = out.topic_arn.unwrap_or_default();
        Ok((Topic::from_arn(sns, &arn).await?, Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_limits() {
        TopicSpec::standard("t").validate().unwrap();
        assert!(TopicSpec::standard("t.fifo").validate().is_err());
        assert!(TopicSpec::fifo("t").validate().is_err());
        assert!(
            TopicSpec::standard("t")
                .content_based_deduplication(true)
                .validate()
                .is_err()
        );
        let e = TopicSpec::standard("t")
            .max_message_size(1_048_577)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("1024-1048576"), "{e}");
        let bad = SubscriptionSpec::queue("q").filter_policy(r#"{"a":{"b":["c"]}}"#);
        assert!(
            TopicSpec::standard("t")
                .subscribe(bad.clone())
                .validate()
                .is_err()
        );
        TopicSpec::standard("t")
            .subscribe(bad.filter_scope(FilterScope::MessageBody))
            .validate()
            .unwrap();
    }

    #[test]
    fn subscription_attributes() {
        let a = SubscriptionSpec::queue("q").attributes();
        assert_eq!(a.len(), 1);
        assert_eq!(a["RawMessageDelivery"], "false");
        let a = SubscriptionSpec::queue("q")
            .raw(true)
            .filter_policy("{}")
            .filter_scope(FilterScope::MessageBody)
            .attributes();
        assert_eq!(a["RawMessageDelivery"], "true");
        assert_eq!(a["FilterPolicyScope"], "MessageBody");
    }
}
