use std::sync::Arc;

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
#[derive(Debug, Clone)]
pub struct TraceLayer {
    error_type: fn(ErrorRef<'_>) -> String,
    queue_name: Option<Arc<str>>,
}

impl TraceLayer {
    /// A layer that names errors with [`error_type`](crate::classify::error_type).
    #[must_use]
    pub fn new() -> Self {
        Self {
            error_type: crate::classify::error_type,
            queue_name: None,
        }
    }

    /// The queue name (`messaging.destination.name`) for messages whose
    /// [`queue_name`](super::MessageMeta::queue_name) is `None`, such as
    /// `weir_sqs::Message<T>`.
    #[must_use]
    pub fn with_queue_name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.queue_name = Some(name.into());
        self
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
        Trace::new(inner, self.error_type).with_queue_name(self.queue_name.clone())
    }
}
