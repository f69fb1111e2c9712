use std::task::{Context, Poll};

use futures_util::TryFutureExt;
use futures_util::future::MapErr;
use tower::Service;

use crate::BoxError;

/// A service whose errors are turned into [`BoxError`], so that a
/// [`InPlaceRetry`](super::InPlaceRetry) can read any error: [`RetryLayer`](super::RetryLayer)
/// puts it under the retry, so the inner service may return [`HandlerError`](crate::classify::HandlerError),
/// `weir_sqs::Error` or any error that converts.
#[derive(Debug, Clone)]
pub struct BoxErrors<S> {
    inner: S,
}

impl<S> BoxErrors<S> {
    /// Wraps `inner`.
    pub const fn new(inner: S) -> Self {
        Self { inner }
    }

    /// The inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> Service<Req> for BoxErrors<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = MapErr<S::Future, fn(S::Error) -> BoxError>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        self.inner
            .call(req)
            .map_err(Into::into as fn(S::Error) -> BoxError)
    }
}
