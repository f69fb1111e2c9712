//! Counting the SQS requests a client sends, by operation.
//!
//! SQS bills by request, and a worker's efficiency is its requests per message, so the
//! count is worth having in production as well as in tests and benchmarks.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_sqs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sqs::error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// An SDK interceptor that counts every HTTP request a client sends (retries included),
/// by operation (`SendMessageBatch`, `ReceiveMessage`, ...; on an SNS or S3 client's
/// config, `Publish`, `PutObject`, ...).
///
/// Clones share one count.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use weir_sqs::RequestCounter;
///
/// let client = weir_local::LocalSqs::new().client(); // or any aws_sdk_sqs::Client
/// let (client, requests) = RequestCounter::attach(&client);
/// client.list_queues().send().await.unwrap();
/// assert_eq!(requests.get("ListQueues"), 1);
/// assert_eq!(requests.to_string(), "ListQueues=1");
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl RequestCounter {
    /// A counter at zero. Add it to a client with
    /// `aws_sdk_sqs::config::Builder::interceptor`, or use [`RequestCounter::attach`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of `client` whose requests this new counter counts.
    pub fn attach(client: &Client) -> (Client, Self) {
        let counter = Self::new();
        let config = client
            .config()
            .to_builder()
            .interceptor(counter.clone())
            .build();
        (Client::from_conf(config), counter)
    }

    /// Requests of one operation so far (`"SendMessageBatch"`).
    pub fn get(&self, operation: &str) -> u64 {
        self.counts().get(operation).copied().unwrap_or(0)
    }

    /// All requests so far.
    pub fn total(&self) -> u64 {
        self.counts().values().sum()
    }

    /// The counts so far, by operation.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts().clone()
    }

    /// Forgets every count (between two phases of a benchmark, say).
    pub fn reset(&self) {
        self.counts().clear();
    }

    fn counts(&self) -> MutexGuard<'_, BTreeMap<String, u64>> {
        // A panic elsewhere while counting leaves the map whole: keep counting.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `Operation=count` pairs, by operation name: `ReceiveMessage=3 SendMessageBatch=1`.
impl fmt::Display for RequestCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (operation, n)) in self.counts().iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            write!(f, "{sep}{operation}={n}")?;
        }
        Ok(())
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "weir_sqs::RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The SDK names the operation it runs (`SendMessageBatch`, and for an SNS or S3
        // client the counter is attached to, `Publish` or `PutObject`); the JSON
        // protocol's `X-Amz-Target: AmazonSQS.<Operation>` is the fallback.
        let operation = match cfg.load::<Metadata>() {
            Some(metadata) => metadata.name(),
            None => context
                .request()
                .headers()
                .get("x-amz-target")
                .map_or("unknown", |t| t.trim_start_matches("AmazonSQS.")),
        };
        *self.counts().entry(operation.to_owned()).or_default() += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn counts_by_the_operation_the_sdk_runs() {
        let local = weir_local::LocalSqs::new();
        let (sqs, counter) = RequestCounter::attach(&local.client());
        sqs.create_queue().queue_name("q").send().await.unwrap();
        sqs.list_queues().send().await.unwrap();
        sqs.list_queues().send().await.unwrap();
        assert_eq!(counter.get("CreateQueue"), 1);
        assert_eq!(counter.get("ListQueues"), 2);
        assert_eq!(counter.total(), 3);
    }

    /// The SNS query protocol has no `X-Amz-Target`: the SDK's metadata names it.
    #[cfg(feature = "sns")]
    #[tokio::test(start_paused = true)]
    async fn counts_an_sns_clients_operations_too() {
        let local = weir_local::LocalSqs::new();
        let counter = RequestCounter::new();
        let conf = local
            .sns_config_builder()
            .interceptor(counter.clone())
            .build();
        let sns = aws_sdk_sns::Client::from_conf(conf);
        sns.create_topic().name("t").send().await.unwrap();
        sns.list_topics().send().await.unwrap();
        assert_eq!(counter.get("CreateTopic"), 1);
        assert_eq!(counter.get("ListTopics"), 1);
        assert_eq!(counter.get("unknown"), 0);
    }
}
