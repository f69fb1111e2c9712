//! The adapters that turn closures and structs into the `tower::Service` the worker
//! drives, and the task-local cancellation token.
//!
//! What a handler returns, [`HandlerError`], lives in weir-middleware beside the one
//! classification of errors that the retry layer and the worker share.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use weir_sqs::Message;

pub use weir_middleware::BoxError;
pub use weir_middleware::classify::{Action, HandlerError};

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

/// The cancellation token of the message being handled by the current task, if any:
/// sugar for [`Message::cancellation`], which layers and spawned tasks see too.
///
/// The worker fires it when the message's lease is lost (an extension failed, or the
/// lease reached its maximum length), when the handler timeout runs out, and when
/// shutdown gives up waiting. Right after firing it, the worker drops the handler's
/// future; the token is for work the handler started elsewhere (spawned tasks, blocking
/// threads) to notice and stop.
///
/// Returns `None` outside the handler's future (in a layer's `call`, or in a task the
/// handler spawned): use the message's own token there.
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
}
