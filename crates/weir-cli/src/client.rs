//! Building the SQS client (aws-config, `--endpoint-url`, `--local`) and counting its
//! requests by operation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_sqs::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_sqs::config::{BehaviorVersion, ConfigBag, Intercept, Region, RuntimeComponents};
use aws_sdk_sqs::error::BoxError;
use weir::local::LocalSqs;

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

/// Counts every HTTP request the SDK sends (retries included), by SQS operation.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl RequestCounter {
    /// The counts so far, by operation (`SendMessageBatch`, `ReceiveMessage`, ...).
    pub(crate) fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Forgets every count (between two phases of a benchmark).
    pub(crate) fn reset(&self) {
        if let Ok(mut m) = self.counts.lock() {
            m.clear();
        }
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "weir-cli request counter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The JSON protocol names the operation in `X-Amz-Target: AmazonSQS.<Operation>`.
        let op = context
            .request()
            .headers()
            .get("x-amz-target")
            .map_or("unknown", |t| t.rsplit('.').next().unwrap_or(t))
            .to_owned();
        if let Ok(mut m) = self.counts.lock() {
            *m.entry(op).or_insert(0) += 1;
        }
        Ok(())
    }
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
