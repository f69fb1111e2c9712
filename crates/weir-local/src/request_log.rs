//! One `info` line per request under the target `weir_local::request`: the operation,
//! the queue, the HTTP status, the error code when there is one, and the time taken.
//! Never a body, a header or a credential.
//!
//! Off unless a subscriber enables the target (`RUST_LOG=weir_local::request=info`, or
//! `weir serve --log`); then the queue is read from the body, which costs a parse. The
//! time is on tokio's clock, so under paused time it is the virtual time a call took.

use std::borrow::Cow;
use tokio::time::Instant;

use serde::Deserialize;

use crate::engine::EngineResponse;
use crate::gateway::{Incoming, Service};

/// The tracing target of the request log.
pub(crate) const TARGET: &str = "weir_local::request";

/// When the request started, if the log is on.
pub(crate) fn start() -> Option<Instant> {
    tracing::enabled!(target: TARGET, tracing::Level::INFO).then(Instant::now)
}

/// Logs one answered request.
pub(crate) fn record(req: &Incoming<'_>, resp: &EngineResponse, started: Instant) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let service = req.service();
    let (op, queue) = match service {
        // For S3 the "queue" is the bucket; its body (an object) is never parsed.
        Service::S3 => (crate::s3::operation(req), Some(crate::s3::bucket_of(req))),
        // For SNS, the topic the form names.
        Service::Sns => (operation(req), topic(req.body)),
        Service::Sqs | Service::Other => (operation(req), queue(req.body)),
    };
    let queue = queue.as_deref().unwrap_or("-");
    let status = resp.status();
    // SNS and S3 answer errors in XML, with the code in the body.
    let xml = matches!(service, Service::S3 | Service::Sns);
    let xml_error = (xml && status >= 300).then(|| xml_code(resp));
    match resp.header("x-amzn-query-error").or(xml_error.as_deref()) {
        Some(error) => {
            let code = error.split(';').next().unwrap_or(error);
            tracing::info!(target: TARGET, op, queue, status, error = code, ms, "request");
        }
        None => tracing::info!(target: TARGET, op, queue, status, ms, "request"),
    }
}

/// The `<Code>` of an SNS or S3 error body (a HEAD error has none: its status then).
fn xml_code(resp: &EngineResponse) -> String {
    let body = String::from_utf8_lossy(resp.body());
    body.split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map_or_else(|| resp.status().to_string(), |(code, _)| code.to_owned())
}

/// The topic an SNS form names (`TopicArn`, or `TargetArn`): its name.
fn topic(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == "TopicArn" || k == "TargetArn")
        .and_then(|(_, arn)| arn.rsplit(':').next().map(str::to_owned))
}

/// `SendMessage` from `X-Amz-Target: AmazonSQS.SendMessage` (or a query `Action`).
fn operation<'a>(req: &Incoming<'a>) -> &'a str {
    match req.header("x-amz-target") {
        Some(target) => target.strip_prefix("AmazonSQS.").unwrap_or(target),
        None => crate::query::action(req).unwrap_or("-"),
    }
}

#[derive(Deserialize)]
struct QueueOf<'a> {
    #[serde(rename = "QueueUrl", borrow, default)]
    queue_url: Option<Cow<'a, str>>,
    #[serde(rename = "QueueName", borrow, default)]
    queue_name: Option<Cow<'a, str>>,
}

/// The queue a JSON request names: the last segment of its `QueueUrl`, or its
/// `QueueName`.
fn queue(body: &[u8]) -> Option<String> {
    let of: QueueOf<'_> = serde_json::from_slice(body).ok()?;
    match (of.queue_url, of.queue_name) {
        (Some(url), _) => url.rsplit('/').next().map(str::to_owned),
        (None, name) => name.map(Cow::into_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_read_from_url_or_name() {
        let url = br#"{"QueueUrl":"http://localhost:4566/000000000000/orders","MessageBody":"x"}"#;
        assert_eq!(queue(url).as_deref(), Some("orders"));
        assert_eq!(
            queue(br#"{"QueueName":"jobs.fifo"}"#).as_deref(),
            Some("jobs.fifo")
        );
        assert_eq!(queue(br#"{"QueueUrl":"bare"}"#).as_deref(), Some("bare"));
        assert_eq!(queue(b"{}"), None);
        assert_eq!(queue(b"not json"), None);
    }

    #[test]
    fn the_topic_is_read_from_an_sns_form() {
        let form = b"Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aorders&Message=x";
        assert_eq!(topic(form).as_deref(), Some("orders"));
        let target =
            b"Action=Publish&TargetArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Ajobs.fifo";
        assert_eq!(topic(target).as_deref(), Some("jobs.fifo"));
        assert_eq!(topic(b"Action=ListTopics"), None);
    }
}
