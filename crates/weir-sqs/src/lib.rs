//! Typed producer and consumer over `aws-sdk-sqs`.
//!
//! `weir-sqs` is weir's message layer: queue handles and topology ([`Queue`],
//! [`QueueSpec`]), [`Codec`]s, [`Producer<T>`], [`BatchingProducer<T>`], [`Consumer<T>`],
//! [`Message<T>`], DLQ [`redrive`], and the [`Error`] type every other weir crate builds
//! on. Every call goes through a real `aws_sdk_sqs::Client`: production, LocalStack and
//! the in-process SQS of `weir-local` differ only in the client you pass in.
//!
//! Bad input is refused before any network call, with an error that names the limit:
//! message size (body plus attributes, against the queue's `MaximumMessageSize`),
//! characters, attribute count and names, FIFO rules, delays, receive options (see
//! [`validate`]).
//!
//! # Example
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use weir_sqs::{Consumer, Producer, QueueSpec, ReceiveOptions};
//!
//! #[derive(Debug, PartialEq, Serialize, Deserialize)]
//! struct Order {
//!     id: u32,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> weir_sqs::Result<()> {
//! // Any aws_sdk_sqs::Client works; this one is answered in process.
//! let client = weir_local::LocalSqs::new().client();
//!
//! // Create the queue and its dead-letter queue (idempotent).
//! let topology = QueueSpec::standard("orders").dead_letter(5).ensure(&client).await?;
//!
//! let producer: Producer<Order> = Producer::new(topology.queue.clone());
//! producer.send(&Order { id: 1 }).await?;
//! let results = producer.send_batch(&[Order { id: 2 }, Order { id: 3 }]).await;
//! assert!(results.iter().all(Result::is_ok));
//!
//! let consumer: Consumer<Order> = Consumer::new(topology.queue);
//! let messages = consumer.receive(&ReceiveOptions::default()).await?;
//! assert_eq!(messages.len(), 3);
//! assert_eq!(messages[0].body().ok(), Some(&Order { id: 1 }));
//! for r in consumer.ack_batch(&messages).await {
//!     r?;
//! }
//! # Ok(()) }
//! ```
//!
//! # Errors and retries
//!
//! One enum, [`Error`], `#[non_exhaustive]`. [`Error::is_retryable`] is true for
//! throttling, 5xx, timeouts and connection errors; [`Error::retry_after`] carries a
//! server hint when there is one; [`Error::code`] and [`Error::message`] keep what SQS
//! said. Batch operations return one result per entry and retry only the entries that
//! failed retryably ([`RetryConfig`], exponential backoff with jitter).
//!
//! # Tracing
//!
//! Each SQS call runs in a `sqs` span with the OpenTelemetry messaging attributes
//! (`messaging.system = aws_sqs`, `messaging.destination.name`,
//! `messaging.operation.name`, `messaging.operation.type`, `messaging.message.id`,
//! `messaging.batch.message_count`). A W3C `traceparent` can be injected on send by a
//! provider function ([`ProducerBuilder::traceparent`]). Bodies are never logged unless
//! [`ProducerBuilder::log_bodies`] is on.
//!
//! # Supported Rust versions
//!
//! The MSRV is the workspace's `rust-version` (1.94.1, what aws-sdk-sqs 1.119 needs).

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
mod requests;
mod send;
mod settle;
pub mod spec;
mod telemetry;
pub mod validate;

pub use attributes::{AttributeValue, Attributes};
pub use batch::RetryConfig;
pub use batching::{BatchingProducer, BatchingProducerBuilder, PendingSend};
pub use codec::{Codec, Decode, DecodeError, Encode, Json, RawString, TaggedJson};
pub use consumer::{Consumer, ReceiveOptions};
pub use error::{Error, Result};
pub use message::Message;
pub use producer::{Producer, ProducerBuilder, SendOptions, SendOutput, TraceparentProvider};
pub use queue::{Queue, QueueAttributes, QueueDepth};
pub use requests::RequestCounter;
pub use spec::{AttributeDrift, DlqSpec, QueueSpec, RedriveAllow, Topology};

/// The message attribute that carries a W3C `traceparent`, when a producer injects one.
pub const TRACEPARENT_ATTRIBUTE: &str = "traceparent";

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<crate::Error>();
        assert_send_sync::<crate::Queue>();
        assert_send_sync::<crate::Message<String>>();
        assert_send_sync::<crate::Consumer<String>>();
        assert_send_sync::<crate::Producer<String>>();
        assert_send_sync::<crate::BatchingProducer<String>>();
        assert_send_sync::<crate::PendingSend>();
        assert_send_sync::<crate::QueueSpec>();
    }
}
