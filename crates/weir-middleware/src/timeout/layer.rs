use std::borrow::Cow;
use std::time::Duration;

use tower::Layer;

use super::Timeout;

/// Applies a named [`Timeout`] that cancels the request's token when it fires.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tokio_util::sync::CancellationToken;
/// use tower::{ServiceBuilder, ServiceExt};
/// use weir_middleware::timeout::{Elapsed, TimeoutLayer, WithCancellation};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// # tokio::time::pause();
/// let svc = ServiceBuilder::new()
///     .layer(TimeoutLayer::new("handler", Duration::from_secs(5)))
///     .service_fn(|req: WithCancellation<()>| async move {
///         // Cooperating work stops when the token fires.
///         req.token.cancelled().await;
///         Ok::<_, std::convert::Infallible>(())
///     });
/// let token = CancellationToken::new();
/// let err = svc.oneshot(WithCancellation::new((), token.clone())).await.unwrap_err();
/// let elapsed = err.downcast_ref::<Elapsed>().unwrap();
/// assert_eq!(elapsed.name(), "handler");
/// assert!(token.is_cancelled());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TimeoutLayer {
    name: Cow<'static, str>,
    after: Duration,
    grace: Duration,
}

impl TimeoutLayer {
    /// A timeout named `name` (it appears in [`Elapsed`](super::Elapsed)) of `after`.
    pub fn new(name: impl Into<Cow<'static, str>>, after: Duration) -> Self {
        Self {
            name: name.into(),
            after,
            grace: Duration::ZERO,
        }
    }

    /// After the token fires, keep polling the inner future for up to `grace` so it can
    /// clean up (the result is [`Elapsed`](super::Elapsed) either way). Default: zero, the
    /// inner future is dropped as soon as the token fires.
    #[must_use]
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout::new(inner, self.name.clone(), self.after).with_grace(self.grace)
    }
}
