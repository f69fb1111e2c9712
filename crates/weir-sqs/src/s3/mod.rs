//! Large payloads through S3, in the format of AWS's extended clients (the `s3`
//! feature).
//!
//! SQS takes at most 1 MiB per message (many queues still say 256 KiB). A producer
//! given an [`Offload`] puts a body over its threshold in S3 and sends a pointer
//! instead; a consumer given one fetches the payload before decoding, so a
//! [`Message<T>`](crate::Message) decodes the real payload. The pointer, the marker
//! attribute and the S3 key are those of awslabs' `amazon-sqs-java-extended-client-lib`
//! and `amazon-sqs-extended-client` (Python), so a Rust service and a Java or Python
//! one on the same queue read each other's messages. See [`S3Pointer`] for the format,
//! and `docs/sqs-limits.md` ("Large payloads through S3") for every rule with its
//! source.
//!
//! Where weir differs from the extended clients, on purpose:
//!
//! - **Threshold**: the queue's own `MaximumMessageSize` (body and attributes
//!   counted, as the clients count them), not a hard-coded 256 KiB.
//! - **Deletion order**: the object is deleted after the SQS delete succeeds, never
//!   before (the Java client deletes it first, `AmazonSQSExtendedClient.java` lines
//!   443–450, so a failed SQS delete leaves a message whose payload is gone). A failed
//!   object delete is logged and leaves an orphan for the bucket's lifecycle rule.
//! - **Receipt handles are not rewritten**: the Java and Python clients prefix the
//!   bucket and key to the receipt handle (`-..s3BucketName..-b-..s3BucketName..-`
//!   `-..s3Key..-k-..s3Key..-<handle>`, `AmazonSQSExtendedClientUtil.java` lines 67–75)
//!   because their delete call gets only a handle. weir's [`Message`](crate::Message)
//!   carries the pointer ([`Message::s3_pointer`](crate::Message::s3_pointer)), so the
//!   handle stays SQS's own and every other tool (the worker's batched deletes, the CLI,
//!   another SDK) can use it.
//! - **FIFO content-based deduplication** dedupes on the payload: weir sets an explicit
//!   `MessageDeduplicationId`, the SHA-256 of the payload. The extended clients set none,
//!   so SQS hashes the pointer, whose key is a fresh UUID: their offloaded duplicates are
//!   never deduplicated.
//! - **An upload whose send fails** is deleted again (best effort, logged when that
//!   fails too), instead of being left behind.
//! - **Dead-lettering keeps the pointer**: the dead-letter copy carries the same
//!   pointer and attribute, the object stays, and a redrive delivers a message that
//!   still finds its payload.
//!
//! Objects of messages that expire unconsumed (the queue's retention period), that are
//! purged, or whose object delete failed stay in the bucket: give the bucket (or the
//! key prefix) a lifecycle rule that expires objects some time after the longest
//! retention of the queues that use it, DLQs included (14 days at most: e.g. 15 days).

mod cleanup;
mod config;
mod pointer;
pub(crate) mod receive;
pub(crate) mod send;
mod store;

pub use cleanup::{MAX_DELETE_KEYS, PayloadDeletes};
pub use config::{Cleanup, Offload};
pub use pointer::{
    LEGACY_POINTER_CLASS, LEGACY_SIZE_ATTRIBUTE, POINTER_CLASS, S3Pointer, SIZE_ATTRIBUTE,
};
pub use store::{
    DEFAULT_MULTIPART_THRESHOLD, DEFAULT_PART_SIZE, MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_PARTS,
    MAX_SINGLE_PUT, MIN_PART_SIZE,
};
