//! Shared setup: the two runtimes every test runs on, an in-process SQS, queues,
//! senders and a run helper.

#![allow(dead_code, unreachable_pub)]

/// Runs a test twice, as the conformance suite runs each scenario on two targets:
///
/// - `paused`: a current-thread runtime with tokio's clock paused, on the in-process SQS
///   answering at once (hours of visibility timeouts run in milliseconds);
/// - `threaded`: a 4-thread runtime in real time, on the in-process SQS with
///   network-shaped latency (0.5 to 2 ms per call, so that no call completes on its
///   first poll, as with a networked SQS).
///
/// The body gets `env` ([`Env`]); `env.threaded` tells which runtime it is on.
macro_rules! worker_test {
    ($(#[doc = $doc:literal])* async fn $name:ident($env:ident) $body:block) => {
        $(#[doc = $doc])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "current_thread", start_paused = true)]
            async fn paused() {
                let $env = crate::support::Env::paused();
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn threaded() {
                let $env = crate::support::Env::threaded();
                $body
            }
        }
    };
}

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
    /// On the multi-threaded runtime, in real time, with network-shaped latency.
    pub threaded: bool,
}

/// A paused-time environment, for tests that run on one runtime only.
pub fn env() -> Env {
    Env::paused()
}

impl Env {
    /// The in-process SQS answering at once (for a paused current-thread runtime).
    pub fn paused() -> Self {
        let local = weir_local::LocalSqs::new();
        Self {
            client: local.client(),
            local,
            threaded: false,
        }
    }

    /// The in-process SQS with 0.5–2 ms of latency per call (for a multi-threaded
    /// runtime in real time).
    pub fn threaded() -> Self {
        let local = weir_local::LocalSqs::builder()
            .latency(Duration::from_micros(500), Duration::from_millis(2))
            .build();
        Self {
            client: local.client(),
            local,
            threaded: true,
        }
    }

    /// Another environment of the same kind, with its own SQS.
    pub fn fresh(&self) -> Self {
        if self.threaded {
            Self::threaded()
        } else {
            Self::paused()
        }
    }

    /// `paused` on the paused runtime, `threaded` in real time: for sizes and waits
    /// that virtual time makes free and real time does not.
    pub fn pick<V>(&self, paused: V, threaded: V) -> V {
        if self.threaded { threaded } else { paused }
    }

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

/// SQS requests by operation, as a [`Counting`] client saw them.
#[derive(Debug, Clone, Default)]
pub struct Requests(Arc<std::sync::Mutex<HashMap<String, usize>>>);

impl Requests {
    pub fn of(&self, operation: &str) -> usize {
        self.0.lock().unwrap().get(operation).copied().unwrap_or(0)
    }
}

/// The in-process connector, counting each request by its operation.
#[derive(Debug, Clone)]
struct Counting {
    inner: weir_local::LocalConnector,
    requests: Requests,
}

impl aws_smithy_runtime_api::client::http::HttpConnector for Counting {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        let op = request
            .headers()
            .get("x-amz-target")
            .unwrap_or_default()
            .trim_start_matches("AmazonSQS.")
            .to_owned();
        *self.requests.0.lock().unwrap().entry(op).or_default() += 1;
        self.inner.call(request)
    }
}

impl aws_smithy_runtime_api::client::http::HttpClient for Counting {
    fn http_connector(
        &self,
        _: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(self.clone())
    }
}

impl Env {
    /// A client of this SQS that counts its requests by operation.
    pub fn counted(&self) -> (Client, Requests) {
        let requests = Requests::default();
        let http = Counting {
            inner: self.local.http_client(),
            requests: requests.clone(),
        };
        let conf = self.local.config_builder().http_client(http).build();
        (Client::from_conf(conf), requests)
    }

    /// `queue` reached through `client`.
    pub async fn reopen(&self, client: &Client, queue: &Queue) -> Queue {
        Queue::from_url(client, queue.url()).await.unwrap()
    }
}

/// Counts the drops of what it guards (a handler's future, cancelled or done).
pub struct OnDrop(pub Count);

impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.inc();
    }
}
