//! The SQS conformance suite: every scenario is written once against
//! `aws_sdk_sqs::Client` and runs against the in-process SQS (`in_process::<name>`,
//! paused time) and, with the `localstack` feature, against LocalStack
//! (`localstack::<name>`, real time). Where LocalStack is known to differ from AWS, the
//! scenario says so next to a target-conditional assertion; the in-process run always
//! asserts what AWS documents.

#![allow(unreachable_pub)] // the scenario modules' items are pub for the matrix, inside one test binary

mod support;

mod attributes;
mod batches;
mod delays_size;
mod errors;
mod fifo;
mod fifo_groups;
mod handles;
mod long_poll;
mod messages;
mod namespaces;
mod queues;
mod redrive;
mod responses;
mod sns;
mod visibility;
mod wording;
