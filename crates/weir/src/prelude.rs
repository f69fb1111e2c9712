//! The types a producer and a worker name in almost every program:
//! `use weir::prelude::*;`.
//!
//! Everything here is a re-export; the full API is under [`crate::sqs`] and, with their
//! features, `weir::worker`, `weir::middleware` and `weir::local`.

pub use weir_sqs::{
    Consumer, Json, Message, Producer, Queue, QueueSpec, RawString, SendOptions, TaggedJson,
    Topology,
};

#[cfg(feature = "worker")]
pub use weir_worker::{
    Action, DeadLetter, HandlerError, RetryPolicy, Router, StopReason, Worker, WorkerHandle,
    WorkerReport, handler_fn,
};

#[cfg(feature = "middleware")]
pub use weir_middleware::{RateLimitLayer, RateLimiter, RetryLayer, TimeoutLayer, TraceLayer};

#[cfg(feature = "local")]
pub use weir_local::LocalSqs;
