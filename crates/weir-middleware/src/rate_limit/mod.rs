//! A tower layer over a shared [`RateLimiter`](crate::RateLimiter).
//!
//! Unlike `tower::limit::RateLimit`, whose budget lives in each service instance (so N
//! clones get N× the rate), every [`RateLimit`] built from one limiter draws from the same
//! budget. Each call takes one permit; to take `n` permits (one per message received), call
//! [`RateLimiter::acquire`](crate::RateLimiter::acquire) directly.

mod layer;
mod service;

pub use layer::RateLimitLayer;
pub use service::RateLimit;
