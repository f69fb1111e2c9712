#![doc = include_str!("../README.md")]

mod checksum;
mod clock;
mod config;
mod connector;
mod engine;
mod error;
mod fault;
mod gateway;
mod groups;
mod latency;
mod ops;
mod query;
mod queue;
mod request_log;
mod s3;
mod server;
mod sns;
mod wire;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};

pub use connector::LocalConnector;
pub use engine::EngineResponse;
pub use fault::{FaultAction, FaultRule, Faults};
pub use latency::Latency;
pub use server::ServeHandle;

/// The SQS operations this engine answers, by their `X-Amz-Target` suffix
/// (`AmazonSQS.<Operation>`); anything else is `UnknownOperationException`.
pub const OPERATIONS: &[&str] = &[
    "CreateQueue",
    "GetQueueUrl",
    "ListQueues",
    "GetQueueAttributes",
    "SetQueueAttributes",
    "DeleteQueue",
    "PurgeQueue",
    "TagQueue",
    "UntagQueue",
    "ListQueueTags",
    "ListDeadLetterSourceQueues",
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "StartMessageMoveTask",
    "ListMessageMoveTasks",
    "CancelMessageMoveTask",
    "AddPermission",
    "RemovePermission",
];

use engine::{Ctx, Engine};

/// An in-process SQS. Cheap to clone: clones share the same queues.
#[derive(Clone)]
pub struct LocalSqs {
    engine: Arc<Engine>,
    latency: Option<Latency>,
}

impl fmt::Debug for LocalSqs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSqs")
            .field("account", &self.engine.account)
            .field("region", &self.engine.region)
            .field("base_url", &self.engine.base_url)
            .field("latency", &self.latency)
            .finish_non_exhaustive()
    }
}

impl Default for LocalSqs {
    fn default() -> Self {
        Self::new()
    }
}

/// Options for a [`LocalSqs`]: account id, region and the base of queue URLs.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
#[must_use]
pub struct LocalSqsBuilder {
    account_id: Option<String>,
    region: Option<String>,
    queue_url_base: Option<String>,
    latency: Option<Latency>,
    queue_deleted_recently: Option<bool>,
}

impl LocalSqsBuilder {
    /// The account id in queue URLs and ARNs. Default `000000000000`.
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = Some(account_id.into());
        self
    }

    /// Sets or clears the account id.
    pub fn set_account_id(&mut self, account_id: Option<String>) -> &mut Self {
        self.account_id = account_id;
        self
    }

    /// The region of ARNs and of the client. Default `us-east-1`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets or clears the region.
    pub fn set_region(&mut self, region: Option<String>) -> &mut Self {
        self.region = region;
        self
    }

    /// The base of queue URLs for in-process clients (`{base}/{account}/{name}`), also used
    /// as the client's endpoint URL. Default `http://sqs.{region}.localhost`. Queue URLs
    /// returned by [`LocalSqs::serve`] point at the served address instead.
    pub fn queue_url_base(mut self, base: impl Into<String>) -> Self {
        self.queue_url_base = Some(base.into());
        self
    }

    /// Sets or clears the queue URL base.
    pub fn set_queue_url_base(&mut self, base: Option<String>) -> &mut Self {
        self.queue_url_base = base;
        self
    }

    /// Network-shaped latency for in-process clients: each call waits a random time in
    /// `[min, max]` on tokio's clock (half before the engine runs it, half after), so
    /// that no call completes on its first poll, as with a networked SQS. Off by
    /// default; `weir serve` is not affected (its clients cross a real socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sqs = weir_local::LocalSqs::builder()
    ///     .latency(Duration::from_micros(500), Duration::from_millis(2))
    ///     .build();
    /// let start = tokio::time::Instant::now();
    /// sqs.client().list_queues().send().await?;
    /// assert!(start.elapsed() >= Duration::from_micros(500));
    /// # Ok(()) }
    /// ```
    pub fn latency(mut self, min: Duration, max: Duration) -> Self {
        self.latency = Some(Latency::new(min, max));
        self
    }

    /// Sets or clears the latency of in-process clients.
    pub fn set_latency(&mut self, latency: Option<Latency>) -> &mut Self {
        self.latency = latency;
        self
    }

    /// Whether CreateQueue refuses, for 60 seconds, the name of a queue just deleted
    /// (`AWS.SimpleQueueService.QueueDeletedRecently`), as AWS does. Default `true`;
    /// `false` lets a test suite delete and re-create a queue at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sqs = weir_local::LocalSqs::builder().queue_deleted_recently(false).build();
    /// let client = sqs.client();
    /// let url = client.create_queue().queue_name("jobs").send().await?.queue_url;
    /// client.delete_queue().set_queue_url(url).send().await?;
    /// client.create_queue().queue_name("jobs").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn queue_deleted_recently(mut self, refuse: bool) -> Self {
        self.queue_deleted_recently = Some(refuse);
        self
    }

    /// Sets or clears (back to the default, `true`) the QueueDeletedRecently rule.
    pub fn set_queue_deleted_recently(&mut self, refuse: Option<bool>) -> &mut Self {
        self.queue_deleted_recently = refuse;
        self
    }

    /// Builds the [`LocalSqs`], filling the documented defaults.
    pub fn build(self) -> LocalSqs {
        let region = self.region.unwrap_or_else(|| "us-east-1".to_owned());
        let base = self
            .queue_url_base
            .unwrap_or_else(|| format!("http://sqs.{region}.localhost"))
            .trim_end_matches('/')
            .to_owned();
        let account = self.account_id.unwrap_or_else(|| "000000000000".to_owned());
        LocalSqs {
            engine: Engine::new(
                account,
                region,
                base,
                self.queue_deleted_recently.unwrap_or(true),
            ),
            latency: self.latency,
        }
    }
}

impl LocalSqs {
    /// A fresh SQS with no queues, account `000000000000`, region `us-east-1`.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for the account id, region and queue URL base.
    ///
    /// # Examples
    ///
    /// ```
    /// let sqs = weir_local::LocalSqs::builder()
    ///     .account_id("123456789012")
    ///     .region("eu-west-1")
    ///     .queue_url_base("http://localhost:9324")
    ///     .build();
    /// assert_eq!(sqs.region(), "eu-west-1");
    /// assert_eq!(sqs.endpoint_url(), "http://localhost:9324");
    /// ```
    pub fn builder() -> LocalSqsBuilder {
        LocalSqsBuilder::default()
    }

    /// The account id in queue URLs and ARNs.
    pub fn account_id(&self) -> &str {
        &self.engine.account
    }

    /// The region of ARNs and of the client.
    pub fn region(&self) -> &str {
        &self.engine.region
    }

    /// The fault rules the in-process connector applies (shared by every clone and
    /// every client of this SQS). Empty by default.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_local::{FaultAction, FaultRule, LocalSqs};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let sqs = LocalSqs::new();
    /// sqs.faults().inject(FaultRule::error(400, "InvalidParameterValue", "injected").operation("CreateQueue").times(1));
    /// let client = sqs.client();
    /// let err = client.create_queue().queue_name("q").send().await.unwrap_err();
    /// assert_eq!(err.into_service_error().meta().code(), Some("InvalidParameterValue"));
    /// assert!(client.create_queue().queue_name("q").send().await.is_ok());
    /// # }
    /// ```
    pub fn faults(&self) -> &Faults {
        &self.engine.faults
    }

    /// The endpoint URL in-process clients are configured with.
    pub fn endpoint_url(&self) -> &str {
        &self.engine.base_url
    }

    /// The in-process HTTP client, to wrap (fault injection, recording) before handing
    /// it to [`aws_sdk_sqs::config::Builder::http_client`].
    ///
    /// # Examples
    ///
    /// A connector that fails every other request before it reaches the engine; the
    /// SDK's retry layer sees a dispatch failure exactly as with a dropped connection.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use aws_smithy_runtime_api::client::http::{
    ///     HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings,
    ///     SharedHttpConnector,
    /// };
    /// use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    /// use aws_smithy_runtime_api::client::result::ConnectorError;
    /// use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    ///
    /// #[derive(Debug, Clone)]
    /// struct FailEveryOther {
    ///     inner: weir_local::LocalConnector,
    ///     calls: Arc<AtomicUsize>,
    /// }
    ///
    /// impl HttpConnector for FailEveryOther {
    ///     fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
    ///         if self.calls.fetch_add(1, Ordering::SeqCst) % 2 == 1 {
    ///             return HttpConnectorFuture::ready(Err(ConnectorError::io("injected".into())));
    ///         }
    ///         self.inner.call(request)
    ///     }
    /// }
    ///
    /// impl HttpClient for FailEveryOther {
    ///     fn http_connector(
    ///         &self,
    ///         _: &HttpConnectorSettings,
    ///         _: &RuntimeComponents,
    ///     ) -> SharedHttpConnector {
    ///         SharedHttpConnector::new(self.clone())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let sqs = weir_local::LocalSqs::new();
    /// let faulty = FailEveryOther { inner: sqs.http_client(), calls: Arc::default() };
    /// let conf = sqs.config_builder().http_client(faulty).build();
    /// let client = aws_sdk_sqs::Client::from_conf(conf);
    /// assert!(client.create_queue().queue_name("q").send().await.is_ok());
    /// # }
    /// ```
    pub fn http_client(&self) -> LocalConnector {
        LocalConnector {
            engine: self.engine.clone(),
            latency: self.latency,
        }
    }

    /// An SDK config builder wired to this SQS: region, static test credentials,
    /// latest behavior version, the in-process HTTP client and an endpoint URL, with
    /// stalled-stream protection off (there is no socket to stall). Adjust it (retry config, timeouts, interceptors) and build a client from it.
    ///
    /// # Examples
    ///
    /// ```
    /// use aws_sdk_sqs::config::retry::RetryConfig;
    /// let sqs = weir_local::LocalSqs::new();
    /// let conf = sqs.config_builder().retry_config(RetryConfig::disabled()).build();
    /// let client = aws_sdk_sqs::Client::from_conf(conf);
    /// # drop(client);
    /// ```
    pub fn config_builder(&self) -> aws_sdk_sqs::config::Builder {
        aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.engine.region.clone()))
            .credentials_provider(Credentials::new("test", "test", None, None, "weir-local"))
            .endpoint_url(self.engine.base_url.clone())
            .http_client(self.http_client())
            // Stalled-stream protection watches a socket for stalls; an in-memory
            // connector has none, and its timers cost a third of a round trip here.
            // Signing, serialization, retries and error parsing run as against AWS.
            .stalled_stream_protection(
                aws_sdk_sqs::config::StalledStreamProtectionConfig::disabled(),
            )
    }

    /// An `aws_sdk_sqs::Client` whose requests this SQS answers.
    pub fn client(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::from_conf(self.config_builder().build())
    }

    /// An SNS config builder wired to this engine, as [`config_builder`](Self::config_builder)
    /// is for SQS: same region, credentials, in-process HTTP client and endpoint URL. Its
    /// topics live in the same account and region as the queues, and deliver into them.
    ///
    /// # Examples
    ///
    /// ```
    /// use aws_sdk_sns::config::retry::RetryConfig;
    /// let sqs = weir_local::LocalSqs::new();
    /// let conf = sqs.sns_config_builder().retry_config(RetryConfig::disabled()).build();
    /// let sns = aws_sdk_sns::Client::from_conf(conf);
    /// # drop(sns);
    /// ```
    pub fn sns_config_builder(&self) -> aws_sdk_sns::config::Builder {
        aws_sdk_sns::Config::builder()
            .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
            .region(aws_sdk_sns::config::Region::new(self.engine.region.clone()))
            .credentials_provider(aws_sdk_sns::config::Credentials::new(
                "test",
                "test",
                None,
                None,
                "weir-local",
            ))
            .endpoint_url(self.engine.base_url.clone())
            .http_client(self.http_client())
            .stalled_stream_protection(
                aws_sdk_sns::config::StalledStreamProtectionConfig::disabled(),
            )
    }

    /// An `aws_sdk_sns::Client` whose requests this engine answers: topics, subscriptions
    /// of this engine's queues, and publishes delivered into them before the call returns.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let local = weir_local::LocalSqs::new();
    /// let (sqs, sns) = (local.client(), local.sns_client());
    /// let url = sqs.create_queue().queue_name("orders").send().await?.queue_url.unwrap_or_default();
    /// let topic = sns.create_topic().name("events").send().await?.topic_arn.unwrap_or_default();
    /// let queue_arn = format!("arn:aws:sqs:{}:{}:orders", local.region(), local.account_id());
    /// sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(queue_arn)
    ///     .attributes("RawMessageDelivery", "true").send().await?;
    /// sns.publish().topic_arn(&topic).message("hello").send().await?;
    /// let got = sqs.receive_message().queue_url(&url).send().await?;
    /// assert_eq!(got.messages()[0].body(), Some("hello"));
    /// # Ok(()) }
    /// ```
    pub fn sns_client(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::from_conf(self.sns_config_builder().build())
    }

    /// An S3 config builder wired to this engine, as [`config_builder`](Self::config_builder)
    /// is for SQS: same region, credentials, in-process HTTP client and endpoint URL, and
    /// path-style addressing (`{endpoint}/{bucket}/{key}`), the only style weir-local's S3
    /// answers. The SDK's defaults otherwise stay, flexible checksums (aws-chunked
    /// bodies with a CRC32 trailer) included.
    ///
    /// # Examples
    ///
    /// ```
    /// use aws_sdk_s3::config::retry::RetryConfig;
    /// let local = weir_local::LocalSqs::new();
    /// let conf = local.s3_config_builder().retry_config(RetryConfig::disabled()).build();
    /// let s3 = aws_sdk_s3::Client::from_conf(conf);
    /// # drop(s3);
    /// ```
    pub fn s3_config_builder(&self) -> aws_sdk_s3::config::Builder {
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(self.engine.region.clone()))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "test",
                "test",
                None,
                None,
                "weir-local",
            ))
            .endpoint_url(self.engine.base_url.clone())
            .force_path_style(true)
            .http_client(self.http_client())
            .stalled_stream_protection(
                aws_sdk_s3::config::StalledStreamProtectionConfig::disabled(),
            )
    }

    /// An `aws_sdk_s3::Client` whose requests this engine answers: buckets, objects
    /// (kept in memory) and multipart uploads. Buckets are one namespace per
    /// `LocalSqs`, whatever account or region a request is signed for.
    ///
    /// # Examples
    ///
    /// ```
    /// use aws_sdk_s3::primitives::ByteStream;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s3 = weir_local::LocalSqs::new().s3_client();
    /// s3.create_bucket().bucket("payloads").send().await?;
    /// s3.put_object().bucket("payloads").key("a/1").body(ByteStream::from_static(b"big")).send().await?;
    /// let got = s3.get_object().bucket("payloads").key("a/1").send().await?;
    /// assert_eq!(&got.body.collect().await?.into_bytes()[..], b"big");
    /// # Ok(()) }
    /// ```
    pub fn s3_client(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(self.s3_config_builder().build())
    }

    /// Calls the engine directly with an operation target (`AmazonSQS.SendMessage`) and a
    /// JSON body, bypassing the SDK. Any input gets an answer: a request that can't be
    /// parsed gets a 400 with a message saying why. Poll it on a tokio runtime with time
    /// enabled: long polls and message move tasks use tokio timers.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let sqs = weir_local::LocalSqs::new();
    /// let resp = sqs.handle("AmazonSQS.CreateQueue", br#"{"QueueName":"q"}"#).await;
    /// assert_eq!(resp.status(), 200);
    /// let bad = sqs.handle("AmazonSQS.CreateQueue", b"{not json").await;
    /// assert_eq!(bad.status(), 400);
    /// # }
    /// ```
    pub async fn handle(&self, target: &str, body: &[u8]) -> EngineResponse {
        let ctx = Ctx::local(&self.engine, &self.engine.base_url);
        self.engine.handle(target, body, &ctx).await
    }

    /// Serves this SQS over HTTP/1.1 on `addr` (use port 0 for any free port), for the
    /// AWS CLI, boto3 or SDKs in other processes. Queue URLs returned over HTTP point at
    /// the host the client used (its `Host` header), else the bound address. Queues are
    /// shared with in-process clients of the same `LocalSqs`; a queue URL is resolved by
    /// its last two path segments (account and name), whatever its host. Must be called
    /// within a tokio runtime.
    ///
    /// # Errors
    ///
    /// Returns the I/O error if the address can't be bound.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let sqs = weir_local::LocalSqs::new();
    /// let server = sqs.serve("127.0.0.1:0".parse().unwrap()).await?;
    /// println!("aws --endpoint-url {} sqs list-queues", server.endpoint_url());
    /// server.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve(&self, addr: SocketAddr) -> Result<ServeHandle, io::Error> {
        server::serve(self.engine.clone(), addr).await
    }
}
