//! Shared setup: an in-process SQS, queues, senders and a run helper.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{QueueAttributeName as A, SendMessageBatchRequestEntry};
use weir_sqs::Queue;
use weir_worker::{Worker, WorkerHandle, WorkerReport};

pub struct Env {
    pub local: weir_local::LocalSqs,
    pub client: Client,
}

pub fn env() -> Env {
    let local = weir_local::LocalSqs::new();
    let client = local.client();
    Env { local, client }
}

impl Env {
    /// Creates a queue with `attrs` and opens it.
    pub async fn queue(&self, name: &str, attrs: &[(A, &str)]) -> Queue {
        let mut req = self.client.create_queue().queue_name(name);
        for (k, v) in attrs {
            req = req.attributes(k.clone(), *v);
        }
        let url = req.send().await.unwrap().queue_url.unwrap();
        Queue::from_url(&self.client, &url).await.unwrap()
    }

    pub async fn fifo(&self, name: &str) -> Queue {
        self.queue(
            name,
            &[
                (A::FifoQueue, "true"),
                (A::ContentBasedDeduplication, "false"),
            ],
        )
        .await
    }

    /// Sends `bodies` in batches of 10.
    pub async fn send(&self, queue: &Queue, bodies: impl IntoIterator<Item = String>) {
        self.send_grouped(queue, bodies.into_iter().map(|b| (b, None)))
            .await;
    }

    /// Sends `(body, group)` pairs in batches of 10 (FIFO when a group is given).
    pub async fn send_grouped(
        &self,
        queue: &Queue,
        items: impl IntoIterator<Item = (String, Option<String>)>,
    ) {
        let items: Vec<(String, Option<String>)> = items.into_iter().collect();
        for (c, chunk) in items.chunks(10).enumerate() {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, (body, group))| {
                    let mut e = SendMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .message_body(body);
                    if let Some(g) = group {
                        e = e
                            .message_group_id(g)
                            .message_deduplication_id(format!("{c}-{i}-{body}"));
                    }
                    e.build().unwrap()
                })
                .collect::<Vec<_>>();
            let out = self
                .client
                .send_message_batch()
                .queue_url(queue.url())
                .set_entries(Some(entries))
                .send()
                .await
                .unwrap();
            assert!(out.failed.is_empty(), "send failed: {:?}", out.failed);
        }
    }

    /// (visible, not visible, delayed) counts.
    pub async fn counts(&self, url: &str) -> (u64, u64, u64) {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(A::All)
            .send()
            .await
            .unwrap();
        let a = out.attributes.unwrap_or_default();
        let get = |k: A| a.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0);
        (
            get(A::ApproximateNumberOfMessages),
            get(A::ApproximateNumberOfMessagesNotVisible),
            get(A::ApproximateNumberOfMessagesDelayed),
        )
    }

    /// Receives everything visible (short polls) and returns the messages.
    pub async fn drain(&self, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let mut all = Vec::new();
        loop {
            let out = self
                .client
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .message_attribute_names("All")
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .send()
                .await
                .unwrap();
            let msgs = out.messages.unwrap_or_default();
            if msgs.is_empty() {
                return all;
            }
            all.extend(msgs);
        }
    }
}

/// Runs `worker` until `done()` is true (checked every 10 ms of tokio time, up to
/// `limit`), then shuts it down and returns the report.
pub async fn run_until_done<T: Send + Sync + 'static>(
    worker: Worker<T>,
    limit: Duration,
    done: impl Fn() -> bool,
) -> WorkerReport {
    let handle = worker.handle();
    let task = tokio::spawn(worker.run());
    let start = tokio::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "not done within {limit:?}: {:?}",
            handle.health()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    handle.shutdown();
    task.await.unwrap()
}

/// Spawns the worker and returns its handle and join handle.
pub fn spawn<T: Send + Sync + 'static>(
    worker: Worker<T>,
) -> (WorkerHandle, tokio::task::JoinHandle<WorkerReport>) {
    let handle = worker.handle();
    (handle, tokio::spawn(worker.run()))
}

/// Polls `cond` every 10 ms of tokio time until it holds (panics after `limit`).
pub async fn wait_for(limit: Duration, cond: impl Fn() -> bool) {
    let start = tokio::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < limit,
            "condition not met within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A counter shared with handlers.
#[derive(Clone, Default)]
pub struct Count(pub Arc<AtomicUsize>);

impl Count {
    pub fn inc(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

pub fn attrs_of(m: &aws_sdk_sqs::types::Message) -> HashMap<String, String> {
    m.message_attributes
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.string_value.unwrap_or_default()))
        .collect()
}

/// Every message received must be accounted for by exactly one outcome.
pub fn assert_accounted(r: &WorkerReport) {
    assert_eq!(
        r.received,
        r.succeeded
            + r.retried
            + r.dead_lettered
            + r.released_on_failure
            + r.released_prefetched
            + r.released_unfinished
            + r.leases_lost
            + r.skipped,
        "every received message has exactly one outcome: {r:?}"
    );
}
