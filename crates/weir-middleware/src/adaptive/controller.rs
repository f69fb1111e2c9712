use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::{AcquireError, RateLimiter};

/// A shared AIMD controller over a [`RateLimiter`].
///
/// - [`on_throttled`](Self::on_throttled) multiplies the rate by the decrease factor (0.5
///   by default), not below the minimum, at most once per cooldown (so a burst of throttled
///   responses to calls already in flight counts once).
/// - [`on_success`](Self::on_success) adds the increase step, not above the maximum, at most
///   once per increase interval, and not within one interval of a decrease.
///
/// # Clone
///
/// Clones share the controller and its limiter.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir_middleware::adaptive::AdaptiveRateLimiter;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # tokio::time::pause();
/// let adaptive = AdaptiveRateLimiter::builder()
///     .min_per_second(10.0)
///     .max_per_second(400.0)
///     .increase_step(20.0)
///     .build()?;
/// assert_eq!(adaptive.per_second(), 400.0);
/// adaptive.on_throttled();
/// assert_eq!(adaptive.per_second(), 200.0);
/// tokio::time::advance(Duration::from_secs(1)).await;
/// adaptive.on_success();
/// assert_eq!(adaptive.per_second(), 220.0);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AdaptiveRateLimiter {
    shared: Arc<Shared>,
}

struct Shared {
    limiter: RateLimiter,
    min: f64,
    max: f64,
    factor: f64,
    step: f64,
    interval: Duration,
    cooldown: Duration,
    state: Mutex<State>,
}

struct State {
    last_change: Instant,
    last_decrease: Option<Instant>,
    decreases: u64,
}

impl AdaptiveRateLimiter {
    /// A builder.
    pub fn builder() -> AdaptiveRateLimiterBuilder {
        AdaptiveRateLimiterBuilder::default()
    }

    /// The current rate, in permits per second.
    #[must_use]
    pub fn per_second(&self) -> f64 {
        self.shared.limiter.per_second()
    }

    /// The lowest rate it goes down to.
    #[must_use]
    pub fn min_per_second(&self) -> f64 {
        self.shared.min
    }

    /// The highest rate it goes up to.
    #[must_use]
    pub fn max_per_second(&self) -> f64 {
        self.shared.max
    }

    /// How many times the rate was lowered.
    #[must_use]
    pub fn decreases(&self) -> u64 {
        self.lock().decreases
    }

    /// The limiter whose rate it moves; take permits from it (or through
    /// [`acquire`](Self::acquire)).
    #[must_use]
    pub fn limiter(&self) -> &RateLimiter {
        &self.shared.limiter
    }

    /// Waits for `n` permits at the current rate: see [`RateLimiter::acquire`].
    ///
    /// # Errors
    ///
    /// [`AcquireError::ExceedsBurst`] if `n` exceeds the burst.
    pub async fn acquire(&self, n: u32) -> Result<(), AcquireError> {
        self.shared.limiter.acquire(n).await
    }

    /// Reports throttling or overload: lowers the rate (multiplicative decrease), unless it
    /// was lowered less than a cooldown ago. Returns whether the rate changed.
    pub fn on_throttled(&self) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        if state
            .last_decrease
            .is_some_and(|at| now.duration_since(at) < self.shared.cooldown)
        {
            return false;
        }
        let current = self.shared.limiter.per_second();
        let next = (current * self.shared.factor).max(self.shared.min);
        state.last_decrease = Some(now);
        state.last_change = now;
        if next >= current {
            return false;
        }
        state.decreases += 1;
        self.set(next);
        tracing::debug!(from = current, to = next, "adaptive rate lowered");
        true
    }

    /// Reports a success: raises the rate by the step (additive increase), at most once per
    /// increase interval. Returns whether the rate changed.
    pub fn on_success(&self) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        if now.duration_since(state.last_change) < self.shared.interval {
            return false;
        }
        let current = self.shared.limiter.per_second();
        if current >= self.shared.max {
            return false;
        }
        let next = (current + self.shared.step).min(self.shared.max);
        state.last_change = now;
        self.set(next);
        tracing::trace!(from = current, to = next, "adaptive rate raised");
        true
    }

    fn set(&self, per_second: f64) {
        // The rate stays within [min, max], which build() checked against the limiter's range.
        if let Err(err) = self.shared.limiter.set_per_second(per_second) {
            tracing::warn!(%err, "adaptive rate not applied");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for AdaptiveRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptiveRateLimiter")
            .field("per_second", &self.per_second())
            .field("min", &self.shared.min)
            .field("max", &self.shared.max)
            .field("factor", &self.shared.factor)
            .field("step", &self.shared.step)
            .finish_non_exhaustive()
    }
}

/// Builds an [`AdaptiveRateLimiter`]; [`build`](Self::build) validates.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
#[must_use]
pub struct AdaptiveRateLimiterBuilder {
    min: Option<f64>,
    max: Option<f64>,
    initial: Option<f64>,
    burst: Option<u32>,
    factor: Option<f64>,
    step: Option<f64>,
    interval: Option<Duration>,
    cooldown: Option<Duration>,
}

impl AdaptiveRateLimiterBuilder {
    /// The lowest rate. Required.
    pub fn min_per_second(mut self, v: f64) -> Self {
        self.min = Some(v);
        self
    }

    /// The highest rate. Required.
    pub fn max_per_second(mut self, v: f64) -> Self {
        self.max = Some(v);
        self
    }

    /// The starting rate. Default: the maximum.
    pub fn initial_per_second(mut self, v: f64) -> Self {
        self.initial = Some(v);
        self
    }

    /// The limiter's burst. Default: 1.
    pub fn burst(mut self, v: u32) -> Self {
        self.burst = Some(v);
        self
    }

    /// The multiplicative decrease factor, in (0, 1). Default: 0.5 (halve).
    pub fn decrease_factor(mut self, v: f64) -> Self {
        self.factor = Some(v);
        self
    }

    /// The additive increase, in permits per second. Default: 5 % of the maximum.
    pub fn increase_step(mut self, v: f64) -> Self {
        self.step = Some(v);
        self
    }

    /// The least time between two increases. Default: 1 s.
    pub fn increase_interval(mut self, v: Duration) -> Self {
        self.interval = Some(v);
        self
    }

    /// The least time between two decreases. Default: 1 s.
    pub fn decrease_cooldown(mut self, v: Duration) -> Self {
        self.cooldown = Some(v);
        self
    }

    /// Builds the controller and its limiter.
    ///
    /// # Errors
    ///
    /// [`AdaptiveBuildError`] if the minimum or maximum is missing, if
    /// `0 < min <= initial <= max <= MAX_RATE_PER_SECOND` does not hold, if the factor is
    /// not in (0, 1), if the step is not finite and positive, or if the burst is zero.
    pub fn build(self) -> Result<AdaptiveRateLimiter, AdaptiveBuildError> {
        use AdaptiveBuildError as E;
        let min = self.min.ok_or(E::Missing("min_per_second"))?;
        let max = self.max.ok_or(E::Missing("max_per_second"))?;
        let initial = self.initial.unwrap_or(max);
        let in_range = |v: f64| v.is_finite() && v > 0.0 && v <= crate::MAX_RATE_PER_SECOND;
        if !(in_range(min) && in_range(max) && min <= initial && initial <= max) {
            return Err(E::Range { min, initial, max });
        }
        let factor = self.factor.unwrap_or(0.5);
        if !(factor > 0.0 && factor < 1.0) {
            return Err(E::Factor(factor));
        }
        let step = self.step.unwrap_or(max * 0.05);
        if !(step.is_finite() && step > 0.0) {
            return Err(E::Step(step));
        }
        let limiter = RateLimiter::new(initial, self.burst.unwrap_or(1))
            .map_err(|e| E::Limiter(e.to_string()))?;
        Ok(AdaptiveRateLimiter {
            shared: Arc::new(Shared {
                limiter,
                min,
                max,
                factor,
                step,
                interval: self.interval.unwrap_or(Duration::from_secs(1)),
                cooldown: self.cooldown.unwrap_or(Duration::from_secs(1)),
                state: Mutex::new(State {
                    last_change: Instant::now(),
                    last_decrease: None,
                    decreases: 0,
                }),
            }),
        })
    }
}

/// An adaptive limiter's configuration was invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AdaptiveBuildError {
    /// A required setting is missing.
    #[error("adaptive rate limiter needs {0}")]
    Missing(&'static str),
    /// The rates are out of order or out of range.
    #[error(
        "adaptive rates must satisfy 0 < min ({min}) <= initial ({initial}) <= max ({max}) <= {}",
        crate::MAX_RATE_PER_SECOND
    )]
    Range {
        /// The minimum given.
        min: f64,
        /// The initial rate given (or the maximum).
        initial: f64,
        /// The maximum given.
        max: f64,
    },
    /// The decrease factor is not in (0, 1).
    #[error("decrease factor {0} must be in (0, 1)")]
    Factor(f64),
    /// The increase step is not positive.
    #[error("increase step {0} must be a positive rate")]
    Step(f64),
    /// The limiter refused the settings (a zero burst).
    #[error("rate limiter: {0}")]
    Limiter(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn controller() -> AdaptiveRateLimiter {
        AdaptiveRateLimiter::builder()
            .min_per_second(10.0)
            .max_per_second(100.0)
            .increase_step(10.0)
            .build()
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn halves_on_throttling_then_recovers_additively() {
        let a = controller();
        assert!(a.on_throttled());
        assert_eq!(a.per_second(), 50.0);
        // A second throttled response within the cooldown counts once.
        assert!(!a.on_throttled());
        assert_eq!(a.per_second(), 50.0);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(a.on_throttled());
        assert_eq!(a.per_second(), 25.0);
        // Successes within an interval of the decrease do not raise it.
        assert!(!a.on_success());
        let mut seen = Vec::new();
        for _ in 0..10 {
            tokio::time::advance(Duration::from_secs(1)).await;
            a.on_success();
            a.on_success(); // at most once per interval
            seen.push(a.per_second());
        }
        assert_eq!(
            seen,
            [
                35.0, 45.0, 55.0, 65.0, 75.0, 85.0, 95.0, 100.0, 100.0, 100.0
            ]
        );
        assert_eq!(a.decreases(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn never_below_min() {
        let a = controller();
        for _ in 0..10 {
            a.on_throttled();
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert_eq!(a.per_second(), 10.0);
        assert_eq!(a.decreases(), 4); // 50, 25, 12.5, 10
    }

    #[tokio::test(start_paused = true)]
    async fn the_limiter_follows_the_rate() {
        let a = controller();
        a.on_throttled(); // 50/s: one permit per 20 ms, bucket restarted empty
        let start = Instant::now();
        for _ in 0..10 {
            a.acquire(1).await.unwrap();
        }
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }

    #[test]
    fn bad_config_is_rejected() {
        let b = || {
            AdaptiveRateLimiter::builder()
                .min_per_second(10.0)
                .max_per_second(100.0)
        };
        assert!(matches!(
            b().min_per_second(200.0).build(),
            Err(AdaptiveBuildError::Range { .. })
        ));
        assert!(matches!(
            b().decrease_factor(1.0).build(),
            Err(AdaptiveBuildError::Factor(_))
        ));
        assert!(matches!(
            b().increase_step(0.0).build(),
            Err(AdaptiveBuildError::Step(_))
        ));
        assert!(matches!(
            b().burst(0).build(),
            Err(AdaptiveBuildError::Limiter(_))
        ));
        assert!(matches!(
            AdaptiveRateLimiter::builder().max_per_second(1.0).build(),
            Err(AdaptiveBuildError::Missing("min_per_second"))
        ));
    }
}
