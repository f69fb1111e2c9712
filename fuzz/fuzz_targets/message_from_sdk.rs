//! Feeds arbitrary `ReceiveMessage` responses to `weir_sqs::Consumer::receive`, through
//! a real `aws_sdk_sqs::Client` whose HTTP client answers with the fuzz input: the SDK's
//! deserializer, `Message::from_sdk` (system attributes, receive count, timestamps, group
//! ids, message attributes) and the codec all run on it. Any response must become
//! messages or an `Error`, never a panic.
//!
//! Input: the first byte picks the mode. Even: the rest is the raw HTTP body. Odd: the
//! rest is split on 0xFF into fields (body, receive count, sent timestamp, first receive
//! timestamp, group id, sequence number, type tag, then attribute name/value pairs), put
//! into a well-formed JSON response so the input reaches `Message::from_sdk`.
//!
//! Run with `scripts/fuzz message_from_sdk`.

#![no_main]

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use weir_sqs::{Consumer, Queue, QueueAttributes, RawString, ReceiveOptions, TaggedJson};

#[derive(Debug, Clone)]
struct Fixed(Vec<u8>);

impl HttpConnector for Fixed {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        let mut resp = HttpResponse::new(
            StatusCode::try_from(200).expect("status"),
            SdkBody::from(self.0.clone()),
        );
        resp.headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(resp))
    }
}

impl HttpClient for Fixed {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

fn structured(data: &[u8]) -> Vec<u8> {
    let mut fields = data
        .split(|&b| b == 0xFF)
        .map(|f| String::from_utf8_lossy(f).into_owned());
    let mut next = || fields.next();
    let body = next().unwrap_or_default();
    let mut sys = Map::new();
    for key in [
        "ApproximateReceiveCount",
        "SentTimestamp",
        "ApproximateFirstReceiveTimestamp",
        "MessageGroupId",
        "SequenceNumber",
    ] {
        if let Some(v) = next() {
            sys.insert(key.to_owned(), Value::String(v));
        }
    }
    let mut attrs = Map::new();
    if let Some(tag) = next() {
        attrs.insert(
            "weir.type".to_owned(),
            json!({"DataType": "String", "StringValue": tag}),
        );
    }
    while let (Some(name), Some(value)) = (next(), next()) {
        let v = match name.len() % 3 {
            0 => json!({"DataType": "String", "StringValue": value}),
            1 => json!({"DataType": "Number", "StringValue": value}),
            // Binary values are base64 in JSON: the fuzz input may or may not be valid.
            _ => json!({"DataType": "Binary", "BinaryValue": value}),
        };
        attrs.insert(name, v);
    }
    json!({
        "Messages": [{
            "MessageId": "m-1",
            "ReceiptHandle": "r-1",
            "MD5OfBody": "00000000000000000000000000000000",
            "Body": body,
            "Attributes": sys,
            "MessageAttributes": attrs,
        }]
    })
    .to_string()
    .into_bytes()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let response = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        structured(rest)
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let conf = aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "fuzz"))
            .endpoint_url("http://sqs.fuzz.invalid")
            .http_client(Fixed(response))
            .build();
        let client = aws_sdk_sqs::Client::from_conf(conf);
        let url = "http://sqs.fuzz.invalid/000000000000/q";
        let queue = Queue::with_attributes(client, url, QueueAttributes::default());
        let opts = ReceiveOptions::default();

        let json: Consumer<serde_json::Value> = Consumer::new(queue.clone());
        if let Ok(messages) = json.receive(&opts).await {
            for m in &messages {
                let _ = (m.body().map(ToString::to_string), m.receive_count());
                let _ = (m.sent_at(), m.first_received_at(), m.group_id());
                let _ = (m.sequence_number(), m.type_tag(), m.attributes().len());
                // Debug never prints the body.
                let _ = format!("{m:?}");
            }
        }
        let raw: Consumer<String, RawString> = Consumer::with_codec(queue.clone(), RawString);
        if let Ok(messages) = raw.receive(&opts).await {
            for m in &messages {
                assert_eq!(m.body().ok().map(String::as_str), Some(m.raw_body()));
            }
        }
        let tagged: Consumer<serde_json::Value, TaggedJson> =
            Consumer::with_codec(queue, TaggedJson);
        let _ = tagged.receive(&opts).await;
    });
});
