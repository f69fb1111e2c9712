//! [`Publisher<T>`]: typed publishes to an SNS topic, one at a time or in batches.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use tracing::Instrument;

use crate::TRACEPARENT_ATTRIBUTE;
use crate::attributes::{AttributeValue, Attributes};
use crate::codec::{Encode, Json, TYPE_TAG_ATTRIBUTE};
use crate::error::{Error, Result};
use crate::producer::TraceparentProvider;
use crate::telemetry::OpType;

use super::attributes::to_sns_map;
use super::options::{PublishOptions, PublishOutput, check_publish_options};
use super::topic::Topic;
use super::validate;

/// A message encoded and checked, ready to publish.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) body: String,
    pub(crate) attributes: Attributes,
    pub(crate) subject: Option<String>,
    pub(crate) group_id: Option<String>,
    pub(crate) dedup_id: Option<String>,
    pub(crate) size: usize,
}

/// Publishes messages of type `T` to a topic, encoded by the codec `C` (JSON by
/// default): a [`Producer`](crate::Producer) for SNS.
///
/// Every message is checked before the network (size of body and attributes against
/// the topic's `MaximumMessageSize`, characters, attribute rules, subject, FIFO rules).
/// The codec's type tag goes in the `weir.type` attribute and the traceparent
/// provider's value in `traceparent`, so both reach the queues, raw delivery or not.
/// Cheap to clone.
///
/// # Examples
///
/// ```no_run
/// # async fn demo(sns: aws_sdk_sns::Client) -> weir_sqs::Result<()> {
/// use weir_sqs::sns::{Publisher, Topic};
///
/// let topic = Topic::open(&sns, "orders-events").await?;
/// let publisher: Publisher<serde_json::Value> = Publisher::new(topic);
/// let out = publisher.publish(&serde_json::json!({"id": 1})).await?;
/// println!("published {}", out.message_id());
/// let results = publisher
///     .publish_batch(&[serde_json::json!({"id": 2}), serde_json::json!({"id": 3})])
///     .await;
/// assert!(results.iter().all(Result::is_ok));
/// # Ok(()) }
/// ```
pub struct Publisher<T, C = Json> {
    pub(crate) topic: Topic,
    codec: Arc<C>,
    traceparent: Option<TraceparentProvider>,
    pub(crate) concurrency: usize,
    pub(crate) log_bodies: bool,
    _t: PhantomData<fn(&T)>,
}

impl<T, C> Clone for Publisher<T, C> {
    fn clone(&self) -> Self {
        Self {
            topic: self.topic.clone(),
            codec: Arc::clone(&self.codec),
            traceparent: self.traceparent.clone(),
            concurrency: self.concurrency,
            log_bodies: self.log_bodies,
            _t: PhantomData,
        }
    }
}

impl<T, C> fmt::Debug for Publisher<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("topic", &self.topic)
            .field("type", &std::any::type_name::<T>())
            .field("codec", &std::any::type_name::<C>())
            .field("traceparent", &self.traceparent.is_some())
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// Builds a [`Publisher`].
#[must_use]
pub struct PublisherBuilder<T, C = Json> {
    topic: Topic,
    codec: C,
    traceparent: Option<TraceparentProvider>,
    concurrency: usize,
    log_bodies: bool,
    _t: PhantomData<fn(&T)>,
}

impl<T, C> fmt::Debug for PublisherBuilder<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublisherBuilder")
            .field("topic", &self.topic)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl<T, C> PublisherBuilder<T, C> {
    /// Uses another codec.
    pub fn codec<C2>(self, codec: C2) -> PublisherBuilder<T, C2> {
        PublisherBuilder {
            topic: self.topic,
            codec,
            traceparent: self.traceparent,
            concurrency: self.concurrency,
            log_bodies: self.log_bodies,
            _t: PhantomData,
        }
    }

    /// Adds a W3C `traceparent` attribute from `provider` on every publish where it
    /// returns `Some` (and the caller did not set one), as
    /// [`ProducerBuilder::traceparent`](crate::ProducerBuilder::traceparent) does.
    pub fn traceparent(
        mut self,
        provider: impl Fn() -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.traceparent = Some(Arc::new(provider));
        self
    }

    /// How many `PublishBatch` calls run at once (default 4; FIFO topics always use 1,
    /// to keep the order within groups).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }

    /// Logs message bodies at `TRACE` level. Off by default: bodies may hold personal data.
    pub fn log_bodies(mut self, on: bool) -> Self {
        self.log_bodies = on;
        self
    }

    /// Builds the publisher.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the concurrency is 0.
    pub fn build(self) -> Result<Publisher<T, C>> {
        if self.concurrency == 0 {
            return Err(Error::invalid("concurrency", "must be at least 1"));
        }
        Ok(Publisher {
            topic: self.topic,
            codec: Arc::new(self.codec),
            traceparent: self.traceparent,
            concurrency: self.concurrency,
            log_bodies: self.log_bodies,
            _t: PhantomData,
        })
    }
}

impl<T> Publisher<T, Json> {
    /// A JSON publisher for `topic`.
    #[must_use]
    pub fn new(topic: Topic) -> Self {
        Self {
            topic,
            codec: Arc::new(Json),
            traceparent: None,
            concurrency: 4,
            log_bodies: false,
            _t: PhantomData,
        }
    }

    /// A builder, to set the codec, a traceparent provider or the concurrency.
    pub fn builder(topic: Topic) -> PublisherBuilder<T, Json> {
        PublisherBuilder {
            topic,
            codec: Json,
            traceparent: None,
            concurrency: 4,
            log_bodies: false,
            _t: PhantomData,
        }
    }
}

impl<T, C> Publisher<T, C> {
    /// The topic.
    #[must_use]
    pub fn topic(&self) -> &Topic {
        &self.topic
    }

    /// The codec.
    #[must_use]
    pub fn codec(&self) -> &C {
        &self.codec
    }

    pub(crate) fn max_size(&self) -> usize {
        self.topic.attributes().max_message_size()
    }
}

impl<T, C: Encode<T>> Publisher<T, C> {
    /// Encodes and checks one message, without publishing it.
    pub(crate) fn prepare(&self, value: &T, options: PublishOptions) -> Result<Prepared> {
        let attrs = self.topic.attributes();
        check_publish_options(
            &options,
            self.topic.is_fifo(),
            attrs.content_based_deduplication(),
        )?;
        let body = self.codec.encode(value).map_err(Error::Codec)?;
        let mut attributes = options.attributes;
        if let Some(tag) = self.codec.type_tag(value) {
            attributes
                .entry(TYPE_TAG_ATTRIBUTE.to_owned())
                .or_insert_with(|| AttributeValue::string(tag));
        }
        if let Some(provider) = &self.traceparent
            && !attributes.contains_key(TRACEPARENT_ATTRIBUTE)
            && let Some(tp) = provider()
        {
            attributes.insert(TRACEPARENT_ATTRIBUTE.to_owned(), AttributeValue::string(tp));
        }
        let size = validate::check_message(&body, &attributes, self.max_size())?;
        Ok(Prepared {
            body,
            attributes,
            subject: options.subject,
            group_id: options.group_id,
            dedup_id: options.dedup_id,
            size,
        })
    }

    /// Publishes one message (`Publish`).
    ///
    /// # Errors
    ///
    /// Before any call: [`Error::Codec`], [`Error::PayloadTooLarge`] or
    /// [`Error::InvalidInput`] (e.g. FIFO options missing). Then [`Error::Sqs`] (an
    /// SNS failure, [`AwsService::Sns`](crate::error::AwsService::Sns)) or
    /// [`Error::TopicNotFound`].
    pub async fn publish(&self, value: &T) -> Result<PublishOutput> {
        self.publish_with(value, PublishOptions::default()).await
    }

    /// Publishes one message with options.
    ///
    /// # Errors
    ///
    /// As [`publish`](Self::publish).
    pub async fn publish_with(&self, value: &T, options: PublishOptions) -> Result<PublishOutput> {
        let p = self.prepare(value, options)?;
        self.publish_prepared(p).await
    }

    async fn publish_prepared(&self, p: Prepared) -> Result<PublishOutput> {
        let span = self.topic.span("Publish", OpType::Send);
        if self.log_bodies {
            tracing::trace!(parent: &span, body = %p.body, "publishing message");
        }
        let out = self
            .topic
            .client()
            .publish()
            .topic_arn(self.topic.arn())
            .message(p.body)
            .set_subject(p.subject)
            .set_message_group_id(p.group_id)
            .set_message_deduplication_id(p.dedup_id)
            .set_message_attributes(to_sns_map(&p.attributes)?)
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| self.topic.sdk_err("Publish", e, &span))?;
        let message_id = out.message_id.unwrap_or_default();
        span.record("messaging.message.id", message_id.as_str());
        Ok(PublishOutput::new(message_id, out.sequence_number))
    }

    /// Publishes messages with `PublishBatch`: split by 10 entries and by the topic's
    /// maximum message size (total per call), calls run concurrently (bounded), failed
    /// entries retried when retryable. One result per message, in order.
    ///
    /// On FIFO topics use [`publish_batch_with`](Self::publish_batch_with) to give
    /// group ids.
    pub async fn publish_batch<'a, I>(&self, values: I) -> Vec<Result<PublishOutput>>
    where
        I: IntoIterator<Item = &'a T>,
        T: 'a,
    {
        self.publish_batch_with(values.into_iter().map(|v| (v, PublishOptions::default())))
            .await
    }

    /// Publishes messages with their own options, as
    /// [`publish_batch`](Self::publish_batch) does.
    ///
    /// Every message is checked first; a message that fails the checks gets its error
    /// and is not published, the others are. On FIFO topics calls run one at a time, in
    /// order; an entry that SNS fails retryably is published again after the rest of
    /// its call, so within a group it may land after messages that followed it.
    pub async fn publish_batch_with<'a, I>(&self, values: I) -> Vec<Result<PublishOutput>>
    where
        I: IntoIterator<Item = (&'a T, PublishOptions)>,
        T: 'a,
    {
        let mut results: Vec<Option<Result<PublishOutput>>> = Vec::new();
        let mut ready = Vec::new();
        let mut slots = Vec::new();
        for (i, (v, o)) in values.into_iter().enumerate() {
            match self.prepare(v, o) {
                Ok(p) => {
                    ready.push(p);
                    slots.push(i);
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        let published = self.publish_prepared_batch(ready).await;
        for (slot, r) in slots.into_iter().zip(published) {
            results[slot] = Some(r);
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::invalid("batch", "entry was not published"))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::TaggedJson;
    use crate::sns::TopicAttributes;
    use std::collections::BTreeMap;

    fn topic(fifo: bool) -> Topic {
        let sns = aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::Config::builder()
                .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
                .build(),
        );
        let mut raw = BTreeMap::new();
        if fifo {
            raw.insert("FifoTopic".to_owned(), "true".to_owned());
        }
        Topic::with_attributes(
            sns,
            "arn:aws:sns:us-east-1:000000000000:t",
            TopicAttributes::from_map(raw),
        )
    }

    #[derive(serde::Serialize)]
    enum Event {
        Placed { id: u32 },
    }

    #[test]
    fn prepare_adds_the_type_tag_and_the_traceparent() {
        let p: Publisher<Event, TaggedJson> = Publisher::builder(topic(false))
            .codec(TaggedJson)
            .traceparent(|| Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()))
            .build()
            .unwrap();
        let prepared = p
            .prepare(&Event::Placed { id: 7 }, PublishOptions::default())
            .unwrap();
        assert_eq!(prepared.body, r#"{"id":7}"#);
        assert_eq!(prepared.attributes["weir.type"].as_str(), Some("Placed"));
        assert!(prepared.attributes.contains_key("traceparent"));
    }

    #[test]
    fn prepare_checks_fifo_and_size() {
        let p: Publisher<String> = Publisher::new(topic(true));
        let e = p
            .prepare(&"x".to_owned(), PublishOptions::default())
            .unwrap_err();
        assert!(e.to_string().contains("group id"), "{e}");
        let p: Publisher<String> = Publisher::new(topic(false));
        let big = "x".repeat(262_144);
        let e = p.prepare(&big, PublishOptions::default()).unwrap_err();
        assert!(matches!(e, Error::PayloadTooLarge(_)), "{e}");
    }
}
