//! An adaptive rate limit (AIMD): it halves the rate when the wrapped service reports
//! throttling or overload, and adds back a fixed step while calls succeed.
//!
//! [`AdaptiveRateLimiter`] is the shared controller: it owns a [`RateLimiter`](crate::RateLimiter) and moves its
//! rate between a minimum and a maximum. [`AdaptiveRateLimitLayer`] applies it to a service
//! and feeds it the service's outcomes; a
//! [`BackpressureLayer`](crate::backpressure::BackpressureLayer) can also lower it.
//!
//! ```text
//!  rate
//!   max ┤────╮          ╭───── additive increase: + step every interval of success
//!       │    ╰─╮    ╭───╯
//!       │      ╰────╯        multiplicative decrease: × factor on throttling,
//!   min ┤                    at most once per cooldown
//! ```

mod controller;
mod future;
mod layer;
mod service;

pub use controller::{AdaptiveBuildError, AdaptiveRateLimiter, AdaptiveRateLimiterBuilder};
pub use future::ResponseFuture;
pub use layer::AdaptiveRateLimitLayer;
pub use service::AdaptiveRateLimit;
