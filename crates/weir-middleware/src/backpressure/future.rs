use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::Backpressure;
use crate::BoxError;

pin_project! {
    /// The future of a [`BackpressureService`](super::BackpressureService) call.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    #[derive(Debug)]
    enum Kind<F> {
        Called { #[pin] response: F },
        Refused { error: Option<Backpressure> },
    }
}

impl<F> ResponseFuture<F> {
    pub(super) const fn new(response: F) -> Self {
        Self {
            kind: Kind::Called { response },
        }
    }

    pub(super) const fn refused(error: Backpressure) -> Self {
        Self {
            kind: Kind::Refused { error: Some(error) },
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
        match self.project().kind.project() {
            KindProj::Called { response } => response.poll(cx).map_err(Into::into),
            KindProj::Refused { error } => match error.take() {
                Some(error) => Poll::Ready(Err(error.into())),
                None => Poll::Pending, // polled after completion
            },
        }
    }
}
