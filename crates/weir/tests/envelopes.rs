//! One queue fed by an SNS topic, an EventBridge rule and a CloudEvents producer: a
//! worker with `Envelope::Auto` and a `Router` routes each by its envelope's type and
//! decodes the payload inside; a malformed envelope is dead-lettered with the reason.
//! On a paused clock and on four threads in real time with network latency.

#![cfg(feature = "test-util")]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use weir::local::LocalSqs;
use weir::prelude::*;
use weir::sqs::{Envelope, EnvelopeInfo};
use weir::test::{Outcome, TestQueue};

#[derive(Debug, Deserialize)]
struct Order {
    id: u64,
}

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// What an SNS topic writes to a queue subscribed without raw message delivery.
fn sns(id: u64, type_tag: &str) -> String {
    format!(
        r#"{{"Type":"Notification","MessageId":"sns-{id}","TopicArn":"arn:aws:sns:us-east-1:000000000000:orders","Message":"{{\"id\":{id}}}","Timestamp":"2026-12-04T10:00:00.000Z","SignatureVersion":"1","Signature":"c2ln","SigningCertURL":"https://sns.us-east-1.amazonaws.com/cert.pem","UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe","MessageAttributes":{{"weir.type":{{"Type":"String","Value":"{type_tag}"}},"traceparent":{{"Type":"String","Value":"{TRACEPARENT}"}}}}}}"#
    )
}

fn event_bridge(id: u64) -> String {
    format!(
        r#"{{"version":"0","id":"eb-{id}","detail-type":"OrderShipped","source":"com.example.shipping","account":"000000000000","time":"2026-12-04T10:00:00Z","region":"us-east-1","resources":[],"detail":{{"id":{id}}}}}"#
    )
}

fn cloud_event(id: u64) -> String {
    format!(
        r#"{{"specversion":"1.0","type":"com.example.order.cancelled","source":"/orders","id":"ce-{id}","datacontenttype":"application/json","data":{{"id":{id}}}}}"#
    )
}

type Seen = Arc<Mutex<Vec<(&'static str, u64, Option<String>)>>>;

/// A route that records what it saw: its name, the order id, and the traceparent.
fn record(
    seen: &Seen,
    route: &'static str,
) -> impl Fn(Message<Order>) -> std::future::Ready<Result<(), HandlerError>> + Clone + use<> {
    let seen = seen.clone();
    move |msg: Message<Order>| {
        let id = msg.body().map(|o| o.id).unwrap_or(u64::MAX);
        let trace = msg.traceparent().map(str::to_owned);
        seen.lock().unwrap().push((route, id, trace));
        std::future::ready(Ok(()))
    }
}

async fn fan_in(queue: TestQueue) {
    queue.send_raw(&sns(1, "OrderPlaced")).await.unwrap();
    queue.send_raw(&event_bridge(2)).await.unwrap();
    queue.send_raw(&cloud_event(3)).await.unwrap();
    // Claims to be an SNS notification and has no TopicArn.
    queue
        .send_raw(r#"{"Type":"Notification","MessageId":"m","Message":"{\"id\":4}"}"#)
        .await
        .unwrap();
    // A valid notification of a type nobody routes.
    queue.send_raw(&sns(5, "OrderAudited")).await.unwrap();

    let seen = Seen::default();
    let router = Router::new()
        .route("OrderPlaced", handler_fn(record(&seen, "placed")))
        .route("OrderShipped", handler_fn(record(&seen, "shipped")))
        .route(
            "com.example.order.cancelled",
            handler_fn(record(&seen, "cancelled")),
        );
    let worker = Worker::builder(queue.queue().clone())
        .envelope(Envelope::Auto)
        .handler(router)
        .dead_letter(queue.dlq())
        .wait_time(Duration::from_secs(1))
        .build()
        .unwrap();
    let run = queue.run(worker).await.unwrap();

    let mut seen = seen.lock().unwrap().clone();
    seen.sort_by_key(|s| s.1);
    assert_eq!(
        seen,
        vec![
            ("placed", 1, Some(TRACEPARENT.to_owned())),
            ("shipped", 2, None),
            ("cancelled", 3, None),
        ]
    );
    assert_eq!(
        run.outcomes[..3],
        [Outcome::Acked, Outcome::Acked, Outcome::Acked]
    );
    let Outcome::DeadLettered { reason, error, .. } = &run.outcomes[3] else {
        panic!("{:?}", run.outcomes[3]);
    };
    assert_eq!(reason, "decode_failed");
    let error = error.as_deref().unwrap_or_default();
    assert!(
        error.contains("expected an SNS notification") && error.contains("TopicArn"),
        "{error}"
    );
    let Outcome::DeadLettered { reason, error, .. } = &run.outcomes[4] else {
        panic!("{:?}", run.outcomes[4]);
    };
    assert_eq!(reason, "rejected");
    assert!(
        error
            .as_deref()
            .unwrap_or_default()
            .contains("OrderAudited"),
        "{error:?}"
    );
    assert_eq!(run.report.decode_failures, 1);
}

#[tokio::test(start_paused = true)]
async fn auto_envelopes_route_by_type_on_a_paused_clock() {
    fan_in(TestQueue::standard().await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn auto_envelopes_route_by_type_in_real_time_with_network_latency() {
    let local = LocalSqs::builder()
        .latency(Duration::from_millis(1), Duration::from_millis(5))
        .build();
    let queue = TestQueue::with_spec(local, QueueSpec::standard("events"))
        .await
        .unwrap();
    fan_in(queue).await;
}

/// The dead-letter copy of an unwrapped message is the envelope SQS delivered, so a
/// redrive delivers the same message again; the handler sees the envelope's fields.
#[tokio::test(start_paused = true)]
async fn a_rejected_notification_keeps_its_envelope_in_the_dead_letter_queue() {
    let queue = TestQueue::standard().await.unwrap();
    queue.send_raw(&sns(9, "OrderPlaced")).await.unwrap();
    let topic = Arc::new(Mutex::new(None));
    let t = topic.clone();
    let worker = Worker::builder(queue.queue().clone())
        .envelope(Envelope::Sns)
        .handler(handler_fn(move |msg: Message<Order>| {
            if let Some(EnvelopeInfo::Sns(n)) = msg.envelope() {
                *t.lock().unwrap() = Some((n.topic_arn.clone(), msg.raw_body().to_owned()));
            }
            std::future::ready(Err::<(), _>(HandlerError::reject("no")))
        }))
        .dead_letter(queue.dlq())
        .build()
        .unwrap();
    let run = queue.run(worker).await.unwrap();
    assert!(
        matches!(&run.outcomes[0], Outcome::DeadLettered { reason, .. } if reason == "rejected")
    );
    assert_eq!(
        topic.lock().unwrap().clone(),
        Some((
            "arn:aws:sns:us-east-1:000000000000:orders".to_owned(),
            r#"{"id":9}"#.to_owned()
        ))
    );
    // The kit read the copy to find the outcome, hiding it for 12 h.
    tokio::time::sleep(Duration::from_secs(13 * 3_600)).await;
    let copy = queue
        .dlq()
        .client()
        .receive_message()
        .queue_url(queue.dlq().url())
        .send()
        .await
        .unwrap();
    let body = copy.messages()[0].body().unwrap_or_default();
    assert_eq!(body, sns(9, "OrderPlaced"));
}
