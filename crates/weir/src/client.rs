//! An `aws_sdk_sqs::Client` from the standard AWS configuration chain.

use aws_config::BehaviorVersion;

/// Builds an SQS client the way the AWS CLI and every AWS SDK find their settings.
///
/// It loads aws-config's standard chain, in the SDK's own order:
///
/// - **region**: `AWS_REGION`, then the profile (`AWS_PROFILE`, `~/.aws/config`), then
///   the instance or container metadata;
/// - **credentials**: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and
///   `AWS_SESSION_TOKEN`), the profile, web identity (EKS), the ECS container endpoint,
///   then the EC2 instance profile;
/// - **endpoint**: `AWS_ENDPOINT_URL_SQS`, then `AWS_ENDPOINT_URL` (LocalStack,
///   `weir serve`), else the region's AWS endpoint.
///
/// The region and endpoint are read here; credentials are resolved on the first
/// request, so missing credentials show up as that request's error, not here.
///
/// For anything else (a fixed region, a profile, retries, timeouts), build the
/// configuration with the re-exported [`aws_config`](crate::aws_config) and make the
/// client with [`aws_sdk_sqs::Client::new`]:
///
/// ```no_run
/// # async fn f() {
/// let config = weir::aws_config::defaults(weir::aws_config::BehaviorVersion::latest())
///     .region("eu-west-1")
///     .load()
///     .await;
/// let client = weir::aws_sdk_sqs::Client::new(&config);
/// # }
/// ```
pub async fn client() -> aws_sdk_sqs::Client {
    let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
    aws_sdk_sqs::Client::new(&config)
}

/// Builds an SNS client from the same standard chain as [`client`] (feature `sns`): the
/// endpoint is `AWS_ENDPOINT_URL_SNS`, then `AWS_ENDPOINT_URL`, else the region's.
/// A service that publishes to topics and consumes queues builds both from one place.
#[cfg(feature = "sns")]
pub async fn sns_client() -> aws_sdk_sns::Client {
    let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
    aws_sdk_sns::Client::new(&config)
}
