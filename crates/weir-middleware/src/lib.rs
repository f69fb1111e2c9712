//! Tower middleware for services that send or handle SQS messages.
//!
//! A shared rate limit, producer back pressure from queue depth, retries with backoff,
//! timeouts that cancel, and tracing with the OpenTelemetry messaging conventions.

mod clock;
mod limiter;
pub mod rate_limit;

pub use clock::TokioClock;
pub use limiter::{AcquireError, BuildError, MAX_RATE_PER_SECOND, RateLimiter, RateLimiterBuilder};
pub use rate_limit::{RateLimit, RateLimitLayer};

/// The error type layers return: callers downcast it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
