//! `weir_sqs::Message<T>` received from the in-process SQS carries its trace context into
//! the TraceLayer's span.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_sqs::types::MessageAttributeValue;
use tower::{ServiceBuilder, ServiceExt};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use weir_middleware::{BoxError, MessageMeta, TraceLayer};
use weir_sqs::{Consumer, Queue, RawString, ReceiveOptions};

type Fields = Arc<Mutex<HashMap<String, String>>>;

struct Capture(Fields);

struct Visitor<'a>(&'a mut HashMap<String, String>);

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        if attrs.metadata().name() == "process" {
            attrs.record(&mut Visitor(&mut self.0.lock().unwrap()));
        }
    }
    fn on_record(&self, _: &Id, values: &Record<'_>, _: Context<'_, S>) {
        values.record(&mut Visitor(&mut self.0.lock().unwrap()));
    }
}

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tokio::test(start_paused = true)]
async fn a_received_message_is_traced_with_its_traceparent() {
    let sqs = weir_local::LocalSqs::new();
    let client = sqs.client();
    let url = client
        .create_queue()
        .queue_name("trace-me")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    client
        .send_message()
        .queue_url(&url)
        .message_body("hello")
        .message_attributes(
            "traceparent",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(TRACEPARENT)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let queue = Queue::open(&client, &url).await.unwrap();
    let consumer: Consumer<String, RawString> = Consumer::with_codec(queue.clone(), RawString);
    let mut messages = consumer.receive(&ReceiveOptions::default()).await.unwrap();
    let message = messages.pop().unwrap();
    assert_eq!(MessageMeta::traceparent(&message), Some(TRACEPARENT));

    let fields = Fields::default();
    let subscriber = tracing_subscriber::registry().with(Capture(Arc::clone(&fields)));
    let _guard = tracing::subscriber::set_default(subscriber);
    let handler = ServiceBuilder::new()
        .layer(TraceLayer::new().with_queue_name(queue.name().to_owned()))
        .service_fn(|m: weir_sqs::Message<String>| async move {
            assert_eq!(m.body().unwrap(), "hello");
            Ok::<(), BoxError>(())
        });
    let id = message.message_id().to_owned();
    handler.oneshot(message).await.unwrap();

    let f = fields.lock().unwrap();
    assert_eq!(f["messaging.destination.name"], "trace-me");
    assert_eq!(f["messaging.message.id"], id);
    assert_eq!(f["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(f["parent_span_id"], "00f067aa0ba902b7");
    assert_eq!(f["outcome"], "ok");
}
