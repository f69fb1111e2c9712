//! The weir worker runtime: poll, process and ack SQS messages at a controlled rate,
//! without losing any.
//!
//! A [`Worker`] receives only as many messages as it has free slots, after the rate
//! limiter grants them, runs a handler (a `tower::Service<Message<T>>`) on each, and
//! turns every outcome into an SQS action. Every message it receives ends acked,
//! retried, dead-lettered or released: on success, on failure, on panic, at shutdown,
//! and when the process dies (SQS redelivers it after its visibility timeout).
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use weir_worker::{handler_fn, DeadLetter, HandlerError, Message, Worker};
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Order { id: u64 }
//!
//! # async fn demo(client: aws_sdk_sqs::Client) -> Result<(), Box<dyn std::error::Error>> {
//! let queue = weir_sqs::Queue::open(&client, "orders").await?;
//! let dlq = weir_sqs::Queue::open(&client, "orders-dlq").await?;
//! let worker = Worker::builder(queue)
//!     .handler(handler_fn(|msg: Message<Order>| async move {
//!         let order = msg.body().map_err(|e| HandlerError::reject(e.to_string()))?;
//!         if order.id == 0 {
//!             return Err(HandlerError::reject("order 0 does not exist"));
//!         }
//!         Ok(())
//!     }))
//!     .concurrency(64)
//!     .dead_letter(&dlq)
//!     .shutdown_timeout(Duration::from_secs(20))
//!     .build()?;
//! let health = worker.handle(); // for /healthz
//! let report = worker
//!     .run_until(async { let _ = tokio::time::sleep(Duration::from_secs(60)).await; })
//!     .await;
//! println!("acked {}, retried {}, dead-lettered {}", report.acked, report.retried, report.dead_lettered);
//! # let _ = health;
//! # Ok(()) }
//! ```
//!
//! # The message path
//!
//! ```text
//!  slots (concurrency) ─► rate limiter ─► pollers × k: ReceiveMessage(min(10, free slots))
//!                                              │ decode (Codec)
//!                                              ▼
//!  dispatcher: waits for the service to be ready; FIFO: one message per group at a time
//!                                              │
//!  handler: inline if it finishes at once, else its own task; panics caught;
//!  lease task keeps waiting and running messages invisible (ChangeMessageVisibilityBatch),
//!  and cancels the handler when an extension fails
//!                                              │
//!    ├─ Ok ────────────────────► ack buffer ─► DeleteMessageBatch (≤ 10 entries, ≤ 50 ms;
//!    │                             the lease holds until the delete completes, failed
//!    │                             deletes are retried with backoff while it holds)
//!    ├─ retry / other error ───► ChangeMessageVisibility(backoff(receive count))
//!    ├─ panic ─────────────────► same as retry
//!    ├─ reject / undecodable ──► SendMessage(DLQ, weir.dlq.* attributes) ─► then delete
//!    ├─ max attempts reached ──► same as reject
//!    └─ lease lost ────────────► nothing: SQS delivers it again
//!  FIFO: a failure releases the rest of its group in hand (visibility 0), so order holds.
//! ```
//!
//! A message keeps its lease (its visibility is extended) until its delete completes,
//! so a delete that waits in the buffer, is retried, or is slow does not let the
//! message reappear. A delete that completes after the visibility deadline anyway is
//! counted in [`WorkerReport::possible_duplicates`], and failing deletes make the
//! worker not ready ([`Health::ready`]) until one succeeds.
//!
//! Without a dead-letter queue, rejected and undecodable messages are retried with
//! backoff and the queue's redrive policy is the safety net; the worker logs which
//! applies when it starts.
//!
//! # Shutdown
//!
//! [`Worker::run_until`] (or a [`ShutdownHandle`]) stops polling, releases the
//! messages that have not started, waits for running handlers up to the shutdown
//! timeout, flushes the acks, then cancels and releases what is left. The
//! [`WorkerReport`] counts each phase. A long poll in flight at shutdown gets a short
//! grace period to complete (its messages are released); after it, the poll is dropped,
//! and a response SQS may already have sent is lost to this process: those messages
//! reappear after their visibility timeout (delayed, never lost).
//!
//! # Observability
//!
//! Spans and events through `tracing` (no message bodies are logged), counters and
//! histograms through `metrics` (all labelled `queue`): `weir_worker_received_total`,
//! `weir_worker_processed_total`, `weir_worker_acked_total`, `weir_worker_retried_total`,
//! `weir_worker_dead_lettered_total`, `weir_worker_released_total`,
//! `weir_worker_lease_extensions_total`, `weir_worker_leases_lost_total`,
//! `weir_worker_possible_duplicates_total`, `weir_worker_empty_polls_total`,
//! `weir_worker_poll_errors_total`, `weir_worker_sqs_requests_total` (label
//! `operation`), the gauge `weir_worker_in_flight` (messages held: running, waiting to
//! start, or waiting for their ack), and the histograms
//! `weir_worker_handler_seconds` and `weir_worker_receive_to_ack_seconds`.
//! [`WorkerHandle::health`] serves a `/healthz` endpoint; [`WorkerHandle::pause`] and
//! [`WorkerHandle::resume`] stop and restart polling at runtime.
//!
//! # Several queues
//!
//! Run one worker per queue; open the queues with one `aws_sdk_sqs::Client` (cloning it
//! shares its connection pool), and clone one `RateLimiter` into several workers to
//! share a budget.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
mod engine;
mod error;
mod handler;
mod health;
mod report;
mod retry;
mod router;
mod worker;

pub use async_trait::async_trait;
pub use config::{AckBatching, DeadLetter, Lease};
pub use engine::outcome::dlq_attributes;
pub use error::BuildError;
pub use handler::{
    Action, BoxError, Handler, HandlerError, HandlerFn, HandlerService, current_cancellation,
    handler_fn, handler_service,
};
pub use health::{Health, ShutdownHandle, WorkerHandle};
pub use report::WorkerReport;
pub use retry::{MAX_VISIBILITY, RetryPolicy};
pub use router::Router;
pub use weir_middleware::RateLimiter;
pub use weir_sqs::Message;
pub use worker::{MAX_CONCURRENCY, MAX_POLLERS, Worker, WorkerBuilder};
