//! The worker against the in-process SQS, with paused time.

#![allow(clippy::unwrap_used)]

mod acks;
mod api;
mod fifo;
mod flow;
mod lease;
mod load;
mod outcomes;
mod poll_errors;
mod shutdown;
mod support;
