//! Shared test setup: the one place that decides which SQS the tests talk to.

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};

/// The SQS client every integration test uses.
pub fn client() -> Client {
    localstack_client()
}

/// A client for LocalStack at 127.0.0.1:4566.
pub fn localstack_client() -> Client {
    let conf = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "weir-tests"))
        .endpoint_url("http://127.0.0.1:4566")
        .build();
    Client::from_conf(conf)
}

/// A queue name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{n}", nanos % 1_000_000_000_000)
}

/// Creates a standard queue and returns its URL.
pub async fn create_queue(client: &Client, name: &str) -> String {
    client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue url")
}

/// Creates a FIFO queue (name must end in .fifo) and returns its URL.
pub async fn create_fifo(client: &Client, name: &str, content_dedup: bool) -> String {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    client
        .create_queue()
        .queue_name(name)
        .attributes(A::FifoQueue, "true")
        .attributes(A::ContentBasedDeduplication, content_dedup.to_string())
        .send()
        .await
        .expect("create fifo queue")
        .queue_url
        .expect("queue url")
}
