//! The worker against the in-process SQS, with paused time.

#![allow(clippy::unwrap_used)]

mod fifo;
mod flow;
mod outcomes;
mod shutdown;
mod support;
