//! How long a failed message waits before SQS delivers it again.

use std::time::Duration;

use crate::error::BuildError;

/// The longest visibility timeout SQS accepts, counted from the receive: 12 hours. One
/// constant for the workspace: weir-sqs's, which its checks before the network use.
pub use weir_sqs::validate::MAX_VISIBILITY;

/// Message-level retry: the delay before a failed message is delivered again, from its
/// receive count. Exponential (`base × 2^(count-1)`), capped at `max` (at most 12 h,
/// SQS's limit), with "equal" jitter: the delay is drawn from `[d/2, d]`.
///
/// The delay is applied with `ChangeMessageVisibility`, so the retry survives a crash.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir_worker::RetryPolicy;
///
/// let policy = RetryPolicy::exponential(Duration::from_secs(2))
///     .with_max(Duration::from_secs(60))
///     .without_jitter();
/// assert_eq!(policy.backoff(1), Duration::from_secs(2));
/// assert_eq!(policy.backoff(3), Duration::from_secs(8));
/// assert_eq!(policy.backoff(30), Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    base: Duration,
    max: Duration,
    jitter: bool,
}

impl Default for RetryPolicy {
    /// 1 s, doubling, capped at 12 h, with jitter.
    fn default() -> Self {
        Self::exponential(Duration::from_secs(1))
    }
}

impl RetryPolicy {
    /// Exponential backoff from `base`, capped at 12 h, with jitter.
    #[must_use]
    pub const fn exponential(base: Duration) -> Self {
        Self {
            base,
            max: MAX_VISIBILITY,
            jitter: true,
        }
    }

    /// The same delay for every attempt, with no jitter.
    #[must_use]
    pub const fn fixed(delay: Duration) -> Self {
        Self {
            base: delay,
            max: delay,
            jitter: false,
        }
    }

    /// Caps the delay at `max` (validated by the builder: at most 12 h).
    #[must_use]
    pub const fn with_max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// Turns jitter off, so delays are exact (tests, or a single consumer).
    #[must_use]
    pub const fn without_jitter(mut self) -> Self {
        self.jitter = false;
        self
    }

    /// The delay before the next delivery of a message received `receive_count` times
    /// (1 for the first delivery). Always within `[min(base, max) / 2, max]`.
    #[must_use]
    pub fn backoff(&self, receive_count: u32) -> Duration {
        let exp = receive_count.saturating_sub(1).min(40);
        let full = self
            .base
            .checked_mul(1u32 << exp.min(31))
            .and_then(|d| d.checked_mul(1u32 << exp.saturating_sub(31)))
            .unwrap_or(self.max)
            .min(self.max);
        if self.jitter && !full.is_zero() {
            let half = full / 2;
            let span = u64::try_from((full - half).as_millis()).unwrap_or(u64::MAX);
            half + Duration::from_millis(fastrand::u64(0..=span))
        } else {
            full
        }
    }

    pub(crate) fn validate(&self) -> Result<(), BuildError> {
        if self.max > MAX_VISIBILITY {
            return Err(BuildError::new(
                "retry_policy",
                format!(
                    "max backoff {:?} exceeds SQS's 12 h (43 200 s) visibility limit",
                    self.max
                ),
            ));
        }
        if self.base > self.max {
            return Err(BuildError::new(
                "retry_policy",
                format!("base {:?} is above max {:?}", self.base, self.max),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_within_bounds() {
        let p =
            RetryPolicy::exponential(Duration::from_millis(500)).with_max(Duration::from_secs(300));
        for count in 0..100 {
            for _ in 0..20 {
                let d = p.backoff(count);
                let full = Duration::from_millis(500)
                    .saturating_mul(1 << count.saturating_sub(1).min(20))
                    .min(Duration::from_secs(300));
                assert!(
                    d >= full / 2 && d <= full,
                    "count {count}: {d:?} vs {full:?}"
                );
            }
        }
    }

    #[test]
    fn default_caps_at_twelve_hours() {
        let p = RetryPolicy::default();
        assert!(p.backoff(u32::MAX) <= MAX_VISIBILITY);
        assert!(p.backoff(u32::MAX) >= MAX_VISIBILITY / 2);
        assert!(p.validate().is_ok());
        assert!(
            RetryPolicy::fixed(Duration::from_secs(50_000))
                .validate()
                .is_err()
        );
    }
}
