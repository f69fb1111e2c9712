use std::sync::Arc;
use std::task::{Context, Poll};

use tower::Service;
use tracing::field::Empty;

use super::meta::XrayContext;
use super::{MessageMeta, ResponseFuture, TraceContext};
use crate::BoxError;
use crate::classify::ErrorRef;

/// Runs each call inside a `process` span; see [`TraceLayer`](super::TraceLayer).
#[derive(Debug, Clone)]
pub struct Trace<S> {
    inner: S,
    error_type: fn(ErrorRef<'_>) -> String,
    queue_name: Option<Arc<str>>,
}

impl<S> Trace<S> {
    /// Wraps `inner`; `error_type` names errors for the `error.type` field.
    pub const fn new(inner: S, error_type: fn(ErrorRef<'_>) -> String) -> Self {
        Self {
            inner,
            error_type,
            queue_name: None,
        }
    }

    /// The queue name for messages that do not know theirs.
    #[must_use]
    pub fn with_queue_name(mut self, name: Option<Arc<str>>) -> Self {
        self.queue_name = name;
        self
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

/// The span for one message.
pub(super) fn span_for<M: MessageMeta + ?Sized>(
    msg: &M,
    default_queue: Option<&str>,
) -> tracing::Span {
    let queue = msg.queue_name().or(default_queue).unwrap_or("");
    let span = tracing::info_span!(
        "process",
        otel.name = %format_args!("process {queue}"),
        otel.kind = "consumer",
        messaging.system = "aws_sqs",
        messaging.destination.name = queue,
        messaging.message.id = msg.message_id().unwrap_or(""),
        messaging.operation.name = "process",
        messaging.operation.type = "process",
        trace_id = Empty,
        parent_span_id = Empty,
        parent.source = Empty,
        link.trace_id = Empty,
        link.span_id = Empty,
        outcome = Empty,
        error.r#type = Empty,
        otel.status_code = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    let parent = msg.traceparent().and_then(TraceContext::from_traceparent);
    let xray = msg.aws_trace_header().and_then(XrayContext::parse);
    match (parent, xray) {
        (Some(parent), xray) => {
            span.record("trace_id", parent.trace_id);
            span.record("parent_span_id", parent.span_id);
            span.record("parent.source", "traceparent");
            #[cfg(feature = "otel")]
            crate::otel::set_parent(&span, parent.trace_id, parent.span_id, parent.sampled);
            if let Some(xray) = xray.filter(|x| x.trace_id != parent.trace_id) {
                span.record("link.trace_id", xray.trace_id.as_str());
                if let Some(id) = &xray.span_id {
                    span.record("link.span_id", id.as_str());
                    #[cfg(feature = "otel")]
                    crate::otel::add_link(&span, &xray.trace_id, id);
                }
            }
        }
        (None, Some(xray)) => {
            span.record("trace_id", xray.trace_id.as_str());
            if let Some(id) = &xray.span_id {
                span.record("parent_span_id", id.as_str());
                #[cfg(feature = "otel")]
                crate::otel::set_parent(&span, &xray.trace_id, id, None);
            }
            span.record("parent.source", "aws_trace_header");
        }
        (None, None) => {}
    }
    span
}

impl<S, Req> Service<Req> for Trace<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    Req: MessageMeta,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let span = span_for(&req, self.queue_name.as_deref());
        let response = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        ResponseFuture::new(response, span, self.error_type)
    }
}
