//! OpenTelemetry, with the `otel` feature: a trace continues across the queue.
//!
//! On the consumer side, [`TraceLayer`](crate::TraceLayer)'s `process` span takes the
//! message's context as its OpenTelemetry parent: the W3C `traceparent` message
//! attribute, else `AWSTraceHeader` (X-Ray, set by SNS, Lambda or an X-Ray SDK). When
//! both are present and differ, the X-Ray context becomes a link. On the producer side,
//! [`traceparent`] gives the current span's context to send
//! (`ProducerBuilder::traceparent`). Install `tracing-opentelemetry`'s layer in the
//! subscriber for either to take effect.
//!
//! ```
//! # async fn demo(queue: weir_sqs::Queue) -> weir_sqs::Result<()> {
//! let producer = weir_sqs::Producer::<u64>::builder(queue)
//!     .traceparent(weir_middleware::otel::traceparent)
//!     .build()?;
//! # Ok(()) }
//! ```

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The current span's OpenTelemetry context as a W3C `traceparent`
/// (`00-{trace id}-{span id}-{flags}`), or `None` outside a recorded trace.
pub fn traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let sc = span.span_context();
    sc.is_valid().then(|| {
        let flags = sc.trace_flags().to_u8();
        format!("00-{}-{}-{flags:02x}", sc.trace_id(), sc.span_id())
    })
}

/// A remote span context from hex ids, `None` when either is not valid.
fn remote(trace_id: &str, span_id: &str, sampled: Option<bool>) -> Option<SpanContext> {
    let trace_id = TraceId::from_hex(trace_id).ok()?;
    let span_id = SpanId::from_hex(span_id).ok()?;
    let flags = if sampled.unwrap_or(true) {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let sc = SpanContext::new(trace_id, span_id, flags, true, TraceState::default());
    sc.is_valid().then_some(sc)
}

/// Makes the caller's context the OpenTelemetry parent of `span` (not yet entered).
pub(crate) fn set_parent(
    span: &tracing::Span,
    trace_id: &str,
    span_id: &str,
    sampled: Option<bool>,
) {
    if let Some(sc) = remote(trace_id, span_id, sampled) {
        // Fails only once the span has started; it has not.
        let _ = span.set_parent(Context::new().with_remote_span_context(sc));
    }
}

/// Links `span` to another context (X-Ray's, when `traceparent` is the parent).
pub(crate) fn add_link(span: &tracing::Span, trace_id: &str, span_id: &str) {
    if let Some(sc) = remote(trace_id, span_id, None) {
        span.add_link(sc);
    }
}
