//! A governor clock that reads tokio's clock, so `tokio::time::pause()` drives the limiter.

use governor::clock::Clock;
use governor::nanos::Nanos;
use tokio::time::Instant;

/// A [`governor::clock::Clock`] over [`tokio::time::Instant`].
///
/// governor's default clock reads real time (quanta), which paused-time tests cannot move.
/// This clock measures nanoseconds since its creation with tokio's clock, so
/// `tokio::time::pause()` and `tokio::time::advance()` drive every limiter built on it.
///
/// # Examples
///
/// ```
/// use governor::clock::Clock;
/// use weir_middleware::TokioClock;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// tokio::time::pause();
/// let clock = TokioClock::new();
/// let t0 = clock.now();
/// tokio::time::advance(std::time::Duration::from_millis(5)).await;
/// assert_eq!(u64::from(clock.now()) - u64::from(t0), 5_000_000);
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: Instant,
}

impl TokioClock {
    /// A clock whose zero is now (by tokio's clock).
    #[must_use]
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }

    /// The tokio instant that corresponds to a reading of this clock.
    #[must_use]
    pub fn to_instant(&self, reading: Nanos) -> Instant {
        self.start + std::time::Duration::from(reading)
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let since = Instant::now().saturating_duration_since(self.start);
        // u64 nanoseconds cover 584 years of uptime.
        Nanos::new(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
    }
}
