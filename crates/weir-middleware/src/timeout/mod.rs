//! A timeout that cancels: when it fires, the request's
//! [`CancellationToken`] is cancelled, so work that
//! cooperates (spawned tasks, blocking sections that check the token, downstream calls
//! that select on it) stops too, not only the future that was dropped.
//!
//! The request gives access to its token through [`Cancellable`]; wrap a request that has
//! none in [`WithCancellation`]. Give each request its own token (a
//! [`child_token`](tokio_util::sync::CancellationToken::child_token) of your shutdown
//! token): the timeout cancels it.

mod error;
mod future;
mod layer;
mod service;

pub use error::Elapsed;
pub use future::ResponseFuture;
pub use layer::TimeoutLayer;
pub use service::Timeout;

use tokio_util::sync::CancellationToken;

/// A request that carries a cancellation token.
///
/// # Examples
///
/// ```
/// use tokio_util::sync::CancellationToken;
/// use weir_middleware::timeout::Cancellable;
///
/// struct Job {
///     id: u64,
///     cancel: CancellationToken,
/// }
///
/// impl Cancellable for Job {
///     fn cancellation_token(&self) -> Option<&CancellationToken> {
///         Some(&self.cancel)
///     }
/// }
/// # let _ = Job { id: 1, cancel: CancellationToken::new() }.id;
/// ```
pub trait Cancellable {
    /// The token to cancel when a timeout fires, if the request has one.
    fn cancellation_token(&self) -> Option<&CancellationToken>;
}

/// A request paired with the token a [`Timeout`] cancels.
///
/// # Examples
///
/// ```
/// use tokio_util::sync::CancellationToken;
/// use weir_middleware::timeout::{Cancellable, WithCancellation};
///
/// let shutdown = CancellationToken::new();
/// let req = WithCancellation::new("payload", shutdown.child_token());
/// assert!(req.cancellation_token().is_some());
/// ```
#[derive(Debug, Clone)]
pub struct WithCancellation<T> {
    /// The request.
    pub request: T,
    /// The token to cancel when a timeout fires.
    pub token: CancellationToken,
}

impl<T> WithCancellation<T> {
    /// Pairs `request` with `token`.
    pub const fn new(request: T, token: CancellationToken) -> Self {
        Self { request, token }
    }
}

impl<T> Cancellable for WithCancellation<T> {
    fn cancellation_token(&self) -> Option<&CancellationToken> {
        Some(&self.token)
    }
}

/// A received SQS message carries its own token
/// ([`Message::cancellation`](weir_sqs::Message::cancellation)): a worker fires it when
/// the lease is lost or shutdown stops waiting, and a timeout fires it too.
impl<T> Cancellable for weir_sqs::Message<T> {
    fn cancellation_token(&self) -> Option<&CancellationToken> {
        Some(self.cancellation())
    }
}

impl Cancellable for CancellationToken {
    fn cancellation_token(&self) -> Option<&CancellationToken> {
        Some(self)
    }
}

#[cfg(test)]
mod tests;
