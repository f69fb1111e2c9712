use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;
use tower::Layer;

use super::{Backpressure, BackpressureService, DepthMonitor};
use crate::adaptive::AdaptiveRateLimiter;

/// What a [`BackpressureLayer`] does while the depth is above the high watermark.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BackpressurePolicy {
    /// `poll_ready` waits until the depth falls to the low watermark, for at most `timeout`;
    /// then the call fails with [`Backpressure`] (with [`waited`](Backpressure::waited) set).
    Wait {
        /// The longest a call waits.
        timeout: Duration,
    },
    /// The call fails at once with [`Backpressure`], without reaching the inner service.
    FailFast,
    /// The call goes through, and the adaptive limiter is told to slow down
    /// ([`on_throttled`](AdaptiveRateLimiter::on_throttled), once per its cooldown). Put an
    /// [`AdaptiveRateLimitLayer`](crate::adaptive::AdaptiveRateLimitLayer) over the same
    /// limiter in the stack so the lower rate applies and recovers.
    SlowDown(AdaptiveRateLimiter),
}

/// Whether back pressure is engaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackpressureState {
    /// Calls pass.
    Open,
    /// The depth went above the high watermark and has not yet fallen to the low one.
    Engaged,
}

/// A snapshot of a [`BackpressureLayer`]'s state and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackpressureStats {
    /// Open or engaged.
    pub state: BackpressureState,
    /// The latest depth sampled, if any.
    pub depth: Option<u64>,
    /// Total time spent engaged, including the current stretch.
    pub throttled_time: Duration,
    /// How many times it engaged.
    pub engagements: u64,
    /// Calls refused with [`Backpressure`] (fail fast, or waits that timed out).
    pub rejected: u64,
    /// Calls that waited for the depth to fall.
    pub waits: u64,
}

/// Applies producer back pressure from a [`DepthMonitor`] monitor, with high and low
/// watermarks.
///
/// # Clone
///
/// Clones, and every service built from it, share one hysteresis state and one set of
/// counters ([`stats`](Self::stats)).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tower::{ServiceBuilder, ServiceExt};
/// use weir_middleware::backpressure::{
///     Backpressure, BackpressureLayer, BackpressurePolicy, DepthSample, DepthMonitor,
/// };
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// // In production: DepthMonitor::builder(client, queue_url).spawn()?
/// let (depth, feed) = DepthMonitor::manual();
/// let layer = BackpressureLayer::builder(depth)
///     .high_watermark(10_000)
///     .low_watermark(5_000)
///     .policy(BackpressurePolicy::FailFast)
///     .build()?;
/// let producer = ServiceBuilder::new()
///     .layer(layer.clone())
///     .service_fn(|body: String| async move { Ok::<_, std::io::Error>(body.len()) });
///
/// feed.send(DepthSample::visible(12_000));
/// let err = producer.clone().oneshot("hello".to_owned()).await.unwrap_err();
/// assert!(err.is::<Backpressure>()); // an HTTP front end answers 429 or 503
/// feed.send(DepthSample::visible(4_000));
/// assert_eq!(producer.oneshot("hello".to_owned()).await?, 5);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct BackpressureLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
pub(super) struct Shared {
    pub(super) depth: DepthMonitor,
    pub(super) high: u64,
    pub(super) low: u64,
    pub(super) policy: BackpressurePolicy,
    state: Mutex<Hysteresis>,
    engagements: AtomicU64,
    rejected: AtomicU64,
    waits: AtomicU64,
}

#[derive(Debug)]
struct Hysteresis {
    engaged_since: Option<Instant>,
    throttled: Duration,
}

impl Shared {
    /// Reads the latest sample, moves the hysteresis state, and returns
    /// `Some(depth)` while engaged.
    pub(super) fn check(&self) -> Option<u64> {
        let sample = self.depth.latest()?;
        let depth = sample.total();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match state.engaged_since {
            None if depth > self.high => {
                state.engaged_since = Some(Instant::now());
                self.engagements.fetch_add(1, Ordering::Relaxed);
                tracing::info!(depth, high = self.high, "back pressure engaged");
                Some(depth)
            }
            Some(since) if depth <= self.low => {
                state.throttled += since.elapsed();
                state.engaged_since = None;
                tracing::info!(depth, low = self.low, "back pressure released");
                None
            }
            Some(_) => Some(depth),
            None => None,
        }
    }

    pub(super) fn reject(&self, depth: u64, waited: Option<Duration>) -> Backpressure {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        match waited {
            None => Backpressure::rejected(depth, self.high, self.low),
            Some(waited) => Backpressure::timed_out(depth, self.high, self.low, waited),
        }
    }

    pub(super) fn count_wait(&self) {
        self.waits.fetch_add(1, Ordering::Relaxed);
    }

    fn stats(&self) -> BackpressureStats {
        let engaged = self.check().is_some();
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let current = state
            .engaged_since
            .map_or(Duration::ZERO, |since| since.elapsed());
        BackpressureStats {
            state: if engaged {
                BackpressureState::Engaged
            } else {
                BackpressureState::Open
            },
            depth: self.depth.latest().map(|s| s.total()),
            throttled_time: state.throttled + current,
            engagements: self.engagements.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            waits: self.waits.load(Ordering::Relaxed),
        }
    }
}

impl BackpressureLayer {
    /// A builder over the monitor `depth`.
    pub fn builder(depth: DepthMonitor) -> BackpressureLayerBuilder {
        BackpressureLayerBuilder {
            depth,
            high: None,
            low: None,
            policy: None,
        }
    }

    /// The current state, depth and counters.
    #[must_use]
    pub fn stats(&self) -> BackpressureStats {
        self.shared.stats()
    }

    /// Open or engaged, from the latest sample.
    #[must_use]
    pub fn state(&self) -> BackpressureState {
        self.stats().state
    }

    /// The latest depth sampled, if any.
    #[must_use]
    pub fn depth(&self) -> Option<u64> {
        self.shared.depth.latest().map(|s| s.total())
    }
}

impl<S> Layer<S> for BackpressureLayer {
    type Service = BackpressureService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BackpressureService::new(inner, Arc::clone(&self.shared))
    }
}

/// Builds a [`BackpressureLayer`]; [`build`](Self::build) validates.
#[derive(Debug, Clone)]
#[must_use]
pub struct BackpressureLayerBuilder {
    depth: DepthMonitor,
    high: Option<u64>,
    low: Option<u64>,
    policy: Option<BackpressurePolicy>,
}

impl BackpressureLayerBuilder {
    /// Engage when the depth goes above this. Required.
    pub fn high_watermark(mut self, depth: u64) -> Self {
        self.high = Some(depth);
        self
    }

    /// Release when the depth falls to this or below. Required; must be below the high mark.
    pub fn low_watermark(mut self, depth: u64) -> Self {
        self.low = Some(depth);
        self
    }

    /// What to do while engaged. Default: wait up to 30 s.
    pub fn policy(mut self, policy: BackpressurePolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Builds the layer.
    ///
    /// # Errors
    ///
    /// [`BackpressureBuildError`] if a watermark is missing, if `low >= high`, or if the
    /// `Wait` timeout is zero.
    pub fn build(self) -> Result<BackpressureLayer, BackpressureBuildError> {
        let high = self
            .high
            .ok_or(BackpressureBuildError::MissingWatermark("high_watermark"))?;
        let low = self
            .low
            .ok_or(BackpressureBuildError::MissingWatermark("low_watermark"))?;
        if low >= high {
            return Err(BackpressureBuildError::Watermarks { low, high });
        }
        let policy = self.policy.unwrap_or(BackpressurePolicy::Wait {
            timeout: Duration::from_secs(30),
        });
        if matches!(policy, BackpressurePolicy::Wait { timeout } if timeout.is_zero()) {
            return Err(BackpressureBuildError::ZeroTimeout);
        }
        Ok(BackpressureLayer {
            shared: Arc::new(Shared {
                depth: self.depth,
                high,
                low,
                policy,
                state: Mutex::new(Hysteresis {
                    engaged_since: None,
                    throttled: Duration::ZERO,
                }),
                engagements: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
                waits: AtomicU64::new(0),
            }),
        })
    }
}

/// A [`BackpressureLayer`]'s configuration was invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackpressureBuildError {
    /// A watermark is missing.
    #[error("back pressure needs a {0}")]
    MissingWatermark(&'static str),
    /// The low watermark is not below the high one.
    #[error("low watermark {low} must be below the high watermark {high}")]
    Watermarks {
        /// The low watermark given.
        low: u64,
        /// The high watermark given.
        high: u64,
    },
    /// The `Wait` policy's timeout is zero (use `FailFast`).
    #[error("the Wait policy's timeout must be above zero (use FailFast to refuse at once)")]
    ZeroTimeout,
}
