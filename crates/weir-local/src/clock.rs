//! Time for the engine: tokio's clock for every timer, wall timestamps derived from it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Wall-clock timestamps follow tokio's clock, so `tokio::time::pause()` moves both.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start: Instant,
    start_wall_ms: u64,
}

impl Clock {
    pub(crate) fn new() -> Self {
        let start_wall_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self {
            start: Instant::now(),
            start_wall_ms,
        }
    }

    /// The tokio instant now.
    pub(crate) fn now(&self) -> Instant {
        Instant::now()
    }

    /// Epoch milliseconds at `at`.
    pub(crate) fn epoch_ms(&self, at: Instant) -> u64 {
        let elapsed = at.saturating_duration_since(self.start);
        self.start_wall_ms
            .saturating_add(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
    }

    /// Epoch milliseconds now.
    pub(crate) fn now_ms(&self) -> u64 {
        self.epoch_ms(self.now())
    }
}

/// Seconds as a `Duration`.
pub(crate) fn secs(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}
