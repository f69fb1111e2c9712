#![doc = include_str!("../README.md")]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod builder;
mod calls;
mod codec;
mod config;
mod context;
mod error;
mod fifo;
mod handler;
mod health;
mod lease;
mod limit;
mod receive;
mod report;
mod retry;
mod router;
mod run;
mod settings;
mod settle;
mod shutdown;
mod slots;
mod start;
mod worker;

pub use async_trait::async_trait;
pub use builder::{NoHandler, WorkerBuilder};
pub use config::{AckBatching, DeadLetter, Lease};
pub use error::BuildError;
pub use handler::{
    Action, BoxError, Handler, HandlerError, HandlerFn, HandlerService, current_cancellation,
    handler_fn, handler_service,
};
pub use health::{Health, ShutdownHandle, WorkerHandle};
pub use limit::ReceiveLimit;
pub use report::{StopReason, WorkerReport};
pub use retry::{MAX_VISIBILITY, RetryPolicy};
pub use router::Router;
pub use settings::{MAX_CONCURRENCY, MAX_POLLERS};
pub use settle::dead_letter::dlq_attributes;
pub use weir_middleware::{AdaptiveRateLimiter, RateLimiter};
pub use weir_sqs::{Envelope, EnvelopeInfo, Message};
pub use worker::Worker;
