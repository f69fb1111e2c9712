//! weir: typed, rate-limited, lossless Amazon SQS for async Rust.
//!
//! This is the facade crate: it re-exports the weir crates behind features.
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `middleware` | yes | tower layers ([`middleware`]) |
//! | `worker` | yes | the worker runtime ([`worker`]) |
//! | `local` | no | the in-process SQS ([`local`]) for tests and examples |

pub use aws_sdk_sqs;
pub use weir_sqs as sqs;

#[cfg(feature = "middleware")]
pub use weir_middleware as middleware;

#[cfg(feature = "worker")]
pub use weir_worker as worker;

#[cfg(feature = "local")]
pub use weir_local as local;
