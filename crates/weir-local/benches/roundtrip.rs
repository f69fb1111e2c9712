//! Throughput of LocalSqs through the real SDK, and the SDK's share of each call.
//!
//! `cargo bench -p weir-local --bench roundtrip -- --warm-up-time 1 --measurement-time 5`
//!
//! - `sdk/send10_receive10_delete10`: send_message_batch(10) + receive_message(10) +
//!   delete_message_batch(10) through a real `aws_sdk_sqs::Client`, one task on a
//!   current-thread runtime.
//! - `sdk/canned_send10_receive10_delete10`: the same calls answered by replaying
//!   recorded responses (`support/canned.rs`): the SDK alone, a floor no engine can
//!   go below.
//! - `sdk/concurrent4_send10_receive10_delete10`: four clients at once on a
//!   two-worker runtime, the whole box (it needs both cores to itself).
//! - `per_call/*`: one small SDK call against the engine alone, and the engine-only
//!   round trip (which also builds and parses JSON in the bench itself).
//!
//! The numbers, with the machine, the commit and the command that made them, are in
//! BENCHMARKS.md ("weir-local: the SDK path over the in-process SQS"): one place, so
//! that they are re-measured instead of copied.

#![allow(missing_docs)]

mod support {
    pub(crate) mod canned;
    pub(crate) mod workload;
}

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use support::workload::{concurrent_round, entries, roundtrip as sdk_roundtrip};
use weir_local::LocalSqs;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Four clients at once on a two-worker runtime: the throughput of the whole box.
fn concurrent(c: &mut Criterion) {
    const LOOPS: usize = 4;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sqs = LocalSqs::new();
    let setup: Vec<(aws_sdk_sqs::Client, String)> = (0..LOOPS)
        .map(|i| {
            let client = sqs.client();
            let url = rt
                .block_on(
                    client
                        .create_queue()
                        .queue_name(format!("bench-{i}"))
                        .send(),
                )
                .expect("create")
                .queue_url
                .expect("url");
            (client, url)
        })
        .collect();
    let entries = entries();
    let mut group = c.benchmark_group("sdk");
    group.throughput(Throughput::Elements(10 * LOOPS as u64));
    group.bench_function("concurrent4_send10_receive10_delete10", |b| {
        b.to_async(&rt).iter(|| concurrent_round(&setup, &entries));
    });
    group.finish();
}

fn roundtrip(c: &mut Criterion) {
    let rt = runtime();
    let sqs = LocalSqs::new();
    let client = sqs.client();
    let url = rt
        .block_on(client.create_queue().queue_name("bench").send())
        .expect("create")
        .queue_url
        .expect("url");
    let entries = entries();

    let mut group = c.benchmark_group("sdk");
    group.throughput(Throughput::Elements(10));
    group.bench_function("send10_receive10_delete10", |b| {
        b.to_async(&rt)
            .iter(|| async { sdk_roundtrip(&client, &url, &entries).await });
    });
    group.finish();

    // The same round trip against recorded responses: the SDK alone, a floor no engine
    // can go below.
    let canned = aws_sdk_sqs::Client::from_conf(
        sqs.config_builder()
            .http_client(support::canned::Canned::new(&sqs))
            .build(),
    );
    let mut group = c.benchmark_group("sdk");
    group.throughput(Throughput::Elements(10));
    group.bench_function("canned_send10_receive10_delete10", |b| {
        b.to_async(&rt)
            .iter(|| async { sdk_roundtrip(&canned, &url, &entries).await });
    });
    group.finish();

    let mut group = c.benchmark_group("per_call");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sdk_get_queue_url", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                client
                    .get_queue_url()
                    .queue_name("bench")
                    .send()
                    .await
                    .expect("url"),
            );
        });
    });
    group.bench_function("engine_get_queue_url", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                sqs.handle("AmazonSQS.GetQueueUrl", br#"{"QueueName":"bench"}"#)
                    .await,
            );
        });
    });
    let send_body = serde_json::json!({
        "QueueUrl": url,
        "Entries": (0..10).map(|i| serde_json::json!({
            "Id": format!("m{i}"),
            "MessageBody": format!("benchmark message body number {i}"),
        })).collect::<Vec<_>>(),
    })
    .to_string();
    let recv_body = serde_json::json!({ "QueueUrl": url, "MaxNumberOfMessages": 10 }).to_string();
    group.throughput(Throughput::Elements(10));
    group.bench_function("engine_send10_receive10_delete10", |b| {
        b.to_async(&rt).iter(|| async {
            let sent = sqs.handle("AmazonSQS.SendMessageBatch", send_body.as_bytes()).await;
            assert_eq!(sent.status(), 200);
            let got = sqs.handle("AmazonSQS.ReceiveMessage", recv_body.as_bytes()).await;
            let v: serde_json::Value = serde_json::from_slice(got.body()).expect("json");
            let entries: Vec<_> = v["Messages"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .enumerate()
                        .map(|(i, m)| serde_json::json!({"Id": format!("d{i}"), "ReceiptHandle": m["ReceiptHandle"]}))
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(entries.len(), 10);
            let del = serde_json::json!({ "QueueUrl": url, "Entries": entries }).to_string();
            let out = sqs.handle("AmazonSQS.DeleteMessageBatch", del.as_bytes()).await;
            assert_eq!(out.status(), 200);
        });
    });
    group.finish();
}

criterion_group!(benches, roundtrip, concurrent);
criterion_main!(benches);
