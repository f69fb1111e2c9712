//! Interop: messages written by boto3 (the AWS SDK for Python) are read by weir's typed
//! `Consumer<T>`, and messages written by weir's `Producer<T>` are read by boto3, both
//! through LocalStack. Bodies stay plain JSON and attributes plain SQS attributes, so any
//! other SQS client can take part.
//!
//! Needs LocalStack (feature `localstack`) and a Python with boto3: the LocalStack venv
//! that `localstack/up` installs, or `WEIR_PYTHON`.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
#![cfg(feature = "localstack")]

use std::time::Duration;

use serde::{Deserialize, Serialize};
use weir_integration_tests::python::boto3;
use weir_integration_tests::{localstack_client, unique_name};
use weir_sqs::{AttributeValue, Consumer, Producer, Queue, ReceiveOptions, SendOptions};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    customer: String,
    total_cents: i64,
}

async fn queue() -> Queue {
    let client = localstack_client().await;
    let url = client
        .create_queue()
        .queue_name(unique_name("interop"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    Queue::open(&client, &url).await.unwrap()
}

async fn delete_queue(queue: &Queue) {
    queue
        .client()
        .delete_queue()
        .queue_url(queue.url())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn boto3_writes_and_weir_consumer_reads() {
    let queue = queue().await;
    boto3(
        queue.url(),
        r#"sqs.send_message(QueueUrl=url,
    MessageBody=json.dumps({"id": 42, "customer": "ada", "total_cents": 1999}),
    MessageAttributes={"source": {"DataType": "String", "StringValue": "boto3"},
                       "priority": {"DataType": "Number", "StringValue": "7"}})
sqs.send_message(QueueUrl=url, MessageBody="not json")"#,
    );

    let consumer: Consumer<Order> = Consumer::new(queue.clone());
    let mut got = Vec::new();
    for _ in 0..5 {
        let options = ReceiveOptions::default()
            .with_max_messages(10)
            .with_wait(Duration::from_secs(1));
        got.extend(consumer.receive(&options).await.unwrap());
        if got.len() == 2 {
            break;
        }
    }
    assert_eq!(got.len(), 2, "both boto3 messages arrive");
    let (good, bad): (Vec<_>, Vec<_>) = got.into_iter().partition(|m| m.body().is_ok());
    assert_eq!(
        good[0].body().unwrap(),
        &Order {
            id: 42,
            customer: "ada".into(),
            total_cents: 1999
        }
    );
    assert_eq!(good[0].attribute("source"), Some("boto3"));
    assert_eq!(good[0].attribute("priority"), Some("7"));
    // A body that is not JSON is kept, with its own error, and never fails the batch.
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].raw_body(), "not json");
    for m in good.iter().chain(&bad) {
        consumer.ack(m).await.unwrap();
    }
    delete_queue(&queue).await;
}

#[tokio::test]
async fn weir_producer_writes_and_boto3_reads() {
    let queue = queue().await;
    let producer: Producer<Order> = Producer::new(queue.clone());
    let order = Order {
        id: 7,
        customer: "grace".into(),
        total_cents: 250,
    };
    let mut options = SendOptions::default();
    options
        .attributes
        .insert("source".into(), AttributeValue::string("weir"));
    producer.send_with(&order, options).await.unwrap();

    // boto3 validates MD5OfBody and MD5OfMessageAttributes itself on receive.
    let printed = boto3(
        queue.url(),
        r#"r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MessageAttributeNames=["All"])
m = r["Messages"][0]
print(json.dumps({"body": m["Body"], "source": m["MessageAttributes"]["source"]["StringValue"]}))
sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])"#,
    );
    let seen: serde_json::Value = serde_json::from_str(printed.trim()).unwrap();
    let body: Order = serde_json::from_str(seen["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, order, "the body is plain JSON of the value");
    assert_eq!(seen["source"], "weir");
    delete_queue(&queue).await;
}

/// A boto3 snippet with an SNS client (`sns`) beside `sqs`.
fn boto3_sns(url: &str, snippet: &str) -> String {
    boto3(
        url,
        &format!(
            "sns = boto3.client('sns', endpoint_url=os.environ['WEIR_ENDPOINT'], region_name='us-east-1',\n\
             \x20                  aws_access_key_id='test', aws_secret_access_key='test')\n{snippet}"
        ),
    )
}

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// boto3 publishes to a topic with two queues subscribed, one with raw message delivery:
/// a typed weir worker unwraps the SNS envelope on the first, a weir consumer reads the
/// raw copy on the second; the type tag and the trace context arrive on both.
#[tokio::test]
async fn boto3_publishes_to_a_topic_and_weir_reads_both_deliveries() {
    use std::sync::{Arc, Mutex};
    use weir_sqs::{Envelope, EnvelopeInfo};
    use weir_worker::{HandlerError, Message, Worker, handler_fn};

    let (enveloped, raw) = (queue().await, queue().await);
    let topic = boto3_sns(
        enveloped.url(),
        &format!(
            r#"topic = sns.create_topic(Name="{name}")["TopicArn"]
for u, raw in ((url, "false"), ("{raw_url}", "true")):
    arn = sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={{"RawMessageDelivery": raw}})
sns.publish(TopicArn=topic, Subject="new order",
    Message=json.dumps({{"id": 42, "customer": "ada", "total_cents": 1999}}),
    MessageAttributes={{"weir.type": {{"DataType": "String", "StringValue": "OrderPlaced"}},
                       "traceparent": {{"DataType": "String", "StringValue": "{TRACEPARENT}"}}}})
print(topic, end="")"#,
            name = unique_name("interop-topic"),
            raw_url = raw.url(),
        ),
    );

    // The enveloped copy, through a typed worker.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(tokio::sync::Notify::new());
    let (s, d) = (seen.clone(), done.clone());
    let worker = Worker::builder(enveloped.clone())
        .envelope(Envelope::Sns)
        .wait_time(Duration::from_secs(1))
        .handler(handler_fn(move |m: Message<Order>| {
            let (s, d) = (s.clone(), d.clone());
            async move {
                let Some(EnvelopeInfo::Sns(n)) = m.envelope() else {
                    return Err(HandlerError::reject("no SNS envelope"));
                };
                let order = m.body().map_err(|e| HandlerError::reject(e.to_string()))?;
                s.lock().unwrap().push((
                    order.clone(),
                    n.topic_arn.clone(),
                    n.subject.clone(),
                    m.type_tag().map(str::to_owned),
                    m.traceparent().map(str::to_owned),
                ));
                d.notify_one();
                Ok(())
            }
        }))
        .build()
        .unwrap();
    let report = worker
        .run_until(async {
            let _ = tokio::time::timeout(Duration::from_secs(20), done.notified()).await;
        })
        .await;
    let order = Order {
        id: 42,
        customer: "ada".into(),
        total_cents: 1999,
    };
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec![(
            order.clone(),
            topic.clone(),
            Some("new order".to_owned()),
            Some("OrderPlaced".to_owned()),
            Some(TRACEPARENT.to_owned())
        )]
    );
    assert_eq!(report.acked, 1, "{report:?}");

    // The raw copy: the body is the message, the SNS attributes are SQS attributes.
    let consumer: Consumer<Order> = Consumer::new(raw.clone());
    let mut got = Vec::new();
    for _ in 0..10 {
        let options = ReceiveOptions::default().with_wait(Duration::from_secs(1));
        got.extend(consumer.receive(&options).await.unwrap());
        if !got.is_empty() {
            break;
        }
    }
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body().unwrap(), &order);
    assert_eq!(got[0].type_tag(), Some("OrderPlaced"));
    assert_eq!(got[0].traceparent(), Some(TRACEPARENT));
    consumer.ack(&got[0]).await.unwrap();
    boto3_sns(
        enveloped.url(),
        &format!(r#"sns.delete_topic(TopicArn="{topic}")"#),
    );
    delete_queue(&enveloped).await;
    delete_queue(&raw).await;
}

/// weir's `TopicSpec` subscribes a queue to a topic and its `Publisher<T>` publishes
/// to it; boto3 reads the SQS side: the notification AWS's SDKs expect, with the
/// payload, the attributes and the trace context.
#[tokio::test]
async fn weir_publisher_publishes_and_boto3_reads_the_notification() {
    use weir_sqs::sns::{PublishOptions, Publisher, SubscriptionSpec, TopicSpec};

    let queue = queue().await;
    let sns = weir_integration_tests::localstack_sns_client().await;
    let topology = TopicSpec::standard(unique_name("interop-pub"))
        .subscribe(SubscriptionSpec::queue(queue.url()))
        .ensure(&sns, queue.client())
        .await
        .unwrap();
    let publisher: Publisher<Order> = Publisher::builder(topology.topic.clone())
        .traceparent(|| Some(TRACEPARENT.to_owned()))
        .build()
        .unwrap();
    let order = Order {
        id: 9,
        customer: "lin".into(),
        total_cents: 4200,
    };
    let options = PublishOptions::default()
        .with_subject("order placed")
        .with_attribute("source", AttributeValue::string("weir"));
    let out = publisher.publish_with(&order, options).await.unwrap();

    let printed = boto3(
        queue.url(),
        r#"m = None
for _ in range(20):
    r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    if r.get("Messages"):
        m = r["Messages"][0]
        break
n = json.loads(m["Body"])
print(json.dumps({"type": n["Type"], "id": n["MessageId"], "topic": n["TopicArn"],
                  "subject": n.get("Subject"), "order": json.loads(n["Message"]),
                  "attrs": n["MessageAttributes"]}))
sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])"#,
    );
    let got: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(got["type"], "Notification");
    assert_eq!(got["id"], out.message_id());
    assert_eq!(got["topic"], topology.topic.arn());
    assert_eq!(got["subject"], "order placed");
    assert_eq!(
        serde_json::from_value::<Order>(got["order"].clone()).unwrap(),
        order
    );
    assert_eq!(
        got["attrs"]["source"],
        serde_json::json!({"Type": "String", "Value": "weir"})
    );
    assert_eq!(got["attrs"]["traceparent"]["Value"], TRACEPARENT);
    sns.delete_topic()
        .topic_arn(topology.topic.arn())
        .send()
        .await
        .unwrap();
    delete_queue(&queue).await;
}
