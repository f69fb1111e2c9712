//! Integration tests of every weir-sqs operation, against the SQS chosen in support.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support.rs"]
mod support;

mod batching;
mod consumer;
mod producer;
mod queue;
mod redrive;
mod settle;
mod spec;
mod tracing;
