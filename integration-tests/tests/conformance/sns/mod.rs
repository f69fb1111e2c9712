//! SNS into SQS: topics, subscriptions, the delivered envelope, raw delivery, filter
//! policies, FIFO topics and PublishBatch, each scenario on both targets through a real
//! `aws_sdk_sns::Client` beside the SQS one.

mod batch;
mod delivery;
mod fifo;
mod filters;
mod topics;

use std::time::Duration;

use aws_sdk_sns::types::MessageAttributeValue as SnsAttr;
use aws_sdk_sqs::types::QueueAttributeName as A;

use crate::support::{Ctx, fail};

impl Ctx {
    /// A fresh standard topic, deleted after the scenario.
    pub async fn topic(&self, prefix: &str) -> String {
        self.create_topic(&self.name(prefix), &[]).await
    }

    /// A fresh FIFO topic (`FifoTopic=true` plus `attrs`), deleted after the scenario.
    pub async fn fifo_topic(&self, prefix: &str, attrs: &[(&str, &str)]) -> String {
        let mut all = vec![("FifoTopic", "true")];
        all.extend_from_slice(attrs);
        self.create_topic(&format!("{}.fifo", self.name(prefix)), &all)
            .await
    }

    async fn create_topic(&self, name: &str, attrs: &[(&str, &str)]) -> String {
        let mut req = self.sns.create_topic().name(name);
        for (k, v) in attrs {
            req = req.attributes(*k, *v);
        }
        let arn = req
            .send()
            .await
            .unwrap_or_else(|e| fail("CreateTopic", &e))
            .topic_arn
            .expect("CreateTopic returns the ARN");
        self.track_topic(&arn);
        arn
    }

    /// Subscribes the queue at `url` to `topic` (raw delivery when `raw`), after
    /// giving the topic the queue policy AWS needs to deliver. Returns the
    /// subscription ARN.
    pub async fn subscribe(&self, topic: &str, url: &str, raw: bool) -> String {
        self.subscribe_with(
            topic,
            url,
            &[("RawMessageDelivery", if raw { "true" } else { "false" })],
        )
        .await
    }

    /// [`Ctx::subscribe`] with subscription attributes (`FilterPolicy`, ...).
    pub async fn subscribe_with(&self, topic: &str, url: &str, attrs: &[(&str, &str)]) -> String {
        let queue_arn = self.arn(url).await;
        self.allow_topic(url, &queue_arn, topic).await;
        let mut req = self
            .sns
            .subscribe()
            .topic_arn(topic)
            .protocol("sqs")
            .endpoint(&queue_arn)
            .return_subscription_arn(true);
        for (k, v) in attrs {
            req = req.attributes(*k, *v);
        }
        req.send()
            .await
            .unwrap_or_else(|e| fail("Subscribe", &e))
            .subscription_arn
            .expect("Subscribe returns the subscription ARN")
    }

    /// The queue policy that lets `topic` send to the queue, as AWS requires.
    async fn allow_topic(&self, url: &str, queue_arn: &str, topic: &str) {
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic}}
            }]
        });
        self.client
            .set_queue_attributes()
            .queue_url(url)
            .attributes(A::Policy, policy.to_string())
            .send()
            .await
            .unwrap_or_else(|e| fail("SetQueueAttributes", &e));
    }

    /// Publishes `message` to `topic` with string attributes; returns the message id.
    pub async fn publish(&self, topic: &str, message: &str, attrs: &[(&str, &str)]) -> String {
        let mut req = self.sns.publish().topic_arn(topic).message(message);
        for (k, v) in attrs {
            req = req.message_attributes(*k, string_attr(v));
        }
        req.send()
            .await
            .unwrap_or_else(|e| fail("Publish", &e))
            .message_id
            .expect("Publish returns a message id")
    }

    /// Waits (up to 10 s of polling; free in-process) until `n` messages arrived at
    /// `url`, then, a second later, once more for strays (so `n = 0` checks that nothing came); returns all of them. SNS delivers
    /// asynchronously on LocalStack (and on AWS).
    ///
    /// Each message is deleted once received: on a FIFO queue a group's next messages
    /// are held back while earlier ones are in flight.
    pub async fn delivered(&self, url: &str, n: usize) -> Vec<aws_sdk_sqs::types::Message> {
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while got.len() < n && tokio::time::Instant::now() < deadline {
            got.extend(self.receive_and_delete(url).await);
            if got.len() < n {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        got.extend(self.receive_and_delete(url).await);
        got
    }

    async fn receive_and_delete(&self, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let got = self.receive(url, 10).await;
        for m in &got {
            self.delete(url, m).await;
        }
        got
    }
}

/// A `String` SNS message attribute.
pub fn string_attr(value: &str) -> SnsAttr {
    SnsAttr::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("data type is set")
}

/// A delivered notification's JSON body.
pub fn envelope(m: &aws_sdk_sqs::types::Message) -> serde_json::Value {
    serde_json::from_str(m.body().unwrap_or_default()).expect("the body is a JSON notification")
}

/// The payloads (`Message`) of delivered notifications, sorted.
pub fn payloads(messages: &[aws_sdk_sqs::types::Message]) -> Vec<String> {
    let mut out: Vec<String> = messages
        .iter()
        .map(|m| {
            envelope(m)["Message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    out.sort();
    out
}
