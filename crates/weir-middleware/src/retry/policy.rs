use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tower::retry::Policy;
use tower::retry::budget::{Budget, TpsBudget};

use crate::BoxError;
use crate::classify::{self, Action, ErrorPredicate, ErrorRef};

/// A [`tower::retry::Policy`]: exponential backoff with jitter (from backon's
/// [`ExponentialBuilder`]), a maximum number of attempts, a maximum elapsed time, a retry
/// budget shared by every clone, and a predicate.
///
/// It retries the call **in place**: in a worker, the message stays leased while the
/// handler is called again. Redelivery through SQS after a failure (the visibility
/// backoff) is `weir_worker::RetryPolicy`, a different thing, hence the different name.
///
/// A failed attempt is retried when all of these hold:
/// 1. the attempts so far are fewer than `max_attempts`;
/// 2. the shutdown token (if any) has not fired;
/// 3. the error is not a reject ([`classify::action`]), and the predicate accepts it;
/// 4. a delay is left: the error's `retry_after`, else the backoff's next delay;
/// 5. the request's elapsed time plus that delay stays within `max_elapsed`;
/// 6. the budget grants a withdrawal.
///
/// Delays: the `n`-th retry waits `min_delay × factorⁿ⁻¹`, capped at `max_delay`; with
/// jitter (on by default) a random amount in `[0, delay)` is added, so the wait lies in
/// `[delay, 2 × delay)`.
///
/// # Clone
///
/// `tower::retry::Retry` clones the policy per request, so attempts, the backoff sequence
/// and the start time are per request. The budget is in an `Arc`: every clone, and every
/// service built from one policy, shares it, so retries cannot amplify an outage beyond
/// the budget's share of traffic. A clone keeps the attempts and start time but restarts
/// the backoff sequence (tower clones a policy only before a request's first attempt).
pub struct InPlaceRetry {
    config: Arc<Config>,
    attempts: u32,
    started: Option<Instant>,
    backoff: Option<ExponentialBackoff>,
}

struct Config {
    max_attempts: u32,
    max_elapsed: Option<Duration>,
    backoff: ExponentialBuilder,
    budget: Arc<TpsBudget>,
    predicate: ErrorPredicate,
    retry_after: fn(ErrorRef<'_>) -> Option<Duration>,
    shutdown: Option<CancellationToken>,
}

impl InPlaceRetry {
    /// A builder, with the defaults listed on its setters.
    pub fn builder() -> InPlaceRetryBuilder {
        InPlaceRetryBuilder::default()
    }

    /// The most attempts per request, the first included.
    #[must_use]
    pub fn max_attempts(&self) -> u32 {
        self.config.max_attempts
    }

    /// The shared budget.
    #[must_use]
    pub fn budget(&self) -> &Arc<TpsBudget> {
        &self.config.budget
    }

    /// Starts a new request on this policy (a clone per request): resets the attempts, the
    /// backoff and the clock, and deposits into the budget. The tower `Retry` does this
    /// itself; call it when driving [`next_delay`](Self::next_delay) by hand.
    pub fn start_request(&mut self) {
        self.attempts = 0;
        self.backoff = None;
        self.started = Some(Instant::now());
        self.config.budget.deposit();
    }

    /// Decides whether to retry after a failed attempt, and how long to wait first.
    ///
    /// This is the policy without tower around it: any loop may call it after each failure
    /// of one request, on a clone made for that request (after
    /// [`start_request`](Self::start_request)). `None` means give up.
    pub fn next_delay(&mut self, err: ErrorRef<'_>) -> Option<Duration> {
        let config = &*self.config;
        let started = *self.started.get_or_insert_with(Instant::now);
        self.attempts = self.attempts.max(1);
        if self.attempts >= config.max_attempts {
            return None;
        }
        if config
            .shutdown
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled)
        {
            return None;
        }
        if matches!(classify::action(err), Some(Action::Reject)) || !config.predicate.matches(err) {
            return None;
        }
        let backoff = self.backoff.get_or_insert_with(|| config.backoff.build());
        // backon computes in f32 (0.1 s × 2 = 200.000003 ms): round to the microsecond.
        let from_backoff = round_to_micros(backoff.next()?);
        let delay = (config.retry_after)(err).unwrap_or(from_backoff);
        if config
            .max_elapsed
            .is_some_and(|max| started.elapsed() + delay > max)
        {
            return None;
        }
        if !config.budget.withdraw() {
            tracing::debug!(attempt = self.attempts, "retry budget exhausted");
            return None;
        }
        self.attempts += 1;
        tracing::debug!(attempt = self.attempts, ?delay, "retrying");
        Some(delay)
    }
}

fn round_to_micros(d: Duration) -> Duration {
    let micros = d.as_nanos().saturating_add(500) / 1000;
    Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
}

impl<Req, Res> Policy<Req, Res, BoxError> for InPlaceRetry
where
    Req: Clone,
{
    type Future = Sleep;

    fn retry(&mut self, _req: &mut Req, result: &mut Result<Res, BoxError>) -> Option<Sleep> {
        match result {
            Ok(_) => None,
            Err(err) => self.next_delay(&**err).map(tokio::time::sleep),
        }
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        // tower calls this on the service's policy before the first attempt (then copies the
        // policy into the response future), and on the request's own copy before each retry.
        if self.attempts == 0 {
            self.started = Some(Instant::now());
            self.config.budget.deposit();
        }
        Some(req.clone())
    }
}

impl Clone for InPlaceRetry {
    fn clone(&self) -> Self {
        Self {
            config: Arc::clone(&self.config),
            attempts: self.attempts,
            started: self.started,
            backoff: None,
        }
    }
}

impl fmt::Debug for InPlaceRetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InPlaceRetry")
            .field("max_attempts", &self.config.max_attempts)
            .field("max_elapsed", &self.config.max_elapsed)
            .field("backoff", &self.config.backoff)
            .field("budget", &self.config.budget)
            .field("predicate", &self.config.predicate)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// Builds a [`InPlaceRetry`]; [`build`](Self::build) validates.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
#[must_use]
pub struct InPlaceRetryBuilder {
    max_attempts: Option<u32>,
    max_elapsed: Option<Option<Duration>>,
    min_delay: Option<Duration>,
    max_delay: Option<Duration>,
    factor: Option<f32>,
    jitter: Option<bool>,
    jitter_seed: Option<u64>,
    budget: Option<Arc<TpsBudget>>,
    budget_params: Option<(Duration, u32, f32)>,
    predicate: Option<ErrorPredicate>,
    retry_after: Option<fn(ErrorRef<'_>) -> Option<Duration>>,
    shutdown: Option<CancellationToken>,
}

impl InPlaceRetryBuilder {
    /// The most attempts per request, the first included. Default: 3.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n);
        self
    }

    /// The most time from the first attempt to the start of the last retry; a retry whose
    /// delay would end later is not made. Default: 30 s.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = Some(Some(d));
        self
    }

    /// No elapsed-time bound (attempts and the budget still bound retries).
    pub fn without_max_elapsed(mut self) -> Self {
        self.max_elapsed = Some(None);
        self
    }

    /// The first retry's delay (before jitter). Default: 100 ms.
    pub fn min_delay(mut self, d: Duration) -> Self {
        self.min_delay = Some(d);
        self
    }

    /// The longest delay (before jitter). Default: 10 s.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = Some(d);
        self
    }

    /// The growth factor between delays. Default: 2.
    pub fn factor(mut self, f: f32) -> Self {
        self.factor = Some(f);
        self
    }

    /// Whether to add jitter (a random `[0, delay)`). Default: yes.
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = Some(on);
        self
    }

    /// Seeds the jitter's random numbers (for reproducible tests).
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// Shares `budget` (tower's [`TpsBudget`]) with other policies.
    /// Default: `TpsBudget::new(10 s, 10/s, 0.2)`: 20 % of requests, plus 10 retries a second.
    pub fn budget(mut self, budget: Arc<TpsBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// A new budget: deposits last `ttl` (1–60 s); `min_per_sec` retries a second are always
    /// allowed; beyond that, `retry_percent` (0–1000, 0.2 = 20 %) of requests may be retried.
    pub fn budget_params(mut self, ttl: Duration, min_per_sec: u32, retry_percent: f32) -> Self {
        self.budget_params = Some((ttl, min_per_sec, retry_percent));
        self
    }

    /// Which errors to retry. Default: [`ErrorPredicate::retryable`].
    pub fn predicate(mut self, predicate: ErrorPredicate) -> Self {
        self.predicate = Some(predicate);
        self
    }

    /// How to read a server-requested wait from an error. Default:
    /// [`crate::classify::retry_after`].
    pub fn retry_after(mut self, f: fn(ErrorRef<'_>) -> Option<Duration>) -> Self {
        self.retry_after = Some(f);
        self
    }

    /// Stop retrying once `token` is cancelled (shutdown): the last error is returned.
    pub fn shutdown(mut self, token: CancellationToken) -> Self {
        self.shutdown = Some(token);
        self
    }

    /// Builds the policy.
    ///
    /// # Errors
    ///
    /// [`RetryBuildError`] if `max_attempts` is 0, the factor is not finite and at least 1,
    /// `min_delay > max_delay`, or the budget parameters are out of range (ttl 1–60 s,
    /// retry_percent 0–1000, min_per_sec below 2³¹).
    pub fn build(self) -> Result<InPlaceRetry, RetryBuildError> {
        let max_attempts = self.max_attempts.unwrap_or(3);
        if max_attempts == 0 {
            return Err(RetryBuildError::ZeroAttempts);
        }
        let factor = self.factor.unwrap_or(2.0);
        if !(factor.is_finite() && factor >= 1.0) {
            return Err(RetryBuildError::Factor(factor));
        }
        let min_delay = self.min_delay.unwrap_or(Duration::from_millis(100));
        let max_delay = self.max_delay.unwrap_or(Duration::from_secs(10));
        if min_delay > max_delay {
            return Err(RetryBuildError::Delays {
                min: min_delay,
                max: max_delay,
            });
        }
        let mut backoff = ExponentialBuilder::new()
            .with_min_delay(min_delay)
            .with_max_delay(max_delay)
            .with_factor(factor)
            .with_max_times(max_attempts as usize - 1);
        if self.jitter.unwrap_or(true) {
            backoff = backoff.with_jitter();
        }
        if let Some(seed) = self.jitter_seed {
            backoff = backoff.with_jitter_seed(seed);
        }
        let budget = match (self.budget, self.budget_params) {
            (Some(budget), _) => budget,
            (None, Some((ttl, min_per_sec, percent))) => {
                let ttl_ok = ttl >= Duration::from_secs(1) && ttl <= Duration::from_secs(60);
                let percent_ok = (0.0..=1000.0).contains(&percent);
                if !(ttl_ok && percent_ok && min_per_sec < i32::MAX as u32) {
                    return Err(RetryBuildError::Budget {
                        ttl,
                        min_per_sec,
                        retry_percent: percent,
                    });
                }
                Arc::new(TpsBudget::new(ttl, min_per_sec, percent))
            }
            (None, None) => Arc::new(TpsBudget::default()),
        };
        Ok(InPlaceRetry {
            config: Arc::new(Config {
                max_attempts,
                max_elapsed: self.max_elapsed.unwrap_or(Some(Duration::from_secs(30))),
                backoff,
                budget,
                predicate: self.predicate.unwrap_or_else(ErrorPredicate::retryable),
                retry_after: self.retry_after.unwrap_or(crate::classify::retry_after),
                shutdown: self.shutdown,
            }),
            attempts: 0,
            started: None,
            backoff: None,
        })
    }
}

/// A retry policy's configuration was invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RetryBuildError {
    /// `max_attempts` is zero.
    #[error("max_attempts must be at least 1 (the first attempt)")]
    ZeroAttempts,
    /// The factor is below 1 or not finite.
    #[error("backoff factor {0} must be a finite number >= 1")]
    Factor(f32),
    /// `min_delay` exceeds `max_delay`.
    #[error("min_delay {min:?} exceeds max_delay {max:?}")]
    Delays {
        /// The first delay given.
        min: Duration,
        /// The longest delay given.
        max: Duration,
    },
    /// The budget parameters are out of range.
    #[error(
        "retry budget out of range: ttl {ttl:?} must be 1-60 s, retry_percent {retry_percent} must be 0-1000, min_per_sec {min_per_sec} below 2^31"
    )]
    Budget {
        /// The ttl given.
        ttl: Duration,
        /// The reserve given.
        min_per_sec: u32,
        /// The percentage given.
        retry_percent: f32,
    },
}
