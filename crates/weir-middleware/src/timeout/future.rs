use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;

use super::Elapsed;
use crate::BoxError;

pin_project! {
    /// The future of a [`Timeout`](super::Timeout) call.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        response: F,
        #[pin]
        sleep: Sleep,
        token: Option<CancellationToken>,
        name: Cow<'static, str>,
        after: Duration,
        grace: Duration,
        fired: bool,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(
        response: F,
        token: Option<CancellationToken>,
        name: Cow<'static, str>,
        after: Duration,
        grace: Duration,
    ) -> Self {
        Self {
            response,
            sleep: tokio::time::sleep(after),
            token,
            name,
            after,
            grace,
            fired: false,
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
        let mut this = self.project();
        if let Poll::Ready(result) = this.response.poll(cx) {
            if !*this.fired {
                return Poll::Ready(result.map_err(Into::into));
            }
            // Finished within the grace period: it still timed out.
            return Poll::Ready(Err(Elapsed::new(this.name.clone(), *this.after).into()));
        }
        ready!(this.sleep.as_mut().poll(cx));
        if !*this.fired {
            *this.fired = true;
            if let Some(token) = this.token.as_ref() {
                token.cancel();
            }
            tracing::debug!(timeout = %this.name, after = ?this.after, "timeout fired, request cancelled");
            if !this.grace.is_zero() {
                let deadline = Instant::now() + *this.grace;
                this.sleep.as_mut().reset(deadline);
                // Register the new deadline and give the inner future a chance to stop.
                if this.sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            }
        }
        Poll::Ready(Err(Elapsed::new(this.name.clone(), *this.after).into()))
    }
}
