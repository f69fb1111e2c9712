//! Subscribing one queue to a topic, idempotently: the queue policy first (so the
//! first message is not refused), then the subscription, or drift when it exists.

use std::collections::BTreeMap;

use aws_sdk_sqs::types::QueueAttributeName;
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::queue::{Queue, QueueAttributes};
use crate::spec::{AttributeDrift, QueueSpec};
use crate::telemetry::{OpType, record_error, sqs_span};

use super::policy::merge_queue_policy;
use super::spec::{FilterScope, SubscriptionSpec};
use super::topic::Topic;

/// A queue subscribed to a topic.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Subscription {
    /// The subscription's ARN.
    pub arn: String,
    /// The queue.
    pub queue: Queue,
    /// Whether this call created the subscription.
    pub created: bool,
    /// Whether this call added the topic's statement to the queue's policy.
    pub policy_updated: bool,
    /// Attributes of an existing subscription that differ from the spec.
    pub drift: Vec<AttributeDrift>,
}

impl Topic {
    /// Subscribes the queue of `spec` to this topic unless it already is: merges the
    /// statement that lets the topic send into the queue's policy, then subscribes
    /// with the spec's attributes, or reports how the existing subscription differs.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad filter policy (before any call) or a FIFO
    /// queue on a standard topic; [`Error::QueueNotFound`]; [`Error::Sqs`].
    pub async fn subscribe(
        &self,
        sqs: &aws_sdk_sqs::Client,
        spec: &SubscriptionSpec,
    ) -> Result<Subscription> {
        spec.validate()?;
        let queue = Queue::open(sqs, spec.queue_ref()).await?;
        if queue.is_fifo() && !self.is_fifo() {
            return Err(Error::invalid(
                "subscription",
                format!(
                    "{} is a FIFO queue and {} a standard topic: FIFO queues take FIFO topics only",
                    queue.name(),
                    self.name()
                ),
            ));
        }
        let Some(queue_arn) = queue.arn().map(str::to_owned) else {
            return Err(Error::invalid(
                "queue",
                "the queue has no QueueArn attribute",
            ));
        };
        let policy_updated = ensure_policy(&queue, &queue_arn, self.arn()).await?;
        let want = spec.attributes();
        let label = format!("{} -> {}", self.name(), queue.name());
        let (arn, created, drift) = match self.find_subscription(&queue_arn).await? {
            Some(arn) => {
                let actual = self.subscription_attributes(&arn).await?;
                (arn, false, QueueSpec::diff(&label, &want, &actual))
            }
            None => (
                self.create_subscription(&queue_arn, &want).await?,
                true,
                Vec::new(),
            ),
        };
        Ok(Subscription {
            arn,
            queue,
            created,
            policy_updated,
            drift,
        })
    }

    /// The ARN of this topic's SQS subscription of `queue_arn`, if there is one.
    async fn find_subscription(&self, queue_arn: &str) -> Result<Option<String>> {
        let span = self.span("ListSubscriptionsByTopic", OpType::Create);
        let mut next = None;
        loop {
            let page = self
                .client()
                .list_subscriptions_by_topic()
                .topic_arn(self.arn())
                .set_next_token(next)
                .send()
                .instrument(span.clone())
                .await
                .map_err(|e| self.sdk_err("ListSubscriptionsByTopic", e, &span))?;
            let found = page
                .subscriptions()
                .iter()
                .find(|s| s.protocol() == Some("sqs") && s.endpoint() == Some(queue_arn));
            if let Some(arn) = found.and_then(|s| s.subscription_arn()) {
                return Ok(Some(arn.to_owned()));
            }
            next = page.next_token;
            if next.is_none() {
                return Ok(None);
            }
        }
    }

    /// A subscription's attributes, with SNS's defaults filled in where it omits them.
    async fn subscription_attributes(&self, arn: &str) -> Result<QueueAttributes> {
        let span = self.span("GetSubscriptionAttributes", OpType::Create);
        let out = self
            .client()
            .get_subscription_attributes()
            .subscription_arn(arn)
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| self.sdk_err("GetSubscriptionAttributes", e, &span))?;
        let mut raw: BTreeMap<String, String> =
            out.attributes.unwrap_or_default().into_iter().collect();
        if raw.contains_key("FilterPolicy") {
            raw.entry("FilterPolicyScope".to_owned())
                .or_insert_with(|| FilterScope::MessageAttributes.as_str().to_owned());
        }
        Ok(QueueAttributes::from_map(raw))
    }

    async fn create_subscription(
        &self,
        queue_arn: &str,
        attrs: &BTreeMap<&'static str, String>,
    ) -> Result<String> {
        let span = self.span("Subscribe", OpType::Create);
        let out = self
            .client()
            .subscribe()
            .topic_arn(self.arn())
            .protocol("sqs")
            .endpoint(queue_arn)
            .set_attributes(Some(
                attrs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect(),
            ))
            .return_subscription_arn(true)
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| self.sdk_err("Subscribe", e, &span))?;
        Ok(out.subscription_arn.unwrap_or_default())
    }
}

/// Adds the topic's statement to the queue's policy when it lacks one; says whether it
/// did.
async fn ensure_policy(queue: &Queue, queue_arn: &str, topic_arn: &str) -> Result<bool> {
    let Some(policy) = merge_queue_policy(queue.attributes().get("Policy"), queue_arn, topic_arn)?
    else {
        return Ok(false);
    };
    let span = sqs_span("SetQueueAttributes", OpType::Create, queue.name());
    queue
        .client()
        .set_queue_attributes()
        .queue_url(queue.url())
        .attributes(QueueAttributeName::Policy, policy)
        .send()
        .instrument(span.clone())
        .await
        .map_err(|e| {
            let err = Error::from_sdk("SetQueueAttributes", e).for_queue(queue.url());
            record_error(&span, &err);
            err
        })?;
    Ok(true)
}
