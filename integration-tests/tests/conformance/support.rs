//! The conformance harness: the two targets, a per-test context that remembers the
//! queues a scenario creates, and the `conformance!` macro that turns each scenario into
//! one `#[tokio::test]` per target.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName};
use md5::Digest as _;

/// Which SQS a scenario is talking to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `weir_local::LocalSqs`, under paused tokio time.
    InProcess,
    /// LocalStack, in real time.
    LocalStack,
}

/// What a scenario gets: the SQS and SNS clients of one target, the target, and the
/// queues and topics to delete afterwards.
pub struct Ctx {
    pub client: Client,
    pub sns: aws_sdk_sns::Client,
    pub target: Target,
    created: Mutex<Vec<String>>,
    topics: Mutex<Vec<String>>,
}

impl Ctx {
    pub fn new(client: Client, sns: aws_sdk_sns::Client, target: Target) -> Self {
        Self {
            client,
            sns,
            target,
            created: Mutex::new(Vec::new()),
            topics: Mutex::new(Vec::new()),
        }
    }

    /// A fresh in-process SQS and SNS (no queues, no topics), meant for paused tokio
    /// time.
    pub fn in_process() -> Self {
        let local = weir_local::LocalSqs::new();
        Self::new(local.client(), local.sns_client(), Target::InProcess)
    }

    /// Clients for LocalStack (panics when it is not reachable).
    #[cfg(feature = "localstack")]
    pub async fn localstack() -> Self {
        Self::new(
            weir_integration_tests::localstack_client().await,
            weir_integration_tests::localstack_sns_client().await,
            Target::LocalStack,
        )
    }

    /// Remembers a topic to delete after the scenario.
    pub fn track_topic(&self, arn: &str) {
        if let Ok(mut t) = self.topics.lock() {
            t.push(arn.to_owned());
        }
    }

    /// Whether waiting costs nothing (paused time): scenarios use it only to add the
    /// parts of a check that need minutes or hours of waiting; never to change what
    /// is asserted.
    pub fn time_is_free(&self) -> bool {
        self.target == Target::InProcess
    }

    /// A unique queue name with this prefix (FIFO names get `.fifo`).
    pub fn name(&self, prefix: &str) -> String {
        weir_integration_tests::unique_name(prefix)
    }

    /// Remembers a queue URL for deletion at the end of the scenario.
    pub fn track(&self, url: &str) {
        if let Ok(mut created) = self.created.lock() {
            created.push(url.to_owned());
        }
    }

    /// Creates a standard queue with these attributes and returns its URL.
    pub async fn queue(&self, prefix: &str, attrs: &[(QueueAttributeName, &str)]) -> String {
        let name = self.name(prefix);
        self.create(&name, attrs).await
    }

    /// Creates a FIFO queue (`FifoQueue=true` plus these attributes).
    pub async fn fifo_queue(&self, prefix: &str, attrs: &[(QueueAttributeName, &str)]) -> String {
        let name = format!("{}.fifo", self.name(prefix));
        let mut all = vec![(QueueAttributeName::FifoQueue, "true")];
        all.extend_from_slice(attrs);
        self.create(&name, &all).await
    }

    /// Creates a queue by exact name.
    pub async fn create(&self, name: &str, attrs: &[(QueueAttributeName, &str)]) -> String {
        let mut req = self.client.create_queue().queue_name(name);
        for (k, v) in attrs {
            req = req.attributes(k.clone(), *v);
        }
        let out = req.send().await.unwrap_or_else(|e| fail("CreateQueue", &e));
        let url = out
            .queue_url()
            .expect("CreateQueue returns a URL")
            .to_owned();
        self.track(&url);
        url
    }

    /// Sends a plain message and returns its message id.
    pub async fn send(&self, url: &str, body: &str) -> String {
        let out = self
            .client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .unwrap_or_else(|e| fail("SendMessage", &e));
        out.message_id()
            .expect("SendMessage returns a message id")
            .to_owned()
    }

    /// Sends a FIFO message in `group` with an explicit deduplication id.
    pub async fn send_fifo(&self, url: &str, body: &str, group: &str, dedup: &str) -> String {
        let out = self
            .client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .message_group_id(group)
            .message_deduplication_id(dedup)
            .send()
            .await
            .unwrap_or_else(|e| fail("SendMessage", &e));
        out.message_id()
            .expect("SendMessage returns a message id")
            .to_owned()
    }

    /// One short-poll receive (wait 0) of up to `max` messages, all system attributes.
    pub async fn receive(&self, url: &str, max: i32) -> Vec<aws_sdk_sqs::types::Message> {
        self.receive_with(url, max, None).await
    }

    /// A short-poll receive with an optional per-receive visibility timeout.
    pub async fn receive_with(
        &self,
        url: &str,
        max: i32,
        visibility: Option<i32>,
    ) -> Vec<aws_sdk_sqs::types::Message> {
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max)
            .wait_time_seconds(0)
            .set_visibility_timeout(visibility)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap_or_else(|e| fail("ReceiveMessage", &e));
        out.messages.unwrap_or_default()
    }

    /// Short-polls every 200 ms until at least one message arrives or `within` has
    /// passed. Use it for "visible again after the timeout": engines are allowed some
    /// lag (LocalStack moves delayed and expired messages on a timer), paused time
    /// makes the polling free in-process.
    pub async fn receive_within(
        &self,
        url: &str,
        max: i32,
        within: std::time::Duration,
    ) -> Vec<aws_sdk_sqs::types::Message> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.receive(url, max).await;
            if !got.is_empty() || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// Asserts a call AWS rejects with `code` was rejected so (in-process, and on
    /// LocalStack too). See [`Ctx::rejects_but_localstack_accepts`] for known gaps.
    #[track_caller]
    pub fn rejects<T: std::fmt::Debug, E, R>(
        &self,
        result: Result<T, SdkError<E, R>>,
        code: &str,
        what: &str,
    ) where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        assert_eq!(err_code(result), code, "{what}");
    }

    /// For a call AWS rejects with `code` but LocalStack 4.12 accepts (the caller says
    /// why in a comment): in-process, asserts the AWS error; on LocalStack, asserts the
    /// call was accepted, so the suite notices the day LocalStack starts rejecting it.
    /// Returns the output when the call succeeded (to track a queue it created).
    #[track_caller]
    pub fn rejects_but_localstack_accepts<T: std::fmt::Debug, E, R>(
        &self,
        result: Result<T, SdkError<E, R>>,
        code: &str,
        what: &str,
    ) -> Option<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        if self.target == Target::LocalStack {
            match result {
                Ok(out) => Some(out),
                Err(err) => panic!(
                    "{what}: LocalStack was known to accept this (AWS answers {code}); it now \
                     answers {}: update the scenario",
                    DisplayErrorContext(&err)
                ),
            }
        } else {
            assert_eq!(err_code(result), code, "{what}");
            None
        }
    }

    /// Receives until `n` messages are gathered or `attempts` short polls found
    /// nothing new (short polls sample a subset of servers on AWS).
    pub async fn receive_n(&self, url: &str, n: usize) -> Vec<aws_sdk_sqs::types::Message> {
        let mut got = Vec::new();
        for _ in 0..10 {
            if got.len() >= n {
                break;
            }
            let want = i32::try_from((n - got.len()).min(10)).unwrap_or(10);
            got.extend(self.receive(url, want).await);
        }
        got
    }

    /// Deletes a message by receipt handle.
    pub async fn delete(&self, url: &str, message: &aws_sdk_sqs::types::Message) {
        self.client
            .delete_message()
            .queue_url(url)
            .receipt_handle(
                message
                    .receipt_handle()
                    .expect("a received message has a handle"),
            )
            .send()
            .await
            .unwrap_or_else(|e| fail("DeleteMessage", &e));
    }

    /// The queue's attributes by name (the `All` set).
    pub async fn attributes(&self, url: &str) -> HashMap<QueueAttributeName, String> {
        self.client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .unwrap_or_else(|e| fail("GetQueueAttributes", &e))
            .attributes
            .unwrap_or_default()
    }

    /// One queue attribute, asked for by name.
    pub async fn attribute(&self, url: &str, name: QueueAttributeName) -> Option<String> {
        self.client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(name.clone())
            .send()
            .await
            .unwrap_or_else(|e| fail("GetQueueAttributes", &e))
            .attributes
            .unwrap_or_default()
            .remove(&name)
    }

    /// One numeric queue attribute.
    pub async fn count(&self, url: &str, name: QueueAttributeName) -> i64 {
        let raw = self.attribute(url, name.clone()).await;
        raw.as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name:?} should be a number, got {raw:?}"))
    }

    /// The queue's ARN.
    pub async fn arn(&self, url: &str) -> String {
        self.attribute(url, QueueAttributeName::QueueArn)
            .await
            .expect("every queue has an ARN")
    }

    /// Deletes what the scenario created (best effort: the scenario's outcome is
    /// already decided).
    pub async fn cleanup(&self) {
        let urls = self
            .created
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default();
        for url in urls {
            let _ = self.client.delete_queue().queue_url(url).send().await;
        }
        let topics = self
            .topics
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for arn in topics {
            let _ = self.sns.delete_topic().topic_arn(arn).send().await;
        }
    }
}

/// Another client of the same target in `region` (same endpoint, credentials and, for
/// the in-process SQS, the same engine).
pub fn client_in_region(client: &Client, region: &str) -> Client {
    let conf = client
        .config()
        .to_builder()
        .region(aws_sdk_sqs::config::Region::new(region.to_owned()))
        .build();
    Client::from_conf(conf)
}

/// Records the raw JSON body of the response of the call it is attached to
/// (`.customize().interceptor(raw.clone())`), to check what the SDK cannot show: a key
/// that is absent rather than empty.
#[derive(Debug, Clone, Default)]
pub struct RawBody(std::sync::Arc<Mutex<Option<Vec<u8>>>>);

impl RawBody {
    /// The recorded body as JSON (`{}` for an empty body); panics when nothing was
    /// recorded.
    pub fn json(&self) -> serde_json::Value {
        let body = self
            .0
            .lock()
            .ok()
            .and_then(|b| b.clone())
            .expect("the interceptor saw a response");
        if body.is_empty() {
            return serde_json::json!({});
        }
        serde_json::from_slice(&body).expect("a JSON response body")
    }
}

impl aws_sdk_sqs::config::Intercept for RawBody {
    fn name(&self) -> &'static str {
        "RawBody"
    }

    // After deserialization the body has been read into memory, also from a socket.
    fn read_after_deserialization(
        &self,
        context: &aws_sdk_sqs::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _: &aws_sdk_sqs::config::RuntimeComponents,
        _: &mut aws_sdk_sqs::config::ConfigBag,
    ) -> Result<(), aws_sdk_sqs::error::BoxError> {
        if let (Some(bytes), Ok(mut slot)) = (context.response().body().bytes(), self.0.lock()) {
            *slot = Some(bytes.to_vec());
        }
        Ok(())
    }
}

/// The hex MD5 of a message body, as SQS reports it in `MD5OfMessageBody`.
pub fn md5_of_body(body: &str) -> String {
    hex(&md5::Md5::digest(body.as_bytes()))
}

/// The hex MD5 SQS reports in `MD5OfMessageAttributes`: over the attributes sorted by
/// name, each as length-prefixed name, length-prefixed data type, a transport byte
/// (1 string, 2 binary) and the length-prefixed value. aws-sdk-rust does not check it, so
/// the suite does.
pub fn md5_of_attributes(attrs: &HashMap<String, MessageAttributeValue>) -> String {
    let mut names: Vec<&String> = attrs.keys().collect();
    names.sort();
    let mut buf = Vec::new();
    let put = |bytes: &[u8], buf: &mut Vec<u8>| {
        buf.extend_from_slice(&u32::try_from(bytes.len()).expect("small").to_be_bytes());
        buf.extend_from_slice(bytes);
    };
    for name in names {
        let value = &attrs[name];
        put(name.as_bytes(), &mut buf);
        put(value.data_type().as_bytes(), &mut buf);
        if let Some(binary) = value.binary_value() {
            buf.push(2);
            put(binary.as_ref(), &mut buf);
        } else {
            buf.push(1);
            put(
                value.string_value().unwrap_or_default().as_bytes(),
                &mut buf,
            );
        }
    }
    hex(&md5::Md5::digest(&buf))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Panics with the full error context.
#[track_caller]
pub fn fail<E: std::error::Error + 'static, R: std::fmt::Debug + 'static>(
    op: &str,
    err: &SdkError<E, R>,
) -> ! {
    panic!("{op} failed: {}", DisplayErrorContext(err))
}

/// The service error code of a failed call; panics when the call succeeded or failed
/// without a service error.
#[track_caller]
pub fn err_code<T: std::fmt::Debug, E, R>(result: Result<T, SdkError<E, R>>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(v) => panic!("expected a service error, got success: {v:?}"),
        Err(err) => match err.code() {
            Some(code) => code.to_owned(),
            None => panic!(
                "expected a service error, got {}",
                DisplayErrorContext(&err)
            ),
        },
    }
}

/// The service error of a failed call (for `is_*` checks); panics on success.
#[track_caller]
pub fn service_err<T: std::fmt::Debug, E, R>(result: Result<T, SdkError<E, R>>) -> E
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(v) => panic!("expected a service error, got success: {v:?}"),
        Err(err) => match err {
            SdkError::ServiceError(e) => e.into_err(),
            other => panic!(
                "expected a service error, got {}",
                DisplayErrorContext(&other)
            ),
        },
    }
}

/// A String message attribute.
pub fn string_attr(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("data_type is set")
}

/// Expands each scenario into `in_process::<name>` (paused time) and, with the
/// `localstack` feature, `localstack::<name>` (real time). There is no way to skip one:
/// a scenario the in-process SQS fails is a weir-local bug to fix (KNOWN_GAPS.md).
macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {
        mod in_process {
            $(
                #[tokio::test(start_paused = true)]
                async fn $name() {
                    let ctx = crate::support::Ctx::in_process();
                    super::$name(&ctx).await;
                    ctx.cleanup().await;
                }
            )+
        }

        #[cfg(feature = "localstack")]
        mod localstack {
            $(
                #[tokio::test]
                async fn $name() {
                    let ctx = crate::support::Ctx::localstack().await;
                    super::$name(&ctx).await;
                    ctx.cleanup().await;
                }
            )+
        }
    };
}
pub(crate) use conformance;
