#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod attributes;
pub mod batch;
pub mod batching;
pub mod codec;
pub mod consumer;
pub mod envelope;
pub mod error;
pub mod message;
pub mod producer;
pub mod queue;
pub mod redrive;
mod requests;
#[cfg(feature = "s3")]
#[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
pub mod s3;
mod send;
mod settle;
#[cfg(feature = "sns")]
#[cfg_attr(docsrs, doc(cfg(feature = "sns")))]
pub mod sns;
pub mod spec;
mod telemetry;
pub mod validate;

pub use attributes::{AttributeValue, Attributes};
pub use batch::RetryConfig;
pub use batching::{BatchingProducer, BatchingProducerBuilder, PendingSend};
pub use codec::{Codec, Decode, DecodeError, Encode, Json, RawString, TaggedJson};
pub use consumer::{Consumer, ReceiveOptions};
pub use envelope::{
    CloudEvent, Envelope, EnvelopeInfo, EventBridgeEvent, SnsNotification, Unwrapped,
};
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
        #[cfg(feature = "sns")]
        {
            assert_send_sync::<crate::sns::Publisher<String>>();
            assert_send_sync::<crate::sns::Topic>();
            assert_send_sync::<crate::sns::TopicSpec>();
        }
        #[cfg(feature = "s3")]
        assert_send_sync::<crate::s3::Offload>();
    }
}
