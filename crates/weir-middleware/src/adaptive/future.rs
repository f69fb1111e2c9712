use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use super::AdaptiveRateLimiter;
use crate::BoxError;
use crate::classify::ErrorPredicate;

pin_project! {
    /// The future of an [`AdaptiveRateLimit`](super::AdaptiveRateLimit) call: it reports the
    /// outcome to the controller.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        response: F,
        adaptive: AdaptiveRateLimiter,
        predicate: ErrorPredicate,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(
        response: F,
        adaptive: AdaptiveRateLimiter,
        predicate: ErrorPredicate,
    ) -> Self {
        Self {
            response,
            adaptive,
            predicate,
        }
    }
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.response.poll(cx)).map_err(Into::into);
        match &result {
            Ok(_) => {
                this.adaptive.on_success();
            }
            Err(err) if this.predicate.matches(&**err) => {
                this.adaptive.on_throttled();
            }
            Err(_) => {}
        }
        Poll::Ready(result)
    }
}
