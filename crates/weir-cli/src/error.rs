//! The CLI's errors and exit codes.

use std::fmt;

use weir::sqs::Error as SqsError;

/// Success.
pub(crate) const EXIT_OK: i32 = 0;
/// An SQS or runtime error (the endpoint answered with an error, or could not be reached).
pub(crate) const EXIT_ERROR: i32 = 1;
/// A usage error: bad arguments, or input SQS would refuse, refused before any call.
pub(crate) const EXIT_USAGE: i32 = 2;
/// Refused: a destructive command without confirmation.
pub(crate) const EXIT_REFUSED: i32 = 3;
/// A benchmark lost messages (a message sent was never processed).
pub(crate) const EXIT_LOST: i32 = 4;
/// Interrupted by Ctrl-C or SIGTERM before the work was done.
pub(crate) const EXIT_INTERRUPTED: i32 = 130;

/// Everything a command can fail with; each maps to one stderr line and an exit code.
#[derive(Debug)]
pub(crate) enum CliError {
    /// From weir-sqs (or an SDK call converted with `weir_sqs::Error::from_sdk`).
    Sqs(SqsError),
    /// Bad arguments found after parsing.
    Usage(String),
    /// The user did not confirm (or could not be asked).
    Refused(String),
    /// A benchmark ended with lost messages.
    Lost(u64),
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// Anything else (I/O, the runtime).
    Other(String),
    /// Details already printed; a summary line and the exit code of the first failure.
    Reported(i32, String),
}

impl CliError {
    pub(crate) fn exit_code(&self) -> i32 {
        match self {
            Self::Sqs(SqsError::InvalidInput(_) | SqsError::PayloadTooLarge(_))
            | Self::Usage(_) => EXIT_USAGE,
            Self::Sqs(_) | Self::Other(_) => EXIT_ERROR,
            Self::Refused(_) => EXIT_REFUSED,
            Self::Lost(_) => EXIT_LOST,
            Self::Interrupted => EXIT_INTERRUPTED,
            Self::Reported(code, _) => *code,
        }
    }

    pub(crate) fn other(e: impl fmt::Display) -> Self {
        Self::Other(e.to_string())
    }
}

impl fmt::Display for CliError {
    /// One line: the SQS error code first when there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = match self {
            Self::Sqs(e) => match (e.code(), e.message()) {
                (Some(code), Some(msg)) => format!("{code}: {msg}"),
                (Some(code), None) => format!("{code}: {e}"),
                // No code: the SDK failed before or without an answer (no credentials,
                // connection refused, timeout): the innermost cause says why.
                _ => match root_cause(e) {
                    Some(cause) => format!("{e}: {cause}"),
                    None => e.to_string(),
                },
            },
            Self::Usage(m) | Self::Refused(m) | Self::Other(m) | Self::Reported(_, m) => m.clone(),
            Self::Lost(n) => format!("{n} message(s) lost"),
            Self::Interrupted => "interrupted".to_owned(),
        };
        // Keep it one line whatever the source said.
        f.write_str(&line.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

/// The innermost source of an error, if it says something its parent does not.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = e.source()?;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let text = cur.to_string();
    (!text.is_empty() && !e.to_string().contains(&text)).then_some(text)
}

impl From<SqsError> for CliError {
    fn from(e: SqsError) -> Self {
        Self::Sqs(e)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::Other(e.to_string())
    }
}

pub(crate) type Result<T, E = CliError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use weir::sqs::error::{QueueNotFound, SqsError as SqsCallError, SqsErrorKind};

    #[test]
    fn an_sqs_error_is_one_line_with_its_code_first() {
        let e = CliError::Sqs(SqsError::Sqs(SqsCallError::new(
            "PurgeQueue",
            SqsErrorKind::Service,
            Some("PurgeQueueInProgress".into()),
            Some("Only one PurgeQueue\noperation  every 60 s".into()),
            Some(400),
        )));
        assert_eq!(
            e.to_string(),
            "PurgeQueueInProgress: Only one PurgeQueue operation every 60 s"
        );
        assert_eq!(e.exit_code(), EXIT_ERROR);
    }

    #[test]
    fn exit_codes_follow_the_kind_of_error() {
        let not_found = CliError::Sqs(SqsError::QueueNotFound(QueueNotFound::new("q")));
        assert_eq!(not_found.exit_code(), EXIT_ERROR);
        let bad = CliError::Sqs(SqsError::InvalidInput(weir::sqs::error::InvalidInput::new(
            "delay", "too long",
        )));
        assert_eq!(bad.exit_code(), EXIT_USAGE);
        assert_eq!(CliError::Refused("no".into()).exit_code(), EXIT_REFUSED);
        assert_eq!(CliError::Lost(3).exit_code(), EXIT_LOST);
        assert_eq!(CliError::Interrupted.exit_code(), EXIT_INTERRUPTED);
    }
}
