use tower::Layer;

use super::Trace;
use crate::classify::ErrorRef;

/// Opens a span per message with the OpenTelemetry messaging attributes (see the
/// [module docs](super) for the fields).
///
/// # Examples
///
/// ```
/// use tower::{ServiceBuilder, ServiceExt};
/// use weir_middleware::trace::{MessageMeta, TraceLayer};
///
/// struct Msg;
/// impl MessageMeta for Msg {
///     fn message_id(&self) -> Option<&str> { Some("m-1") }
///     fn queue_name(&self) -> Option<&str> { Some("orders") }
///     fn traceparent(&self) -> Option<&str> {
///         Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), weir_middleware::BoxError> {
/// let handler = ServiceBuilder::new()
///     .layer(TraceLayer::new())
///     .service_fn(|_: Msg| async { Ok::<_, std::io::Error>(()) });
/// handler.oneshot(Msg).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TraceLayer {
    error_type: fn(ErrorRef<'_>) -> String,
}

impl TraceLayer {
    /// A layer that names errors with [`error_type`](crate::classify::error_type).
    #[must_use]
    pub fn new() -> Self {
        Self {
            error_type: crate::classify::error_type,
        }
    }

    /// Names errors (the `error.type` field) with `f` instead.
    #[must_use]
    pub fn with_error_type(mut self, f: fn(ErrorRef<'_>) -> String) -> Self {
        self.error_type = f;
        self
    }
}

impl Default for TraceLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Trace::new(inner, self.error_type)
    }
}
