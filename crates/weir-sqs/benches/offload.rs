//! Large payloads through S3: weir's offloading `Producer` and `Consumer` beside the raw
//! loop a user would write by hand (PutObject, then SendMessageBatch of pointers;
//! ReceiveMessage, GetObject, DeleteMessageBatch, DeleteObjects), on the same SQS and
//! S3 in the same run: MiB/s and messages/s, send and receive (with its ack and the
//! objects' deletion) timed apart. The raw loop runs twice: its S3 calls one by one,
//! and a batch's ten at once as weir issues them; it holds each payload as a `String`
//! until its batch is acked, as a handler holds its message.
//!
//! ```text
//! cargo bench -p weir-sqs --features s3 --bench offload                       # in-process
//! WEIR_BENCH_ENDPOINT=http://127.0.0.1:4566 cargo bench -p weir-sqs --features s3 --bench offload
//! ```
//!
//! `WEIR_BENCH_N` payloads per run (40), `WEIR_BENCH_MIB` MiB each (2: over SQS's 1 MiB, so
//! every payload is offloaded; at 1 MiB or less it fits in the message and is not), `WEIR_BENCH_ROUNDS`
//! rounds (2; odd rounds run weir first).

#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use tokio::time::Instant;
use weir_sqs::s3::{Offload, S3Pointer};
use weir_sqs::{Consumer, Producer, Queue, QueueSpec, RawString, ReceiveOptions};

struct Target {
    sqs: aws_sdk_sqs::Client,
    s3: aws_sdk_s3::Client,
    _local: Option<weir_local::LocalSqs>,
}

fn target() -> (String, Target) {
    let Ok(url) = std::env::var("WEIR_BENCH_ENDPOINT") else {
        let local = weir_local::LocalSqs::new();
        let t = Target {
            sqs: local.client(),
            s3: local.s3_client(),
            _local: Some(local),
        };
        return ("in-process".to_owned(), t);
    };
    let creds = aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "bench");
    let sqs = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(creds.clone())
        .endpoint_url(&url)
        .build();
    let s3 = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(&url)
        .force_path_style(true)
        .build();
    let t = Target {
        sqs: aws_sdk_sqs::Client::from_conf(sqs),
        s3: aws_sdk_s3::Client::from_conf(s3),
        _local: None,
    };
    (url, t)
}

/// weir: `send_batch` with offload, then receive and `ack_batch` (which deletes the
/// objects after the SQS delete). Returns (send, receive) durations.
async fn weir(
    t: &Target,
    queue: &Queue,
    bucket: &str,
    payloads: &[String],
) -> (Duration, Duration) {
    let offload = Offload::new(t.s3.clone(), bucket);
    let producer = Producer::builder(queue.clone())
        .codec(RawString)
        .offload(offload.clone())
        .build()
        .unwrap();
    let start = Instant::now();
    for sent in producer.send_batch(payloads).await {
        sent.unwrap();
    }
    let sent = start.elapsed();
    let consumer = Consumer::with_codec(queue.clone(), RawString).with_offload(offload);
    let options = ReceiveOptions::default().with_wait(Duration::from_secs(1));
    let (start, mut got) = (Instant::now(), 0);
    while got < payloads.len() {
        let batch = consumer.receive(&options).await.unwrap();
        assert!(
            batch
                .iter()
                .all(|m| m.body().is_ok_and(|b| b.len() == payloads[0].len()))
        );
        got += batch.len();
        for acked in consumer.ack_batch(&batch).await {
            acked.unwrap();
        }
    }
    (sent, start.elapsed())
}

/// How the raw loop issues a batch's S3 calls: one after another (what a user writes
/// first), or all ten at once (weir's shape, so that the gap between it and weir is
/// weir's own cost).
#[derive(Clone, Copy)]
enum Shape {
    OneByOne,
    AllAtOnce,
}

/// Runs the futures one after another or all at once, as `shape` says.
async fn run<F: std::future::Future>(shape: Shape, futures: Vec<F>) -> Vec<F::Output> {
    match shape {
        Shape::AllAtOnce => futures_util::future::join_all(futures).await,
        Shape::OneByOne => {
            let mut out = Vec::with_capacity(futures.len());
            for f in futures {
                out.push(f.await);
            }
            out
        }
    }
}

/// The raw loop: what a user writes by hand with the two SDKs. Returns (send, receive)
/// durations.
async fn raw(
    t: &Target,
    queue: &Queue,
    bucket: &str,
    payloads: &[String],
    shape: Shape,
) -> (Duration, Duration) {
    let start = Instant::now();
    raw_send(t, queue, bucket, payloads, shape).await;
    let sent = start.elapsed();
    let start = Instant::now();
    raw_receive(t, queue, bucket, payloads, shape).await;
    (sent, start.elapsed())
}

/// PutObject each payload, then SendMessageBatch of their pointers, ten at a time.
async fn raw_send(t: &Target, queue: &Queue, bucket: &str, payloads: &[String], shape: Shape) {
    for (c, chunk) in payloads.chunks(10).enumerate() {
        let puts = chunk.iter().enumerate().map(|(i, p)| async move {
            let key = format!("raw-{c}-{i}-{}", std::process::id());
            let put =
                t.s3.put_object()
                    .bucket(bucket)
                    .key(&key)
                    .body(ByteStream::from(p.clone().into_bytes()));
            put.send().await.unwrap();
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(S3Pointer::new(bucket, key).to_body())
                .build()
                .unwrap()
        });
        let entries = run(shape, puts.collect()).await;
        let out = t
            .sqs
            .send_message_batch()
            .queue_url(queue.url())
            .set_entries(Some(entries))
            .send()
            .await
            .unwrap();
        assert!(out.failed().is_empty());
    }
}

/// ReceiveMessage, GetObject each, DeleteMessageBatch, DeleteObjects, until every
/// payload came back.
async fn raw_receive(t: &Target, queue: &Queue, bucket: &str, payloads: &[String], shape: Shape) {
    let mut got = 0;
    while got < payloads.len() {
        let r = t
            .sqs
            .receive_message()
            .queue_url(queue.url())
            .max_number_of_messages(10)
            .wait_time_seconds(1);
        let messages = r.send().await.unwrap().messages.unwrap_or_default();
        if messages.is_empty() {
            continue;
        }
        let gets = messages.iter().map(|m| async move {
            let pointer = S3Pointer::from_body(m.body().unwrap()).unwrap();
            let object =
                t.s3.get_object()
                    .bucket(bucket)
                    .key(pointer.key())
                    .send()
                    .await
                    .unwrap();
            let body = object.body.collect().await.unwrap().into_bytes();
            let body = String::from_utf8(Vec::from(body)).unwrap();
            assert_eq!(body.len(), payloads[0].len());
            (pointer, body)
        });
        // The payloads are held until the batch is acked, as a handler holds its message.
        let fetched: Vec<(S3Pointer, String)> = run(shape, gets.collect()).await;
        let (mut deletes, mut keys) = (Vec::new(), Vec::new());
        for (i, (m, (pointer, _))) in messages.iter().zip(&fetched).enumerate() {
            deletes.push(
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap())
                    .build()
                    .unwrap(),
            );
            keys.push(
                ObjectIdentifier::builder()
                    .key(pointer.key())
                    .build()
                    .unwrap(),
            );
        }
        got += messages.len();
        t.sqs
            .delete_message_batch()
            .queue_url(queue.url())
            .set_entries(Some(deletes))
            .send()
            .await
            .unwrap();
        let delete = Delete::builder().set_objects(Some(keys)).build().unwrap();
        t.s3.delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .unwrap();
    }
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (label, t) = target();
        let (n, mib, rounds) = (
            env_or("WEIR_BENCH_N", 40),
            env_or("WEIR_BENCH_MIB", 2),
            env_or("WEIR_BENCH_ROUNDS", 2),
        );
        let bucket = format!("weir-bench-offload-{}", std::process::id());
        t.s3.create_bucket().bucket(&bucket).send().await.unwrap();
        let payloads: Vec<String> = (0..n)
            .map(|i| format!("{i:08}").repeat(mib * 1024 * 1024 / 8))
            .collect();
        let total_mib = (n * mib) as f64;
        println!("== offload to {label}: {n} payloads of {mib} MiB per run, {rounds} rounds");
        let show = |side: &str, (s, r): (Duration, Duration)| {
            format!(
                "{side} send {:>6.1} MiB/s {:>6.1} msg/s, receive+ack {:>6.1} MiB/s {:>6.1} msg/s",
                total_mib / s.as_secs_f64(),
                n as f64 / s.as_secs_f64(),
                total_mib / r.as_secs_f64(),
                n as f64 / r.as_secs_f64()
            )
        };
        for i in 0..rounds {
            let spec = |side: &str| {
                QueueSpec::standard(format!("bench-offload-{side}-{}-{i}", std::process::id()))
            };
            let wq = spec("weir").ensure(&t.sqs).await.unwrap().queue;
            let rq = spec("raw").ensure(&t.sqs).await.unwrap().queue;
            let cq = spec("rawc").ensure(&t.sqs).await.unwrap().queue;
            let (one, all) = (Shape::OneByOne, Shape::AllAtOnce);
            let (w, r, c) = if i % 2 == 0 {
                let r = raw(&t, &rq, &bucket, &payloads, one).await;
                let c = raw(&t, &cq, &bucket, &payloads, all).await;
                (weir(&t, &wq, &bucket, &payloads).await, r, c)
            } else {
                let w = weir(&t, &wq, &bucket, &payloads).await;
                let c = raw(&t, &cq, &bucket, &payloads, all).await;
                (w, raw(&t, &rq, &bucket, &payloads, one).await, c)
            };
            println!("round {i}:");
            println!("  {}", show("raw, one by one ", r));
            println!("  {}", show("raw, ten at once", c));
            println!("  {}", show("weir           ", w));
        }
    });
}
