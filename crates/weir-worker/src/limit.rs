//! The receive rate: permits for a whole receive are taken before it is sent, so no
//! message waits in memory for a permit. An adaptive limit also hears each message's
//! outcome: throttling and timeouts lower the rate, successes raise it again.

use std::fmt;

use weir_middleware::{AdaptiveRateLimiter, RateLimiter};

/// The rate limit of a worker's receives: a fixed [`RateLimiter`] or an
/// [`AdaptiveRateLimiter`]; see [`WorkerBuilder::rate_limit`](crate::WorkerBuilder::rate_limit).
///
/// With an adaptive limiter, handler outcomes move the rate within its bounds: a
/// failure that says "slow down" ([`HandlerError::throttled`](crate::HandlerError::throttled),
/// SQS throttling, back pressure) or a timeout lowers it (multiplicative decrease, at
/// most once per cooldown); successes raise it again (additive increase).
#[derive(Clone)]
pub enum ReceiveLimit {
    /// A fixed rate, shared with every clone of the limiter.
    Fixed(RateLimiter),
    /// A rate that falls on throttling and recovers on success.
    Adaptive(AdaptiveRateLimiter),
}

impl fmt::Debug for ReceiveLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fixed(l) => f.debug_tuple("Fixed").field(&l.per_second()).finish(),
            Self::Adaptive(a) => f.debug_tuple("Adaptive").field(&a.per_second()).finish(),
        }
    }
}

impl From<RateLimiter> for ReceiveLimit {
    fn from(limiter: RateLimiter) -> Self {
        Self::Fixed(limiter)
    }
}

impl From<AdaptiveRateLimiter> for ReceiveLimit {
    fn from(limiter: AdaptiveRateLimiter) -> Self {
        Self::Adaptive(limiter)
    }
}

impl ReceiveLimit {
    fn limiter(&self) -> &RateLimiter {
        match self {
            Self::Fixed(l) => l,
            Self::Adaptive(a) => a.limiter(),
        }
    }

    /// The most permits one receive may take: the burst.
    pub(crate) fn max_batch(&self) -> usize {
        self.limiter().burst() as usize
    }

    /// Waits for `n` permits (at most the burst).
    pub(crate) async fn acquire(&self, n: usize) {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        if let Err(e) = self.limiter().acquire(n).await {
            tracing::warn!(error = %e, "rate limiter refused; receiving anyway");
        }
    }

    /// A handler succeeded.
    pub(crate) fn on_success(&self) {
        if let Self::Adaptive(a) = self {
            a.on_success();
        }
    }

    /// A handler reported throttling or timed out.
    pub(crate) fn on_throttled(&self) {
        if let Self::Adaptive(a) = self
            && a.on_throttled()
        {
            tracing::info!(
                per_second = a.per_second(),
                "throttled: receive rate lowered"
            );
        }
    }
}
