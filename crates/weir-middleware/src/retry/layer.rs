use tower::Layer;

use super::{BoxErrors, InPlaceRetry};

/// A service retried under a [`InPlaceRetry`]: tower's own `Retry`, over the service with
/// its errors boxed.
pub type Retry<S> = tower::retry::Retry<InPlaceRetry, BoxErrors<S>>;

/// Retries calls under a [`InPlaceRetry`].
///
/// The inner service must be `Clone`, and so must requests (see the
/// [module docs](super)); its error may be any error that converts into
/// [`BoxError`](crate::BoxError).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
/// use tower::{ServiceBuilder, ServiceExt};
/// use weir_middleware::BoxError;
/// use weir_middleware::retry::{RetryLayer, InPlaceRetry};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// # tokio::time::pause();
/// let policy = InPlaceRetry::builder()
///     .max_attempts(4)
///     .min_delay(Duration::from_millis(100))
///     .build()?;
/// let calls = Arc::new(AtomicU32::new(0));
/// let counter = Arc::clone(&calls);
/// let svc = ServiceBuilder::new()
///     .layer(RetryLayer::new(policy))
///     .service_fn(move |_: ()| {
///         let n = counter.fetch_add(1, Ordering::SeqCst);
///         async move {
///             if n < 2 {
///                 // A transient failure: retried.
///                 Err::<u32, BoxError>(std::io::Error::from(std::io::ErrorKind::TimedOut).into())
///             } else {
///                 Ok(n)
///             }
///         }
///     });
/// assert_eq!(svc.oneshot(()).await?, 2);
/// assert_eq!(calls.load(Ordering::SeqCst), 3);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RetryLayer {
    policy: InPlaceRetry,
}

impl RetryLayer {
    /// A layer retrying under `policy`.
    #[must_use]
    pub const fn new(policy: InPlaceRetry) -> Self {
        Self { policy }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        tower::retry::Retry::new(self.policy.clone(), BoxErrors::new(inner))
    }
}
