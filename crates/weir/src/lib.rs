#![doc = include_str!("../README.md")]

mod client;
pub mod prelude;

pub use aws_config;
/// aws-sdk-s3, whose `Client` [`sqs::s3::Offload`] puts large payloads in S3 with.
#[cfg(feature = "s3")]
pub use aws_sdk_s3;
/// aws-sdk-sns, whose `Client` [`sqs::sns`] publishes and declares topics with.
#[cfg(feature = "sns")]
pub use aws_sdk_sns;
pub use aws_sdk_sqs;
pub use client::client;
#[cfg(feature = "sns")]
pub use client::sns_client;
pub use serde;
pub use weir_sqs as sqs;

#[cfg(feature = "middleware")]
pub use weir_middleware as middleware;

#[cfg(feature = "worker")]
pub use weir_worker as worker;

#[cfg(feature = "local")]
pub use weir_local as local;

#[cfg(feature = "test-util")]
pub mod test;

/// The top-level README's code blocks, compiled and run as doctests so that its taste of
/// weir cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct WorkspaceReadme;
