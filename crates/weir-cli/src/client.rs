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

/// An S3 client for `endpoint` (large payloads, `--s3-bucket`), as [`build`] makes the
/// SQS one: with `--local` it is the S3 of the same in-process engine (`local`), so
/// `send` offloads to it and `peek` reads from it. Path-style addressing whenever an
/// endpoint is set (`--endpoint-url`, `AWS_ENDPOINT_URL`): emulators (`weir serve`,
/// LocalStack on `127.0.0.1`) answer no virtual-hosted bucket names.
pub(crate) async fn build_s3(
    endpoint: &Endpoint,
    local: Option<&LocalSqs>,
    recorder: &crate::s3::Uploads,
) -> weir::aws_sdk_s3::Client {
    use weir::aws_sdk_s3::config::Builder;
    if let Some(local) = local {
        let conf = local.s3_config_builder().interceptor(recorder.clone());
        return weir::aws_sdk_s3::Client::from_conf(conf.build());
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &endpoint.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let sdk = loader.load().await;
    let mut conf = Builder::from(&sdk).interceptor(recorder.clone());
    if sdk.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some() {
        conf = conf.force_path_style(true);
    }
    if let Some(url) = &endpoint.url {
        conf = conf.endpoint_url(url).force_path_style(true);
        if sdk.region().is_none() {
            conf = conf.region(weir::aws_sdk_s3::config::Region::new("us-east-1"));
        }
    }
    weir::aws_sdk_s3::Client::from_conf(conf.build())
}
