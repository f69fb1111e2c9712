//! `Publisher::publish_batch` beside a raw aws-sdk-sns `PublishBatch` loop, on the same
//! SNS in the same run: messages per second and SNS requests per message, each topic
//! with one SQS queue subscribed (so every publish is also a delivery).
//!
//! ```text
//! cargo bench -p weir-sqs --features sns --bench publish                     # in-process
//! WEIR_BENCH_ENDPOINT=http://127.0.0.1:4566 cargo bench -p weir-sqs --features sns --bench publish
//! ```
//!
//! With `WEIR_BENCH_ENDPOINT` (LocalStack, or `weir serve`) the in-process run is
//! skipped. `WEIR_BENCH_N` messages per run (5 000 in-process, 2 000 against an
//! endpoint), `WEIR_BENCH_ROUNDS` rounds (4; odd rounds run weir first, because the
//! second run of a round is slower, and the ratio is the geometric mean of the rounds').
//! The raw loop runs 4 tasks of `PublishBatch(10)`, as many as the publisher's default
//! concurrency.

#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_sns::types::PublishBatchRequestEntry;
use serde::Serialize;
use tokio::time::Instant;
use weir_sqs::RequestCounter;
use weir_sqs::sns::{Publisher, SubscriptionSpec, TopicSpec};

#[derive(Serialize)]
struct Event {
    id: u64,
    kind: &'static str,
    customer: String,
}

fn events(n: usize) -> Vec<Event> {
    (0..n as u64)
        .map(|id| Event {
            id,
            kind: "order.placed",
            customer: format!("customer-{:08}", id % 977),
        })
        .collect()
}

struct Target {
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    counter: RequestCounter,
    _local: Option<weir_local::LocalSqs>,
}

fn target() -> (String, Target, usize) {
    let counter = RequestCounter::new();
    if let Ok(url) = std::env::var("WEIR_BENCH_ENDPOINT") {
        let creds = aws_sdk_sns::config::Credentials::new("test", "test", None, None, "bench");
        let sns = aws_sdk_sns::Config::builder()
            .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
            .region(aws_sdk_sns::config::Region::new("us-east-1"))
            .credentials_provider(creds.clone())
            .endpoint_url(&url)
            .interceptor(counter.clone())
            .build();
        let sqs = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .endpoint_url(&url)
            .build();
        let t = Target {
            sns: aws_sdk_sns::Client::from_conf(sns),
            sqs: aws_sdk_sqs::Client::from_conf(sqs),
            counter,
            _local: None,
        };
        return (url, t, 2_000);
    }
    let local = weir_local::LocalSqs::new();
    let sns = aws_sdk_sns::Client::from_conf(
        local
            .sns_config_builder()
            .interceptor(counter.clone())
            .build(),
    );
    let t = Target {
        sns,
        sqs: local.client(),
        counter,
        _local: Some(local),
    };
    ("in-process".to_owned(), t, 5_000)
}

/// A fresh topic with one queue subscribed.
async fn topic(t: &Target, name: &str) -> weir_sqs::sns::Topic {
    let queue = weir_sqs::QueueSpec::standard(format!("{name}-q"))
        .ensure(&t.sqs)
        .await
        .unwrap()
        .queue;
    TopicSpec::standard(name)
        .subscribe(SubscriptionSpec::queue(queue.url()).raw(true))
        .ensure(&t.sns, &t.sqs)
        .await
        .unwrap()
        .topic
}

/// The raw loop: 4 tasks taking chunks of 10 until all are published.
async fn raw(t: &Target, arn: &str, bodies: &Arc<Vec<Event>>) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (sns, arn, bodies, next) =
            (t.sns.clone(), arn.to_owned(), bodies.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let from = next.fetch_add(10, Ordering::Relaxed);
                if from >= bodies.len() {
                    return;
                }
                let entries = bodies[from..(from + 10).min(bodies.len())]
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        PublishBatchRequestEntry::builder()
                            .id(i.to_string())
                            .message(serde_json::to_string(e).unwrap())
                            .build()
                            .unwrap()
                    })
                    .collect();
                let out = sns
                    .publish_batch()
                    .topic_arn(&arn)
                    .set_publish_batch_request_entries(Some(entries))
                    .send()
                    .await
                    .unwrap();
                assert!(out.failed().is_empty());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// One side's run: (messages per second, requests per message).
async fn run(t: &Target, weir: bool, name: &str, n: usize) -> (f64, f64) {
    let topic = topic(t, name).await;
    // Both sides encode inside the timed run.
    let events = Arc::new(events(n));
    let publisher: Publisher<Event> = Publisher::new(topic.clone());
    t.counter.reset();
    let start = Instant::now();
    if weir {
        assert!(
            publisher
                .publish_batch(events.iter())
                .await
                .iter()
                .all(Result::is_ok)
        );
    } else {
        raw(t, topic.arn(), &events).await;
    }
    let secs = start.elapsed().as_secs_f64();
    (n as f64 / secs, t.counter.total() as f64 / n as f64)
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
        let (label, t, default_n) = target();
        let (n, rounds) = (env_or("WEIR_BENCH_N", default_n), env_or("WEIR_BENCH_ROUNDS", 4));
        println!("== publish to {label}: {n} messages per run, {rounds} rounds, one queue subscribed");
        let tag = std::process::id();
        let mut ratios = Vec::new();
        for i in 0..rounds {
            let (raw_name, weir_name) = (format!("bench-raw-{tag}-{i}"), format!("bench-weir-{tag}-{i}"));
            let (r, w) = if i % 2 == 0 {
                let r = run(&t, false, &raw_name, n).await;
                (r, run(&t, true, &weir_name, n).await)
            } else {
                let w = run(&t, true, &weir_name, n).await;
                (run(&t, false, &raw_name, n).await, w)
            };
            println!(
                "round {i} ({} first): raw {:>8.0} msg/s {:.3} req/msg | weir Publisher {:>8.0} msg/s {:.3} req/msg",
                if i % 2 == 0 { "raw" } else { "weir" },
                r.0, r.1, w.0, w.1
            );
            ratios.push(w.0 / r.0);
        }
        let geomean = (ratios.iter().map(|x| x.ln()).sum::<f64>() / ratios.len() as f64).exp();
        println!("weir / raw throughput, geometric mean of rounds: {geomean:.2}");
    });
}
