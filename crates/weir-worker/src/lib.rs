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
//! Each step is a file of this crate:
//!
//! ```text
//!  receive.rs   pollers × k: slots (concurrency) ─► rate limit ─► ReceiveMessage(min(10, free))
//!               ─► decode (codec.rs: a panicking decoder is a decode error)
//!  lease/       the batch's leases registered in one go; lease/extend.rs keeps held
//!               messages invisible (ChangeMessageVisibilityBatch) and fires a message's
//!               token when its lease is lost
//!  start.rs     poll_ready + call on the poller's own clone of the handler
//!  fifo.rs      (FIFO) one message per group at a time, groups in parallel, on the
//!               scheduler's own clone
//!  run.rs       one task per call: panics caught, the token and the handler timeout
//!               watched ─► an Outcome
//!  settle/      the outcome's SQS action:
//!    ack.rs          Ok ─► DeleteMessageBatch (10 entries or the interval; failed
//!                    entries retried while the lease holds)
//!    retry.rs        an error, a panic ─► ChangeMessageVisibility(backoff(receive count))
//!    dead_letter.rs  reject, undecodable, max attempts ─► SendMessage(DLQ, a copy that
//!                    always fits, weir.dlq.*) ─► then delete
//!    release.rs      shutdown, the rest of a failed FIFO group ─► visibility 0
//!  shutdown.rs  the five phases, each bounded in time
//! ```
//!
//! Every SQS call goes through weir-sqs (`Consumer::receive`, `Queue::delete_batch_once`,
//! `Queue::change_visibility_batch_once`, `Queue::send_raw`), traced, and bounded by the
//! [request timeout](WorkerBuilder::request_timeout).
//!
//! A message keeps its lease until its delete completes, so a delete that waits in the
//! buffer, is retried, or is slow does not let the message reappear. A delete that
//! completes after the visibility deadline anyway is counted in
//! [`WorkerReport::possible_duplicates`], and failing deletes make the worker not ready
//! ([`Health::ready`]) until one succeeds. An extension never undoes a retry's backoff
//! or a release: a message whose visibility is about to change is taken from the
//! extension first, after any extension in flight landed.
//!
//! Without a dead-letter queue, rejected and undecodable messages are retried with
//! backoff and the queue's redrive policy is the safety net; the worker logs which
//! applies when it starts.
//!
//! # Handlers and layers
//!
//! A handler is any `tower::Service<Message<T>>` that is `Clone`; each poller owns a
//! clone (as axum clones per connection), and `poll_ready` and `call` always happen on
//! the same clone. [`WorkerBuilder::layer`] wraps it in any tower layer:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let client = weir_local::LocalSqs::new().client();
//! # let queue = weir_sqs::QueueSpec::standard("layered").ensure(&client).await?.queue;
//! use std::time::Duration;
//! use weir_middleware::{RetryLayer, InPlaceRetry, TimeoutLayer, TraceLayer};
//! use weir_worker::{handler_fn, HandlerError, Message, Worker};
//!
//! let worker = Worker::builder(queue)
//!     .layer(TraceLayer::new())
//!     .layer(TimeoutLayer::new("handler", Duration::from_secs(25)))
//!     .layer(RetryLayer::new(InPlaceRetry::builder().max_attempts(3).build()?))
//!     .layer(tower::limit::ConcurrencyLimitLayer::new(16))
//!     .handler(handler_fn(|msg: Message<u64>| async move {
//!         // Long work watches msg.cancellation(); it fires on timeout, lease loss, shutdown.
//!         let _id = msg.body().map_err(|e| HandlerError::reject(e.to_string()))?;
//!         Ok::<_, HandlerError>(())
//!     }))
//!     .build()?;
//! # drop(worker); Ok(()) }
//! ```
//!
//! What a failure means is decided once, by [`weir_middleware::classify`], for the
//! retry layer and the worker alike: a [`HandlerError`] says it itself; a non-retryable
//! `weir_sqs::Error` anywhere in the error's chain (a `PayloadTooLarge` from a producer
//! inside the handler, say) is a reject; a retryable one, a timeout or a connection
//! error is a retry; any other error is retried through the message's visibility.
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
//! [`WorkerHandle::health`] gives what a `/healthz` or `/readyz` endpoint reports (weir
//! serves no HTTP itself: the `health` example serves both with axum in a few lines);
//! [`WorkerHandle::pause`] and [`WorkerHandle::resume`] stop and restart polling at
//! runtime. A panic outside the handler (a bug in weir) is caught and reported: the
//! worker is then neither live nor ready, shuts down, and its report's
//! [`stopped`](WorkerReport::stopped) says why.
//!
//! # Several queues
//!
//! Run one worker per queue; open the queues with one `aws_sdk_sqs::Client` (cloning it
//! shares its connection pool), and clone one `RateLimiter` into several workers to
//! share a budget. An `AdaptiveRateLimiter` given to
//! [`rate_limit`](WorkerBuilder::rate_limit) lowers the receive rate when handlers
//! report throttling or time out, and raises it again as they succeed.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod builder;
mod calls;
mod codec;
mod config;
mod context;
mod error;
mod fifo;
mod handler;
mod health;
mod lease;
mod limit;
mod receive;
mod report;
mod retry;
mod router;
mod run;
mod settings;
mod settle;
mod shutdown;
mod slots;
mod start;
mod worker;

pub use async_trait::async_trait;
pub use builder::{NoHandler, WorkerBuilder};
pub use config::{AckBatching, DeadLetter, Lease};
pub use error::BuildError;
pub use handler::{
    Action, BoxError, Handler, HandlerError, HandlerFn, HandlerService, current_cancellation,
    handler_fn, handler_service,
};
pub use health::{Health, ShutdownHandle, WorkerHandle};
pub use limit::ReceiveLimit;
pub use report::{StopReason, WorkerReport};
pub use retry::{MAX_VISIBILITY, RetryPolicy};
pub use router::Router;
pub use settings::{MAX_CONCURRENCY, MAX_POLLERS};
pub use settle::dead_letter::dlq_attributes;
pub use weir_middleware::{AdaptiveRateLimiter, RateLimiter};
pub use weir_sqs::Message;
pub use worker::Worker;
