//! The worker against the in-process SQS, each test on two runtimes (see
//! `support::worker_test!`): paused time on one thread, and real time on four threads
//! with network-shaped latency.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

mod acks;
mod adaptive;
mod api;
mod failures;
mod fifo;
mod flow;
mod layers;
mod lease;
mod load;
#[cfg(feature = "s3")]
mod offload;
mod outcomes;
mod poll_errors;
mod races;
mod shutdown;
mod stress;
