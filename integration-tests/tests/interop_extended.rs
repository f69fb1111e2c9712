//! Interop with awslabs' SQS extended client for Python (`amazon-sqs-extended-client`
//! 1.0.1 from PyPI, pinned in `integration-tests/requirements-interop.txt`), through
//! LocalStack's SQS and S3: 2 MiB payloads offloaded by Python are decoded by weir's
//! `Consumer::with_offload`, and those offloaded by weir's `Producer` are read back by
//! the Python client; both ways the pointer body and the `ExtendedPayloadSize`
//! attribute are checked as plain SQS (boto3 without the extended client) sees them.
//!
//! What the Python client does differently, as these tests pin it down:
//!
//! - **delete**: by default (`delete_payload_from_s3 = False`) `delete_message` leaves
//!   the object in S3; with it on, the object is deleted *before* the SQS delete, so an
//!   SQS delete that fails leaves a message whose payload is gone (weir deletes the
//!   object only after the SQS delete succeeds).
//! - **receipt handles** come back prefixed with the bucket and key
//!   (`-..s3BucketName..-B-..s3BucketName..--..s3Key..-K-..s3Key..-<handle>`); its
//!   delete recovers SQS's handle as the text after the last `-`.
//! - **the attribute** is removed from the received message's attributes; the
//!   pointer is written with `json.dumps`' spacing (`", "`, `": "`), which weir reads.
//! - **threshold**: a fixed 256 KiB (`DEFAULT_MESSAGE_SIZE_THRESHOLD`), not the queue's
//!   `MaximumMessageSize`.
//!
//! Needs LocalStack (feature `localstack`) with S3, and a Python with the extended
//! client (`scripts/test` installs it into `localstack/.venv`, or `WEIR_PYTHON`).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
#![cfg(feature = "localstack")]

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use weir_integration_tests::python::{boto3, boto3_extended};
use weir_integration_tests::{localstack_client, localstack_s3_client, unique_name};
use weir_sqs::s3::{Offload, POINTER_CLASS, S3Pointer, SIZE_ATTRIBUTE};
use weir_sqs::{AttributeValue, Consumer, Message, Producer, Queue, ReceiveOptions, SendOptions};

const TWO_MIB: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Report {
    id: u64,
    source: String,
    rows: String,
}

/// A queue and a bucket of their own, on LocalStack.
struct Target {
    queue: Queue,
    s3: aws_sdk_s3::Client,
    bucket: String,
}

impl Target {
    async fn new() -> Self {
        let client = localstack_client().await;
        let url = client
            .create_queue()
            .queue_name(unique_name("interop-ext"))
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let queue = Queue::open(&client, &url).await.unwrap();
        let s3 = localstack_s3_client().await;
        let bucket = unique_name("interop-ext");
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        Self { queue, s3, bucket }
    }

    fn offload(&self) -> Offload {
        Offload::new(self.s3.clone(), &self.bucket)
    }

    async fn exists(&self, key: &str) -> bool {
        match self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => true,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => false,
            Err(e) => panic!("HeadObject: {}", aws_sdk_s3::error::DisplayErrorContext(&e)),
        }
    }

    async fn receive(&self, consumer: &Consumer<Report>, n: usize) -> Vec<Message<Report>> {
        let mut got = Vec::new();
        for _ in 0..10 {
            let options = ReceiveOptions::default()
                .with_max_messages(10)
                .with_wait(Duration::from_secs(1));
            got.extend(consumer.receive(&options).await.unwrap());
            if got.len() >= n {
                break;
            }
        }
        assert_eq!(got.len(), n, "messages received");
        got
    }

    /// Deletes what is left: the bucket's objects, the bucket and the queue.
    async fn cleanup(self) {
        let listed = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .send()
            .await
            .unwrap();
        for o in listed.contents() {
            let key = o.key().unwrap();
            self.s3
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .unwrap();
        }
        self.s3
            .delete_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .unwrap();
        let client = self.queue.client();
        client
            .delete_queue()
            .queue_url(self.queue.url())
            .send()
            .await
            .unwrap();
    }
}

/// The Python client sends a 2 MiB payload; weir's consumer fetches and decodes it
/// typed, names the pointer, keeps the attribute, and its ack deletes the object.
#[tokio::test]
async fn python_extended_client_sends_and_weir_consumer_decodes() {
    let t = Target::new().await;
    let printed = boto3_extended(
        t.queue.url(),
        &t.bucket,
        &format!(
            r#"body = json.dumps({{"id": 1, "source": "python", "rows": "p" * {TWO_MIB}}})
sqs.send_message(QueueUrl=url, MessageBody=body,
    MessageAttributes={{"origin": {{"DataType": "String", "StringValue": "python"}}}})
print(len(body.encode()), end="")"#
        ),
    );
    let size: usize = printed.parse().unwrap();

    let consumer: Consumer<Report> = Consumer::new(t.queue.clone()).with_offload(t.offload());
    let got = t.receive(&consumer, 1).await;
    let m = &got[0];
    assert_eq!(
        m.body().unwrap(),
        &Report {
            id: 1,
            source: "python".into(),
            rows: "p".repeat(TWO_MIB)
        }
    );
    assert_eq!(m.raw_body().len(), size);
    let pointer = m.s3_pointer().expect("the message came through S3").clone();
    assert_eq!(pointer.bucket(), t.bucket);
    assert_eq!(m.attribute(SIZE_ATTRIBUTE), Some(size.to_string().as_str()));
    assert_eq!(m.attribute("origin"), Some("python"));
    // Python's json.dumps spacing; the same pointer.
    assert_eq!(
        m.sqs_body(),
        format!(
            r#"["{POINTER_CLASS}", {{"s3BucketName": "{}", "s3Key": "{}"}}]"#,
            pointer.bucket(),
            pointer.key()
        )
    );
    assert!(
        t.exists(pointer.key()).await,
        "the payload is in S3 before the ack"
    );

    consumer.ack(m).await.unwrap();
    assert!(!t.exists(pointer.key()).await, "the ack deleted the object");
    assert_eq!(t.queue.depth().await.unwrap().visible, 0);
    t.cleanup().await;
}

/// weir's producer offloads two 2 MiB payloads. Plain boto3 sees the pointer array and
/// the Number attribute; the Python client reads the payloads back with prefixed
/// receipt handles and without the attribute, and its delete keeps the object by
/// default and deletes it with `delete_payload_from_s3 = True`.
#[tokio::test]
async fn weir_producer_offloads_and_python_extended_client_reads() {
    let t = Target::new().await;
    let producer: Producer<Report> = Producer::builder(t.queue.clone())
        .offload(t.offload())
        .build()
        .unwrap();
    let reports: Vec<Report> = (1..=2)
        .map(|id| Report {
            id,
            source: "weir".into(),
            rows: "w".repeat(TWO_MIB),
        })
        .collect();
    for r in &reports {
        let options =
            SendOptions::default().with_attribute("origin", AttributeValue::string("weir"));
        producer.send_with(r, options).await.unwrap();
    }
    let payload_len = serde_json::to_string(&reports[0]).unwrap().len();

    // Plain boto3 (no extended client): the SQS message as it is, left visible.
    let raw: Value = serde_json::from_str(&boto3(
        t.queue.url(),
        r#"seen = {}
for _ in range(10):
    r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                            WaitTimeSeconds=1, MessageAttributeNames=["All"])
    for m in r.get("Messages", []):
        seen[m["MessageId"]] = {"body": m["Body"], "attrs": m["MessageAttributes"]}
    if len(seen) == 2:
        break
print(json.dumps(list(seen.values())))"#,
    ))
    .unwrap();
    let raw = raw.as_array().unwrap();
    assert_eq!(raw.len(), 2, "{raw:?}");
    for m in raw {
        let body = m["body"].as_str().unwrap();
        let pointer = S3Pointer::from_body(body).expect("the body is the pointer");
        assert_eq!(pointer.bucket(), t.bucket);
        assert_eq!(body, pointer.to_body(), "the Java client's compact array");
        let array: Value = serde_json::from_str(body).unwrap();
        assert_eq!(array[0], POINTER_CLASS);
        assert_eq!(
            m["attrs"][SIZE_ATTRIBUTE],
            serde_json::json!({"DataType": "Number", "StringValue": payload_len.to_string()})
        );
        assert_eq!(m["attrs"]["origin"]["StringValue"], "weir");
        assert!(t.exists(pointer.key()).await);
    }

    // The extended client: payloads back; delete without, then with, object cleanup.
    let read: Value = serde_json::from_str(&boto3_extended(
        t.queue.url(),
        &t.bucket,
        r#"got = []
for _ in range(10):
    r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                            WaitTimeSeconds=1, MessageAttributeNames=["All"])
    got.extend(r.get("Messages", []))
    if len(got) >= 2:
        break
out = []
for i, m in enumerate(got):
    h = m["ReceiptHandle"]
    out.append({"body": m["Body"], "attrs": sorted(m["MessageAttributes"]),
                "prefixed": h.startswith("-..s3BucketName..-" + bucket + "-..s3BucketName..-"),
                "key": sqs.get_from_receipt_handle_by_marker(h, "-..s3Key..-"),
                "cleanup": i == 1})
    sqs.delete_payload_from_s3 = i == 1
    sqs.delete_message(QueueUrl=url, ReceiptHandle=h)
print(json.dumps(out))"#,
    ))
    .unwrap();
    let read = read.as_array().unwrap();
    assert_eq!(read.len(), 2, "{read:?}");
    let mut ids = Vec::new();
    for m in read {
        let report: Report = serde_json::from_str(m["body"].as_str().unwrap()).unwrap();
        assert_eq!(report.rows.len(), TWO_MIB);
        assert_eq!(report.source, "weir");
        ids.push(report.id);
        assert_eq!(
            m["prefixed"], true,
            "the receipt handle carries bucket and key"
        );
        assert_eq!(
            m["attrs"],
            serde_json::json!(["origin"]),
            "the Python client drops {SIZE_ATTRIBUTE} from what it returns"
        );
        let key = m["key"].as_str().unwrap();
        let cleanup = m["cleanup"].as_bool().unwrap();
        assert_eq!(
            t.exists(key).await,
            !cleanup,
            "delete_payload_from_s3 = {cleanup}: the object is {}",
            if cleanup { "deleted" } else { "kept" }
        );
    }
    ids.sort_unstable();
    assert_eq!(ids, [1, 2]);
    let depth = t.queue.depth().await.unwrap();
    assert_eq!(depth.visible + depth.in_flight, 0, "both deleted from SQS");
    t.cleanup().await;
}

/// With `delete_payload_from_s3 = True`, the Python client deletes the object before
/// the SQS delete: when that delete fails (here, a receipt handle SQS refuses), the
/// message stays with its payload gone, and a weir consumer then gets a poison
/// message whose decode error says the object is missing.
#[tokio::test]
async fn python_extended_client_deletes_the_object_before_the_message() {
    let t = Target::new().await;
    let producer: Producer<Report> = Producer::builder(t.queue.clone())
        .offload(t.offload().with_always_through_s3(true))
        .build()
        .unwrap();
    let report = Report {
        id: 3,
        source: "weir".into(),
        rows: "small".into(),
    };
    producer.send(&report).await.unwrap();

    let printed: Value = serde_json::from_str(&boto3_extended(
        t.queue.url(),
        &t.bucket,
        r#"sqs.delete_payload_from_s3 = True
m = None
for _ in range(10):
    r = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1, WaitTimeSeconds=1)
    if r.get("Messages"):
        m = r["Messages"][0]
        break
key = sqs.get_from_receipt_handle_by_marker(m["ReceiptHandle"], "-..s3Key..-")
try:
    # What SQS gets is the text after the last '-': "not_a_handle".
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"] + "-not_a_handle")
    error = None
except Exception as e:
    error = getattr(e, "response", {}).get("Error", {}).get("Code", str(e))
print(json.dumps({"key": key, "error": error}))"#,
    ))
    .unwrap();
    assert!(
        printed["error"].is_string(),
        "SQS refused the delete: {printed}"
    );
    let key = printed["key"].as_str().unwrap();
    assert!(!t.exists(key).await, "the object went first");

    let consumer: Consumer<Report> = Consumer::new(t.queue.clone()).with_offload(t.offload());
    tokio::time::sleep(Duration::from_secs(1)).await; // the Python receive's visibility
    let got = t.receive(&consumer, 1).await;
    assert_eq!(got[0].s3_pointer().map(S3Pointer::key), Some(key));
    let err = got[0].body().unwrap_err().to_string();
    assert!(
        err.contains("not found") || err.contains("NoSuchKey"),
        "the payload is gone: {err}"
    );
    consumer.ack(&got[0]).await.unwrap();
    t.cleanup().await;
}
