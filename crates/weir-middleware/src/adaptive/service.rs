use std::task::{Context, Poll};

use tower::Service;

use super::{AdaptiveRateLimiter, ResponseFuture};
use crate::classify::ErrorPredicate;
use crate::{BoxError, RateLimit};

/// Takes one permit per call from an [`AdaptiveRateLimiter`] and reports each outcome to it.
///
/// Readiness, cancellation and `Clone` behave as in [`RateLimit`].
#[derive(Debug, Clone)]
pub struct AdaptiveRateLimit<S> {
    inner: RateLimit<S>,
    adaptive: AdaptiveRateLimiter,
    predicate: ErrorPredicate,
}

impl<S> AdaptiveRateLimit<S> {
    /// Wraps `inner`; `predicate` says which errors mean throttling.
    pub fn new(inner: S, adaptive: AdaptiveRateLimiter, predicate: ErrorPredicate) -> Self {
        Self {
            inner: RateLimit::new(inner, adaptive.limiter().clone()),
            adaptive,
            predicate,
        }
    }

    /// The controller.
    pub const fn adaptive(&self) -> &AdaptiveRateLimiter {
        &self.adaptive
    }

    /// The inner service.
    pub const fn get_ref(&self) -> &S {
        self.inner.get_ref()
    }

    /// The inner service, mutably.
    pub const fn get_mut(&mut self) -> &mut S {
        self.inner.get_mut()
    }

    /// The inner service.
    pub fn into_inner(self) -> S {
        self.inner.into_inner()
    }
}

impl<S, Req> Service<Req> for AdaptiveRateLimit<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        ResponseFuture::new(
            self.inner.call(req),
            self.adaptive.clone(),
            self.predicate.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tower::{Layer, ServiceExt};
    use weir_sqs::error::{SqsError, SqsErrorKind};

    use crate::adaptive::{AdaptiveRateLimitLayer, AdaptiveRateLimiter};
    use crate::classify::ErrorPredicate;

    fn throttled() -> weir_sqs::Error {
        weir_sqs::Error::Sqs(SqsError::new(
            "SendMessage",
            SqsErrorKind::Service,
            Some("ThrottlingException".to_owned()),
            None,
            Some(400),
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn sqs_throttling_halves_the_rate_and_successes_restore_it() {
        let adaptive = AdaptiveRateLimiter::builder()
            .min_per_second(10.0)
            .max_per_second(80.0)
            .increase_step(20.0)
            .build()
            .unwrap();
        let layer = AdaptiveRateLimitLayer::new(adaptive.clone());
        let svc = layer.layer(tower::service_fn(|fail: bool| async move {
            if fail { Err(throttled()) } else { Ok(()) }
        }));
        svc.clone().oneshot(true).await.unwrap_err();
        assert_eq!(adaptive.per_second(), 40.0);
        // Not throttling: an ordinary error leaves the rate alone.
        let other = layer.layer(tower::service_fn(|_: ()| async {
            Err::<(), _>(std::io::Error::other("nope"))
        }));
        tokio::time::advance(Duration::from_secs(2)).await;
        other.oneshot(()).await.unwrap_err();
        assert_eq!(adaptive.per_second(), 40.0);
        for expected in [60.0, 80.0, 80.0] {
            svc.clone().oneshot(false).await.unwrap();
            assert_eq!(adaptive.per_second(), expected);
            tokio::time::advance(Duration::from_secs(1)).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_custom_predicate_decides() {
        let adaptive = AdaptiveRateLimiter::builder()
            .min_per_second(1.0)
            .max_per_second(8.0)
            .build()
            .unwrap();
        let layer = AdaptiveRateLimitLayer::new(adaptive.clone())
            .with_predicate(ErrorPredicate::new(|e| e.to_string() == "busy"));
        let svc = layer.layer(tower::service_fn(|_: ()| async {
            Err::<(), _>(std::io::Error::other("busy"))
        }));
        svc.oneshot(()).await.unwrap_err();
        assert_eq!(adaptive.per_second(), 4.0);
    }
}
