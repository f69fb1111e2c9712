//! Typed producer and consumer over `aws-sdk-sqs`.
//!
//! `weir-sqs` holds weir's message types: queue handles and topology (`Queue`,
//! `QueueSpec`), codecs, `Producer<T>`, `Consumer<T>`, `Message<T>`, and the error type
//! every other weir crate builds on. Every call goes through a real `aws_sdk_sqs::Client`.

pub mod error;

pub use error::{Error, Result};
