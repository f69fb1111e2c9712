#![doc = include_str!("../README.md")]

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
