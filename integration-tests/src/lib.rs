//! The harness shared by weir's integration suites.
//!
//! Every scenario is written once against `aws_sdk_sqs::Client` and runs against each
//! target: the in-process SQS always, and LocalStack when the crate's `localstack`
//! feature is on (the README's test command turns it on after starting LocalStack).
//! A LocalStack test that cannot reach LocalStack fails with a message saying how to
//! start it; it never passes by skipping its work.

#![allow(clippy::unwrap_used)] // test support: a failed unwrap fails the test that called it

pub mod python;
pub mod queues;
pub mod worker_kit;

use aws_config::BehaviorVersion;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sqs::config::{Credentials, Region};

/// The endpoint LocalStack answers on: `AWS_ENDPOINT_URL`, or `http://127.0.0.1:4566`.
#[must_use]
pub fn localstack_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL")
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL_SQS"))
        .unwrap_or_else(|_| "http://127.0.0.1:4566".to_owned())
}

/// A client for LocalStack, built the way production builds one: from aws-config's
/// defaults (its 3.1 s connect timeout included), with the endpoint from the
/// environment. Region and credentials fall back to LocalStack's test values when the
/// environment sets none. For tests in real time; on a paused clock use
/// [`localstack_client_for_paused_clock`].
///
/// # Panics
///
/// When LocalStack does not answer: the message names the endpoint and how to start it.
pub async fn localstack_client() -> aws_sdk_sqs::Client {
    localstack_client_at(&localstack_endpoint(), Clock::Real).await
}

/// [`localstack_client`] without the SDK's timers, for tests on a paused tokio clock
/// (`start_paused = true`, as weir-sqs's operation tests run).
///
/// A paused clock jumps to the next timer as soon as every task waits, and a task
/// waiting on a socket counts as waiting: aws-config's 3.1 s connect timeout (and the
/// 5 s grace period of stalled-stream protection) would fire at once, before LocalStack
/// could answer. So both are off; nothing else differs.
///
/// # Panics
///
/// When LocalStack does not answer, as [`localstack_client`].
pub async fn localstack_client_for_paused_clock() -> aws_sdk_sqs::Client {
    localstack_client_at(&localstack_endpoint(), Clock::Paused).await
}

/// Which tokio clock a LocalStack client's test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Real time: aws-config's timeouts, as in production.
    Real,
    /// A paused clock: no SDK timers (see [`localstack_client_for_paused_clock`]).
    Paused,
}

/// The one LocalStack client builder, behind [`localstack_client`] and
/// [`localstack_client_for_paused_clock`]: those at `endpoint` (LocalStack, or a proxy
/// in front of it).
///
/// # Panics
///
/// When nothing answers at `endpoint`, as [`localstack_client`].
pub async fn localstack_client_at(endpoint: &str, clock: Clock) -> aws_sdk_sqs::Client {
    let config = localstack_config(endpoint, clock).await;
    let client = aws_sdk_sqs::Client::new(&config);
    if let Err(err) = client.list_queues().max_results(1).send().await {
        panic!(
            "LocalStack is not reachable at {endpoint} ({}).\n\
             These tests run against LocalStack because the `localstack` feature is on \
             (or, for weir-sqs's tests, WEIR_SQS_TEST_TARGET=localstack).\n\
             Start it with `localstack/up`, or run the README's test command `scripts/test`, \
             which starts and stops it.",
            aws_sdk_sqs::error::DisplayErrorContext(&err)
        );
    }
    client
}

/// An SNS client for the LocalStack at [`localstack_endpoint`], built as
/// [`localstack_client`] builds the SQS one (call that first: it fails with the
/// message that says how to start LocalStack).
pub async fn localstack_sns_client() -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&localstack_config(&localstack_endpoint(), Clock::Real).await)
}

/// An S3 client for the LocalStack at [`localstack_endpoint`], built as
/// [`localstack_client`] builds the SQS one (call that first), path-style: LocalStack
/// on `127.0.0.1` answers no virtual-hosted bucket names.
pub async fn localstack_s3_client() -> aws_sdk_s3::Client {
    let config = localstack_config(&localstack_endpoint(), Clock::Real).await;
    let conf = aws_sdk_s3::config::Builder::from(&config).force_path_style(true);
    aws_sdk_s3::Client::from_conf(conf.build())
}

/// aws-config's defaults pointed at `endpoint`, with LocalStack's test region and
/// credentials where the environment sets none.
async fn localstack_config(endpoint: &str, clock: Clock) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).endpoint_url(endpoint);
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
    {
        loader = loader.region(Region::new("us-east-1"));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader =
            loader.credentials_provider(Credentials::new("test", "test", None, None, "weir-tests"));
    }
    if clock == Clock::Paused {
        loader = loader
            .timeout_config(TimeoutConfig::disabled())
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
    }
    loader.load().await
}

pub use weir::test::{eventually, unique_name};
