//! The in-process SNS through a real `aws_sdk_sns::Client`, delivering into queues read
//! by an `aws_sdk_sqs::Client` of the same `LocalSqs`.

// The fixture's helpers are test code too: a failed call should fail the test.
#![allow(clippy::unwrap_used)]

use aws_sdk_sns::primitives::Blob;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde_json::Value;
use weir_local::LocalSqs;

struct Fixture {
    local: LocalSqs,
    sqs: aws_sdk_sqs::Client,
    sns: aws_sdk_sns::Client,
}

impl Fixture {
    fn new() -> Self {
        let local = LocalSqs::new();
        Self {
            sqs: local.client(),
            sns: local.sns_client(),
            local,
        }
    }

    /// Creates a queue; returns its URL and ARN.
    async fn queue(&self, name: &str) -> (String, String) {
        let mut req = self.sqs.create_queue().queue_name(name);
        if name.ends_with(".fifo") {
            req = req.attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true");
        }
        let url = req.send().await.unwrap().queue_url.unwrap();
        let arn = format!(
            "arn:aws:sqs:{}:{}:{name}",
            self.local.region(),
            self.local.account_id()
        );
        (url, arn)
    }

    async fn topic(&self, name: &str) -> String {
        let mut req = self.sns.create_topic().name(name);
        if name.ends_with(".fifo") {
            req = req.attributes("FifoTopic", "true");
        }
        req.send().await.unwrap().topic_arn.unwrap()
    }

    async fn subscribe(&self, topic: &str, queue_arn: &str, attrs: &[(&str, &str)]) -> String {
        let mut req = self
            .sns
            .subscribe()
            .topic_arn(topic)
            .protocol("sqs")
            .endpoint(queue_arn);
        for (k, v) in attrs {
            req = req.attributes(*k, *v);
        }
        req.send().await.unwrap().subscription_arn.unwrap()
    }

    async fn receive(&self, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        self.sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default()
    }

    async fn bodies(&self, url: &str) -> Vec<String> {
        self.receive(url)
            .await
            .into_iter()
            .map(|m| m.body.unwrap_or_default())
            .collect()
    }
}

fn string_attr(v: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(v)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_publish_reaches_the_queue_in_aws_envelope() {
    let f = Fixture::new();
    let (url, queue_arn) = f.queue("orders").await;
    let topic = f.topic("events").await;
    assert_eq!(topic, "arn:aws:sns:us-east-1:000000000000:events");
    let sub = f.subscribe(&topic, &queue_arn, &[]).await;
    assert!(sub.starts_with(&format!("{topic}:")), "{sub}");
    let out = f
        .sns
        .publish()
        .topic_arn(&topic)
        .message("hello")
        .subject("greeting")
        .message_attributes("kind", string_attr("order"))
        .message_attributes(
            "blob",
            MessageAttributeValue::builder()
                .data_type("Binary")
                .binary_value(Blob::new(b"\x00\x01".to_vec()))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let id = out.message_id.unwrap();
    assert!(out.sequence_number.is_none());
    let got = f.receive(&url).await;
    assert_eq!(got.len(), 1);
    let env: Value = serde_json::from_str(got[0].body().unwrap()).unwrap();
    let mut keys: Vec<&str> = env
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "Message",
            "MessageAttributes",
            "MessageId",
            "Signature",
            "SignatureVersion",
            "SigningCertURL",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
            "UnsubscribeURL"
        ]
    );
    assert_eq!(env["Type"], "Notification");
    assert_eq!(env["MessageId"], id.as_str());
    assert_eq!(env["TopicArn"], topic.as_str());
    assert_eq!(env["Subject"], "greeting");
    assert_eq!(env["Message"], "hello");
    assert_eq!(env["SignatureVersion"], "1");
    let ts = env["Timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), "2024-05-02T00:54:06.655Z".len(), "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'.');
    let sig = env["Signature"].as_str().unwrap();
    assert!(aws_smithy_types::base64::decode(sig).is_ok(), "{sig}");
    assert!(
        env["UnsubscribeURL"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/?Action=Unsubscribe&SubscriptionArn={sub}"))
    );
    assert!(env["SigningCertURL"].as_str().unwrap().ends_with(".pem"));
    assert_eq!(
        env["MessageAttributes"]["kind"],
        serde_json::json!({"Type": "String", "Value": "order"})
    );
    assert_eq!(
        env["MessageAttributes"]["blob"],
        serde_json::json!({"Type": "Binary", "Value": "AAE="})
    );
    // The SQS message itself carries no attributes: they are in the envelope.
    assert!(got[0].message_attributes().is_none_or(|m| m.is_empty()));
}

#[tokio::test(start_paused = true)]
async fn raw_delivery_carries_attributes_as_sqs_attributes() {
    let f = Fixture::new();
    let (url, queue_arn) = f.queue("raw").await;
    let topic = f.topic("events").await;
    f.subscribe(&topic, &queue_arn, &[("RawMessageDelivery", "true")])
        .await;
    f.sns
        .publish()
        .topic_arn(&topic)
        .message(r#"{"id":1}"#)
        .message_attributes("kind", string_attr("order"))
        .message_attributes(
            "n",
            MessageAttributeValue::builder()
                .data_type("Number")
                .string_value("42")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let got = f.receive(&url).await;
    assert_eq!(got[0].body(), Some(r#"{"id":1}"#));
    let attrs = got[0].message_attributes().unwrap();
    assert_eq!(attrs["kind"].string_value(), Some("order"));
    assert_eq!(attrs["kind"].data_type(), "String");
    assert_eq!(attrs["n"].data_type(), "Number");
    assert_eq!(attrs["n"].string_value(), Some("42"));
}

#[tokio::test(start_paused = true)]
async fn fifo_topics_deliver_in_order_and_deduplicate() {
    let f = Fixture::new();
    let (url, queue_arn) = f.queue("orders.fifo").await;
    let topic = f.topic("events.fifo").await;
    f.subscribe(&topic, &queue_arn, &[("RawMessageDelivery", "true")])
        .await;
    let mut seqs = Vec::new();
    for (i, dedup) in ["a", "b", "a", "c"].iter().enumerate() {
        let out = f
            .sns
            .publish()
            .topic_arn(&topic)
            .message(format!("m{i}"))
            .message_group_id("g")
            .message_deduplication_id(*dedup)
            .send()
            .await
            .unwrap();
        seqs.push(out.sequence_number.unwrap());
    }
    // The duplicate gets the first publish's sequence number back.
    assert_eq!(seqs[2], seqs[0]);
    assert!(seqs[0] < seqs[1] && seqs[1] < seqs[3], "{seqs:?}");
    assert_eq!(f.bodies(&url).await, ["m0", "m1", "m3"]);
}
