//! Network-shaped latency for in-process clients: each call waits a random time in
//! `[min, max]` on tokio's clock, half before the engine sees the request and half
//! after it answered, as a request and its response each cross a network.

use std::time::Duration;

/// The per-call latency of in-process clients; see
/// [`LocalSqsBuilder::latency`](crate::LocalSqsBuilder::latency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    min: Duration,
    max: Duration,
}

impl Latency {
    /// A latency drawn uniformly from `[min, max]` for each call (`max` below `min` is
    /// taken as `min`).
    #[must_use]
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
        }
    }

    /// The shortest latency of a call.
    #[must_use]
    pub fn min(&self) -> Duration {
        self.min
    }

    /// The longest latency of a call.
    #[must_use]
    pub fn max(&self) -> Duration {
        self.max
    }

    /// One call's latency, split into the request's way there and the response's way back.
    pub(crate) fn draw(&self) -> (Duration, Duration) {
        let span = u64::try_from((self.max - self.min).as_nanos()).unwrap_or(u64::MAX);
        let total = self.min + Duration::from_nanos(fastrand::u64(0..=span));
        let there = total / 2;
        (there, total - there)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_within_bounds() {
        let l = Latency::new(Duration::from_micros(500), Duration::from_millis(2));
        for _ in 0..1000 {
            let (a, b) = l.draw();
            assert!(a + b >= l.min() && a + b <= l.max(), "{a:?} + {b:?}");
        }
        let fixed = Latency::new(Duration::from_millis(3), Duration::from_millis(1));
        assert_eq!(fixed.max(), Duration::from_millis(3));
        let (a, b) = fixed.draw();
        assert_eq!(a + b, Duration::from_millis(3));
    }
}
