use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;
use tower::Service;

use super::layer::Shared;
use super::{Backpressure, BackpressurePolicy, ResponseFuture};
use crate::BoxError;

type WaitFuture = Pin<Box<dyn Future<Output = Result<(), Backpressure>> + Send>>;

/// The service a [`BackpressureLayer`](super::BackpressureLayer) builds.
///
/// (Named with a `Service` suffix because [`Backpressure`] is the error.)
///
/// `poll_ready` applies the policy while engaged: under `Wait` it stays pending until the
/// depth falls to the low watermark or the timeout passes; when the call must fail
/// (`FailFast`, or a `Wait` that timed out) `poll_ready` returns `Ready(Ok(()))` and `call`
/// returns the [`Backpressure`] error without reaching the inner service, as
/// `tower::load_shed` does, so the service itself is never marked failed.
///
/// # Cancellation and Clone
///
/// Dropping a pending `poll_ready` drops the wait; nothing is held. A clone starts
/// without a pending wait or error, and shares the layer's state.
pub struct BackpressureService<S> {
    inner: S,
    shared: Arc<Shared>,
    waiting: Option<WaitFuture>,
    refused: Option<Backpressure>,
}

impl<S> BackpressureService<S> {
    pub(super) const fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self {
            inner,
            shared,
            waiting: None,
            refused: None,
        }
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

fn wait_released(shared: Arc<Shared>, timeout: Duration) -> WaitFuture {
    Box::pin(async move {
        shared.count_wait();
        let start = Instant::now();
        let mut samples = shared.depth.subscribe();
        let released = tokio::time::timeout(timeout, async {
            loop {
                if shared.check().is_none() {
                    return;
                }
                if samples.changed().await.is_err() {
                    // The monitor is gone: the state can no longer change.
                    std::future::pending::<()>().await;
                }
            }
        })
        .await;
        match released {
            Ok(()) => Ok(()),
            Err(_) => {
                let depth = shared.check().unwrap_or(0);
                Err(shared.reject(depth, Some(start.elapsed())))
            }
        }
    })
}

impl<S, Req> Service<Req> for BackpressureService<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.refused.is_some() {
            return Poll::Ready(Ok(()));
        }
        if let Some(wait) = self.waiting.as_mut() {
            let outcome = std::task::ready!(wait.as_mut().poll(cx));
            self.waiting = None;
            if let Err(refused) = outcome {
                self.refused = Some(refused);
                return Poll::Ready(Ok(()));
            }
        } else if let Some(depth) = self.shared.check() {
            match &self.shared.policy {
                BackpressurePolicy::FailFast => {
                    self.refused = Some(self.shared.reject(depth, None));
                    return Poll::Ready(Ok(()));
                }
                BackpressurePolicy::Wait { timeout } => {
                    let mut wait = wait_released(Arc::clone(&self.shared), *timeout);
                    match wait.as_mut().poll(cx) {
                        Poll::Pending => {
                            self.waiting = Some(wait);
                            return Poll::Pending;
                        }
                        Poll::Ready(Err(refused)) => {
                            self.refused = Some(refused);
                            return Poll::Ready(Ok(()));
                        }
                        Poll::Ready(Ok(())) => {}
                    }
                }
                BackpressurePolicy::SlowDown(adaptive) => {
                    adaptive.on_throttled();
                }
            }
        }
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        match self.refused.take() {
            Some(refused) => ResponseFuture::refused(refused),
            None => ResponseFuture::new(self.inner.call(req)),
        }
    }
}

impl<S: Clone> Clone for BackpressureService<S> {
    fn clone(&self) -> Self {
        Self::new(self.inner.clone(), Arc::clone(&self.shared))
    }
}

impl<S: fmt::Debug> fmt::Debug for BackpressureService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackpressureService")
            .field("inner", &self.inner)
            .field("waiting", &self.waiting.is_some())
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}
