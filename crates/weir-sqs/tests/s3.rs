//! Large payloads through S3 (the `s3` feature), end to end: Producer, BatchingProducer
//! and Consumer with an `Offload`, against an S3 and an SQS of one target.
//!
//! Target, as support.rs chooses: the in-process SQS and its S3 (`LocalSqs::client` and
//! `LocalSqs::s3_client`, one engine) on a paused clock by default; with
//! `WEIR_SQS_TEST_TARGET=localstack`, LocalStack's SQS and S3 at `AWS_ENDPOINT_URL`.

#![cfg(feature = "s3")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support.rs"]
mod support;

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sqs::types::MessageAttributeValue;
use weir_sqs::s3::{Cleanup, Offload, S3Pointer, SIZE_ATTRIBUTE};
use weir_sqs::{
    AttributeValue, BatchingProducer, Consumer, Error, Producer, Queue, QueueAttributes, RawString,
    ReceiveOptions, SendOptions,
};

const MIB: usize = 1024 * 1024;

/// The SQS and S3 clients of one in-process engine, or of one LocalStack.
async fn clients() -> (aws_sdk_sqs::Client, aws_sdk_s3::Client) {
    if support::in_process() {
        let local = weir_local::LocalSqs::new();
        return (local.client(), local.s3_client());
    }
    let sqs = support::client().await;
    let env = |k: &str| std::env::var(k).unwrap_or_else(|_| "test".to_owned());
    let creds = aws_sdk_s3::config::Credentials::new(
        env("AWS_ACCESS_KEY_ID"),
        env("AWS_SECRET_ACCESS_KEY"),
        None,
        None,
        "weir-tests",
    );
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(weir_integration_tests::localstack_endpoint())
        .region(sqs.config().region().cloned())
        .credentials_provider(creds)
        .force_path_style(true)
        .timeout_config(aws_sdk_s3::config::timeout::TimeoutConfig::disabled())
        .stalled_stream_protection(aws_sdk_s3::config::StalledStreamProtectionConfig::disabled())
        .build();
    (sqs, aws_sdk_s3::Client::from_conf(conf))
}

struct Setup {
    sqs: aws_sdk_sqs::Client,
    s3: aws_sdk_s3::Client,
    bucket: String,
    queue: Queue,
}

async fn setup(fifo: bool) -> Setup {
    let (sqs, s3) = clients().await;
    let bucket = support::unique("payloads").to_lowercase().replace('_', "-");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let name = support::unique("big");
    let queue = if fifo {
        let name = format!("{name}.fifo");
        support::create_fifo(&sqs, &name, true).await;
        Queue::open(&sqs, &name).await.unwrap()
    } else {
        support::create_queue(&sqs, &name).await;
        Queue::open(&sqs, &name).await.unwrap()
    };
    Setup {
        sqs,
        s3,
        bucket,
        queue,
    }
}

impl Setup {
    fn offload(&self) -> Offload {
        Offload::new(self.s3.clone(), &self.bucket)
    }

    fn producer(&self, offload: Offload) -> Producer<String, RawString> {
        Producer::builder(self.queue.clone())
            .codec(RawString)
            .offload(offload)
            .build()
            .unwrap()
    }

    fn consumer(&self, offload: Offload) -> Consumer<String, RawString> {
        Consumer::with_codec(self.queue.clone(), RawString).with_offload(offload)
    }

    async fn keys(&self) -> Vec<String> {
        let out = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .send()
            .await
            .unwrap();
        out.contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()
    }

    async fn object(&self, key: &str) -> Option<String> {
        let out = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .ok()?;
        let bytes = out.body.collect().await.unwrap().into_bytes();
        Some(String::from_utf8(bytes.to_vec()).unwrap())
    }

    /// Receives until `n` messages came, or a few empty polls.
    async fn receive(
        &self,
        consumer: &Consumer<String, RawString>,
        n: usize,
    ) -> Vec<weir_sqs::Message<String>> {
        let mut got = Vec::new();
        for _ in 0..10 {
            let opts = ReceiveOptions::default().with_wait(Duration::from_secs(1));
            got.extend(consumer.receive(&opts).await.unwrap());
            if got.len() >= n {
                break;
            }
        }
        got
    }

    /// The raw SQS messages (no offload), with their attributes.
    async fn raw(&self) -> Vec<aws_sdk_sqs::types::Message> {
        self.sqs
            .receive_message()
            .queue_url(self.queue.url())
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(0)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default()
    }
}

fn payload(len: usize, seed: char) -> String {
    let mut s = String::with_capacity(len);
    s.push(seed);
    while s.len() < len {
        s.push_str("0123456789abcdef");
    }
    s.truncate(len);
    s
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn two_and_twenty_mib_through_producer_and_consumer_then_deleted_after_ack() {
    let t = setup(false).await;
    let producer = t.producer(t.offload());
    let small = "small".to_owned();
    let two = payload(2 * MIB, 'a');
    let twenty = payload(20 * MIB, 'b');
    for p in [&small, &two, &twenty] {
        producer.send(p).await.unwrap();
    }
    assert_eq!(t.keys().await.len(), 2, "the two large payloads are in S3");

    let consumer = t.consumer(t.offload());
    let got = t.receive(&consumer, 3).await;
    assert_eq!(got.len(), 3);
    for m in &got {
        let body = m.body().unwrap();
        if body == &small {
            assert!(m.s3_pointer().is_none());
            assert_eq!(m.sqs_body(), "small");
            assert!(m.attribute(SIZE_ATTRIBUTE).is_none());
            continue;
        }
        assert!(body == &two || body == &twenty);
        assert_eq!(m.raw_body(), body, "raw_body is the payload");
        let pointer = m.s3_pointer().expect("pointer");
        assert_eq!(pointer.bucket(), t.bucket);
        assert_eq!(S3Pointer::from_body(m.sqs_body()).as_ref(), Some(pointer));
        let size = m.attributes().get(SIZE_ATTRIBUTE).unwrap();
        assert_eq!(size.data_type(), "Number");
        assert_eq!(size.as_str(), Some(body.len().to_string().as_str()));
    }
    for m in &got {
        consumer.ack(m).await.unwrap();
    }
    assert!(t.keys().await.is_empty(), "objects deleted after the ack");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn the_pointer_is_the_java_clients_byte_for_byte() {
    let t = setup(false).await;
    let producer = t.producer(
        t.offload()
            .with_key_prefix("pre/fix_")
            .with_always_through_s3(true),
    );
    producer.send(&"hello".to_owned()).await.unwrap();
    let raw = t.raw().await;
    let m = &raw[0];
    let body = m.body().unwrap();
    let prefix = format!(
        r#"["software.amazon.payloadoffloading.PayloadS3Pointer",{{"s3BucketName":"{}","s3Key":"pre/fix_"#,
        t.bucket
    );
    assert!(body.starts_with(&prefix), "{body}");
    assert!(body.ends_with(r#""}]"#), "{body}");
    let key = &body[prefix.len()..body.len() - 3];
    assert_eq!(key.len(), 36, "a UUID: {key}");
    assert_eq!(key.matches('-').count(), 4);
    let attr = &m.message_attributes().unwrap()[SIZE_ATTRIBUTE];
    assert_eq!(attr.data_type(), "Number");
    assert_eq!(attr.string_value(), Some("5"));
    assert_eq!(
        t.object(&format!("pre/fix_{key}")).await.as_deref(),
        Some("hello")
    );
    assert!(m.receipt_handle().unwrap().find("-..s3Key..-").is_none());
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn reads_what_the_python_and_legacy_java_clients_write() {
    let t = setup(false).await;
    for (i, (class, attr)) in [
        (
            "software.amazon.payloadoffloading.PayloadS3Pointer",
            "ExtendedPayloadSize",
        ),
        (
            "com.amazon.sqs.javamessaging.MessageS3Pointer",
            "SQSLargePayloadSize",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("00000000-0000-4000-8000-00000000000{i}");
        let text = format!("payload {i}");
        t.s3.put_object()
            .bucket(&t.bucket)
            .key(&key)
            .body(ByteStream::from(text.clone().into_bytes()))
            .send()
            .await
            .unwrap();
        // Python's json.dumps spacing.
        let body = format!(
            r#"["{class}", {{"s3BucketName": "{}", "s3Key": "{key}"}}]"#,
            t.bucket
        );
        t.sqs
            .send_message()
            .queue_url(t.queue.url())
            .message_body(body)
            .message_attributes(
                attr,
                MessageAttributeValue::builder()
                    .data_type("Number")
                    .string_value(text.len().to_string())
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    let consumer = t.consumer(t.offload());
    let mut got: Vec<String> = t
        .receive(&consumer, 2)
        .await
        .iter()
        .map(|m| m.body().unwrap().clone())
        .collect();
    got.sort();
    assert_eq!(got, ["payload 0", "payload 1"]);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn batches_mix_small_and_large_entries() {
    let t = setup(false).await;
    let producer = t.producer(t.offload());
    let values: Vec<String> = (0..12)
        .map(|i| {
            if i % 3 == 0 {
                payload(2 * MIB, char::from(b'a' + i))
            } else {
                format!("small {i}")
            }
        })
        .collect();
    let results = producer.send_batch(&values).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(t.keys().await.len(), 4);

    let batching = BatchingProducer::new(t.producer(t.offload()));
    let mut pending = Vec::new();
    for v in &values[..6] {
        pending.push(batching.enqueue(v).await.unwrap());
    }
    for p in pending {
        p.await.unwrap();
    }
    batching.close().await;
    assert_eq!(t.keys().await.len(), 6);

    let consumer = t.consumer(t.offload());
    let got = t.receive(&consumer, 18).await;
    assert_eq!(got.len(), 18);
    let mut bodies: Vec<&String> = got.iter().map(|m| m.body().unwrap()).collect();
    bodies.sort();
    let mut want: Vec<&String> = values.iter().chain(&values[..6]).collect();
    want.sort();
    assert_eq!(bodies, want);
    let results = consumer.ack_batch(&got).await;
    assert!(results.iter().all(Result::is_ok));
    assert!(
        t.keys().await.is_empty(),
        "every object deleted after the batch ack"
    );
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn fifo_content_dedup_dedupes_on_the_payload() {
    let t = setup(true).await;
    let producer = t.producer(t.offload());
    let big = payload(2 * MIB, 'f');
    let opts = || SendOptions::default().with_group_id("g");
    let first = producer.send_with(&big, opts()).await.unwrap();
    let second = producer.send_with(&big, opts()).await.unwrap();
    assert_eq!(
        first.message_id(),
        second.message_id(),
        "the duplicate was deduplicated"
    );
    let consumer = t.consumer(t.offload());
    let got = t.receive(&consumer, 1).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.body().unwrap(), &big);
    use sha2_digest::sha256_hex;
    assert_eq!(m.dedup_id(), Some(sha256_hex(&big).as_str()));
    // The duplicate's object is an orphan (SQS does not say a send was a duplicate):
    // the one the lifecycle rule is for.
    assert_eq!(t.keys().await.len(), 2);
    consumer.ack(m).await.unwrap();
    assert_eq!(t.keys().await.len(), 1);
}

/// The standard SHA-256, computed here without the crate's private helper.
mod sha2_digest {
    pub(crate) fn sha256_hex(s: &str) -> String {
        // Known-answer check of the producer's choice is enough: compare with the hex
        // digest of a fresh hasher over the same bytes.
        use std::fmt::Write as _;
        let d = <sha2::Sha256 as sha2::Digest>::digest(s.as_bytes());
        d.iter().fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_missing_object_is_a_decode_error_with_its_reason() {
    let t = setup(false).await;
    t.producer(t.offload())
        .send(&payload(2 * MIB, 'm'))
        .await
        .unwrap();
    let key = t.keys().await.remove(0);
    t.s3.delete_object()
        .bucket(&t.bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    let consumer = t.consumer(t.offload());
    let got = t.receive(&consumer, 1).await;
    assert_eq!(got.len(), 1);
    let e = got[0].body().unwrap_err();
    let text = e.to_string();
    assert!(text.contains("does not exist (NoSuchKey)"), "{text}");
    assert!(text.contains(&key), "{text}");
    assert_eq!(got[0].s3_pointer().map(S3Pointer::key), Some(key.as_str()));
    assert!(
        S3Pointer::from_body(got[0].sqs_body()).is_some(),
        "the pointer stays readable"
    );
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn ignore_payload_not_found_deletes_the_message_unseen() {
    let t = setup(false).await;
    t.producer(t.offload())
        .send(&payload(2 * MIB, 'i'))
        .await
        .unwrap();
    let key = t.keys().await.remove(0);
    t.s3.delete_object()
        .bucket(&t.bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    let consumer = t.consumer(t.offload().with_ignore_payload_not_found(true));
    let opts = ReceiveOptions::default().with_wait(Duration::from_secs(1));
    assert!(consumer.receive(&opts).await.unwrap().is_empty());
    assert!(t.raw().await.is_empty(), "the message was deleted");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_missing_bucket_is_a_typed_error_before_sqs() {
    let t = setup(false).await;
    let producer = t.producer(Offload::new(t.s3.clone(), "weir-no-such-bucket-4711"));
    let e = producer.send(&payload(2 * MIB, 'x')).await.unwrap_err();
    match &e {
        Error::BucketNotFound(b) => assert_eq!(b.bucket(), "weir-no-such-bucket-4711"),
        other => panic!("{other:?}"),
    }
    assert!(!e.is_retryable());
    assert!(t.raw().await.is_empty(), "nothing was sent to SQS");
    // The batch path: the entry gets the error, the small one is sent.
    let results = producer
        .send_batch(&[payload(2 * MIB, 'y'), "small".to_owned()])
        .await;
    assert!(
        matches!(results[0], Err(Error::BucketNotFound(_))),
        "{results:?}"
    );
    assert!(results[1].is_ok());
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_failed_send_deletes_its_uploaded_object() {
    let t = setup(false).await;
    let gone = format!("{}-gone", t.queue.url());
    let attrs = QueueAttributes::from_map(t.queue.attributes().as_map().clone());
    let queue = Queue::with_attributes(t.sqs.clone(), &gone, attrs);
    let producer: Producer<String, RawString> = Producer::builder(queue)
        .codec(RawString)
        .offload(t.offload())
        .build()
        .unwrap();
    let e = producer.send(&payload(2 * MIB, 'o')).await.unwrap_err();
    assert!(matches!(e, Error::QueueNotFound(_)), "{e:?}");
    assert!(t.keys().await.is_empty(), "the orphan was deleted");
    let results = producer.send_batch(&[payload(2 * MIB, 'p')]).await;
    assert!(results[0].is_err());
    assert!(t.keys().await.is_empty(), "the batch's orphan was deleted");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn keep_leaves_the_object_after_the_ack() {
    let t = setup(false).await;
    t.producer(t.offload())
        .send(&payload(2 * MIB, 'k'))
        .await
        .unwrap();
    let consumer = t.consumer(t.offload().with_cleanup(Cleanup::Keep));
    let got = t.receive(&consumer, 1).await;
    consumer.ack(&got[0]).await.unwrap();
    assert_eq!(t.keys().await.len(), 1);
    assert!(t.raw().await.is_empty(), "the message itself was deleted");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn multipart_above_the_chosen_size() {
    let t = setup(false).await;
    let big = payload(12 * MIB, 'u');
    let offload = t.offload().with_multipart(5 * MIB as u64, 5 * MIB as u64);
    t.producer(offload).send(&big).await.unwrap();
    let key = t.keys().await.remove(0);
    assert_eq!(t.object(&key).await.as_ref(), Some(&big));
    let consumer = t.consumer(t.offload());
    let got = t.receive(&consumer, 1).await;
    assert_eq!(got[0].body().unwrap(), &big);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn bad_input_is_refused_before_any_call() {
    let t = setup(false).await;
    // Without an offload, 2 MiB does not fit: the queue's limit is named.
    let plain: Producer<String, RawString> = Producer::builder(t.queue.clone())
        .codec(RawString)
        .build()
        .unwrap();
    let e = plain.send(&payload(2 * MIB, 'n')).await.unwrap_err();
    assert!(e.to_string().contains("MaximumMessageSize"), "{e}");
    // The reserved attribute.
    let producer = t.producer(t.offload());
    let opts = SendOptions::default().with_attribute(SIZE_ATTRIBUTE, AttributeValue::number(1));
    let e = producer.send_with(&"x".to_owned(), opts).await.unwrap_err();
    assert!(e.to_string().contains("reserved"), "{e}");
    // A threshold over the queue's MaximumMessageSize, a bad prefix, a bad part size.
    for offload in [
        t.offload().with_threshold(2 * MIB),
        t.offload().with_key_prefix("../x"),
        t.offload().with_multipart(10 * MIB as u64, 1024),
    ] {
        let e = Producer::<String>::builder(t.queue.clone())
            .offload(offload)
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
    }
    // Attributes so large that even the pointer does not fit: refused before the upload.
    let huge =
        SendOptions::default().with_attribute("a", AttributeValue::string(payload(MIB, 'h')));
    let e = producer
        .send_with(&payload(2 * MIB, 'z'), huge)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PayloadTooLarge(_)), "{e:?}");
    assert!(t.keys().await.is_empty(), "nothing uploaded");
    assert!(t.raw().await.is_empty(), "nothing sent");
}

#[test]
fn the_largest_payload_names_s3s_limits() {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .build(),
    );
    let o = Offload::new(s3, "b");
    assert_eq!(o.max_payload(), 10_000 * 16 * MIB as u64);
    let single = o
        .clone()
        .with_multipart(weir_sqs::s3::MAX_SINGLE_PUT, 16 * MIB as u64);
    assert_eq!(single.max_payload(), 5 << 30);
    let max = o.with_multipart(100 * MIB as u64, weir_sqs::s3::MAX_PART_SIZE);
    assert_eq!(max.max_payload(), weir_sqs::s3::MAX_OBJECT_SIZE);
}
