//! `send_batch` and `BatchingProducer` against the in-process SQS: messages per second
//! (criterion's throughput) and SQS requests per message (counted by an interceptor).
//!
//! Run with `cargo bench -p weir-sqs --bench producer -- --warm-up-time 1 --measurement-time 5`.

#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::Client;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Serialize;
use weir_sqs::{BatchingProducer, Producer, Queue, RequestCounter};

const MESSAGES: usize = 1_000;

#[derive(Serialize)] // Serialize only: a producer needs no Deserialize
struct Event {
    id: u64,
    kind: &'static str,
    customer: String,
    amount_cents: u64,
    tags: Vec<&'static str>,
}

fn event(id: u64) -> Event {
    Event {
        id,
        kind: "order.placed",
        customer: format!("customer-{:08}", id % 977),
        amount_cents: id * 37 % 100_000,
        tags: vec!["web", "eu-west", "priority"],
    }
}

struct Fixture {
    client: Client,
    counter: RequestCounter,
    next_queue: u64,
}

impl Fixture {
    fn new() -> Self {
        let sqs = weir_local::LocalSqs::new();
        let (client, counter) = RequestCounter::attach(&sqs.client());
        Self {
            client,
            counter,
            next_queue: 0,
        }
    }

    /// A fresh queue, so that queues do not grow across iterations.
    async fn queue(&mut self) -> Queue {
        self.next_queue += 1;
        let name = format!("bench-{}", self.next_queue);
        self.client
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .unwrap();
        Queue::open(&self.client, &name).await.unwrap()
    }

    async fn drop_queue(&self, q: &Queue) {
        self.client
            .delete_queue()
            .queue_url(q.url())
            .send()
            .await
            .unwrap();
    }
}

fn report(name: &str, counter: &RequestCounter, messages: u64) {
    let requests = counter.get("SendMessageBatch") + counter.get("SendMessage");
    println!(
        "{name}: {requests} send requests for {messages} messages = {:.3} SQS requests per message",
        requests as f64 / messages.max(1) as f64
    );
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let events: Vec<Event> = (0..MESSAGES as u64).map(event).collect();
    let mut group = c.benchmark_group("producer");
    group.throughput(Throughput::Elements(MESSAGES as u64));

    let fixture = Arc::new(tokio::sync::Mutex::new(Fixture::new()));
    let counter = rt.block_on(async { fixture.lock().await.counter.clone() });
    let sent = Arc::new(Mutex::new(0u64));
    group.bench_function("send_batch", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let fixture = Arc::clone(&fixture);
            let sent = Arc::clone(&sent);
            let events = &events;
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut f = fixture.lock().await;
                    let q = f.queue().await;
                    let producer: Producer<Event> = Producer::new(q.clone());
                    let start = tokio::time::Instant::now();
                    let results = producer.send_batch(events).await;
                    total += start.elapsed();
                    assert!(results.iter().all(Result::is_ok));
                    *sent.lock().unwrap() += MESSAGES as u64;
                    f.drop_queue(&q).await;
                }
                total
            }
        });
    });
    report("send_batch", &counter, *sent.lock().unwrap());

    let fixture = Arc::new(tokio::sync::Mutex::new(Fixture::new()));
    let counter = rt.block_on(async { fixture.lock().await.counter.clone() });
    let sent = Arc::new(Mutex::new(0u64));
    group.bench_function("batching_producer", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let fixture = Arc::clone(&fixture);
            let sent = Arc::clone(&sent);
            let events = &events;
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut f = fixture.lock().await;
                    let q = f.queue().await;
                    let start = tokio::time::Instant::now();
                    let batching = BatchingProducer::new(Producer::<Event>::new(q.clone()));
                    let mut pending = Vec::with_capacity(MESSAGES);
                    for e in events {
                        pending.push(batching.enqueue(e).await.unwrap());
                    }
                    for p in pending {
                        p.await.unwrap();
                    }
                    batching.close().await;
                    total += start.elapsed();
                    *sent.lock().unwrap() += MESSAGES as u64;
                    f.drop_queue(&q).await;
                }
                total
            }
        });
    });
    report("batching_producer", &counter, *sent.lock().unwrap());

    let fixture = Arc::new(tokio::sync::Mutex::new(Fixture::new()));
    let counter = rt.block_on(async { fixture.lock().await.counter.clone() });
    let sent = Arc::new(Mutex::new(0u64));
    group.bench_function("batching_producer_concurrent_send", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let fixture = Arc::clone(&fixture);
            let sent = Arc::clone(&sent);
            let events = &events;
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut f = fixture.lock().await;
                    let q = f.queue().await;
                    let start = tokio::time::Instant::now();
                    let batching = BatchingProducer::new(Producer::<Event>::new(q.clone()));
                    // Many callers, each awaiting its own message: the buffer batches them.
                    let results =
                        futures_util::future::join_all(events.iter().map(|e| batching.send(e)))
                            .await;
                    assert!(results.iter().all(Result::is_ok));
                    batching.close().await;
                    total += start.elapsed();
                    *sent.lock().unwrap() += MESSAGES as u64;
                    f.drop_queue(&q).await;
                }
                total
            }
        });
    });
    report(
        "batching_producer_concurrent_send",
        &counter,
        *sent.lock().unwrap(),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
