//! Back pressure for producers, from the queue's depth.
//!
//! A [`DepthMonitor`] monitor samples the queue's approximate depth in one background task
//! per process. A [`BackpressureLayer`] over a producer service compares the latest sample
//! with two watermarks, with hysteresis:
//!
//! ```text
//!  depth
//!   high ┤- - - - -╭──╮- - - - - - - - -   engages when depth > high
//!        │    ╭────╯  ╰──╮  ╭──╮
//!    low ┤- - ╯- - - - - -╰─╯- -╰- - - -   releases when depth <= low
//!        │  open  │   engaged       │ open
//! ```
//!
//! Between the marks the state does not change, so a depth that hovers around one mark
//! does not flap. While engaged, the [`BackpressurePolicy`] applies: wait until released
//! (bounded by a timeout), fail fast with a [`Backpressure`] error, or lower an
//! [`AdaptiveRateLimiter`](crate::adaptive::AdaptiveRateLimiter).
//!
//! Before the first sample arrives, calls pass. A sample that fails keeps the previous one,
//! so if the monitor cannot reach SQS the state stays where it was (an engaged `Wait` then
//! ends in its timeout); watch [`DepthMonitor::errors`].

mod depth;
mod error;
mod future;
mod layer;
mod service;

pub use depth::{
    DEFAULT_DEPTH_INTERVAL, DepthBuildError, DepthMonitor, DepthMonitorBuilder, DepthSample,
    DepthSender,
};
pub use error::Backpressure;
pub use future::ResponseFuture;
pub use layer::{
    BackpressureBuildError, BackpressureLayer, BackpressureLayerBuilder, BackpressurePolicy,
    BackpressureState, BackpressureStats,
};
pub use service::BackpressureService;

#[cfg(test)]
mod tests;
