//! The engine: a registry of queues and the dispatch of `AmazonSQS.<Operation>` requests.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::clock::Clock;
use crate::error::{ErrorKind, SqsError, SqsResult};
use crate::fault::Faults;
use crate::ops::moves::MoveTask;
use crate::queue::Queue;

/// The answer of the engine to one request: status, headers and JSON body.
///
/// This is what the in-process connector and the HTTP server turn into an HTTP
/// response; tests and fuzz targets can inspect it directly.
/// Its `Debug` shows the status and the body's length, not the body, which may hold
/// message bodies.
#[derive(Clone)]
pub struct EngineResponse {
    status: u16,
    headers: Vec<(&'static str, String)>,
    /// Headers whose names are not known in advance (S3's `x-amz-meta-*`).
    named: Vec<(String, String)>,
    /// `Bytes`, so that an S3 object is answered without copying it.
    body: Bytes,
}

impl EngineResponse {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response headers (besides `content-length`, and besides S3's user metadata,
    /// `x-amz-meta-*`, which [`header`](Self::header) also finds).
    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    /// The value of one header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .map(|(k, v)| (*k, v))
            .chain(self.named.iter().map(|(k, v)| (k.as_str(), v)))
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Consumes the response into its parts (without S3's `x-amz-meta-*` headers).
    pub fn into_parts(self) -> (u16, Vec<(&'static str, String)>, Vec<u8>) {
        (self.status, self.headers, Vec::from(self.body))
    }

    /// Every header (fixed names, then named ones) and the body, for the wire.
    pub(crate) fn into_wire(self) -> (u16, Vec<(Cow<'static, str>, String)>, Bytes) {
        let headers = self
            .headers
            .into_iter()
            .map(|(k, v)| (Cow::Borrowed(k), v))
            .chain(self.named.into_iter().map(|(k, v)| (Cow::Owned(k), v)))
            .collect();
        (self.status, headers, self.body)
    }

    /// A response with the given parts (for answers in another protocol than JSON).
    pub(crate) fn new(
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: impl Into<Bytes>,
    ) -> Self {
        Self {
            status,
            headers,
            named: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds headers whose names are only known at run time.
    pub(crate) fn with_named(mut self, named: Vec<(String, String)>) -> Self {
        self.named = named;
        self
    }

    fn ok(body: Vec<u8>) -> Self {
        Self::new(
            200,
            vec![
                ("content-type", "application/x-amz-json-1.0".to_owned()),
                ("x-amzn-requestid", crate::checksum::fast_uuid_string()),
            ],
            body,
        )
    }

    /// An injected error with an arbitrary code.
    pub(crate) fn injected(status: u16, code: &str, message: &str) -> Self {
        let body = serde_json::json!({ "__type": format!("com.amazonaws.sqs#{code}"), "message": message });
        let fault = if status >= 500 { "Receiver" } else { "Sender" };
        Self::new(
            status,
            vec![
                ("content-type", "application/x-amz-json-1.0".to_owned()),
                ("x-amzn-requestid", crate::checksum::fast_uuid_string()),
                ("x-amzn-query-error", format!("{code};{fault}")),
            ],
            body.to_string().into_bytes(),
        )
    }

    pub(crate) fn error(e: &SqsError) -> Self {
        let (status, type_name, code, fault) = e.kind.wire();
        let body = serde_json::json!({ "__type": type_name, "message": e.message });
        Self::new(
            status,
            vec![
                ("content-type", "application/x-amz-json-1.0".to_owned()),
                ("x-amzn-requestid", crate::checksum::fast_uuid_string()),
                ("x-amzn-query-error", format!("{code};{fault}")),
            ],
            body.to_string().into_bytes(),
        )
    }
}

/// Per-request context: where queue URLs point, who is sending, and the namespace.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'a> {
    pub(crate) base_url: &'a str,
    pub(crate) sender_id: &'a str,
    /// The account whose queues the request sees.
    pub(crate) account: &'a str,
    /// The region of the request (its SigV4 scope), else the engine's default.
    pub(crate) region: &'a str,
    /// The `X-Amzn-Trace-Id` request header: SendMessage(Batch) stores it as the
    /// `AWSTraceHeader` system attribute.
    pub(crate) trace_header: Option<&'a str>,
}

impl<'a> Ctx<'a> {
    /// A context in the engine's own account and default region (direct calls).
    pub(crate) fn local(engine: &'a Engine, base_url: &'a str) -> Self {
        Self {
            base_url,
            sender_id: &engine.account,
            account: &engine.account,
            region: &engine.region,
            trace_header: None,
        }
    }
}

/// The shared engine behind every `LocalSqs` clone.
///
/// `Debug` is written by hand: it names the account and counts the queues, and never
/// prints queue contents, because the SDK may log its HTTP client's `Debug`.
pub(crate) struct Engine {
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) base_url: String,
    pub(crate) clock: Clock,
    queues: RwLock<HashMap<String, Arc<Queue>>>,
    /// When each queue was deleted, by ARN, for QueueDeletedRecently (empty when off).
    pub(crate) deleted: Mutex<HashMap<String, Instant>>,
    /// Whether CreateQueue refuses a queue deleted less than 60 s ago.
    pub(crate) deleted_recently: bool,
    pub(crate) tasks: Mutex<Vec<Arc<MoveTask>>>,
    incarnation: AtomicU64,
    pub(crate) me: Weak<Self>,
    pub(crate) faults: Faults,
    /// The in-process SNS: its topics and subscriptions, delivering into these queues.
    pub(crate) sns: crate::sns::SnsState,
    /// The in-process S3: its buckets, objects and multipart uploads.
    pub(crate) s3: crate::s3::S3State,
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> SqsResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        SqsError::new(
            ErrorKind::Serialization,
            format!("The request body is not valid JSON for this operation: {e}"),
        )
    })
}

/// serde_json is the one parser and writer of the protocol: a field added to a shape in
/// [`crate::wire`] is read and written everywhere at once.
fn out<T: Serialize>(r: SqsResult<T>) -> SqsResult<Vec<u8>> {
    serde_json::to_vec(&r?).map_err(|e| SqsError::new(ErrorKind::Internal, e.to_string()))
}

impl Engine {
    pub(crate) fn new(
        account: String,
        region: String,
        base_url: String,
        deleted_recently: bool,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            faults: Faults::default(),
            sns: crate::sns::SnsState::default(),
            s3: crate::s3::S3State::default(),
            account,
            region,
            base_url,
            clock: Clock::new(),
            queues: RwLock::new(HashMap::new()),
            deleted: Mutex::new(HashMap::new()),
            deleted_recently,
            tasks: Mutex::new(Vec::new()),
            incarnation: AtomicU64::new(fastrand::u64(1..u64::MAX / 2)),
        })
    }

    pub(crate) fn next_incarnation(&self) -> u64 {
        self.incarnation.fetch_add(1, Ordering::Relaxed)
    }

    /// Answers one request.
    pub(crate) async fn handle(&self, target: &str, body: &[u8], ctx: &Ctx<'_>) -> EngineResponse {
        match self.dispatch(target, body, ctx).await {
            Ok(body) => EngineResponse::ok(body),
            Err(e) => EngineResponse::error(&e),
        }
    }

    async fn dispatch(&self, target: &str, body: &[u8], ctx: &Ctx<'_>) -> SqsResult<Vec<u8>> {
        let Some(op) = target.strip_prefix("AmazonSQS.") else {
            return Err(SqsError::new(
                ErrorKind::UnknownOperation,
                format!("Unknown X-Amz-Target {target:?}: expected AmazonSQS.<Operation>."),
            ));
        };
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            b"{}".as_slice()
        } else {
            body
        };
        match op {
            "CreateQueue" => out(self.create_queue(parse(body)?, ctx)),
            "GetQueueUrl" => out(self.get_queue_url(parse(body)?, ctx)),
            "ListQueues" => out(self.list_queues(parse(body)?, ctx)),
            "GetQueueAttributes" => out(self.get_queue_attributes(&parse(body)?, ctx)),
            "SetQueueAttributes" => out(self.set_queue_attributes(&parse(body)?, ctx)),
            "DeleteQueue" => out(self.delete_queue(&parse(body)?, ctx)),
            "PurgeQueue" => out(self.purge_queue(&parse(body)?, ctx)),
            "TagQueue" => out(self.tag_queue(parse(body)?, ctx)),
            "UntagQueue" => out(self.untag_queue(&parse(body)?, ctx)),
            "ListQueueTags" => out(self.list_queue_tags(&parse(body)?, ctx)),
            "ListDeadLetterSourceQueues" => out(self.list_dlq_sources(&parse(body)?, ctx)),
            "SendMessage" => out(self.send_message(&parse(body)?, ctx)),
            "SendMessageBatch" => out(self.send_message_batch(parse(body)?, ctx)),
            "ReceiveMessage" => out(self.receive_message(parse(body)?, ctx).await),
            "DeleteMessage" => out(self.delete_message(&parse(body)?, ctx)),
            "DeleteMessageBatch" => out(self.delete_message_batch(&parse(body)?, ctx)),
            "ChangeMessageVisibility" => out(self.change_visibility(&parse(body)?, ctx)),
            "ChangeMessageVisibilityBatch" => out(self.change_visibility_batch(parse(body)?, ctx)),
            "StartMessageMoveTask" => out(self.start_move_task(parse(body)?)),
            "ListMessageMoveTasks" => out(self.list_move_tasks(parse(body)?)),
            "CancelMessageMoveTask" => out(self.cancel_move_task(parse(body)?)),
            "AddPermission" => out(self.add_permission(&parse(body)?, ctx)),
            "RemovePermission" => out(self.remove_permission(&parse(body)?, ctx)),
            _ => Err(SqsError::new(
                ErrorKind::UnknownOperation,
                format!("Unknown operation {op}."),
            )),
        }
    }

    // ----- registry -----

    /// The ARN of a queue in a namespace: also its key in the registry, so queues live
    /// per account and region as on AWS.
    pub(crate) fn arn_in(account: &str, region: &str, name: &str) -> String {
        format!("arn:aws:sqs:{region}:{account}:{name}")
    }

    /// The URL of a queue: `{base}/{account}/{name}` in the default region, and
    /// `{base}/queue/{region}/{account}/{name}` (LocalStack's path form) in any other, so
    /// that the URL carries its region.
    pub(crate) fn queue_url(&self, base: &str, q: &Queue) -> String {
        let (region, account) = q.namespace();
        if region == self.region {
            format!("{base}/{account}/{}", q.name)
        } else {
            format!("{base}/queue/{region}/{account}/{}", q.name)
        }
    }

    pub(crate) fn by_name(&self, ctx: &Ctx<'_>, name: &str) -> Option<Arc<Queue>> {
        self.by_arn(&Self::arn_in(ctx.account, ctx.region, name))
    }

    /// Resolves a `QueueUrl` parameter: a URL (`.../{account}/{name}`, or
    /// `.../queue/{region}/{account}/{name}`), or a bare queue name, as AWS accepts.
    /// The region is the URL's when it carries one, else the request's.
    pub(crate) fn by_url(&self, ctx: &Ctx<'_>, url: Option<&str>) -> SqsResult<Arc<Queue>> {
        let url = url.ok_or_else(|| SqsError::missing("QueueUrl"))?;
        if !url.contains('/') {
            return self.by_name(ctx, url).ok_or_else(SqsError::no_queue);
        }
        let path = crate::gateway::Incoming::split_uri(url).0;
        let mut parts = path.trim_end_matches('/').rsplit('/');
        let name = parts.next().unwrap_or_default();
        let account = parts.next().unwrap_or_default();
        let region = match (parts.next(), parts.next()) {
            (Some(region), Some("queue")) if !region.is_empty() => region,
            _ => ctx.region,
        };
        self.by_arn(&Self::arn_in(account, region, name))
            .ok_or_else(SqsError::no_queue)
    }

    pub(crate) fn by_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        self.queues
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(arn)
            .cloned()
    }

    /// Every queue of the request's account and region, by name.
    pub(crate) fn queues_of(&self, ctx: &Ctx<'_>) -> Vec<Arc<Queue>> {
        let prefix = Self::arn_in(ctx.account, ctx.region, "");
        let mut v: Vec<_> = self
            .queues
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|(arn, _)| arn.starts_with(&prefix))
            .map(|(_, q)| q.clone())
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Every queue of every namespace.
    pub(crate) fn all_queues(&self) -> Vec<Arc<Queue>> {
        self.queues
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// Inserts a queue unless its ARN is taken; returns the queue under that ARN.
    pub(crate) fn insert_queue(&self, q: Queue) -> (Arc<Queue>, bool) {
        let mut map = self
            .queues
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(existing) = map.get(&q.arn) {
            return (existing.clone(), false);
        }
        let q = Arc::new(q);
        map.insert(q.arn.clone(), q.clone());
        (q, true)
    }

    pub(crate) fn remove_queue(&self, arn: &str) -> Option<Arc<Queue>> {
        self.queues
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn every_sqs_operation_is_routed() {
        let engine = Engine::new(
            "000000000000".into(),
            "us-east-1".into(),
            "http://x".into(),
            true,
        );
        let ctx = Ctx::local(&engine, "http://x");
        for op in crate::OPERATIONS {
            let resp = engine.handle(&format!("AmazonSQS.{op}"), b"{}", &ctx).await;
            assert_ne!(
                resp.header("x-amzn-query-error"),
                Some("UnknownOperationException;Sender"),
                "{op}"
            );
        }
    }

    #[test]
    fn error_responses_carry_status_type_and_query_header() {
        let r = EngineResponse::error(&SqsError::no_queue());
        assert_eq!(r.status(), 400);
        assert_eq!(
            r.header("x-amzn-query-error"),
            Some("AWS.SimpleQueueService.NonExistentQueue;Sender")
        );
        let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(v["__type"], "com.amazonaws.sqs#QueueDoesNotExist");
        let r = EngineResponse::error(&SqsError::new(ErrorKind::PurgeQueueInProgress, "x"));
        assert_eq!(r.status(), 403);
        let r = EngineResponse::error(&SqsError::new(ErrorKind::ResourceNotFound, "x"));
        assert_eq!(r.status(), 404);
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queues = self.queues.read().map_or(0, |q| q.len());
        f.debug_struct("Engine")
            .field("account", &self.account)
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("queues", &queues)
            .field("topics", &self.sns.topic_count())
            .field("buckets", &self.s3.bucket_count())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for EngineResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

#[cfg(test)]
mod debug_tests {
    use crate::LocalSqs;

    #[tokio::test]
    async fn debug_output_never_carries_message_bodies() {
        let sqs = LocalSqs::new();
        let client = sqs.client();
        let url = client
            .create_queue()
            .queue_name("secrets")
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        client
            .send_message()
            .queue_url(&url)
            .message_body("card=4111111111111111")
            .send()
            .await
            .unwrap();
        let shown = format!("{sqs:?} {:?}", sqs.http_client());
        assert!(shown.contains("queues: 1"), "{shown}");
        assert!(!shown.contains("4111111111111111"), "{shown}");
        let resp = sqs
            .handle(
                "AmazonSQS.ReceiveMessage",
                format!(r#"{{"QueueUrl":"{url}"}}"#).as_bytes(),
            )
            .await;
        assert!(!format!("{resp:?}").contains("4111111111111111"));
        assert!(String::from_utf8_lossy(resp.body()).contains("4111111111111111"));
    }
}
