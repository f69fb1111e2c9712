use tower::Layer;

use super::RateLimit;
use crate::RateLimiter;

/// Applies a shared [`RateLimiter`] to a service: one permit per call.
///
/// Cloning this layer, or calling [`layer`](Layer::layer) many times, does not create a new
/// budget: every service it builds shares the limiter.
///
/// # Examples
///
/// ```
/// use tower::{Service, ServiceBuilder, ServiceExt};
/// use weir_middleware::{RateLimitLayer, RateLimiter};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let limiter = RateLimiter::new(100.0, 10)?;
/// let mut svc = ServiceBuilder::new()
///     .layer(RateLimitLayer::new(limiter.clone()))
///     .service_fn(|n: u32| async move { Ok::<_, std::convert::Infallible>(n * 2) });
/// assert_eq!(svc.ready().await?.call(21).await?, 42);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    limiter: RateLimiter,
}

impl RateLimitLayer {
    /// A layer drawing from `limiter`.
    #[must_use]
    pub const fn new(limiter: RateLimiter) -> Self {
        Self { limiter }
    }

    /// The shared limiter.
    #[must_use]
    pub const fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit::new(inner, self.limiter.clone())
    }
}
