//! Queues at the SDK's level, for the suites that test weir against SQS (the worker's
//! tests in weir-worker and here, the round trip, the process chaos): creating a queue,
//! sending in batches, draining, counting. Written once; every function takes the
//! `aws_sdk_sqs::Client` of the SQS under test (in-process or LocalStack).
//!
//! A test of a handler, rather than of weir, wants `weir::test::TestQueue` instead.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    Message, MessageSystemAttributeName, QueueAttributeName as A, SendMessageBatchRequestEntry,
};
use weir_sqs::Queue;

/// The attributes of a FIFO queue without content-based deduplication (each message
/// sent by [`send_grouped`] has its own deduplication id).
pub const FIFO: &[(A, &str)] = &[
    (A::FifoQueue, "true"),
    (A::ContentBasedDeduplication, "false"),
];

/// Creates the queue `name` with `attrs` and opens it. `name` is used as given: on a
/// shared SQS (LocalStack) make it with [`unique_name`](crate::unique_name).
///
/// # Panics
///
/// When SQS refuses the queue.
pub async fn create_queue(client: &Client, name: &str, attrs: &[(A, &str)]) -> Queue {
    let mut req = client.create_queue().queue_name(name);
    for (k, v) in attrs {
        req = req.attributes(k.clone(), *v);
    }
    let url = req.send().await.unwrap().queue_url.unwrap();
    Queue::from_url(client, &url).await.unwrap()
}

/// Sends `bodies` to a standard queue, in batches of 10.
///
/// # Panics
///
/// When a send fails, or a batch entry does.
pub async fn send(client: &Client, url: &str, bodies: impl IntoIterator<Item = String>) {
    send_grouped(client, url, bodies.into_iter().map(|b| (b, None))).await;
}

/// Sends `(body, group)` pairs in batches of 10 (FIFO when a group is given; the
/// deduplication id is made of the message's place in the call and its body).
///
/// # Panics
///
/// When a send fails, or a batch entry does.
pub async fn send_grouped(
    client: &Client,
    url: &str,
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
        let out = client
            .send_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .unwrap();
        assert!(out.failed.is_empty(), "send failed: {:?}", out.failed);
        assert_eq!(out.successful.len(), chunk.len(), "every entry is sent");
    }
}

/// Receives (with every message and system attribute) until a receive comes back
/// empty, each receive waiting up to `wait`: zero for the in-process SQS, a second on
/// LocalStack. The messages stay invisible for the queue's visibility timeout.
///
/// # Panics
///
/// When a receive fails.
pub async fn drain(client: &Client, url: &str, wait: Duration) -> Vec<Message> {
    let wait = i32::try_from(wait.as_secs()).unwrap_or(20);
    let mut all = Vec::new();
    loop {
        let out = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .wait_time_seconds(wait)
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

/// The queue's (visible, in flight, delayed) counts, as SQS approximates them.
///
/// # Panics
///
/// When the attributes cannot be read.
pub async fn counts(client: &Client, url: &str) -> (u64, u64, u64) {
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
        get(A::ApproximateNumberOfMessagesDelayed),
    )
}
