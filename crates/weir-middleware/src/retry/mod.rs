//! Retries with exponential backoff and jitter, bounded by attempts, elapsed time and a
//! shared retry budget.
//!
//! [`InPlaceRetry`] implements [`tower::retry::Policy`]; [`RetryLayer`] builds
//! `tower::retry::Retry<InPlaceRetry, S>` (aliased [`Retry`]).
//!
//! # Requests must be `Clone`
//!
//! A retry sends the request again, so the policy clones every request before the first
//! attempt. Keep requests cheap to clone (an `Arc`, `Bytes`, a small struct).
//!
//! # Errors
//!
//! The inner service's error may be any error that converts into
//! [`BoxError`](crate::BoxError) ([`HandlerError`](crate::classify::HandlerError),
//! `weir_sqs::Error`, `std::io::Error`, ...): the layer boxes it before the policy reads
//! it, and the retried service returns `BoxError`.
//!
//! # Which errors are retried
//!
//! Those the predicate accepts: [`is_retryable`](crate::classify::is_retryable) by default,
//! the [one classification](crate::classify) the worker uses too. An error whose
//! [`action`](crate::classify::action) is `Reject` is never retried, whatever the
//! predicate says. When the error says how long to wait
//! ([`retry_after`](crate::classify::retry_after): a `HandlerError::retry_after`, SQS's
//! `Retry-After`), that wait replaces the backoff's.

mod boxed;
mod layer;
mod policy;

pub use boxed::BoxErrors;
pub use layer::{Retry, RetryLayer};
pub use policy::{InPlaceRetry, InPlaceRetryBuilder, RetryBuildError};

#[cfg(test)]
mod tests;
