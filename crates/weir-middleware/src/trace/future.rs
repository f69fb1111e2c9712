use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use crate::BoxError;
use crate::classify::ErrorRef;

pin_project! {
    /// The future of a [`Trace`](super::Trace) call: polled inside the message's span,
    /// which records the outcome.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        response: F,
        span: tracing::Span,
        error_type: fn(ErrorRef<'_>) -> String,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) const fn new(
        response: F,
        span: tracing::Span,
        error_type: fn(ErrorRef<'_>) -> String,
    ) -> Self {
        Self {
            response,
            span,
            error_type,
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
        let _entered = this.span.enter();
        let result = ready!(this.response.poll(cx)).map_err(Into::into);
        match &result {
            Ok(_) => {
                this.span.record("outcome", "ok");
                this.span.record("otel.status_code", "OK");
            }
            Err(err) => {
                let kind = (this.error_type)(&**err);
                this.span.record("outcome", "error");
                this.span.record("error.type", kind.as_str());
                this.span.record("otel.status_code", "ERROR");
            }
        }
        Poll::Ready(result)
    }
}
