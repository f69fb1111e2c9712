//! SNS: publishing typed messages to a topic, and declaring a topic with the queues
//! subscribed to it (the `sns` feature, on aws-sdk-sns).
//!
//! - [`Publisher<T>`] publishes as [`Producer<T>`](crate::Producer) sends: the same
//!   codecs and [`AttributeValue`](crate::AttributeValue)s, the `weir.type` tag and the
//!   W3C `traceparent` as message attributes, FIFO group and deduplication ids,
//!   `PublishBatch` split by 10 entries and by the topic's `MaximumMessageSize`, failed
//!   entries retried with backoff, and every message checked before the network.
//! - [`TopicSpec`] creates a topic (standard or FIFO) if missing and subscribes queues
//!   to it, idempotently: the queue policy that lets the topic send (merged into the
//!   queue's own), `RawMessageDelivery`, a `FilterPolicy` on message attributes or on
//!   the body, and a drift report of what differs on what already existed.
//!
//! On the queue side, [`Consumer::with_envelope`](crate::Consumer::with_envelope)
//! with [`Envelope::Sns`](crate::Envelope::Sns) reads what a subscription without raw
//! delivery receives; with raw delivery the body is the payload itself. Either way the
//! message attributes (and so [`Message::traceparent`](crate::Message) and the type tag)
//! arrive. SNS's limits, and where weir checks them, are in `docs/sns-limits.md`.
//!
//! # Examples
//!
//! ```no_run
//! # async fn demo(sns: aws_sdk_sns::Client, sqs: aws_sdk_sqs::Client) -> weir_sqs::Result<()> {
//! use weir_sqs::sns::{FilterScope, Publisher, SubscriptionSpec, TopicSpec};
//!
//! let topology = TopicSpec::standard("orders-events")
//!     .subscribe(SubscriptionSpec::queue("billing").raw(true))
//!     .subscribe(
//!         SubscriptionSpec::queue("shipping")
//!             .filter_policy(r#"{"kind":["placed"]}"#)
//!             .filter_scope(FilterScope::MessageBody),
//!     )
//!     .ensure(&sns, &sqs)
//!     .await?;
//! for d in &topology.drift {
//!     eprintln!("drift: {d}");
//! }
//! let publisher: Publisher<serde_json::Value> = Publisher::new(topology.topic);
//! publisher.publish(&serde_json::json!({"kind": "placed", "id": 7})).await?;
//! # Ok(()) }
//! ```

mod attributes;
mod batch;
mod options;
mod policy;
mod publisher;
mod spec;
mod subscribe;
mod topic;
pub mod validate;

pub use options::{PublishOptions, PublishOutput, check_publish_options};
pub use policy::merge_queue_policy;
pub use publisher::{Publisher, PublisherBuilder};
pub use spec::{FilterScope, SubscriptionSpec, TopicSpec, TopicTopology};
pub use subscribe::Subscription;
pub use topic::{Topic, TopicAttributes};
