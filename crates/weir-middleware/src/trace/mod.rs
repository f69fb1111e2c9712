//! A span per message, with the OpenTelemetry messaging attributes.
//!
//! [`TraceLayer`] opens an INFO span named `process` for each call, with:
//!
//! | field | value |
//! |---|---|
//! | `otel.name` | `process {queue}` |
//! | `otel.kind` | `consumer` |
//! | `messaging.system` | `aws_sqs` |
//! | `messaging.destination.name` | the queue name |
//! | `messaging.message.id` | the SQS message id |
//! | `messaging.operation.name` / `.type` | `process` |
//! | `trace_id`, `parent_span_id`, `parent.source` | the parent context: from the W3C `traceparent` message attribute, else from `AWSTraceHeader` (`traceparent` / `aws_trace_header`) |
//! | `link.trace_id`, `link.span_id` | `AWSTraceHeader`'s context, when `traceparent` is the parent and they differ |
//! | `outcome` | `ok` or `error` |
//! | `error.type` | a short error kind ([`error_type`](crate::classify::error_type)) |
//! | `otel.status_code` | `OK` or `ERROR` |
//!
//! Without the `otel` feature there is no OpenTelemetry dependency, and the parent
//! context is only these fields. With it, the span's OpenTelemetry parent is that context
//! (and the differing X-Ray context a link), so the trace continues across the queue:
//! see `weir_middleware::otel`. Malformed trace headers are ignored, not recorded. Message bodies are never
//! recorded.

mod future;
mod layer;
mod meta;
mod service;

pub use future::ResponseFuture;
pub use layer::TraceLayer;
pub use meta::{MessageMeta, TraceContext};
pub use service::Trace;

#[cfg(test)]
mod tests;
