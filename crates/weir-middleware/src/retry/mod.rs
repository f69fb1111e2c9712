//! Retries with exponential backoff and jitter, bounded by attempts, elapsed time and a
//! shared retry budget.
//!
//! [`RetryPolicy`] implements [`tower::retry::Policy`]; [`RetryLayer`] builds
//! `tower::retry::Retry<RetryPolicy, S>` (aliased [`Retry`]).
//!
//! # Requests must be `Clone`
//!
//! A retry sends the request again, so the policy clones every request before the first
//! attempt. Keep requests cheap to clone (an `Arc`, `Bytes`, a small struct).
//!
//! # Errors must be [`BoxError`](crate::BoxError)
//!
//! The policy classifies `BoxError`s: put the retry layer above layers that return
//! `BoxError` (every weir layer does), or map the inner error with
//! `ServiceBuilder::map_err(Into::into)`.
//!
//! # Which errors are retried
//!
//! Those the predicate accepts: [`is_retryable`](crate::classify::is_retryable) by default.
//! When the error says how long to wait ([`retry_after`](crate::classify::retry_after),
//! for example SQS's `Retry-After`), that wait replaces the backoff's.

mod layer;
mod policy;

pub use layer::{Retry, RetryLayer};
pub use policy::{RetryBuildError, RetryPolicy, RetryPolicyBuilder};

#[cfg(test)]
mod tests;
