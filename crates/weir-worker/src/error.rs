//! The worker's error: a setting refused by `build()`.

/// A worker setting that `build()` refused: the setting, and the rule (naming the limit).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use weir_worker::{handler_fn, Message, Worker};
///
/// use weir_sqs::{Queue, QueueAttributes};
///
/// # let client = weir_local::LocalSqs::new().client();
/// let queue = Queue::with_attributes(client, "http://sqs.invalid/1/q", QueueAttributes::default());
/// let err = Worker::builder(queue)
///     .handler(handler_fn(|_m: Message<String>| async { Ok::<_, std::io::Error>(()) }))
///     .wait_time(Duration::from_secs(30))
///     .build()
///     .unwrap_err();
/// assert_eq!(err.setting(), "wait_time");
/// assert!(err.to_string().contains("20 s"));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid worker setting `{setting}`: {reason}")]
pub struct BuildError {
    setting: &'static str,
    reason: String,
}

impl BuildError {
    pub(crate) fn new(setting: &'static str, reason: impl Into<String>) -> Self {
        Self {
            setting,
            reason: reason.into(),
        }
    }

    /// The builder setting that was refused, e.g. `"concurrency"`.
    #[must_use]
    pub fn setting(&self) -> &'static str {
        self.setting
    }

    /// Why it was refused.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}
