//! [`HandlerError`]: what a message handler returns to say what should happen next.

use std::fmt;
use std::time::Duration;

use crate::BoxError;

/// What should happen to a request (a message) whose handling failed.
///
/// Read from an error by [`action`](super::action); the table in the
/// [module docs](super) says which errors give which action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Try again later: after `after` when the error says how long, else after the
    /// retrier's own backoff (a retry layer's in process, a worker's visibility backoff
    /// for a message).
    Retry {
        /// The wait the error asks for.
        after: Option<Duration>,
    },
    /// Never try again: a worker dead-letters the message (when it has a dead-letter
    /// queue), then deletes it; a retry layer returns the error at once.
    Reject,
}

/// The error a handler returns to say what should happen to its message: retry it
/// (after a backoff, or after a given wait), retry it and slow down (throttled), or
/// reject it.
///
/// Layers keep it as the [`source`](std::error::Error::source) of their own errors, and
/// [`action`](super::action) finds it anywhere in the chain.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir_middleware::classify::{Action, HandlerError};
///
/// let e = HandlerError::retry_after(Duration::from_secs(30), "downstream is busy");
/// assert_eq!(e.action(), Action::Retry { after: Some(Duration::from_secs(30)) });
///
/// let e = HandlerError::reject("order id is negative");
/// assert_eq!(e.action(), Action::Reject);
/// assert_eq!(e.to_string(), "order id is negative");
///
/// let e = HandlerError::throttled("HTTP 429 from the payments API");
/// assert!(e.is_throttled());
/// ```
pub struct HandlerError {
    action: Action,
    throttled: bool,
    source: BoxError,
}

impl HandlerError {
    /// A transient failure: retry after the backoff.
    pub fn retry(error: impl Into<BoxError>) -> Self {
        Self::new(Action::Retry { after: None }, false, error)
    }

    /// A transient failure to retry after `after` (a worker caps it at SQS's 12 h).
    pub fn retry_after(after: Duration, error: impl Into<BoxError>) -> Self {
        Self::new(Action::Retry { after: Some(after) }, false, error)
    }

    /// A downstream asked to slow down (HTTP 429, a throttling error): retry after the
    /// backoff, and lower the rate of an adaptive rate limit that sees it.
    pub fn throttled(error: impl Into<BoxError>) -> Self {
        Self::new(Action::Retry { after: None }, true, error)
    }

    /// A permanent failure: never retried; a worker dead-letters the message.
    pub fn reject(error: impl Into<BoxError>) -> Self {
        Self::new(Action::Reject, false, error)
    }

    fn new(action: Action, throttled: bool, error: impl Into<BoxError>) -> Self {
        Self {
            action,
            throttled,
            source: error.into(),
        }
    }

    /// What should happen to the message.
    #[must_use]
    pub fn action(&self) -> Action {
        self.action
    }

    /// Whether a downstream asked to slow down ([`throttled`](Self::throttled)).
    #[must_use]
    pub fn is_throttled(&self) -> bool {
        self.throttled
    }

    /// The underlying error.
    #[must_use]
    pub fn into_inner(self) -> BoxError {
        self.source
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerError")
            .field("action", &self.action)
            .field("throttled", &self.throttled)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.source, f)
    }
}

impl std::error::Error for HandlerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}
