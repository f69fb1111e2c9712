use std::fmt;
use std::time::Duration;

/// A call was refused because the queue is too deep.
///
/// An HTTP service maps it to `429 Too Many Requests` (the caller should slow down) or
/// `503 Service Unavailable` with a `Retry-After` of a sampling interval or so.
/// [`is_retryable`](crate::classify::is_retryable) and
/// [`is_throttling`](crate::classify::is_throttling) both say yes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backpressure {
    depth: u64,
    high_watermark: u64,
    low_watermark: u64,
    waited: Option<Duration>,
}

impl Backpressure {
    pub(super) const fn rejected(depth: u64, high_watermark: u64, low_watermark: u64) -> Self {
        Self {
            depth,
            high_watermark,
            low_watermark,
            waited: None,
        }
    }

    pub(super) const fn timed_out(
        depth: u64,
        high_watermark: u64,
        low_watermark: u64,
        waited: Duration,
    ) -> Self {
        Self {
            depth,
            high_watermark,
            low_watermark,
            waited: Some(waited),
        }
    }

    /// The queue depth last sampled.
    #[must_use]
    pub const fn depth(&self) -> u64 {
        self.depth
    }

    /// The high watermark, above which back pressure engages.
    #[must_use]
    pub const fn high_watermark(&self) -> u64 {
        self.high_watermark
    }

    /// The low watermark, at or below which it releases.
    #[must_use]
    pub const fn low_watermark(&self) -> u64 {
        self.low_watermark
    }

    /// How long the call waited before giving up (the `Wait` policy), or `None` when it was
    /// refused at once (the `FailFast` policy).
    #[must_use]
    pub const fn waited(&self) -> Option<Duration> {
        self.waited
    }
}

impl fmt::Display for Backpressure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.waited {
            None => write!(
                f,
                "back pressure: queue depth {} is above the high watermark {}",
                self.depth, self.high_watermark
            ),
            Some(waited) => write!(
                f,
                "back pressure: queue depth {} did not fall to the low watermark {} within {waited:?}",
                self.depth, self.low_watermark
            ),
        }
    }
}

impl std::error::Error for Backpressure {}
