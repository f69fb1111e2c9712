//! SQS errors as they go on the wire: JSON `__type` plus the query-compatible header.

use std::fmt;

/// An error the engine answers with.
#[derive(Debug, Clone)]
pub(crate) struct SqsError {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
}

/// Every error code the engine sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    QueueDoesNotExist,
    QueueAlreadyExists,
    QueueDeletedRecently,
    ReceiptHandleIsInvalid,
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    TooManyEntriesInBatchRequest,
    InvalidBatchEntryId,
    BatchRequestTooLong,
    InvalidParameterValue,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidMessageContents,
    PurgeQueueInProgress,
    OverLimit,
    ResourceNotFound,
    MissingParameter,
    /// A required parameter given empty (a `MessageBody` of ""); the query code is
    /// `MissingParameter`, as AWS sends it.
    MissingRequiredParameter,
    Serialization,
    UnknownOperation,
    Internal,
}

impl ErrorKind {
    /// (HTTP status, `__type`, query-compatible code, fault).
    pub(crate) fn wire(self) -> (u16, &'static str, &'static str, &'static str) {
        match self {
            Self::QueueDoesNotExist => (
                400,
                "com.amazonaws.sqs#QueueDoesNotExist",
                "AWS.SimpleQueueService.NonExistentQueue",
                "Sender",
            ),
            Self::QueueAlreadyExists => (
                400,
                "com.amazonaws.sqs#QueueNameExists",
                "QueueAlreadyExists",
                "Sender",
            ),
            Self::QueueDeletedRecently => (
                400,
                "com.amazonaws.sqs#QueueDeletedRecently",
                "AWS.SimpleQueueService.QueueDeletedRecently",
                "Sender",
            ),
            Self::ReceiptHandleIsInvalid => (
                400,
                "com.amazonaws.sqs#ReceiptHandleIsInvalid",
                "ReceiptHandleIsInvalid",
                "Sender",
            ),
            Self::BatchEntryIdsNotDistinct => (
                400,
                "com.amazonaws.sqs#BatchEntryIdsNotDistinct",
                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                "Sender",
            ),
            Self::EmptyBatchRequest => (
                400,
                "com.amazonaws.sqs#EmptyBatchRequest",
                "AWS.SimpleQueueService.EmptyBatchRequest",
                "Sender",
            ),
            Self::TooManyEntriesInBatchRequest => (
                400,
                "com.amazonaws.sqs#TooManyEntriesInBatchRequest",
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                "Sender",
            ),
            Self::InvalidBatchEntryId => (
                400,
                "com.amazonaws.sqs#InvalidBatchEntryId",
                "AWS.SimpleQueueService.InvalidBatchEntryId",
                "Sender",
            ),
            Self::BatchRequestTooLong => (
                400,
                "com.amazonaws.sqs#BatchRequestTooLong",
                "AWS.SimpleQueueService.BatchRequestTooLong",
                "Sender",
            ),
            Self::InvalidParameterValue => (
                400,
                "com.amazonaws.sqs#InvalidParameterValueException",
                "InvalidParameterValue",
                "Sender",
            ),
            Self::InvalidAttributeName => (
                400,
                "com.amazonaws.sqs#InvalidAttributeName",
                "InvalidAttributeName",
                "Sender",
            ),
            Self::InvalidAttributeValue => (
                400,
                "com.amazonaws.sqs#InvalidAttributeValue",
                "InvalidAttributeValue",
                "Sender",
            ),
            Self::InvalidMessageContents => (
                400,
                "com.amazonaws.sqs#InvalidMessageContents",
                "InvalidMessageContents",
                "Sender",
            ),
            Self::PurgeQueueInProgress => (
                403,
                "com.amazonaws.sqs#PurgeQueueInProgress",
                "AWS.SimpleQueueService.PurgeQueueInProgress",
                "Sender",
            ),
            Self::OverLimit => (403, "com.amazonaws.sqs#OverLimit", "OverLimit", "Sender"),
            Self::ResourceNotFound => (
                404,
                "com.amazonaws.sqs#ResourceNotFoundException",
                "ResourceNotFoundException",
                "Sender",
            ),
            Self::MissingParameter => (
                400,
                "com.amazonaws.sqs#MissingParameter",
                "MissingParameter",
                "Sender",
            ),
            Self::MissingRequiredParameter => (
                400,
                "com.amazonaws.sqs#MissingRequiredParameterException",
                "MissingParameter",
                "Sender",
            ),
            Self::Serialization => (
                400,
                "com.amazon.coral.service#SerializationException",
                "SerializationException",
                "Sender",
            ),
            Self::UnknownOperation => (
                400,
                "com.amazon.coral.service#UnknownOperationException",
                "UnknownOperationException",
                "Sender",
            ),
            Self::Internal => (
                500,
                "com.amazonaws.sqs#InternalError",
                "InternalError",
                "Receiver",
            ),
        }
    }

    /// The code reported in a batch entry's `Failed` element.
    pub(crate) fn batch_code(self) -> &'static str {
        self.wire().2
    }
}

impl SqsError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn invalid_param(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameterValue, message)
    }

    pub(crate) fn no_queue() -> Self {
        Self::new(
            ErrorKind::QueueDoesNotExist,
            "The specified queue does not exist.",
        )
    }

    pub(crate) fn missing(param: &str) -> Self {
        Self::new(
            ErrorKind::MissingParameter,
            format!("The request must contain the parameter {param}."),
        )
    }

    pub(crate) fn bad_value(value: impl fmt::Display, param: &str, reason: &str) -> Self {
        Self::invalid_param(format!(
            "Value {value} for parameter {param} is invalid. Reason: {reason}"
        ))
    }
}

impl fmt::Display for SqsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.wire().2, self.message)
    }
}

/// Shorthand for engine results.
pub(crate) type SqsResult<T> = Result<T, SqsError>;
