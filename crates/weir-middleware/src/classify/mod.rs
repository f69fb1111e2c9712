//! Error classification: the one rule that says what a failure means, shared by the
//! retry, adaptive and trace layers and by the worker.
//!
//! [`action`] walks an error and its [`source`](std::error::Error::source) chain, and the
//! first error it knows decides:
//!
//! | error | [`action`] | [`is_throttling`] |
//! |---|---|---|
//! | [`HandlerError`] | its own: `retry`, `retry_after(d)`, `throttled` → [`Action::Retry`]; `reject` → [`Action::Reject`] | for `throttled` |
//! | [`weir_sqs::Error`] / [`weir_sqs::error::SqsError`] | retryable (throttling, 5xx, timeouts, connection errors) → `Retry` with its `retry_after`; any other (`PayloadTooLarge`, `InvalidInput`, `QueueNotFound`, a 4xx) → `Reject` | SQS throttling |
//! | [`Elapsed`] (our timeout), [`tokio::time::error::Elapsed`] | `Retry` | no |
//! | [`Backpressure`] | `Retry` | yes (overload) |
//! | [`std::io::Error`] of kind `TimedOut`, `ConnectionReset`, `ConnectionAborted`, `ConnectionRefused`, `Interrupted` | `Retry` | no |
//! | anything else | `None`: unknown | no |
//!
//! What the two retriers do with an unknown error differs on purpose: a
//! [`RetryLayer`](crate::RetryLayer) retries in process only what is known to be
//! transient ([`is_retryable`]), while a worker retries an unknown failure through the
//! message's visibility (it survives a crash, and `max_attempts` ends it). Neither ever
//! retries a `Reject`, and both wait `retry_after` when the error gives one.
//!
//! To classify your own errors, wrap them in a [`HandlerError`], or give a layer an
//! [`ErrorPredicate`] of your own, which may fall back to these.

mod handler_error;

pub use handler_error::{Action, HandlerError};

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::backpressure::Backpressure;
use crate::timeout::Elapsed;

/// A borrowed error, as layers see it.
pub type ErrorRef<'a> = &'a (dyn StdError + 'static);

/// What the error means, by the first error in its chain that says: see the
/// [module docs](self) for the table. `None` for an error nothing in the table knows.
///
/// # Examples
///
/// ```
/// use weir_middleware::classify::{action, Action, HandlerError};
///
/// let err = std::io::Error::from(std::io::ErrorKind::TimedOut);
/// assert_eq!(action(&err), Some(Action::Retry { after: None }));
/// let err = HandlerError::reject("unknown customer");
/// assert_eq!(action(&err), Some(Action::Reject));
/// let err = std::io::Error::from(std::io::ErrorKind::InvalidData);
/// assert_eq!(action(&err), None);
/// ```
#[must_use]
pub fn action(err: ErrorRef<'_>) -> Option<Action> {
    chain(err).find_map(known_action)
}

/// The action of one error, without looking at its sources.
fn known_action(e: ErrorRef<'_>) -> Option<Action> {
    if let Some(h) = e.downcast_ref::<HandlerError>() {
        return Some(h.action());
    }
    if let Some(e) = e.downcast_ref::<weir_sqs::Error>() {
        return Some(if e.is_retryable() {
            Action::Retry {
                after: e.retry_after(),
            }
        } else {
            Action::Reject
        });
    }
    if let Some(e) = e.downcast_ref::<weir_sqs::error::SqsError>() {
        return Some(if e.is_retryable() {
            Action::Retry {
                after: e.retry_after(),
            }
        } else {
            Action::Reject
        });
    }
    if e.is::<Elapsed>() || e.is::<Backpressure>() || e.is::<tokio::time::error::Elapsed>() {
        return Some(Action::Retry { after: None });
    }
    let transient = e.downcast_ref::<std::io::Error>().is_some_and(|e| {
        use std::io::ErrorKind::{
            ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted, TimedOut,
        };
        matches!(
            e.kind(),
            TimedOut | ConnectionReset | ConnectionAborted | ConnectionRefused | Interrupted
        )
    });
    transient.then_some(Action::Retry { after: None })
}

/// Whether trying again later may succeed: [`action`] says [`Action::Retry`].
///
/// # Examples
///
/// ```
/// use weir_middleware::classify::is_retryable;
///
/// let err = std::io::Error::from(std::io::ErrorKind::TimedOut);
/// assert!(is_retryable(&err));
/// let err = std::io::Error::from(std::io::ErrorKind::InvalidData);
/// assert!(!is_retryable(&err));
/// ```
#[must_use]
pub fn is_retryable(err: ErrorRef<'_>) -> bool {
    matches!(action(err), Some(Action::Retry { .. }))
}

/// Whether the error says "slow down": SQS throttling, a [`HandlerError::throttled`], or
/// our own [`Backpressure`].
///
/// # Examples
///
/// ```
/// use weir_middleware::classify::{is_throttling, HandlerError};
///
/// let err = std::io::Error::from(std::io::ErrorKind::TimedOut);
/// assert!(!is_throttling(&err));
/// assert!(is_throttling(&HandlerError::throttled("429")));
/// ```
#[must_use]
pub fn is_throttling(err: ErrorRef<'_>) -> bool {
    chain(err).any(|e| {
        if let Some(h) = e.downcast_ref::<HandlerError>() {
            return h.is_throttled();
        }
        if let Some(e) = e.downcast_ref::<weir_sqs::Error>() {
            return matches!(e, weir_sqs::Error::Sqs(s) if s.is_throttling());
        }
        if let Some(e) = e.downcast_ref::<weir_sqs::error::SqsError>() {
            return e.is_throttling();
        }
        e.is::<Backpressure>()
    })
}

/// The wait the error asks for ([`Action::Retry`]'s `after`: a handler's `retry_after`,
/// SQS's `Retry-After`), if it asks for one.
#[must_use]
pub fn retry_after(err: ErrorRef<'_>) -> Option<Duration> {
    match action(err) {
        Some(Action::Retry { after }) => after,
        _ => None,
    }
}

/// A short, stable name for the kind of error, for the `error.type` span field.
///
/// `"timeout"`, `"backpressure"`, the SQS error code when there is one, `"sqs"` for other
/// weir-sqs errors, otherwise `"_OTHER"` (the OpenTelemetry fallback).
#[must_use]
pub fn error_type(err: ErrorRef<'_>) -> String {
    for e in chain(err) {
        if e.is::<Elapsed>() || e.is::<tokio::time::error::Elapsed>() {
            return "timeout".to_owned();
        }
        if e.is::<Backpressure>() {
            return "backpressure".to_owned();
        }
        if let Some(e) = e.downcast_ref::<weir_sqs::Error>() {
            return e.code().unwrap_or("sqs").to_owned();
        }
        if let Some(e) = e.downcast_ref::<weir_sqs::error::SqsError>() {
            return e.code().unwrap_or("sqs").to_owned();
        }
    }
    "_OTHER".to_owned()
}

fn chain<'a>(err: ErrorRef<'a>) -> impl Iterator<Item = ErrorRef<'a>> {
    std::iter::successors(Some(err), |e: &ErrorRef<'a>| {
        let e: ErrorRef<'a> = *e;
        e.source()
    })
}

/// A shareable test on errors: which errors to retry, which mean throttling.
///
/// # Examples
///
/// ```
/// use weir_middleware::classify::{ErrorPredicate, is_retryable};
///
/// // Retry what the default retries, plus any error whose message says "try again".
/// let predicate = ErrorPredicate::new(|e| is_retryable(e) || e.to_string().contains("try again"));
/// let err: Box<dyn std::error::Error + Send + Sync> = "please try again".into();
/// assert!(predicate.matches(&*err));
/// ```
#[derive(Clone)]
pub struct ErrorPredicate {
    f: Arc<dyn Fn(ErrorRef<'_>) -> bool + Send + Sync>,
    name: &'static str,
}

impl ErrorPredicate {
    /// A predicate from a function.
    pub fn new<F>(f: F) -> Self
    where
        F: Fn(ErrorRef<'_>) -> bool + Send + Sync + 'static,
    {
        Self {
            f: Arc::new(f),
            name: std::any::type_name::<F>(),
        }
    }

    /// [`is_retryable`]: the retry layer's default.
    #[must_use]
    pub fn retryable() -> Self {
        Self {
            f: Arc::new(is_retryable),
            name: "is_retryable",
        }
    }

    /// [`is_throttling`]: the adaptive limiter's default.
    #[must_use]
    pub fn throttling() -> Self {
        Self {
            f: Arc::new(is_throttling),
            name: "is_throttling",
        }
    }

    /// Whether `err` matches.
    #[must_use]
    pub fn matches(&self, err: ErrorRef<'_>) -> bool {
        (self.f)(err)
    }
}

impl fmt::Debug for ErrorPredicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ErrorPredicate").field(&self.name).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoxError;
    use weir_sqs::error::{SqsError, SqsErrorKind};

    fn sqs(code: &str, status: u16) -> weir_sqs::Error {
        weir_sqs::Error::Sqs(SqsError::new(
            "SendMessage",
            SqsErrorKind::Service,
            Some(code.to_owned()),
            None,
            Some(status),
        ))
    }

    #[test]
    fn sqs_throttling_is_retryable_and_throttling() {
        let err: BoxError = Box::new(sqs("ThrottlingException", 400));
        assert!(is_retryable(&*err));
        assert!(is_throttling(&*err));
        assert_eq!(error_type(&*err), "ThrottlingException");
    }

    #[test]
    fn sqs_client_error_is_neither() {
        let err: BoxError = Box::new(sqs("InvalidParameterValue", 400));
        assert!(!is_retryable(&*err));
        assert!(!is_throttling(&*err));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("wrapped")]
    struct Wrapper(#[source] HandlerError);

    #[test]
    fn handler_errors_are_found_through_sources() {
        let e = Wrapper(HandlerError::retry_after(Duration::from_secs(3), "later"));
        assert_eq!(
            action(&e),
            Some(Action::Retry {
                after: Some(Duration::from_secs(3))
            })
        );
        assert_eq!(retry_after(&e), Some(Duration::from_secs(3)));
        let e = Wrapper(HandlerError::reject(sqs("ThrottlingException", 400)));
        assert_eq!(action(&e), Some(Action::Reject), "the outer error decides");
        assert!(!is_retryable(&e));
    }

    #[test]
    fn non_retryable_sqs_errors_are_rejects() {
        let too_big = weir_sqs::Error::PayloadTooLarge(weir_sqs::error::PayloadTooLarge::new(
            "message", 1_048_576, 2_000_000,
        ));
        let err: BoxError = Box::new(too_big);
        assert_eq!(action(&*err), Some(Action::Reject));
        let err: BoxError = Box::new(sqs("ServiceUnavailable", 503));
        assert!(matches!(action(&*err), Some(Action::Retry { .. })));
    }

    #[test]
    fn unknown_errors_are_not_retried() {
        let err: BoxError = "boom".into();
        assert!(!is_retryable(&*err));
        assert_eq!(action(&*err), None);
        assert_eq!(error_type(&*err), "_OTHER");
    }
}
