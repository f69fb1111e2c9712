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

use aws_sdk_sns::error::ProvideErrorMetadata;

/// The code and message of a failed SNS call.
fn code_of<E: ProvideErrorMetadata, R: std::fmt::Debug>(
    r: Result<
        R,
        aws_sdk_sns::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
    >,
) -> (String, String) {
    // SdkError gives the service error's code and message.
    let e = r.unwrap_err();
    (
        e.code().unwrap_or_default().to_owned(),
        e.message().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(start_paused = true)]
async fn topics_are_created_listed_described_and_deleted() {
    let f = Fixture::new();
    let a = f.topic("a").await;
    // CreateTopic is idempotent.
    assert_eq!(f.topic("a").await, a);
    let b = f
        .sns
        .create_topic()
        .name("b")
        .attributes("DisplayName", "Bee")
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key("team")
                .value("x")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let listed: Vec<String> = f
        .sns
        .list_topics()
        .send()
        .await
        .unwrap()
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn.clone())
        .collect();
    assert_eq!(listed, [a.clone(), b.clone()]);
    let attrs = f
        .sns
        .get_topic_attributes()
        .topic_arn(&b)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attrs["DisplayName"], "Bee");
    assert_eq!(attrs["TopicArn"], b);
    assert_eq!(attrs["Owner"], "000000000000");
    assert_eq!(attrs["SubscriptionsConfirmed"], "0");
    let policy: Value = serde_json::from_str(&attrs["Policy"]).unwrap();
    assert_eq!(policy["Statement"][0]["Resource"], b.as_str());
    f.sns
        .set_topic_attributes()
        .topic_arn(&b)
        .attribute_name("DisplayName")
        .attribute_value("Bea")
        .send()
        .await
        .unwrap();
    let attrs = f
        .sns
        .get_topic_attributes()
        .topic_arn(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(attrs.attributes.unwrap()["DisplayName"], "Bea");
    let tags = f
        .sns
        .list_tags_for_resource()
        .resource_arn(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].key(), "team");
    f.sns
        .tag_resource()
        .resource_arn(&b)
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key("env")
                .value("dev")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    f.sns
        .untag_resource()
        .resource_arn(&b)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = f
        .sns
        .list_tags_for_resource()
        .resource_arn(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].key(), "env");
    f.sns.delete_topic().topic_arn(&a).send().await.unwrap();
    // Deleting twice is not an error.
    f.sns.delete_topic().topic_arn(&a).send().await.unwrap();
    let r = f.sns.get_topic_attributes().topic_arn(&a).send().await;
    assert_eq!(
        code_of(r),
        ("NotFound".into(), "Topic does not exist".into())
    );
}

#[tokio::test(start_paused = true)]
async fn topic_input_is_checked_as_aws_checks_it() {
    let f = Fixture::new();
    for bad in ["", "a b", "x.fifo", &"x".repeat(257)] {
        let r = f.sns.create_topic().name(bad).send().await;
        assert_eq!(
            code_of(r),
            (
                "InvalidParameter".into(),
                "Invalid parameter: Topic Name".into()
            ),
            "{bad:?}"
        );
    }
    let r = f
        .sns
        .create_topic()
        .name("q")
        .attributes("FifoTopic", "true")
        .send()
        .await;
    assert_eq!(code_of(r).1, "Invalid parameter: Topic Name");
    let t = f.topic("t").await;
    let r = f
        .sns
        .create_topic()
        .name("t")
        .attributes("DisplayName", "other")
        .send()
        .await;
    assert_eq!(
        code_of(r).1,
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
    );
    let r = f
        .sns
        .set_topic_attributes()
        .topic_arn(&t)
        .attribute_name("FifoTopic")
        .attribute_value("true")
        .send()
        .await;
    assert_eq!(code_of(r).1, "Invalid parameter: AttributeName");
    let r = f.sns.get_topic_attributes().topic_arn("nope").send().await;
    assert_eq!(
        code_of(r),
        (
            "InvalidParameter".into(),
            "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"
                .into()
        )
    );
    let r = f
        .sns
        .get_topic_attributes()
        .topic_arn("arn:aws:sns:eu-west-1:000000000000:t")
        .send()
        .await;
    assert_eq!(code_of(r).1, "Invalid parameter: TopicArn");
    let r = f
        .sns
        .publish()
        .topic_arn(format!("{t}-missing"))
        .message("m")
        .send()
        .await;
    assert_eq!(
        code_of(r),
        ("NotFound".into(), "Topic does not exist".into())
    );
}

#[tokio::test(start_paused = true)]
async fn subscriptions_are_listed_described_changed_and_removed() {
    let f = Fixture::new();
    let (_, q1) = f.queue("q1").await;
    let (_, q2) = f.queue("q2").await;
    let t = f.topic("t").await;
    let other = f.topic("other").await;
    let s1 = f.subscribe(&t, &q1, &[]).await;
    // Subscribing the same endpoint again returns the same subscription.
    assert_eq!(f.subscribe(&t, &q1, &[]).await, s1);
    let s2 = f
        .subscribe(&t, &q2, &[("RawMessageDelivery", "True")])
        .await;
    let s3 = f.subscribe(&other, &q1, &[]).await;
    let all = f.sns.list_subscriptions().send().await.unwrap();
    assert_eq!(all.subscriptions().len(), 3);
    let by_topic = f
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&t)
        .send()
        .await
        .unwrap();
    let mut arns: Vec<&str> = by_topic
        .subscriptions()
        .iter()
        .filter_map(|s| s.subscription_arn())
        .collect();
    arns.sort_unstable();
    let mut want = [s1.as_str(), s2.as_str()];
    want.sort_unstable();
    assert_eq!(arns, want);
    let member = &by_topic.subscriptions()[0];
    assert_eq!(member.protocol(), Some("sqs"));
    assert_eq!(member.topic_arn(), Some(t.as_str()));
    assert_eq!(member.owner(), Some("000000000000"));
    let attrs = f
        .sns
        .get_subscription_attributes()
        .subscription_arn(&s2)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attrs["RawMessageDelivery"], "true");
    assert_eq!(attrs["Endpoint"], q2);
    assert_eq!(attrs["Protocol"], "sqs");
    assert_eq!(attrs["PendingConfirmation"], "false");
    assert_eq!(attrs["TopicArn"], t);
    assert!(!attrs.contains_key("FilterPolicy"));
    f.sns
        .set_subscription_attributes()
        .subscription_arn(&s2)
        .attribute_name("FilterPolicy")
        .attribute_value(r#"{"kind":["a"]}"#)
        .send()
        .await
        .unwrap();
    let attrs = f
        .sns
        .get_subscription_attributes()
        .subscription_arn(&s2)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attrs["FilterPolicy"], r#"{"kind":["a"]}"#);
    assert_eq!(attrs["FilterPolicyScope"], "MessageAttributes");
    f.sns
        .unsubscribe()
        .subscription_arn(&s1)
        .send()
        .await
        .unwrap();
    f.sns
        .unsubscribe()
        .subscription_arn(&s1)
        .send()
        .await
        .unwrap();
    let r = f
        .sns
        .get_subscription_attributes()
        .subscription_arn(&s1)
        .send()
        .await;
    assert_eq!(
        code_of(r),
        ("NotFound".into(), "Subscription does not exist".into())
    );
    // Deleting a topic deletes its subscriptions.
    f.sns.delete_topic().topic_arn(&other).send().await.unwrap();
    let r = f
        .sns
        .get_subscription_attributes()
        .subscription_arn(&s3)
        .send()
        .await;
    assert_eq!(code_of(r).0, "NotFound");
    let all = f.sns.list_subscriptions().send().await.unwrap();
    assert_eq!(all.subscriptions().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn subscription_input_is_checked_as_aws_checks_it() {
    let f = Fixture::new();
    let (_, q) = f.queue("q").await;
    let (_, qf) = f.queue("q.fifo").await;
    let t = f.topic("t").await;
    let tf = f.topic("t.fifo").await;
    let sub = |topic: &str, protocol: &str, endpoint: &str| {
        f.sns
            .subscribe()
            .topic_arn(topic)
            .protocol(protocol)
            .endpoint(endpoint)
            .send()
    };
    assert_eq!(
        code_of(sub(&t, "carrier-pigeon", &q).await).1,
        "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"
    );
    assert_eq!(
        code_of(sub(&t, "sqs", "not-an-arn").await).1,
        "Invalid parameter: SQS endpoint ARN"
    );
    assert_eq!(
        code_of(sub(&t, "sqs", &qf).await).1,
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics"
    );
    // A FIFO topic takes a standard queue.
    assert!(sub(&tf, "sqs", &q).await.is_ok());
    assert_eq!(
        code_of(sub(&format!("{t}x"), "sqs", &q).await).0,
        "NotFound"
    );
    let with = |k: &str, v: &str| {
        f.sns
            .subscribe()
            .topic_arn(&t)
            .protocol("sqs")
            .endpoint(&q)
            .attributes(k, v)
            .send()
    };
    assert_eq!(
        code_of(with("RawMessageDelivery", "maybe").await).1,
        "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [maybe]. Must be true or false."
    );
    assert_eq!(
        code_of(with("FilterPolicy", "{").await).1,
        "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON."
    );
    assert_eq!(
        code_of(with("FilterPolicy", r#"{"a":{"b":["c"]}}"#).await).1,
        "Invalid parameter: Attributes Reason: Filter policy scope MessageAttributes does not support nested filter policy"
            .replace("Reason: ", "Reason: FilterPolicy: ")
    );
    assert_eq!(
        code_of(with("FilterPolicyScope", "Everything").await).1,
        "Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [Everything]. Please use either MessageBody or MessageAttributes"
    );
    assert_eq!(
        code_of(with("Colour", "blue").await).1,
        "Invalid parameter: Attributes Reason: AttributeName"
    );
    let s = f.subscribe(&t, &q, &[]).await;
    assert_eq!(
        code_of(with("RawMessageDelivery", "true").await).1,
        "Invalid parameter: Attributes Reason: Subscription already exists with different attributes"
    );
    let r = f
        .sns
        .set_subscription_attributes()
        .subscription_arn(&s)
        .attribute_name("Colour")
        .attribute_value("x")
        .send()
        .await;
    assert_eq!(code_of(r).1, "Invalid parameter: AttributeName");
    let r = f
        .sns
        .unsubscribe()
        .subscription_arn("arn:aws:sns")
        .send()
        .await;
    assert_eq!(
        code_of(r).1,
        "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 3"
    );
}

/// Publishes `message` with `attrs` to a fresh topic whose one subscription has
/// `policy` in `scope`; returns whether the queue got it.
async fn filtered(scope: &str, policy: &str, message: &str, attrs: &[(&str, &str, &str)]) -> bool {
    let f = Fixture::new();
    let (url, q) = f.queue("q").await;
    let t = f.topic("t").await;
    f.subscribe(
        &t,
        &q,
        &[("FilterPolicyScope", scope), ("FilterPolicy", policy)],
    )
    .await;
    let mut req = f.sns.publish().topic_arn(&t).message(message);
    for (name, data_type, value) in attrs {
        req = req.message_attributes(
            *name,
            MessageAttributeValue::builder()
                .data_type(*data_type)
                .string_value(*value)
                .build()
                .unwrap(),
        );
    }
    req.send().await.unwrap();
    !f.receive(&url).await.is_empty()
}

#[tokio::test(start_paused = true)]
async fn filter_policies_on_message_attributes() {
    const A: &str = "MessageAttributes";
    let s = |v: &'static str| [("k", "String", v)];
    let n = |v: &'static str| [("k", "Number", v)];
    assert!(filtered(A, r#"{"k":["a","b"]}"#, "m", &s("b")).await);
    assert!(!filtered(A, r#"{"k":["a","b"]}"#, "m", &s("c")).await);
    assert!(filtered(A, r#"{"k":[{"prefix":"ord"}]}"#, "m", &s("order")).await);
    assert!(!filtered(A, r#"{"k":[{"prefix":"ord"}]}"#, "m", &s("xorder")).await);
    assert!(filtered(A, r#"{"k":[{"suffix":"er"}]}"#, "m", &s("order")).await);
    assert!(
        filtered(
            A,
            r#"{"k":[{"equals-ignore-case":"ORDER"}]}"#,
            "m",
            &s("order")
        )
        .await
    );
    assert!(filtered(A, r#"{"k":[{"anything-but":["a","b"]}]}"#, "m", &s("c")).await);
    assert!(!filtered(A, r#"{"k":[{"anything-but":["a","b"]}]}"#, "m", &s("a")).await);
    assert!(
        !filtered(
            A,
            r#"{"k":[{"anything-but":{"prefix":"o"}}]}"#,
            "m",
            &s("order")
        )
        .await
    );
    assert!(filtered(A, r#"{"k":[{"numeric":[">",10,"<=",20]}]}"#, "m", &n("20")).await);
    assert!(!filtered(A, r#"{"k":[{"numeric":[">",10,"<=",20]}]}"#, "m", &n("10")).await);
    assert!(filtered(A, r#"{"k":[{"numeric":["=",3]}]}"#, "m", &n("3.0")).await);
    assert!(filtered(A, r#"{"k":[{"exists":true}]}"#, "m", &s("x")).await);
    assert!(!filtered(A, r#"{"k":[{"exists":true}]}"#, "m", &[]).await);
    assert!(filtered(A, r#"{"k":[{"exists":false}]}"#, "m", &[]).await);
    assert!(filtered(A, r#"{"k":[{"cidr":"10.0.0.0/24"}]}"#, "m", &s("10.0.0.7")).await);
    let arr = [("k", "String.Array", r#"["x","y"]"#)];
    assert!(filtered(A, r#"{"k":["y"]}"#, "m", &arr).await);
    let two = [("a", "String", "1"), ("b", "String", "2")];
    assert!(!filtered(A, r#"{"a":["1"],"b":["3"]}"#, "m", &two).await);
    assert!(filtered(A, r#"{"$or":[{"a":["9"]},{"b":["2"]}]}"#, "m", &two).await);
    // The attribute scope never looks at the body.
    assert!(!filtered(A, r#"{"k":["a"]}"#, r#"{"k":"a"}"#, &[]).await);
}

#[tokio::test(start_paused = true)]
async fn filter_policies_on_the_message_body() {
    const B: &str = "MessageBody";
    let body = r#"{"order":{"kind":"book","price":12,"tags":["new","sale"]},"ok":true}"#;
    assert!(filtered(B, r#"{"order":{"kind":["book"]}}"#, body, &[]).await);
    assert!(!filtered(B, r#"{"order":{"kind":["pen"]}}"#, body, &[]).await);
    assert!(filtered(B, r#"{"order":{"kind":[{"prefix":"bo"}]}}"#, body, &[]).await);
    assert!(filtered(B, r#"{"order":{"kind":[{"suffix":"ok"}]}}"#, body, &[]).await);
    assert!(
        filtered(
            B,
            r#"{"order":{"kind":[{"equals-ignore-case":"BOOK"}]}}"#,
            body,
            &[]
        )
        .await
    );
    assert!(
        !filtered(
            B,
            r#"{"order":{"kind":[{"anything-but":"book"}]}}"#,
            body,
            &[]
        )
        .await
    );
    assert!(
        filtered(
            B,
            r#"{"order":{"price":[{"numeric":[">=",12]}]}}"#,
            body,
            &[]
        )
        .await
    );
    assert!(
        !filtered(
            B,
            r#"{"order":{"price":[{"numeric":["<",12]}]}}"#,
            body,
            &[]
        )
        .await
    );
    assert!(filtered(B, r#"{"order":{"tags":["sale"]}}"#, body, &[]).await);
    assert!(filtered(B, r#"{"ok":[true]}"#, body, &[]).await);
    assert!(filtered(B, r#"{"order":{"id":[{"exists":false}]}}"#, body, &[]).await);
    assert!(!filtered(B, r#"{"order":{"kind":[{"exists":false}]}}"#, body, &[]).await);
    // A body that is not a JSON object matches no policy.
    assert!(!filtered(B, r#"{"order":[{"exists":false}]}"#, "plain text", &[]).await);
    // The body scope never looks at the attributes.
    assert!(!filtered(B, r#"{"k":["a"]}"#, "{}", &[("k", "String", "a")]).await);
}

#[tokio::test(start_paused = true)]
async fn publish_input_is_checked_as_aws_checks_it() {
    let f = Fixture::new();
    let t = f.topic("t").await;
    let tf = f.topic("t.fifo").await;
    let r = f.sns.publish().topic_arn(&t).message("").send().await;
    assert_eq!(
        code_of(r),
        (
            "InvalidParameter".into(),
            "Invalid parameter: Empty message".into()
        )
    );
    let r = f
        .sns
        .publish()
        .topic_arn(&t)
        .message("m")
        .subject("")
        .send()
        .await;
    assert_eq!(code_of(r).1, "Invalid parameter: Subject");
    for bad in ["two\nlines", " leading space", &"s".repeat(100)] {
        let r = f
            .sns
            .publish()
            .topic_arn(&t)
            .message("m")
            .subject(bad)
            .send()
            .await;
        assert_eq!(code_of(r).1, "Invalid parameter: Subject", "{bad:?}");
    }
    assert!(
        f.sns
            .publish()
            .topic_arn(&t)
            .message("m")
            .subject("Größe: 7")
            .send()
            .await
            .is_ok()
    );
    // TargetArn names a topic too.
    assert!(
        f.sns
            .publish()
            .target_arn(&t)
            .message("m")
            .send()
            .await
            .is_ok()
    );
    let r = f
        .sns
        .publish()
        .topic_arn(&t)
        .message("x".repeat(262_145))
        .send()
        .await;
    assert_eq!(code_of(r).1, "Invalid parameter: Message too long");
    // The limit counts attributes too.
    let r = f
        .sns
        .publish()
        .topic_arn(&t)
        .message("x".repeat(262_140))
        .message_attributes("k", string_attr("v"))
        .send()
        .await;
    assert_eq!(code_of(r).1, "Invalid parameter: Message too long");
    assert!(
        f.sns
            .publish()
            .topic_arn(&t)
            .message("x".repeat(262_144))
            .send()
            .await
            .is_ok()
    );
    let r = f.sns.publish().message("m").send().await;
    assert_eq!(
        code_of(r).1,
        "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"
    );
    let r = f
        .sns
        .publish()
        .topic_arn(&t)
        .message("m")
        .message_attributes(".k", string_attr("v"))
        .send()
        .await;
    assert_eq!(
        code_of(r),
        (
            "ParameterValueInvalid".into(),
            "Invalid message attribute name starting with character '.' was found.".into()
        )
    );
    let bad_type = MessageAttributeValue::builder()
        .data_type("Text")
        .string_value("v")
        .build()
        .unwrap();
    let r = f
        .sns
        .publish()
        .topic_arn(&t)
        .message("m")
        .message_attributes("k", bad_type)
        .send()
        .await;
    assert_eq!(
        code_of(r).1,
        "The message attribute 'k' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
    );
    let r = f
        .sns
        .publish()
        .topic_arn(&t)
        .message("m")
        .message_deduplication_id("d")
        .send()
        .await;
    assert_eq!(
        code_of(r).1,
        "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type"
    );
    let r = f
        .sns
        .publish()
        .topic_arn(&tf)
        .message("m")
        .message_deduplication_id("d")
        .send()
        .await;
    assert_eq!(
        code_of(r).1,
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
    );
    let r = f
        .sns
        .publish()
        .topic_arn(&tf)
        .message("m")
        .message_group_id("g")
        .send()
        .await;
    assert_eq!(
        code_of(r).1,
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
    );
    let r = f
        .sns
        .publish()
        .topic_arn(&t)
        .message("{")
        .message_structure("json")
        .send()
        .await;
    assert_eq!(
        code_of(r).1,
        "Invalid parameter: Message Structure - JSON message body failed to parse"
    );
}

#[tokio::test(start_paused = true)]
async fn message_structure_json_sends_the_sqs_entry() {
    let f = Fixture::new();
    let (url, q) = f.queue("q").await;
    let t = f.topic("t").await;
    f.subscribe(&t, &q, &[("RawMessageDelivery", "true")]).await;
    f.sns
        .publish()
        .topic_arn(&t)
        .message(r#"{"default":"d","sqs":"for queues"}"#)
        .message_structure("json")
        .send()
        .await
        .unwrap();
    f.sns
        .publish()
        .topic_arn(&t)
        .message(r#"{"default":"d"}"#)
        .message_structure("json")
        .send()
        .await
        .unwrap();
    assert_eq!(f.bodies(&url).await, ["for queues", "d"]);
}

fn entry(id: &str, message: &str) -> aws_sdk_sns::types::PublishBatchRequestEntry {
    aws_sdk_sns::types::PublishBatchRequestEntry::builder()
        .id(id)
        .message(message)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn publish_batch_reports_failed_entries_and_sends_the_rest() {
    let f = Fixture::new();
    let (url, q) = f.queue("q").await;
    let t = f.topic("t").await;
    f.subscribe(&t, &q, &[("RawMessageDelivery", "true")]).await;
    let out = f
        .sns
        .publish_batch()
        .topic_arn(&t)
        .publish_batch_request_entries(entry("a", "one"))
        .publish_batch_request_entries(entry("b", ""))
        .publish_batch_request_entries(entry("c", "three"))
        .send()
        .await
        .unwrap();
    let ok: Vec<&str> = out.successful().iter().filter_map(|e| e.id()).collect();
    assert_eq!(ok, ["a", "c"]);
    assert!(out.successful().iter().all(|e| e.message_id().is_some()));
    let failed = &out.failed()[0];
    assert_eq!(failed.id(), "b");
    assert_eq!(failed.code(), "InvalidParameter");
    assert_eq!(failed.message(), Some("Invalid parameter: Empty message"));
    assert!(failed.sender_fault());
    assert_eq!(f.bodies(&url).await, ["one", "three"]);
}

#[tokio::test(start_paused = true)]
async fn publish_batch_refuses_bad_batches_whole() {
    let f = Fixture::new();
    let t = f.topic("t").await;
    let tf = f.topic("t.fifo").await;
    let batch = |topic: &str, entries: Vec<aws_sdk_sns::types::PublishBatchRequestEntry>| {
        f.sns
            .publish_batch()
            .topic_arn(topic)
            .set_publish_batch_request_entries(Some(entries))
            .send()
    };
    let eleven = (0..11).map(|i| entry(&format!("e{i}"), "m")).collect();
    assert_eq!(
        code_of(batch(&t, eleven).await),
        (
            "TooManyEntriesInBatchRequest".into(),
            "The batch request contains more entries than permissible.".into()
        )
    );
    assert_eq!(code_of(batch(&t, vec![]).await).0, "EmptyBatchRequest");
    assert_eq!(
        code_of(batch(&t, vec![entry("a", "1"), entry("a", "2")]).await),
        (
            "BatchEntryIdsNotDistinct".into(),
            "Two or more batch entries in the request have the same Id.".into()
        )
    );
    assert_eq!(
        code_of(batch(&t, vec![entry("a b", "1")]).await).0,
        "InvalidBatchEntryId"
    );
    let big = "x".repeat(200_000);
    assert_eq!(
        code_of(batch(&t, vec![entry("a", &big), entry("b", &big)]).await),
        (
            "BatchRequestTooLong".into(),
            "The length of all the messages put together is more than the limit.".into()
        )
    );
    assert_eq!(
        code_of(batch(&tf, vec![entry("a", "1")]).await).1,
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
    );
    assert_eq!(
        code_of(batch(&format!("{t}x"), vec![entry("a", "1")]).await).0,
        "NotFound"
    );
}

#[tokio::test(start_paused = true)]
async fn fifo_batches_keep_order_and_content_based_dedup() {
    let f = Fixture::new();
    let (url, q) = f.queue("q.fifo").await;
    let t = f
        .sns
        .create_topic()
        .name("t.fifo")
        .attributes("FifoTopic", "true")
        .attributes("ContentBasedDeduplication", "true")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    f.subscribe(&t, &q, &[]).await;
    let fifo_entry = |id: &str, m: &str| {
        aws_sdk_sns::types::PublishBatchRequestEntry::builder()
            .id(id)
            .message(m)
            .message_group_id("g")
            .build()
            .unwrap()
    };
    let out = f
        .sns
        .publish_batch()
        .topic_arn(&t)
        .publish_batch_request_entries(fifo_entry("a", "1"))
        .publish_batch_request_entries(fifo_entry("b", "2"))
        .publish_batch_request_entries(fifo_entry("c", "1"))
        .send()
        .await
        .unwrap();
    let seqs: Vec<&str> = out
        .successful()
        .iter()
        .filter_map(|e| e.sequence_number())
        .collect();
    assert_eq!(seqs.len(), 3);
    assert_eq!(seqs[0], seqs[2], "content-based duplicate");
    let got = f.receive(&url).await;
    let messages: Vec<String> = got
        .iter()
        .map(|m| {
            let env: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            // A FIFO topic's envelope has a sequence number and no signature.
            assert!(env.get("Signature").is_none() && env.get("SigningCertURL").is_none());
            assert!(env["SequenceNumber"].is_string());
            env["Message"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(messages, ["1", "2"]);
    let attrs = got[0].attributes().unwrap();
    assert_eq!(attrs[&MessageSystemAttributeName::MessageGroupId], "g");
    assert_eq!(
        attrs[&MessageSystemAttributeName::MessageDeduplicationId].len(),
        64,
        "the SHA-256 of the message"
    );
}

#[tokio::test(start_paused = true)]
async fn a_raw_delivery_sqs_refuses_goes_to_the_subscription_dead_letter_queue() {
    let f = Fixture::new();
    let (url, q) = f.queue("q").await;
    let (dlq_url, dlq) = f.queue("dlq").await;
    let t = f.topic("t").await;
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq}"}}"#);
    f.subscribe(
        &t,
        &q,
        &[("RawMessageDelivery", "true"), ("RedrivePolicy", &policy)],
    )
    .await;
    // SNS takes more than 10 attributes; SQS does not, so the raw delivery fails.
    let mut req = f.sns.publish().topic_arn(&t).message("many");
    for i in 0..11 {
        req = req.message_attributes(format!("a{i}"), string_attr("v"));
    }
    req.send().await.unwrap();
    assert!(f.receive(&url).await.is_empty());
    assert_eq!(f.bodies(&dlq_url).await, ["many"]);
}

#[tokio::test(start_paused = true)]
async fn deliveries_are_sent_by_sns_with_what_sqs_sets() {
    let f = Fixture::new();
    let (url, q) = f.queue("q").await;
    let t = f.topic("t").await;
    f.subscribe(&t, &q, &[]).await;
    // A queue that was never created, and one deleted: deliveries are dropped.
    f.subscribe(&t, "arn:aws:sqs:us-east-1:000000000000:missing", &[])
        .await;
    f.sns
        .publish()
        .topic_arn(&t)
        .message("m")
        .send()
        .await
        .unwrap();
    let got = f.receive(&url).await;
    let attrs = got[0].attributes().unwrap();
    assert_eq!(
        attrs[&MessageSystemAttributeName::SenderId],
        "AIDAIT2UOQQY3AUEKVGXU"
    );
    assert_eq!(
        attrs[&MessageSystemAttributeName::ApproximateReceiveCount],
        "1"
    );
    assert!(got[0].md5_of_body().is_some());
}

#[tokio::test(start_paused = true)]
async fn topics_live_per_account_and_region() {
    let local = LocalSqs::new();
    let sns_in = |region: &str, key: &str| {
        let conf = local
            .sns_config_builder()
            .region(aws_sdk_sns::config::Region::new(region.to_owned()))
            .credentials_provider(aws_sdk_sns::config::Credentials::new(
                key, "s", None, None, "t",
            ))
            .build();
        aws_sdk_sns::Client::from_conf(conf)
    };
    let eu = sns_in("eu-west-1", "test");
    let other = sns_in("us-east-1", "111111111111");
    let t = eu
        .create_topic()
        .name("t")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    assert_eq!(t, "arn:aws:sns:eu-west-1:000000000000:t");
    let t2 = other
        .create_topic()
        .name("t")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    assert_eq!(t2, "arn:aws:sns:us-east-1:111111111111:t");
    assert!(
        local
            .sns_client()
            .list_topics()
            .send()
            .await
            .unwrap()
            .topics()
            .is_empty()
    );
    assert_eq!(eu.list_topics().send().await.unwrap().topics().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn list_topics_pages_by_hundred() {
    let f = Fixture::new();
    for i in 0..150 {
        f.topic(&format!("t{i:03}")).await;
    }
    let first = f.sns.list_topics().send().await.unwrap();
    assert_eq!(first.topics().len(), 100);
    let token = first.next_token().unwrap();
    let second = f.sns.list_topics().next_token(token).send().await.unwrap();
    assert_eq!(second.topics().len(), 50);
    assert!(second.next_token().is_none());
}

// Real sockets: this test runs on the real clock (nothing in it sleeps).
#[tokio::test]
async fn sns_and_sqs_answer_on_one_served_port() {
    let local = LocalSqs::new();
    let server = local.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::Config::builder()
            .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
            .region(aws_sdk_sns::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sns::config::Credentials::new(
                "AK", "s", None, None, "t",
            ))
            .endpoint_url(server.endpoint_url())
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "AK", "s", None, None, "t",
            ))
            .endpoint_url(server.endpoint_url())
            .build(),
    );
    let url = sqs
        .create_queue()
        .queue_name("q")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let t = sns
        .create_topic()
        .name("t")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let sub = sns
        .subscribe()
        .topic_arn(&t)
        .protocol("sqs")
        .endpoint("arn:aws:sqs:us-east-1:000000000000:q")
        .send()
        .await
        .unwrap()
        .subscription_arn
        .unwrap();
    sns.publish()
        .topic_arn(&t)
        .message("over http")
        .send()
        .await
        .unwrap();
    let got = sqs.receive_message().queue_url(&url).send().await.unwrap();
    let env: Value = serde_json::from_str(got.messages()[0].body().unwrap()).unwrap();
    assert_eq!(env["Message"], "over http");
    let unsubscribe = env["UnsubscribeURL"].as_str().unwrap();
    assert!(
        unsubscribe.starts_with(&server.endpoint_url()),
        "{unsubscribe}"
    );
    // The UnsubscribeURL works unsigned, as a plain GET.
    let (status, body) = http_get(server.local_addr(), unsubscribe).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<UnsubscribeResponse"), "{body}");
    let r = sns
        .get_subscription_attributes()
        .subscription_arn(&sub)
        .send()
        .await;
    assert_eq!(code_of(r).0, "NotFound");
    let err = sns
        .get_topic_attributes()
        .topic_arn(format!("{t}x"))
        .send()
        .await;
    assert_eq!(
        code_of(err),
        ("NotFound".into(), "Topic does not exist".into())
    );
    server.shutdown().await;
}

async fn http_get(addr: std::net::SocketAddr, url: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let path = &url[url.find("/?").unwrap()..];
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    (status, out)
}

#[tokio::test(start_paused = true)]
async fn faults_name_sns_operations_by_action() {
    use weir_local::FaultRule;
    let f = Fixture::new();
    let t = f.topic("t").await;
    f.local.faults().inject(
        FaultRule::error(400, "AuthorizationError", "injected")
            .operation("Publish")
            .times(1),
    );
    let r = f.sns.publish().topic_arn(&t).message("m").send().await;
    assert_eq!(code_of(r), ("AuthorizationError".into(), "injected".into()));
    assert!(
        f.sns
            .publish()
            .topic_arn(&t)
            .message("m")
            .send()
            .await
            .is_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn a_fifo_topic_delivers_to_standard_queues_without_fifo_ids() {
    let f = Fixture::new();
    let (url, q) = f.queue("std").await;
    let t = f.topic("t.fifo").await;
    f.subscribe(&t, &q, &[]).await;
    f.sns
        .publish()
        .topic_arn(&t)
        .message("m")
        .message_group_id("g")
        .message_deduplication_id("d")
        .send()
        .await
        .unwrap();
    let got = f.receive(&url).await;
    let attrs = got[0].attributes().unwrap();
    assert!(!attrs.contains_key(&MessageSystemAttributeName::MessageGroupId));
    assert!(!attrs.contains_key(&MessageSystemAttributeName::MessageDeduplicationId));
}
