//! Shared setup: the two runtimes every test runs on and their in-process SQS. Queues,
//! sending, draining and running a worker are the helpers these tests share with the
//! LocalStack suites (`weir_integration_tests::{queues, worker_kit}`); waiting is the
//! test kit's `eventually`.

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

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName as A;
use weir::test::TestQueue;
use weir_integration_tests::queues;
use weir_sqs::{Queue, QueueSpec, RequestCounter};

pub use weir::test::eventually;
pub use weir_integration_tests::worker_kit::{
    Attempts, Count, OnDrop, assert_accounted, attrs_of, in_process_retries, run_until, spawn,
    transient_or_rejected,
};

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

    /// An S3 client of the same in-process engine as the SQS (its latency too).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        self.local.s3_client()
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

    /// Creates the queue `name` with `attrs` and opens it.
    pub async fn queue(&self, name: &str, attrs: &[(A, &str)]) -> Queue {
        queues::create_queue(&self.client, name, attrs).await
    }

    /// The queue `name` and its dead-letter queue `name-dlq` on this SQS, as the test kit
    /// makes them (`weir::test::TestQueue`): SQS's own redrive waits for 1 000 receives,
    /// so every dead letter the tests see is the worker's.
    pub async fn with_dlq(&self, name: &str) -> (Queue, Queue) {
        let kit = TestQueue::with_spec(self.local.clone(), QueueSpec::standard(name))
            .await
            .unwrap();
        (kit.queue().clone(), kit.dlq().clone())
    }

    /// Creates the FIFO queue `name` (without content-based deduplication).
    pub async fn fifo(&self, name: &str) -> Queue {
        self.queue(name, queues::FIFO).await
    }

    /// Sends `bodies` in batches of 10.
    pub async fn send(&self, queue: &Queue, bodies: impl IntoIterator<Item = String>) {
        queues::send(&self.client, queue.url(), bodies).await;
    }

    /// Sends `(body, group)` pairs in batches of 10 (FIFO when a group is given).
    pub async fn send_grouped(
        &self,
        queue: &Queue,
        items: impl IntoIterator<Item = (String, Option<String>)>,
    ) {
        queues::send_grouped(&self.client, queue.url(), items).await;
    }

    /// (visible, not visible, delayed) counts.
    pub async fn counts(&self, url: &str) -> (u64, u64, u64) {
        queues::counts(&self.client, url).await
    }

    /// Receives everything visible (short polls) and returns the messages.
    pub async fn drain(&self, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        queues::drain(&self.client, url, Duration::ZERO).await
    }

    /// A client of this SQS that counts its requests by operation.
    pub fn counted(&self) -> (Client, RequestCounter) {
        RequestCounter::attach(&self.client)
    }

    /// `queue` reached through `client`.
    pub async fn reopen(&self, client: &Client, queue: &Queue) -> Queue {
        Queue::from_url(client, queue.url()).await.unwrap()
    }
}
