//! What unwrapping an envelope costs per message, beside decoding the plain body:
//! `Json` decoding of an order, the same order inside an SNS notification
//! (`Envelope::Sns`), inside an EventBridge event, and a plain body under
//! `Envelope::Auto` (which parses the body once to look for an envelope).
//!
//! Run with `cargo bench -p weir-sqs --bench envelope -- --warm-up-time 1 --measurement-time 3`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde::Deserialize;
use weir_sqs::{Decode, Envelope, Json};

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // decoded, never read
struct Order {
    id: u64,
    customer: String,
    total_cents: u64,
    tags: Vec<String>,
}

const ORDER: &str = r#"{"id":42,"customer":"customer-00000042","total_cents":1999,"tags":["web","eu-west","priority"]}"#;

fn sns_body() -> String {
    serde_json::json!({
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:orders",
        "Message": ORDER,
        "Timestamp": "2026-12-04T10:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:orders:c9135db0",
        "MessageAttributes": {
            "weir.type": {"Type": "String", "Value": "OrderPlaced"},
            "traceparent": {"Type": "String", "Value": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
        }
    })
    .to_string()
}

fn event_bridge_body() -> String {
    let detail: serde_json::Value = serde_json::from_str(ORDER).unwrap();
    serde_json::json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "OrderPlaced", "source": "com.example.orders",
        "account": "123456789012", "time": "2026-12-04T10:00:00Z", "region": "us-east-1",
        "resources": [], "detail": detail
    })
    .to_string()
}

/// Opens `body` as `setting` says, then decodes the payload (or the body itself).
fn decode(setting: Envelope, body: &str) -> Order {
    match setting.open(body).unwrap() {
        Some(opened) => Decode::<Order>::decode(&Json, &opened.payload).unwrap(),
        None => Decode::<Order>::decode(&Json, body).unwrap(),
    }
}

fn envelopes(c: &mut Criterion) {
    let (sns, eb) = (sns_body(), event_bridge_body());
    let mut g = c.benchmark_group("decode_one_order");
    g.bench_function("plain_json", |b| {
        b.iter(|| decode(Envelope::None, black_box(ORDER)))
    });
    g.bench_function("plain_json_under_auto", |b| {
        b.iter(|| decode(Envelope::Auto, black_box(ORDER)));
    });
    g.bench_function("sns_notification", |b| {
        b.iter(|| decode(Envelope::Sns, black_box(&sns)))
    });
    g.bench_function("event_bridge_event", |b| {
        b.iter(|| decode(Envelope::EventBridge, black_box(&eb)));
    });
    g.finish();
}

criterion_group!(benches, envelopes);
criterion_main!(benches);
