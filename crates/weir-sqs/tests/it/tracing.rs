//! Spans carry the OpenTelemetry messaging attributes; bodies are never logged unless
//! the producer opts in.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use weir_sqs::{Consumer, Producer, Queue, ReceiveOptions};

use crate::support::{client, create_queue, unique};

type Fields = BTreeMap<String, String>;

#[derive(Clone, Default)]
struct Capture {
    next: Arc<AtomicU64>,
    spans: Arc<Mutex<BTreeMap<u64, (String, Fields)>>>,
    events: Arc<Mutex<Vec<Fields>>>,
}

struct Collect<'a>(&'a mut Fields);

impl Visit for Collect<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut f = Fields::new();
        if attrs.metadata().target().starts_with("weir_sqs") {
            attrs.record(&mut Collect(&mut f));
        }
        self.spans
            .lock()
            .unwrap()
            .insert(id, (attrs.metadata().name().to_owned(), f));
        Id::from_u64(id)
    }
    fn record(&self, id: &Id, values: &Record<'_>) {
        if let Some((n, f)) = self.spans.lock().unwrap().get_mut(&id.into_u64())
            && n == "sqs"
        {
            values.record(&mut Collect(f));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if !event.metadata().target().starts_with("weir_sqs") {
            return;
        }
        let mut f = Fields::new();
        event.record(&mut Collect(&mut f));
        self.events.lock().unwrap().push(f);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

impl Capture {
    fn sqs_spans(&self) -> Vec<Fields> {
        self.spans
            .lock()
            .unwrap()
            .values()
            .filter(|(n, _)| n == "sqs")
            .map(|(_, f)| f.clone())
            .collect()
    }
    /// Everything weir-sqs recorded (other crates' spans and events are not ours to judge).
    fn everything(&self) -> String {
        format!(
            "{:?}{:?}",
            self.spans.lock().unwrap(),
            self.events.lock().unwrap()
        )
    }
}

const SECRET: &str = "secret-body-4711";

#[tokio::test(start_paused = true)]
async fn spans_carry_messaging_attributes_and_no_bodies() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let client = client().await;
    let name = unique("traced");
    create_queue(&client, &name).await;
    let q = Queue::open(&client, &name).await.unwrap();
    let producer: Producer<String> = Producer::new(q.clone());
    let out = producer.send(&SECRET.to_owned()).await.unwrap();
    let r = producer
        .send_batch(&[SECRET.to_owned(), SECRET.to_owned()])
        .await;
    assert!(r.iter().all(Result::is_ok));
    let consumer: Consumer<String> = Consumer::new(q);
    let got = consumer.receive(&ReceiveOptions::default()).await.unwrap();
    consumer.ack_batch(&got).await;

    let spans = capture.sqs_spans();
    let send = spans
        .iter()
        .find(|f| f.get("messaging.operation.name").map(String::as_str) == Some("SendMessage"))
        .expect("a SendMessage span");
    assert_eq!(send["messaging.system"], "aws_sqs");
    assert_eq!(send["messaging.destination.name"], name);
    assert_eq!(send["messaging.operation.type"], "send");
    assert_eq!(send["messaging.message.id"], out.message_id());
    let batch = spans
        .iter()
        .find(|f| f.get("messaging.operation.name").map(String::as_str) == Some("SendMessageBatch"))
        .expect("a SendMessageBatch span");
    assert_eq!(batch["messaging.batch.message_count"], "2");
    let recv = spans
        .iter()
        .find(|f| f.get("messaging.operation.name").map(String::as_str) == Some("ReceiveMessage"))
        .expect("a ReceiveMessage span");
    assert_eq!(recv["messaging.batch.message_count"], "3");
    assert!(
        spans
            .iter()
            .any(|f| f["messaging.operation.name"] == "DeleteMessageBatch")
    );
    let all = capture.everything();
    let at = all
        .find(SECRET)
        .map(|i| &all[i.saturating_sub(600)..(i + 100).min(all.len())]);
    assert!(at.is_none(), "a body was logged: {at:?}");
}

#[tokio::test(start_paused = true)]
async fn bodies_are_logged_when_opted_in() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let client = client().await;
    let name = unique("traced-bodies");
    create_queue(&client, &name).await;
    let q = Queue::open(&client, &name).await.unwrap();
    let producer: Producer<String> = Producer::builder(q).log_bodies(true).build().unwrap();
    producer.send(&SECRET.to_owned()).await.unwrap();
    assert!(capture.everything().contains(SECRET));
}
