//! Typed producer and consumer over `aws-sdk-sqs`.
//!
//! `weir-sqs` holds weir's message types: queue handles and topology (`Queue`,
//! `QueueSpec`), codecs, `Producer<T>`, `Consumer<T>`, `Message<T>`, and the error type
//! every other weir crate builds on. Every call goes through a real `aws_sdk_sqs::Client`.

pub mod attributes;
pub mod batch;
pub mod batching;
pub mod codec;
pub mod consumer;
pub mod error;
pub mod message;
pub mod producer;
pub mod queue;
pub mod redrive;
pub mod spec;
mod telemetry;
pub mod validate;

pub use attributes::{AttributeValue, Attributes};
pub use batch::RetryConfig;
pub use batching::{BatchingProducer, BatchingProducerBuilder, PendingSend};
pub use codec::{Codec, DecodeError, Json, RawString, TaggedJson};
pub use consumer::{Consumer, ReceiveOptions};
pub use error::{Error, Result};
pub use message::Message;
pub use producer::{Producer, ProducerBuilder, SendOptions, SendOutput, TraceparentProvider};
pub use queue::{Queue, QueueAttributes, QueueDepth};
pub use spec::{AttributeDrift, DlqSpec, QueueSpec, RedriveAllow, Topology};

/// The message attribute that carries a W3C `traceparent`, when a producer injects one.
pub const TRACEPARENT_ATTRIBUTE: &str = "traceparent";
