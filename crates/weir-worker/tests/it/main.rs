//! The worker against the in-process SQS, with paused time.

#![allow(clippy::unwrap_used)]

mod outcomes;
mod support;
