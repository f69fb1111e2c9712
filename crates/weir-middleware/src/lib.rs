//! Tower middleware for services that send or handle SQS messages.
//!
//! A shared rate limit, producer back pressure from queue depth, retries with backoff,
//! timeouts that cancel, and tracing with the OpenTelemetry messaging conventions.
//!
//! | piece | what it does |
//! |---|---|
//! | [`RateLimiter`], [`RateLimitLayer`] | one GCRA budget per process (clones share it), in permits per second with a burst; `acquire(n)` for a worker about to receive `n` messages |
//! | [`AdaptiveRateLimiter`], [`AdaptiveRateLimitLayer`] | AIMD: halves the rate on throttling, adds back a step per interval of success, within `[min, max]` |
//! | [`DepthMonitor`], [`BackpressureLayer`] | one `GetQueueAttributes` sampler per process; producers wait, fail fast with [`Backpressure`], or slow down above a high watermark, until the depth falls to a low one |
//! | [`InPlaceRetry`], [`RetryLayer`] | exponential backoff with jitter, max attempts, max elapsed time, a shared retry budget, `Retry-After` honoured |
//! | [`TimeoutLayer`] | fails with a named [`Elapsed`](timeout::Elapsed) and cancels the request's [`CancellationToken`](tokio_util::sync::CancellationToken) |
//! | [`TraceLayer`] | a span per message with `messaging.*` fields and the parent trace context |
//! | [`classify`], [`HandlerError`](classify::HandlerError) | the one classification of failures, shared with weir-worker: [`action`](classify::action) (retry, retry after, reject), and the predicates [`is_retryable`](classify::is_retryable), [`is_throttling`](classify::is_throttling), [`retry_after`](classify::retry_after) |
//!
//! Every layer reads time from `tokio::time`, so tests under `tokio::time::pause()` run
//! them in virtual time. Layers with errors of their own return [`BoxError`]; downcast it.
//!
//! # Order
//!
//! Layers listed first wrap the ones after them (`ServiceBuilder` order). For a message
//! handler:
//!
//! ```text
//! TraceLayer            one span per message, covering every attempt; records the final outcome
//!  └ TimeoutLayer       "handler": the whole handling, retries included, within the lease;
//!                        cancels the message's token when it fires
//!     └ RetryLayer      quick in-process retries of transient failures
//!        └ TimeoutLayer "attempt" (optional): one attempt; its Elapsed is retryable
//!           └ AdaptiveRateLimitLayer / RateLimitLayer: each attempt takes a permit and
//!              reports throttling, so retries count against the rate
//!              └ your handler
//! ```
//!
//! Swapping `TraceLayer` and `RetryLayer` gives one span per attempt instead of per
//! message; putting the timeout inside the retry bounds each attempt, not the message.
//! For a producer:
//!
//! ```text
//! BackpressureLayer     outermost: waiting for the queue to drain holds no rate permit
//!  └ RetryLayer
//!     └ AdaptiveRateLimitLayer / RateLimitLayer
//!        └ the send
//! ```
//!
//! A request that passes through all of them must be `Clone` (retries),
//! [`Cancellable`] (timeouts) and [`MessageMeta`] (tracing): [`WithCancellation<T>`] is
//! `Cancellable` and forwards `MessageMeta` to `T`.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use tokio_util::sync::CancellationToken;
//! use tower::{ServiceBuilder, ServiceExt};
//! use weir_middleware::{
//!     BoxError, MessageMeta, RateLimitLayer, RateLimiter, RetryLayer, InPlaceRetry,
//!     TimeoutLayer, TraceLayer, WithCancellation,
//! };
//!
//! #[derive(Clone)]
//! struct Order {
//!     message_id: String,
//!     total: u64,
//! }
//!
//! impl MessageMeta for Order {
//!     fn message_id(&self) -> Option<&str> {
//!         Some(&self.message_id)
//!     }
//!     fn queue_name(&self) -> Option<&str> {
//!         Some("orders")
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! // One limiter for the whole process; the worker also calls limiter.acquire(n).
//! let limiter = RateLimiter::builder().per_second(100.0).burst(10).build()?;
//! let handler = ServiceBuilder::new()
//!     .layer(TraceLayer::new())
//!     .layer(TimeoutLayer::new("handler", Duration::from_secs(25)))
//!     .layer(RetryLayer::new(InPlaceRetry::builder().max_attempts(3).build()?))
//!     .layer(RateLimitLayer::new(limiter.clone()))
//!     .service_fn(|msg: WithCancellation<Order>| async move {
//!         // Long work selects on msg.token.cancelled().
//!         Ok::<u64, BoxError>(msg.request.total)
//!     });
//!
//! let shutdown = CancellationToken::new();
//! let order = Order { message_id: "m-1".into(), total: 42 };
//! let out = handler
//!     .oneshot(WithCancellation::new(order, shutdown.child_token()))
//!     .await?;
//! assert_eq!(out, 42);
//! # Ok(())
//! # }
//! ```
//!
//! # Around a worker
//!
//! The same order around a weir-worker handler, on the in-process SQS. The worker's
//! `Message<T>` is `Clone`, `Cancellable` and `MessageMeta`, so it needs no wrapper, and
//! the worker reads a rejection the way `RetryLayer` does: a reject is never retried
//! in process, and goes to the dead-letter queue.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use weir_middleware::{RateLimitLayer, RateLimiter, RetryLayer, InPlaceRetry, TimeoutLayer, TraceLayer};
//! use weir_worker::{handler_fn, HandlerError, Message, Worker};
//!
//! let client = weir_local::LocalSqs::new().client();
//! let topology = weir_sqs::QueueSpec::standard("orders").dead_letter(5).ensure(&client).await?;
//! let dlq = topology.dlq.clone().ok_or("declared")?;
//! let producer: weir_sqs::Producer<u64> = weir_sqs::Producer::new(topology.queue.clone());
//! for r in producer.send_batch(&[1, 2, 0]).await {
//!     r?;
//! }
//! let worker = Worker::builder(topology.queue.clone())
//!     .layer(TraceLayer::new())
//!     .layer(TimeoutLayer::new("handler", Duration::from_secs(25)))
//!     .layer(RetryLayer::new(InPlaceRetry::builder().max_attempts(3).build()?))
//!     .layer(RateLimitLayer::new(RateLimiter::new(100.0, 10)?))
//!     .handler(handler_fn(|msg: Message<u64>| async move {
//!         match msg.body() {
//!             Ok(0) | Err(_) => Err(HandlerError::reject("no such order")),
//!             Ok(_) => Ok(()),
//!         }
//!     }))
//!     .dead_letter(&dlq)
//!     .wait_time(Duration::from_secs(1))
//!     .build()?;
//! let report = worker.run_until(tokio::time::sleep(Duration::from_secs(3))).await;
//! assert_eq!((report.succeeded, report.dead_lettered, report.retried), (2, 1, 0));
//! # Ok(())
//! # }
//! ```
//!
//! # Supported Rust versions
//!
//! The workspace's `rust-version` (that of aws-sdk-sqs).

pub mod adaptive;
pub mod backpressure;
pub mod classify;
mod clock;
mod limiter;
#[cfg(feature = "otel")]
pub mod otel;
pub mod rate_limit;
pub mod retry;
pub mod timeout;
pub mod trace;

pub use adaptive::{AdaptiveRateLimitLayer, AdaptiveRateLimiter};
pub use backpressure::{Backpressure, BackpressureLayer, BackpressurePolicy, DepthMonitor};
pub use clock::TokioClock;
pub use limiter::{
    AcquireError, MAX_RATE_PER_SECOND, RateLimiter, RateLimiterBuildError, RateLimiterBuilder,
};
pub use rate_limit::{RateLimit, RateLimitLayer};
pub use retry::{InPlaceRetry, RetryLayer};
pub use timeout::{Cancellable, TimeoutLayer, WithCancellation};
pub use trace::{MessageMeta, TraceLayer};

/// The error type layers return: callers downcast it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
