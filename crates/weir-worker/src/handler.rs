//! What a handler returns, and the adapters that turn closures and structs into the
//! `tower::Service` the worker drives.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use weir_sqs::Message;

/// A type-erased error, as tower layers return them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What the worker does with a message whose handler failed.
///
/// Read it from [`HandlerError::action`]. Any error that is not a [`HandlerError`] is
/// treated as [`Action::Retry`] with no explicit delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Try again later: the message's visibility is changed to the retry policy's
    /// backoff for its receive count, or to `after` when it is set.
    Retry {
        /// The delay the handler asked for, instead of the policy's backoff.
        after: Option<Duration>,
    },
    /// Never try again: the message goes to the dead-letter queue (when one is
    /// configured), then is deleted.
    Reject,
}

/// The error a handler returns to say what should happen to its message.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir_worker::{Action, HandlerError};
///
/// let e = HandlerError::retry_after(Duration::from_secs(30), "downstream is busy");
/// assert_eq!(e.action(), Action::Retry { after: Some(Duration::from_secs(30)) });
///
/// let e = HandlerError::reject("order id is negative");
/// assert_eq!(e.action(), Action::Reject);
/// assert_eq!(e.to_string(), "order id is negative");
/// ```
pub struct HandlerError {
    action: Action,
    source: BoxError,
}

impl HandlerError {
    /// A transient failure: retry after the policy's backoff.
    pub fn retry(error: impl Into<BoxError>) -> Self {
        Self {
            action: Action::Retry { after: None },
            source: error.into(),
        }
    }

    /// A transient failure that should be retried after `after` (capped at SQS's 12 h).
    pub fn retry_after(after: Duration, error: impl Into<BoxError>) -> Self {
        Self {
            action: Action::Retry { after: Some(after) },
            source: error.into(),
        }
    }

    /// A permanent failure: dead-letter the message, then delete it.
    pub fn reject(error: impl Into<BoxError>) -> Self {
        Self {
            action: Action::Reject,
            source: error.into(),
        }
    }

    /// What the worker will do with the message.
    #[must_use]
    pub fn action(&self) -> Action {
        self.action
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

/// Reads the action out of any handler error: a [`HandlerError`] (possibly wrapped by a
/// layer that keeps it as its `source`) says so itself; anything else is a retry.
pub(crate) fn classify(error: &BoxError) -> Action {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(&**error);
    while let Some(e) = current {
        if let Some(h) = e.downcast_ref::<HandlerError>() {
            return h.action;
        }
        current = e.source();
    }
    Action::Retry { after: None }
}

/// A `tower::Service` made from an async closure; see [`handler_fn`].
#[derive(Clone)]
pub struct HandlerFn<F> {
    f: F,
}

impl<F> fmt::Debug for HandlerFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerFn")
            .field("f", &std::any::type_name::<F>())
            .finish()
    }
}

/// Wraps an async closure `Fn(Request) -> Future<Output = Result<R, E>>` into a
/// `tower::Service`, so it can be given to
/// [`WorkerBuilder::handler`](crate::WorkerBuilder::handler) with or without layers.
///
/// # Examples
///
/// ```
/// use weir_worker::{handler_fn, HandlerError, Message};
///
/// let handler = handler_fn(|msg: Message<u64>| async move {
///     match msg.body() {
///         Ok(n) if *n > 0 => Ok(()),
///         _ => Err(HandlerError::reject("not a positive number")),
///     }
/// });
/// # let _ = handler;
/// ```
pub fn handler_fn<F>(f: F) -> HandlerFn<F> {
    HandlerFn { f }
}

impl<F, Req, Fut, R, E> tower::Service<Req> for HandlerFn<F>
where
    F: FnMut(Req) -> Fut,
    Fut: Future<Output = Result<R, E>>,
{
    type Response = R;
    type Error = E;
    type Future = Fut;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Fut {
        (self.f)(req)
    }
}

/// A handler as a struct that holds its dependencies (clients, pools, config).
///
/// The trait uses `async_trait`, so it stays object-safe: an `Arc<dyn Handler<T>>` works.
/// Turn it into a service with [`handler_service`].
///
/// # Examples
///
/// ```
/// use weir_worker::{async_trait, handler_service, Handler, HandlerError, Message};
///
/// struct Orders {
///     table: String,
/// }
///
/// #[async_trait]
/// impl Handler<u64> for Orders {
///     async fn handle(&self, msg: Message<u64>) -> Result<(), HandlerError> {
///         let id = msg.body().map_err(|e| HandlerError::reject(e.to_string()))?;
///         let _ = (&self.table, id);
///         Ok(())
///     }
/// }
///
/// let service = handler_service(Orders { table: "orders".into() });
/// # let _ = service;
/// ```
#[async_trait::async_trait]
pub trait Handler<T: Send + Sync + 'static>: Send + Sync + 'static {
    /// Handles one message.
    ///
    /// # Errors
    ///
    /// A [`HandlerError`] saying whether to retry or reject the message.
    async fn handle(&self, message: Message<T>) -> Result<(), HandlerError>;
}

#[async_trait::async_trait]
impl<T: Send + Sync + 'static, H: Handler<T> + ?Sized> Handler<T> for Arc<H> {
    async fn handle(&self, message: Message<T>) -> Result<(), HandlerError> {
        (**self).handle(message).await
    }
}

/// A `tower::Service` over a [`Handler`]; see [`handler_service`].
pub struct HandlerService<H> {
    handler: Arc<H>,
}

impl<H> Clone for HandlerService<H> {
    fn clone(&self) -> Self {
        Self {
            handler: self.handler.clone(),
        }
    }
}

impl<H> fmt::Debug for HandlerService<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerService")
            .field("handler", &std::any::type_name::<H>())
            .finish()
    }
}

/// Turns a [`Handler`] into a `tower::Service`, for
/// [`WorkerBuilder::handler`](crate::WorkerBuilder::handler).
pub fn handler_service<H>(handler: H) -> HandlerService<H> {
    HandlerService {
        handler: Arc::new(handler),
    }
}

impl<T, H> tower::Service<Message<T>> for HandlerService<H>
where
    T: Send + Sync + 'static,
    H: Handler<T>,
{
    type Response = ();
    type Error = HandlerError;
    type Future = BoxFuture<'static, Result<(), HandlerError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), HandlerError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, message: Message<T>) -> Self::Future {
        let handler = self.handler.clone();
        Box::pin(async move { handler.handle(message).await })
    }
}

tokio::task_local! {
    static CANCEL: tokio_util::sync::CancellationToken;
}

/// The cancellation token of the message being handled by the current task, if any.
///
/// The worker fires it when the message's lease is lost (an extension failed, or the
/// lease reached its maximum length) and when shutdown gives up waiting. Right after
/// firing it, the worker drops the handler's future; the token is for work the handler
/// started elsewhere (spawned tasks, blocking threads) to notice and stop.
///
/// Returns `None` outside a handler, or in a task the handler spawned (pass the token
/// along yourself).
///
/// # Examples
///
/// ```
/// use weir_worker::{current_cancellation, handler_fn, Message};
///
/// let handler = handler_fn(|_msg: Message<String>| async move {
///     let token = current_cancellation().expect("called from the worker");
///     let work = tokio::spawn(async move {
///         tokio::select! {
///             _ = token.cancelled() => {}
///             _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
///         }
///     });
///     work.await.map_err(weir_worker::HandlerError::retry)
/// });
/// # let _ = handler;
/// ```
#[must_use]
pub fn current_cancellation() -> Option<tokio_util::sync::CancellationToken> {
    CANCEL.try_with(Clone::clone).ok()
}

pub(crate) async fn with_cancellation<F: Future>(
    token: tokio_util::sync::CancellationToken,
    fut: F,
) -> F::Output {
    CANCEL.scope(token, fut).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("wrapped")]
    struct Wrapper(#[source] HandlerError);

    /// `Handler` stays object-safe, and a shared trait object is itself a handler.
    #[test]
    fn handler_is_object_safe() {
        struct Nop;
        #[async_trait::async_trait]
        impl Handler<u8> for Nop {
            async fn handle(&self, _m: Message<u8>) -> Result<(), HandlerError> {
                Ok(())
            }
        }
        let shared: Arc<dyn Handler<u8>> = Arc::new(Nop);
        let service = handler_service(shared);
        fn assert_service<S: tower::Service<Message<u8>> + Send + Clone>(_: &S) {}
        assert_service(&service);
        assert!(format!("{service:?}").contains("HandlerService"));
    }

    #[test]
    fn classify_finds_handler_errors_through_sources() {
        let e: BoxError = Box::new(HandlerError::reject("bad"));
        assert_eq!(classify(&e), Action::Reject);
        let e: BoxError = Box::new(Wrapper(HandlerError::retry_after(
            Duration::from_secs(3),
            "later",
        )));
        assert_eq!(
            classify(&e),
            Action::Retry {
                after: Some(Duration::from_secs(3))
            }
        );
        let e: BoxError = "plain".into();
        assert_eq!(classify(&e), Action::Retry { after: None });
    }
}
