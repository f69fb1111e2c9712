//! weir-sqs's SNS layer end to end: a Publisher and a TopicSpec against an SNS that
//! delivers to real queues, read back with weir's Consumer.
//!
//! Target, as support.rs chooses for the `it` suite: the in-process SQS and its SNS
//! (`LocalSqs::sns_client`, one engine for both) by default; with
//! `WEIR_SQS_TEST_TARGET=localstack`, LocalStack's SNS and SQS at `AWS_ENDPOINT_URL`
//! (default `http://127.0.0.1:4566`), where a LocalStack that does not answer fails the
//! run, saying how to start it. These tests run in real time: SNS delivers to the
//! queues asynchronously on LocalStack.

#![cfg(feature = "sns")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support.rs"]
mod support;

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use serde::{Deserialize, Serialize};
use weir_sqs::error::AwsService;
use weir_sqs::sns::{
    FilterScope, PublishOptions, Publisher, SubscriptionSpec, Topic, TopicSpec, TopicTopology,
};
use weir_sqs::{
    AttributeValue, Consumer, Envelope, Error, Message, Queue, QueueSpec, RawString,
    ReceiveOptions, RequestCounter, TaggedJson,
};

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// The SNS and SQS clients of one in-process engine, or of one LocalStack.
async fn clients() -> (aws_sdk_sns::Client, aws_sdk_sqs::Client) {
    if support::in_process() {
        let local = weir_local::LocalSqs::new();
        return (local.sns_client(), local.client());
    }
    let sqs = weir_integration_tests::localstack_client().await;
    (sns_client(&sqs), sqs)
}

/// An SNS client with the SQS client's endpoint and region, and LocalStack's
/// credentials (or the environment's).
fn sns_client(sqs: &aws_sdk_sqs::Client) -> aws_sdk_sns::Client {
    let env = |k: &str| std::env::var(k).unwrap_or_else(|_| "test".to_owned());
    let creds = aws_sdk_sns::config::Credentials::new(
        env("AWS_ACCESS_KEY_ID"),
        env("AWS_SECRET_ACCESS_KEY"),
        None,
        None,
        "weir-tests",
    );
    let conf = aws_sdk_sns::Config::builder()
        .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
        .endpoint_url(weir_integration_tests::localstack_endpoint())
        .region(sqs.config().region().cloned())
        .credentials_provider(creds)
        .build();
    aws_sdk_sns::Client::from_conf(conf)
}

/// A copy of `sns` whose requests `counter` counts.
fn counted(sns: &aws_sdk_sns::Client, counter: &RequestCounter) -> aws_sdk_sns::Client {
    let conf = sns
        .config()
        .to_builder()
        .interceptor(counter.clone())
        .build();
    aws_sdk_sns::Client::from_conf(conf)
}

async fn queue(sqs: &aws_sdk_sqs::Client, name: &str, fifo: bool) -> Queue {
    let spec = if fifo {
        QueueSpec::fifo(name)
    } else {
        QueueSpec::standard(name)
    };
    spec.ensure(sqs).await.unwrap().queue
}

/// Receives until `n` messages arrived (or 15 s passed), deleting them.
async fn receive_n<C: weir_sqs::Decode<T>, T>(
    consumer: &Consumer<T, C>,
    n: usize,
) -> Vec<Message<T>> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while got.len() < n && tokio::time::Instant::now() < deadline {
        let opts = ReceiveOptions::default()
            .with_max_messages(10)
            .with_wait(Duration::from_secs(1));
        for m in consumer.receive(&opts).await.unwrap() {
            consumer.ack(&m).await.unwrap();
            got.push(m);
        }
    }
    got
}

/// Nothing more arrives within 2 s.
async fn assert_empty<C: weir_sqs::Decode<T>, T: std::fmt::Debug>(consumer: &Consumer<T, C>) {
    let opts = ReceiveOptions::default().with_wait(Duration::from_secs(2));
    let more = consumer.receive(&opts).await.unwrap();
    assert!(
        more.is_empty(),
        "unexpected: {:?}",
        more.iter().map(Message::raw_body).collect::<Vec<_>>()
    );
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Event {
    Placed { id: u32 },
    Cancelled { id: u32 },
}

/// A topic with a raw and an enveloped queue.
async fn fan_out(sns: &aws_sdk_sns::Client, sqs: &aws_sdk_sqs::Client) -> TopicTopology {
    let raw = support::unique("sns-raw");
    let env = support::unique("sns-env");
    queue(sqs, &raw, false).await;
    queue(sqs, &env, false).await;
    TopicSpec::standard(support::unique("events"))
        .subscribe(SubscriptionSpec::queue(&raw).raw(true))
        .subscribe(SubscriptionSpec::queue(&env))
        .ensure(sns, sqs)
        .await
        .unwrap()
}

#[tokio::test]
async fn traceparent_and_type_tag_arrive_raw_and_enveloped() {
    let (sns, sqs) = clients().await;
    let t = fan_out(&sns, &sqs).await;
    let publisher: Publisher<Event, TaggedJson> = Publisher::builder(t.topic.clone())
        .codec(TaggedJson)
        .traceparent(|| Some(TRACEPARENT.to_owned()))
        .build()
        .unwrap();
    let out = publisher
        .publish_with(
            &Event::Placed { id: 7 },
            PublishOptions::default()
                .with_subject("placed")
                .with_attribute("tenant", AttributeValue::string("acme")),
        )
        .await
        .unwrap();
    assert!(!out.message_id().is_empty());

    let raw = Consumer::with_codec(t.subscriptions[0].queue.clone(), TaggedJson);
    let got: Vec<Message<Event>> = receive_n(&raw, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].raw_body(),
        r#"{"id":7}"#,
        "raw delivery: the body as published"
    );
    assert_eq!(got[0].body().unwrap(), &Event::Placed { id: 7 });
    assert_eq!(got[0].traceparent(), Some(TRACEPARENT));
    assert_eq!(got[0].type_tag(), Some("Placed"));
    assert_eq!(got[0].attribute("tenant"), Some("acme"));

    let enveloped = Consumer::with_codec(t.subscriptions[1].queue.clone(), TaggedJson)
        .with_envelope(Envelope::Sns);
    let got: Vec<Message<Event>> = receive_n(&enveloped, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body().unwrap(), &Event::Placed { id: 7 });
    assert_eq!(got[0].traceparent(), Some(TRACEPARENT));
    assert_eq!(got[0].type_tag(), Some("Placed"));
    assert_eq!(got[0].attribute("tenant"), Some("acme"));
    match got[0].envelope() {
        Some(weir_sqs::EnvelopeInfo::Sns(n)) => {
            assert_eq!(n.topic_arn, t.topic.arn());
            assert_eq!(n.message_id, out.message_id());
            assert_eq!(n.subject.as_deref(), Some("placed"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn batches_split_at_ten_entries_and_by_size() {
    let (sns, sqs) = clients().await;
    let t = fan_out(&sns, &sqs).await;
    let counter = RequestCounter::new();
    let topic = Topic::open(&counted(&sns, &counter), t.topic.arn())
        .await
        .unwrap();
    let publisher: Publisher<Event, TaggedJson> =
        Publisher::builder(topic).codec(TaggedJson).build().unwrap();

    counter.reset();
    let events: Vec<Event> = (0..23).map(|id| Event::Cancelled { id }).collect();
    let results = publisher.publish_batch(&events).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(counter.total(), 3, "23 entries: 10 + 10 + 3");
    let raw = Consumer::with_codec(t.subscriptions[0].queue.clone(), TaggedJson);
    let mut ids: Vec<u32> = receive_n::<_, Event>(&raw, 23)
        .await
        .into_iter()
        .map(|m| match m.into_body().unwrap() {
            Event::Cancelled { id } => id,
            other => panic!("{other:?}"),
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..23).collect::<Vec<_>>());

    // 100 KiB bodies against the 256 KiB default: two per call.
    let big: Publisher<String, RawString> = Publisher::builder(publisher.topic().clone())
        .codec(RawString)
        .build()
        .unwrap();
    counter.reset();
    let bodies: Vec<String> = (0..5)
        .map(|i| format!("{i}{}", "x".repeat(100 * 1024)))
        .collect();
    let results = big.publish_batch(&bodies).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(counter.total(), 3, "5 x 100 KiB in 256 KiB: 2 + 2 + 1");
    let got = receive_n(
        &Consumer::with_codec(t.subscriptions[0].queue.clone(), RawString),
        5,
    )
    .await;
    assert_eq!(got.len(), 5);
}

#[tokio::test]
async fn fifo_topics_keep_groups_and_dedup_ids() {
    let (sns, sqs) = clients().await;
    let name = format!("{}.fifo", support::unique("sns-fifo"));
    queue(&sqs, &name, true).await;
    let t = TopicSpec::fifo(format!("{}.fifo", support::unique("events")))
        .subscribe(SubscriptionSpec::queue(&name).raw(true))
        .ensure(&sns, &sqs)
        .await
        .unwrap();
    assert!(t.topic.is_fifo());
    let publisher: Publisher<String, RawString> = Publisher::builder(t.topic.clone())
        .codec(RawString)
        .build()
        .unwrap();
    let bodies: Vec<String> = (0..12).map(|i| format!("m{i}")).collect();
    let results = publisher
        .publish_batch_with(bodies.iter().enumerate().map(|(i, b)| {
            (
                b,
                PublishOptions::default()
                    .with_group_id("g1")
                    .with_dedup_id(format!("d{i}")),
            )
        }))
        .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(results[0].as_ref().unwrap().sequence_number().is_some());
    // The same dedup id again within 5 minutes: published, not delivered twice.
    publisher
        .publish_with(
            &bodies[0],
            PublishOptions::default()
                .with_group_id("g1")
                .with_dedup_id("d0"),
        )
        .await
        .unwrap();
    let consumer = Consumer::with_codec(t.subscriptions[0].queue.clone(), RawString);
    let got = receive_n(&consumer, 12).await;
    let order: Vec<&str> = got.iter().map(Message::raw_body).collect();
    assert_eq!(order, bodies.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(got[0].group_id(), Some("g1"));
    assert_empty(&consumer).await;
}

#[tokio::test]
async fn bad_input_is_refused_before_any_request() {
    let (sns, sqs) = clients().await;
    let fifo = TopicSpec::fifo(format!("{}.fifo", support::unique("events")))
        .ensure(&sns, &sqs)
        .await
        .unwrap();
    let standard = TopicSpec::standard(support::unique("events"))
        .ensure(&sns, &sqs)
        .await
        .unwrap();
    let counter = RequestCounter::new();
    let sns = counted(&sns, &counter);
    let open = |t: &TopicTopology| {
        Topic::with_attributes(sns.clone(), t.topic.arn(), t.topic.attributes().clone())
    };

    let p: Publisher<String, RawString> = Publisher::builder(open(&standard))
        .codec(RawString)
        .build()
        .unwrap();
    match p.publish(&"x".repeat(262_145)).await.unwrap_err() {
        Error::PayloadTooLarge(e) => assert_eq!((e.limit(), e.actual()), (262_144, 262_145)),
        other => panic!("{other:?}"),
    }
    let mut eleven = PublishOptions::default();
    for i in 0..11 {
        eleven = eleven.with_attribute(format!("a{i}"), AttributeValue::string("v"));
    }
    let e = p
        .publish_with(&"x".to_owned(), eleven.clone())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("the limit is 10"), "{e}");
    let results = p.publish_batch_with([(&"x".to_owned(), eleven)]).await;
    assert!(matches!(results[0], Err(Error::InvalidInput(_))));
    let e = p
        .publish_with(
            &"x".to_owned(),
            PublishOptions::default().with_subject("s".repeat(100)),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("1-99"), "{e}");

    let f: Publisher<String, RawString> = Publisher::builder(open(&fifo))
        .codec(RawString)
        .build()
        .unwrap();
    let e = f.publish(&"x".to_owned()).await.unwrap_err();
    assert!(e.to_string().contains("message group id"), "{e}");
    assert_eq!(counter.total(), 0, "no request was sent: {counter}");

    let e = TopicSpec::standard("bad name!")
        .ensure(&sns, &sqs)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("topic name"), "{e}");
    let e = TopicSpec::standard("t")
        .subscribe(
            SubscriptionSpec::queue("q")
                .filter_policy(r#"{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}"#),
        )
        .ensure(&sns, &sqs)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("the limit is 5"), "{e}");
    assert_eq!(counter.total(), 0, "no request was sent: {counter}");
}

#[tokio::test]
async fn an_unknown_topic_is_topic_not_found() {
    let (sns, _sqs) = clients().await;
    let e = Topic::open(&sns, &support::unique("missing"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::TopicNotFound(_)), "{e:?}");
    let arn = "arn:aws:sns:us-east-1:000000000000:weir-missing-topic";
    let e = Topic::open(&sns, arn).await.unwrap_err();
    assert!(matches!(e, Error::TopicNotFound(_)), "{e:?}");
    assert!(!e.is_retryable());
    let e = Topic::with_attributes(sns.clone(), arn, Default::default());
    let p: Publisher<String, RawString> = Publisher::builder(e).codec(RawString).build().unwrap();
    match p.publish(&"x".to_owned()).await.unwrap_err() {
        Error::TopicNotFound(e) => assert_eq!(e.topic(), arn),
        Error::Sqs(e) => assert_eq!(e.service(), AwsService::Sns, "{e}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn topic_spec_is_idempotent_and_merges_the_queue_policy() {
    let (sns, sqs) = clients().await;
    let name = support::unique("sns-policy");
    let q = queue(&sqs, &name, false).await;
    let mine = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Mine", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
            "Action": "sqs:ReceiveMessage", "Resource": q.arn().unwrap()}],
    });
    sqs.set_queue_attributes()
        .queue_url(q.url())
        .attributes(QueueAttributeName::Policy, mine.to_string())
        .send()
        .await
        .unwrap();
    let spec = TopicSpec::standard(support::unique("events"))
        .subscribe(SubscriptionSpec::queue(&name).raw(true));
    let first = spec.ensure(&sns, &sqs).await.unwrap();
    assert!(first.subscriptions[0].created && first.subscriptions[0].policy_updated);
    assert!(first.drift.is_empty(), "{:?}", first.drift);

    let again = spec.ensure(&sns, &sqs).await.unwrap();
    assert_eq!(again.topic.arn(), first.topic.arn());
    assert_eq!(again.subscriptions[0].arn, first.subscriptions[0].arn);
    assert!(!again.subscriptions[0].created && !again.subscriptions[0].policy_updated);
    assert!(again.drift.is_empty(), "{:?}", again.drift);

    let q = q.refresh().await.unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(q.attributes().get("Policy").unwrap()).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 2, "{policy}");
    assert_eq!(statements[0]["Sid"], "Mine");
    assert_eq!(statements[1]["Principal"]["Service"], "sns.amazonaws.com");
    assert_eq!(
        statements[1]["Condition"]["ArnEquals"]["aws:SourceArn"],
        first.topic.arn()
    );
}

#[tokio::test]
async fn filter_policies_apply_on_attributes_and_on_the_body() {
    let (sns, sqs) = clients().await;
    let by_attr = support::unique("sns-f-attr");
    let by_body = support::unique("sns-f-body");
    queue(&sqs, &by_attr, false).await;
    queue(&sqs, &by_body, false).await;
    let t = TopicSpec::standard(support::unique("events"))
        .subscribe(
            SubscriptionSpec::queue(&by_attr)
                .raw(true)
                .filter_policy(r#"{"kind":["placed"]}"#),
        )
        .subscribe(
            SubscriptionSpec::queue(&by_body)
                .raw(true)
                .filter_policy(r#"{"kind":["placed"]}"#)
                .filter_scope(FilterScope::MessageBody),
        )
        .ensure(&sns, &sqs)
        .await
        .unwrap();
    let p: Publisher<serde_json::Value> = Publisher::new(t.topic.clone());
    let kind =
        |k: &str| PublishOptions::default().with_attribute("kind", AttributeValue::string(k));
    let msgs = [
        (serde_json::json!({"kind": "other", "n": 1}), kind("placed")),
        (serde_json::json!({"kind": "placed", "n": 2}), kind("other")),
        (serde_json::json!({"kind": "other", "n": 3}), kind("other")),
    ];
    for (body, opts) in &msgs {
        p.publish_with(body, opts.clone()).await.unwrap();
    }
    let attr = Consumer::<serde_json::Value>::new(t.subscriptions[0].queue.clone());
    let got = receive_n(&attr, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body().unwrap()["n"], 1, "the attribute matched");
    assert_empty(&attr).await;
    let body = Consumer::<serde_json::Value>::new(t.subscriptions[1].queue.clone());
    let got = receive_n(&body, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body().unwrap()["n"], 2, "the body matched");
    assert_empty(&body).await;
}

#[tokio::test]
async fn drift_is_reported_and_not_overwritten() {
    let (sns, sqs) = clients().await;
    let name = support::unique("sns-drift");
    queue(&sqs, &name, false).await;
    let topic = format!("{}.fifo", support::unique("events"));
    let fifo_queue = format!("{}.fifo", support::unique("sns-drift"));
    queue(&sqs, &fifo_queue, true).await;
    TopicSpec::fifo(&topic)
        .content_based_deduplication(true)
        .subscribe(SubscriptionSpec::queue(&fifo_queue).raw(true))
        .ensure(&sns, &sqs)
        .await
        .unwrap();
    let t = TopicSpec::fifo(&topic)
        .content_based_deduplication(false)
        .subscribe(SubscriptionSpec::queue(&fifo_queue).filter_policy(r#"{"kind":["placed"]}"#))
        .ensure(&sns, &sqs)
        .await
        .unwrap();
    let mut found: Vec<(String, String, Option<String>)> = t
        .drift
        .iter()
        .map(|d| (d.attribute.clone(), d.expected.clone(), d.actual.clone()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "ContentBasedDeduplication".into(),
                "false".into(),
                Some("true".into())
            ),
            ("FilterPolicy".into(), r#"{"kind":["placed"]}"#.into(), None),
            ("FilterPolicyScope".into(), "MessageAttributes".into(), None),
            (
                "RawMessageDelivery".into(),
                "false".into(),
                Some("true".into())
            ),
        ]
    );
    assert!(t.drift[0].to_string().contains(&topic), "{}", t.drift[0]);
    // Nothing was overwritten.
    assert!(t.topic.attributes().content_based_deduplication());

    // A FIFO queue cannot take a standard topic: refused with the rule.
    let e = TopicSpec::standard(support::unique("events"))
        .subscribe(SubscriptionSpec::queue(&fifo_queue))
        .ensure(&sns, &sqs)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("FIFO queues take FIFO topics only"),
        "{e}"
    );
}
