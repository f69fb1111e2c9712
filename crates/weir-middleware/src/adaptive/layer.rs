use tower::Layer;

use super::{AdaptiveRateLimit, AdaptiveRateLimiter};
use crate::classify::ErrorPredicate;

/// Applies an [`AdaptiveRateLimiter`] to a service and feeds it the outcomes.
///
/// Each call takes one permit. An error that the predicate calls throttling
/// ([`is_throttling`](crate::classify::is_throttling) by default: SQS throttling and
/// [`Backpressure`](crate::backpressure::Backpressure)) lowers the rate; a success may
/// raise it. Other errors leave it alone.
///
/// # Examples
///
/// ```
/// use tower::{ServiceBuilder, ServiceExt};
/// use weir_middleware::adaptive::{AdaptiveRateLimitLayer, AdaptiveRateLimiter};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let adaptive = AdaptiveRateLimiter::builder().min_per_second(5.0).max_per_second(100.0).build()?;
/// let svc = ServiceBuilder::new()
///     .layer(AdaptiveRateLimitLayer::new(adaptive.clone()))
///     .service_fn(|n: u32| async move { Ok::<_, std::io::Error>(n) });
/// assert_eq!(svc.oneshot(3).await?, 3);
/// assert_eq!(adaptive.per_second(), 100.0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AdaptiveRateLimitLayer {
    adaptive: AdaptiveRateLimiter,
    predicate: ErrorPredicate,
}

impl AdaptiveRateLimitLayer {
    /// A layer over `adaptive`, with [`is_throttling`](crate::classify::is_throttling) as
    /// the predicate.
    #[must_use]
    pub fn new(adaptive: AdaptiveRateLimiter) -> Self {
        Self {
            adaptive,
            predicate: ErrorPredicate::throttling(),
        }
    }

    /// Judges throttling with `predicate` instead.
    #[must_use]
    pub fn with_predicate(mut self, predicate: ErrorPredicate) -> Self {
        self.predicate = predicate;
        self
    }
}

impl<S> Layer<S> for AdaptiveRateLimitLayer {
    type Service = AdaptiveRateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AdaptiveRateLimit::new(inner, self.adaptive.clone(), self.predicate.clone())
    }
}
