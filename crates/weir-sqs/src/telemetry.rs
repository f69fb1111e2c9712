//! Spans for SQS calls, named after the OpenTelemetry messaging conventions.

use tracing::field::Empty;

/// The kind of a messaging operation (`messaging.operation.type`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum OpType {
    Send,
    Receive,
    Settle,
    Create,
}

impl OpType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Receive => "receive",
            Self::Settle => "settle",
            Self::Create => "create",
        }
    }
}

/// A span for one SQS call `operation` on `queue`, carrying
/// `messaging.system = aws_sqs`, `messaging.destination.name`, `messaging.operation.name`,
/// `messaging.operation.type`, and (recorded later) `messaging.message.id` and
/// `messaging.batch.message_count`.
pub(crate) fn sqs_span(operation: &'static str, op_type: OpType, queue: &str) -> tracing::Span {
    tracing::info_span!(
        "sqs",
        otel.name = %format_args!("{} {queue}", op_type.as_str()),
        otel.kind = if matches!(op_type, OpType::Send) { "producer" } else { "client" },
        messaging.system = "aws_sqs",
        messaging.destination.name = queue,
        messaging.operation.name = operation,
        messaging.operation.type = op_type.as_str(),
        messaging.message.id = Empty,
        messaging.batch.message_count = Empty,
        error.type = Empty,
    )
}

/// Records the outcome on the current span: the error code on failure.
pub(crate) fn record_error(span: &tracing::Span, err: &crate::Error) {
    span.record("error.type", err.code().unwrap_or("weir_sqs::Error"));
}

/// A span for one SNS call `operation` on the topic `topic` (its name) with ARN `arn`,
/// named as [`sqs_span`]'s are but with `messaging.system = aws.sns` (the value the
/// OpenTelemetry registry gives SNS) and `aws.sns.topic.arn`.
#[cfg(feature = "sns")]
pub(crate) fn sns_span(
    operation: &'static str,
    op_type: OpType,
    topic: &str,
    arn: &str,
) -> tracing::Span {
    tracing::info_span!(
        "sns",
        otel.name = %format_args!("{} {topic}", op_type.as_str()),
        otel.kind = if matches!(op_type, OpType::Send) { "producer" } else { "client" },
        messaging.system = "aws.sns",
        messaging.destination.name = topic,
        messaging.operation.name = operation,
        messaging.operation.type = op_type.as_str(),
        aws.sns.topic.arn = arn,
        messaging.message.id = Empty,
        messaging.batch.message_count = Empty,
        error.type = Empty,
    )
}
