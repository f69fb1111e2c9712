use std::borrow::Cow;
use std::task::{Context, Poll};
use std::time::Duration;

use tower::Service;

use super::{Cancellable, ResponseFuture};
use crate::BoxError;

/// Fails a call with [`Elapsed`](super::Elapsed) after a duration, cancelling the request's
/// token first.
///
/// A request whose [`Cancellable::cancellation_token`] is `None` is still timed out; only
/// the inner future is dropped.
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    name: Cow<'static, str>,
    after: Duration,
    grace: Duration,
}

impl<S> Timeout<S> {
    /// Wraps `inner` with the timeout `name` of `after`.
    pub fn new(inner: S, name: impl Into<Cow<'static, str>>, after: Duration) -> Self {
        Self {
            inner,
            name: name.into(),
            after,
            grace: Duration::ZERO,
        }
    }

    /// See [`TimeoutLayer::with_grace`](super::TimeoutLayer::with_grace).
    #[must_use]
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The inner service.
    pub const fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub const fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> Service<Req> for Timeout<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    Req: Cancellable,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let token = req.cancellation_token().cloned();
        let response = self.inner.call(req);
        ResponseFuture::new(response, token, self.name.clone(), self.after, self.grace)
    }
}
