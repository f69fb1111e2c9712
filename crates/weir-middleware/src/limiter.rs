//! The shared rate limiter: one GCRA budget for a whole process.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use governor::Quota;
use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};

use crate::clock::TokioClock;

type Gcra = governor::RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Nanos>>;

/// The highest rate a limiter accepts: one permit per nanosecond.
pub const MAX_RATE_PER_SECOND: f64 = 1e9;

/// The shortest wait [`RateLimiter::acquire`] sleeps, so a rounding error never spins.
const MIN_WAIT: Duration = Duration::from_micros(1);

/// One shared rate limit (GCRA, as in a token bucket): `per_second` permits a second, with a
/// burst of `burst` permits.
///
/// A permit is any unit: a message, a request, a byte. Over any interval of length `t`, the
/// limiter grants at most `per_second × t + burst` permits.
///
/// # Clone
///
/// Clones share one budget: eight clones of a 100/s limiter grant 100/s in total, not 800/s.
/// Hand one clone to each worker, producer or [`RateLimitLayer`](crate::RateLimitLayer).
///
/// # Time
///
/// The limiter reads tokio's clock ([`TokioClock`]), so tests under
/// `tokio::time::pause()` run it in virtual time. It never busy-loops: when permits are not
/// yet available, [`acquire`](Self::acquire) computes the wait and sleeps with tokio.
///
/// # Examples
///
/// ```
/// use weir_middleware::RateLimiter;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // 200 messages a second, up to 10 at once.
/// let limiter = RateLimiter::builder().per_second(200.0).burst(10).build()?;
/// // A worker about to receive up to 10 messages asks for 10 permits first.
/// limiter.acquire(10).await?;
/// assert!(limiter.try_acquire(1).is_err()); // the burst is spent
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RateLimiter {
    shared: Arc<Shared>,
}

struct Shared {
    clock: TokioClock,
    current: RwLock<Current>,
}

struct Current {
    gcra: Gcra,
    per_second: f64,
    burst: NonZeroU32,
}

impl RateLimiter {
    /// A builder for a limiter.
    pub fn builder() -> RateLimiterBuilder {
        RateLimiterBuilder::default()
    }

    /// A limiter of `per_second` permits a second with a burst of `burst`.
    ///
    /// # Errors
    ///
    /// [`RateLimiterBuildError`] if `per_second` is not a finite number in
    /// `(0, `[`MAX_RATE_PER_SECOND`]`]` or `burst` is zero.
    pub fn new(per_second: f64, burst: u32) -> Result<Self, RateLimiterBuildError> {
        Self::builder().per_second(per_second).burst(burst).build()
    }

    /// Waits until `n` permits are available, then takes them.
    ///
    /// `acquire(0)` returns at once. The wait is computed from the GCRA state and slept with
    /// [`tokio::time::sleep`]; if the rate changes meanwhile, the wait is computed again.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: dropping the future before it completes takes no permits.
    ///
    /// # Errors
    ///
    /// [`AcquireError::ExceedsBurst`] if `n` is larger than the burst: such a request could
    /// never be granted at once. Ask for at most [`burst`](Self::burst) permits at a time.
    pub async fn acquire(&self, n: u32) -> Result<(), AcquireError> {
        loop {
            match self.try_acquire(n) {
                Ok(()) => return Ok(()),
                Err(AcquireError::Wait { wait }) => tokio::time::sleep(wait.max(MIN_WAIT)).await,
                Err(other) => return Err(other),
            }
        }
    }

    /// Takes `n` permits if they are available now.
    ///
    /// `try_acquire(0)` always succeeds.
    ///
    /// # Errors
    ///
    /// - [`AcquireError::Wait`] with the time until `n` permits will be available;
    ///   no permit is taken.
    /// - [`AcquireError::ExceedsBurst`] if `n` is larger than the burst.
    pub fn try_acquire(&self, n: u32) -> Result<(), AcquireError> {
        let Some(n) = NonZeroU32::new(n) else {
            return Ok(());
        };
        let current = self.shared.read();
        match current.gcra.check_n(n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(AcquireError::Wait {
                wait: not_until.wait_time_from(self.shared.clock.now()),
            }),
            Err(_) => Err(AcquireError::ExceedsBurst {
                requested: n.get(),
                burst: current.burst.get(),
            }),
        }
    }

    /// The rate, in permits per second.
    #[must_use]
    pub fn per_second(&self) -> f64 {
        self.shared.read().per_second
    }

    /// The burst: the most permits granted at once, and the largest `n` that
    /// [`acquire`](Self::acquire) accepts.
    #[must_use]
    pub fn burst(&self) -> u32 {
        self.shared.read().burst.get()
    }

    /// Changes the rate for every clone.
    ///
    /// The bucket restarts empty at the new rate: the next permit comes one interval
    /// (`1 / per_second`) later. For a limiter that was saturated, this continues the flow
    /// without a burst; an idle limiter loses its stored burst. [`AdaptiveRateLimiter`](crate::AdaptiveRateLimiter)
    /// calls this.
    ///
    /// # Errors
    ///
    /// [`RateLimiterBuildError`] if `per_second` is not a finite number in
    /// `(0, `[`MAX_RATE_PER_SECOND`]`]`; the rate is then unchanged.
    pub fn set_per_second(&self, per_second: f64) -> Result<(), RateLimiterBuildError> {
        let mut current = self
            .shared
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let next = Current::new(per_second, current.burst, self.shared.clock)?;
        // Start empty: take the whole (fresh) burst, which a fresh bucket always grants.
        let _ = next.gcra.check_n(next.burst);
        *current = next;
        Ok(())
    }
}

impl Shared {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        self.current.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Current {
    fn new(
        per_second: f64,
        burst: NonZeroU32,
        clock: TokioClock,
    ) -> Result<Self, RateLimiterBuildError> {
        if !(per_second.is_finite() && per_second > 0.0 && per_second <= MAX_RATE_PER_SECOND) {
            return Err(RateLimiterBuildError::Rate { per_second });
        }
        let period = Duration::try_from_secs_f64(1.0 / per_second)
            .map_err(|_| RateLimiterBuildError::Rate { per_second })?;
        let quota = Quota::with_period(period)
            .ok_or(RateLimiterBuildError::Rate { per_second })?
            .allow_burst(burst);
        Ok(Self {
            gcra: governor::RateLimiter::direct_with_clock(quota, clock),
            per_second,
            burst,
        })
    }
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.shared.read();
        f.debug_struct("RateLimiter")
            .field("per_second", &current.per_second)
            .field("burst", &current.burst)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RateLimiter`]; [`build`](Self::build) validates.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
#[must_use]
pub struct RateLimiterBuilder {
    per_second: Option<f64>,
    burst: Option<u32>,
}

impl RateLimiterBuilder {
    /// The rate, in permits per second (fractions allowed). Required.
    pub fn per_second(mut self, per_second: f64) -> Self {
        self.per_second = Some(per_second);
        self
    }

    /// Sets or clears the rate.
    pub fn set_per_second(&mut self, per_second: Option<f64>) -> &mut Self {
        self.per_second = per_second;
        self
    }

    /// The burst, in permits. Defaults to 1 (a strictly paced flow).
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = Some(burst);
        self
    }

    /// Sets or clears the burst.
    pub fn set_burst(&mut self, burst: Option<u32>) -> &mut Self {
        self.burst = burst;
        self
    }

    /// Builds the limiter. It starts full: the first `burst` permits are granted at once.
    ///
    /// # Errors
    ///
    /// - [`RateLimiterBuildError::MissingRate`] if no rate was set;
    /// - [`RateLimiterBuildError::Rate`] if the rate is not a finite number in
    ///   `(0, `[`MAX_RATE_PER_SECOND`]`]`;
    /// - [`RateLimiterBuildError::ZeroBurst`] if the burst is zero.
    pub fn build(self) -> Result<RateLimiter, RateLimiterBuildError> {
        let per_second = self.per_second.ok_or(RateLimiterBuildError::MissingRate)?;
        let burst =
            NonZeroU32::new(self.burst.unwrap_or(1)).ok_or(RateLimiterBuildError::ZeroBurst)?;
        let clock = TokioClock::new();
        let current = Current::new(per_second, burst, clock)?;
        Ok(RateLimiter {
            shared: Arc::new(Shared {
                clock,
                current: RwLock::new(current),
            }),
        })
    }
}

/// A rate limiter's configuration was invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimiterBuildError {
    /// No rate was set.
    #[error("a rate limiter needs a rate (per_second)")]
    MissingRate,
    /// The rate is out of range.
    #[error(
        "rate {per_second}/s is out of range: it must be finite, above 0 and at most {MAX_RATE_PER_SECOND}/s"
    )]
    Rate {
        /// The rejected rate.
        per_second: f64,
    },
    /// The burst is zero.
    #[error("burst must be at least 1 permit")]
    ZeroBurst,
}

/// Permits could not be granted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AcquireError {
    /// More permits were asked for at once than the burst allows; this can never succeed.
    #[error("asked for {requested} permits at once, more than the burst of {burst}")]
    ExceedsBurst {
        /// Permits asked for.
        requested: u32,
        /// The limiter's burst.
        burst: u32,
    },
    /// The permits are not available yet (only from [`RateLimiter::try_acquire`]).
    #[error("rate limited: permits available in {wait:?}")]
    Wait {
        /// How long until the permits are available, if nobody else takes them.
        wait: Duration,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn admits_rate_times_t_plus_burst_across_eight_clones() {
        // 100/s, burst 20, for 10 s: exactly 100 × 10 + 20 = 1020 permits.
        let limiter = RateLimiter::new(100.0, 20).unwrap();
        let start = Instant::now();
        let end = start + Duration::from_secs(10);
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let limiter = limiter.clone();
            tasks.push(tokio::spawn(async move {
                let mut granted = 0u32;
                loop {
                    limiter.acquire(1).await.unwrap();
                    if Instant::now() > end {
                        return granted;
                    }
                    granted += 1;
                }
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        assert_eq!(total, 1020);
    }

    #[tokio::test(start_paused = true)]
    async fn no_window_exceeds_rate_plus_burst() {
        let limiter = RateLimiter::new(50.0, 5).unwrap();
        let start = Instant::now();
        let mut grants = Vec::new();
        while grants.len() < 500 {
            limiter.acquire(1).await.unwrap();
            grants.push(Instant::now() - start);
        }
        for (i, at) in grants.iter().enumerate() {
            let in_window = grants[i..]
                .iter()
                .take_while(|later| **later - *at < Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 55,
                "{in_window} grants in the 1 s window from {at:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_n_waits_for_n_permits() {
        let limiter = RateLimiter::new(10.0, 10).unwrap();
        let start = Instant::now();
        limiter.acquire(10).await.unwrap();
        assert_eq!(Instant::now(), start);
        limiter.acquire(5).await.unwrap();
        let waited = Instant::now() - start;
        assert!(
            waited >= Duration::from_millis(500) && waited <= Duration::from_millis(502),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn try_acquire_reports_the_wait_and_takes_nothing() {
        let limiter = RateLimiter::new(4.0, 2).unwrap();
        limiter.try_acquire(2).unwrap();
        match limiter.try_acquire(1) {
            Err(AcquireError::Wait { wait }) => assert_eq!(wait, Duration::from_millis(250)),
            other => panic!("{other:?}"),
        }
        tokio::time::advance(Duration::from_millis(250)).await;
        limiter.try_acquire(1).unwrap();
        assert!(limiter.try_acquire(1).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn over_burst_is_a_clear_error() {
        let limiter = RateLimiter::new(100.0, 10).unwrap();
        let err = limiter.acquire(11).await.unwrap_err();
        assert_eq!(
            err,
            AcquireError::ExceedsBurst {
                requested: 11,
                burst: 10
            }
        );
        assert!(err.to_string().contains("burst of 10"));
        limiter.acquire(0).await.unwrap();
    }

    #[test]
    fn bad_config_is_rejected() {
        assert_eq!(
            RateLimiter::new(0.0, 1).unwrap_err(),
            RateLimiterBuildError::Rate { per_second: 0.0 }
        );
        assert!(RateLimiter::new(f64::NAN, 1).is_err());
        assert!(RateLimiter::new(2e9, 1).is_err());
        assert_eq!(
            RateLimiter::new(1.0, 0).unwrap_err(),
            RateLimiterBuildError::ZeroBurst
        );
        assert_eq!(
            RateLimiter::builder().build().unwrap_err(),
            RateLimiterBuildError::MissingRate
        );
    }

    #[tokio::test(start_paused = true)]
    async fn set_per_second_applies_to_clones_and_starts_empty() {
        let limiter = RateLimiter::new(100.0, 10).unwrap();
        let clone = limiter.clone();
        limiter.set_per_second(10.0).unwrap();
        assert!((clone.per_second() - 10.0).abs() < f64::EPSILON);
        assert!(clone.try_acquire(1).is_err());
        tokio::time::advance(Duration::from_millis(100)).await;
        clone.try_acquire(1).unwrap();
        assert!(limiter.set_per_second(-1.0).is_err());
        assert!((limiter.per_second() - 10.0).abs() < f64::EPSILON);
    }
}
