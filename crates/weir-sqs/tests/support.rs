//! Shared test setup: the one place that decides which SQS the tests talk to.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_sqs::Client;

/// The SQS client every integration test uses: the in-process SQS, or LocalStack when
/// `WEIR_SQS_TEST_TARGET=localstack` (then a LocalStack that does not answer fails the
/// test, saying how to start it). The tests run on a paused clock, so the LocalStack
/// client is the one built without the SDK's timers.
pub async fn client() -> Client {
    if in_process() {
        weir_local::LocalSqs::new().client()
    } else {
        weir_integration_tests::localstack_client_for_paused_clock().await
    }
}

/// Whether the tests run on the in-process SQS (where paused time covers the calls too).
pub fn in_process() -> bool {
    std::env::var("WEIR_SQS_TEST_TARGET").map_or(true, |v| v != "localstack")
}

/// A queue name no other test (or earlier run) uses.
pub use weir::test::unique_name as unique;

/// Creates a standard queue and returns its URL.
pub async fn create_queue(client: &Client, name: &str) -> String {
    client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue url")
}

/// Creates a FIFO queue (name must end in .fifo) and returns its URL.
pub async fn create_fifo(client: &Client, name: &str, content_dedup: bool) -> String {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    client
        .create_queue()
        .queue_name(name)
        .attributes(A::FifoQueue, "true")
        .attributes(A::ContentBasedDeduplication, content_dedup.to_string())
        .send()
        .await
        .expect("create fifo queue")
        .queue_url
        .expect("queue url")
}

/// An HTTP client that answers from the in-process SQS after `delay` (tokio time), to
/// make calls slow enough to observe back pressure and concurrency.
#[derive(Debug, Clone)]
pub struct SlowClient {
    inner: weir_local::LocalConnector,
    delay: std::time::Duration,
}

impl aws_smithy_runtime_api::client::http::HttpConnector for SlowClient {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        let inner = self.inner.clone();
        let delay = self.delay;
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::new(async move {
            tokio::time::sleep(delay).await;
            inner.call(request).await
        })
    }
}

impl aws_smithy_runtime_api::client::http::HttpClient for SlowClient {
    fn http_connector(
        &self,
        _settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        _components: &aws_sdk_sqs::config::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(self.clone())
    }
}

/// A client of a fresh in-process SQS whose every call takes `delay`.
pub fn slow_client(delay: std::time::Duration) -> Client {
    let sqs = weir_local::LocalSqs::new();
    let conf = sqs
        .config_builder()
        .http_client(SlowClient {
            inner: sqs.http_client(),
            delay,
        })
        .timeout_config(aws_sdk_sqs::config::timeout::TimeoutConfig::disabled())
        .build();
    Client::from_conf(conf)
}

/// An HTTP client over the in-process SQS that makes SQS fail entry `"1"` of the next
/// `fail_calls` `SendMessageBatch` calls with `code` (the entry is not stored), and
/// records the entry ids of every `SendMessageBatch` call.
#[derive(Debug, Clone)]
pub struct FaultyBatch {
    inner: weir_local::LocalConnector,
    fail_calls: std::sync::Arc<AtomicUsize>,
    code: &'static str,
    sender_fault: bool,
    calls: std::sync::Arc<std::sync::Mutex<Vec<Vec<String>>>>,
}

impl FaultyBatch {
    /// The entry ids of each `SendMessageBatch` call so far.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.calls.lock().unwrap().clone()
    }
}

impl aws_smithy_runtime_api::client::http::HttpConnector for FaultyBatch {
    fn call(
        &self,
        mut request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        use aws_smithy_types::body::SdkBody;
        let this = self.clone();
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::new(async move {
            if request.headers().get("x-amz-target") != Some("AmazonSQS.SendMessageBatch") {
                return this.inner.call(request).await;
            }
            let mut body: serde_json::Value =
                serde_json::from_slice(request.body().bytes().unwrap()).unwrap();
            let ids: Vec<String> = body["Entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["Id"].as_str().unwrap().to_owned())
                .collect();
            this.calls.lock().unwrap().push(ids.clone());
            let fault = ids.iter().any(|i| i == "1")
                && this
                    .fail_calls
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
            if !fault {
                return this.inner.call(request).await;
            }
            body["Entries"]
                .as_array_mut()
                .unwrap()
                .retain(|e| e["Id"] != "1");
            let mut response = if body["Entries"].as_array().unwrap().is_empty() {
                // Nothing left to store: answer as SQS would, without a call.
                let mut r = aws_sdk_sqs::config::http::HttpResponse::new(
                    200u16.try_into().unwrap(),
                    SdkBody::from(r#"{"Successful":[]}"#),
                );
                r.headers_mut()
                    .insert("content-type", "application/x-amz-json-1.0");
                r
            } else {
                let bytes = serde_json::to_vec(&body).unwrap();
                request
                    .headers_mut()
                    .insert("content-length", bytes.len().to_string());
                *request.body_mut() = SdkBody::from(bytes);
                this.inner.call(request).await?
            };
            let mut out: serde_json::Value =
                serde_json::from_slice(response.body().bytes().unwrap()).unwrap();
            let failed = out
                .as_object_mut()
                .unwrap()
                .entry("Failed")
                .or_insert_with(|| serde_json::json!([]));
            failed.as_array_mut().unwrap().push(serde_json::json!({
                "Id": "1",
                "SenderFault": this.sender_fault,
                "Code": this.code,
                "Message": "injected by the test",
            }));
            let bytes = serde_json::to_vec(&out).unwrap();
            response
                .headers_mut()
                .insert("content-length", bytes.len().to_string());
            *response.body_mut() = SdkBody::from(bytes);
            Ok(response)
        })
    }
}

impl aws_smithy_runtime_api::client::http::HttpClient for FaultyBatch {
    fn http_connector(
        &self,
        _settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        _components: &aws_sdk_sqs::config::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(self.clone())
    }
}

/// A client of a fresh in-process SQS whose `SendMessageBatch` calls fail entry `"1"`
/// for the next `fail_calls` calls with `code`.
pub fn faulty_batch_client(
    fail_calls: usize,
    code: &'static str,
    sender_fault: bool,
) -> (Client, FaultyBatch) {
    let sqs = weir_local::LocalSqs::new();
    let faulty = FaultyBatch {
        inner: sqs.http_client(),
        fail_calls: std::sync::Arc::new(AtomicUsize::new(fail_calls)),
        code,
        sender_fault,
        calls: std::sync::Arc::default(),
    };
    let conf = sqs.config_builder().http_client(faulty.clone()).build();
    (Client::from_conf(conf), faulty)
}
