//! Building the SQS client (aws-config, `--endpoint-url`, `--local`), with weir-sqs's
//! request counter on it.

use aws_sdk_sqs::config::{BehaviorVersion, Region};
use weir::local::LocalSqs;
pub(crate) use weir::sqs::RequestCounter;

/// Where the client points.
#[derive(Debug, Clone, Default)]
pub(crate) struct Endpoint {
    /// `--endpoint-url`.
    pub(crate) url: Option<String>,
    /// `--region`.
    pub(crate) region: Option<String>,
    /// `--local`.
    pub(crate) local: bool,
}

/// A client for `endpoint`, with `counter` on it. With `--local` the returned
/// [`LocalSqs`] must be kept alive as long as the client is used (it is the SQS).
pub(crate) async fn build(
    endpoint: &Endpoint,
    counter: &RequestCounter,
) -> (aws_sdk_sqs::Client, Option<LocalSqs>) {
    if endpoint.local {
        let local = LocalSqs::new();
        let conf = local.config_builder().interceptor(counter.clone()).build();
        return (aws_sdk_sqs::Client::from_conf(conf), Some(local));
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &endpoint.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let sdk = loader.load().await;
    let mut conf = aws_sdk_sqs::config::Builder::from(&sdk).interceptor(counter.clone());
    if let Some(url) = &endpoint.url {
        conf = conf.endpoint_url(url);
        // An emulator does not care about the region, but the SDK needs one.
        if sdk.region().is_none() {
            conf = conf.region(Region::new("us-east-1"));
        }
    }
    (aws_sdk_sqs::Client::from_conf(conf.build()), None)
}

/// An SNS client for `endpoint`, as [`build`] makes the SQS one: with `--local` it is
/// the SNS of the same in-process engine (`local`), so topics deliver to its queues.
pub(crate) async fn build_sns(
    endpoint: &Endpoint,
    local: Option<&LocalSqs>,
) -> weir::aws_sdk_sns::Client {
    use weir::aws_sdk_sns::config::Builder;
    if let Some(local) = local {
        return local.sns_client();
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &endpoint.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let sdk = loader.load().await;
    let mut conf = Builder::from(&sdk);
    if let Some(url) = &endpoint.url {
        conf = conf.endpoint_url(url);
        if sdk.region().is_none() {
            conf = conf.region(weir::aws_sdk_sns::config::Region::new("us-east-1"));
        }
    }
    weir::aws_sdk_sns::Client::from_conf(conf.build())
}
