//! What the worker's LocalStack suites (`worker_e2e.rs`, `worker_core_e2e.rs`) share:
//! queues, senders, a drain, queue counts and a run helper, written once.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{QueueAttributeName as A, SendMessageBatchRequestEntry};
use weir_sqs::Queue;
use weir_worker::{Worker, WorkerReport};

use crate::unique_name;

/// Creates a queue named after `prefix` (a FIFO one when `fifo`) and opens it.
///
/// # Panics
///
/// When SQS refuses the queue.
pub async fn create_queue(client: &Client, prefix: &str, fifo: bool) -> Queue {
    let req = if fifo {
        client
            .create_queue()
            .queue_name(format!("{}.fifo", unique_name(prefix)))
            .attributes(A::FifoQueue, "true")
    } else {
        client.create_queue().queue_name(unique_name(prefix))
    };
    let url = req.send().await.unwrap().queue_url.unwrap();
    Queue::from_url(client, &url).await.unwrap()
}

/// Sends `bodies` to a standard queue, in batches of 10.
///
/// # Panics
///
/// When a send fails.
pub async fn send(client: &Client, url: &str, bodies: &[String]) {
    let items: Vec<(String, Option<&str>)> = bodies.iter().map(|b| (b.clone(), None)).collect();
    send_grouped(client, url, &items).await;
}

/// Sends `(body, group)` pairs in batches of 10 (FIFO when a group is given; each
/// message gets its own deduplication id).
///
/// # Panics
///
/// When a send fails.
pub async fn send_grouped(client: &Client, url: &str, items: &[(String, Option<&str>)]) {
    for (c, chunk) in items.chunks(10).enumerate() {
        let entries = chunk.iter().enumerate().map(|(i, (body, group))| {
            let mut e = SendMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .message_body(body);
            if let Some(g) = group {
                e = e
                    .message_group_id(*g)
                    .message_deduplication_id(format!("{c}-{i}"));
            }
            e.build().unwrap()
        });
        let out = client
            .send_message_batch()
            .queue_url(url)
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .unwrap();
        assert!(out.failed.is_empty(), "{:?}", out.failed);
    }
}

/// Receives (with message attributes) until a receive comes back empty.
///
/// # Panics
///
/// When a receive fails.
pub async fn drain(client: &Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut all = Vec::new();
    loop {
        let out = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .wait_time_seconds(1)
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

/// (visible, in flight) counts of the queue.
///
/// # Panics
///
/// When the attributes cannot be read.
pub async fn counts(client: &Client, url: &str) -> (u64, u64) {
    let a = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    let get = |k: A| a.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0);
    (
        get(A::ApproximateNumberOfMessages),
        get(A::ApproximateNumberOfMessagesNotVisible),
    )
}

/// Runs `worker` until `done()` holds (checked every 20 ms, up to `limit`), then shuts it
/// down and returns its report.
///
/// # Panics
///
/// When `done()` does not hold within `limit`, or the worker's task panicked.
pub async fn run_until<T: Send + Sync + 'static>(
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
            "not done in {limit:?}: {:?}",
            handle.health()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.shutdown();
    task.await.unwrap()
}

/// Every message received has exactly one outcome in `r`.
///
/// # Panics
///
/// When it does not.
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
