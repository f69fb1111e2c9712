//! Error classification: the default predicates of the retry, adaptive and trace layers.
//!
//! Layers return [`BoxError`](crate::BoxError); these functions downcast it (and every
//! error in its [`source`](std::error::Error::source) chain) to the types they know:
//!
//! | error | [`is_retryable`] | [`is_throttling`] | [`retry_after`] |
//! |---|---|---|---|
//! | [`weir_sqs::Error`] / [`weir_sqs::error::SqsError`] | its `is_retryable()` | its `is_throttling()` | its `retry_after()` |
//! | [`Elapsed`] (our timeout) | yes | no | no |
//! | [`Backpressure`] | yes | yes (overload) | no |
//! | [`tokio::time::error::Elapsed`] | yes | no | no |
//! | [`std::io::Error`] of kind `TimedOut`, `ConnectionReset`, `ConnectionAborted`, `ConnectionRefused`, `Interrupted` | yes | no | no |
//! | anything else | no | no | no |
//!
//! To classify your own errors, give the layer an [`ErrorPredicate`] of your own, which
//! may fall back to these.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::backpressure::Backpressure;
use crate::timeout::Elapsed;

/// A borrowed error, as layers see it.
pub type ErrorRef<'a> = &'a (dyn StdError + 'static);

/// Whether trying again later may succeed. See the [module docs](self) for the table.
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
    chain(err).any(|e| {
        if let Some(e) = e.downcast_ref::<weir_sqs::Error>() {
            return e.is_retryable();
        }
        if let Some(e) = e.downcast_ref::<weir_sqs::error::SqsError>() {
            return e.is_retryable();
        }
        if e.is::<Elapsed>() || e.is::<Backpressure>() || e.is::<tokio::time::error::Elapsed>() {
            return true;
        }
        e.downcast_ref::<std::io::Error>().is_some_and(|e| {
            use std::io::ErrorKind::{
                ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted, TimedOut,
            };
            matches!(
                e.kind(),
                TimedOut | ConnectionReset | ConnectionAborted | ConnectionRefused | Interrupted
            )
        })
    })
}

/// Whether the error says "slow down": SQS throttling, or our own [`Backpressure`].
///
/// # Examples
///
/// ```
/// use weir_middleware::classify::is_throttling;
///
/// let err = std::io::Error::from(std::io::ErrorKind::TimedOut);
/// assert!(!is_throttling(&err));
/// ```
#[must_use]
pub fn is_throttling(err: ErrorRef<'_>) -> bool {
    chain(err).any(|e| {
        if let Some(e) = e.downcast_ref::<weir_sqs::Error>() {
            return matches!(e, weir_sqs::Error::Sqs(s) if s.is_throttling());
        }
        if let Some(e) = e.downcast_ref::<weir_sqs::error::SqsError>() {
            return e.is_throttling();
        }
        e.is::<Backpressure>()
    })
}

/// The wait the error asks for (a `Retry-After`), if any error in the chain gives one.
#[must_use]
pub fn retry_after(err: ErrorRef<'_>) -> Option<Duration> {
    chain(err).find_map(|e| {
        if let Some(e) = e.downcast_ref::<weir_sqs::Error>() {
            return e.retry_after();
        }
        e.downcast_ref::<weir_sqs::error::SqsError>()
            .and_then(weir_sqs::error::SqsError::retry_after)
    })
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

    #[test]
    fn unknown_errors_are_not_retried() {
        let err: BoxError = "boom".into();
        assert!(!is_retryable(&*err));
        assert_eq!(error_type(&*err), "_OTHER");
    }
}
