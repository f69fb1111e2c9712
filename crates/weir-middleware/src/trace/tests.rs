use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tower::{ServiceBuilder, ServiceExt};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};

use super::{MessageMeta, TraceLayer};
use crate::BoxError;

type Fields = Arc<Mutex<HashMap<u64, HashMap<String, String>>>>;

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
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut all = self.0.lock().unwrap();
        let fields = all.entry(id.into_u64()).or_default();
        fields.insert("name".to_owned(), attrs.metadata().name().to_owned());
        attrs.record(&mut Visitor(fields));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut all = self.0.lock().unwrap();
        values.record(&mut Visitor(all.entry(id.into_u64()).or_default()));
    }
}

struct Msg {
    fail: bool,
    traceparent: Option<&'static str>,
    xray: Option<&'static str>,
}

impl MessageMeta for Msg {
    fn message_id(&self) -> Option<&str> {
        Some("5fea7756-0ea4-451a-a703-a558b933e274")
    }
    fn queue_name(&self) -> Option<&str> {
        Some("orders")
    }
    fn traceparent(&self) -> Option<&str> {
        self.traceparent
    }
    fn aws_trace_header(&self) -> Option<&str> {
        self.xray
    }
}

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const XRAY: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

async fn run(msg: Msg) -> HashMap<String, String> {
    let fields = Fields::default();
    let subscriber = tracing_subscriber::registry().with(Capture(Arc::clone(&fields)));
    let _guard = tracing::subscriber::set_default(subscriber);
    let svc = ServiceBuilder::new()
        .layer(TraceLayer::new())
        .service_fn(|m: Msg| async move {
            if m.fail {
                Err::<(), BoxError>(
                    crate::timeout::Elapsed::new("handler", std::time::Duration::from_secs(1))
                        .into(),
                )
            } else {
                Ok(())
            }
        });
    let _ = svc.oneshot(msg).await;
    let all = fields.lock().unwrap();
    assert_eq!(all.len(), 1, "one span per message");
    all.values().next().unwrap().clone()
}

#[tokio::test]
async fn a_span_per_message_with_messaging_attributes_and_outcome() {
    let f = run(Msg {
        fail: false,
        traceparent: Some(TRACEPARENT),
        xray: Some(XRAY),
    })
    .await;
    assert_eq!(f["name"], "process");
    assert_eq!(f["otel.name"], "process orders");
    assert_eq!(f["messaging.system"], "aws_sqs");
    assert_eq!(f["messaging.destination.name"], "orders");
    assert_eq!(
        f["messaging.message.id"],
        "5fea7756-0ea4-451a-a703-a558b933e274"
    );
    assert_eq!(f["messaging.operation.name"], "process");
    assert_eq!(f["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(f["parent_span_id"], "00f067aa0ba902b7");
    assert_eq!(f["parent.source"], "traceparent");
    assert_eq!(f["link.trace_id"], "5759e988bd862e3fe1be46a994272793");
    assert_eq!(f["link.span_id"], "53995c3f42cd8ad8");
    assert_eq!(f["outcome"], "ok");
    assert_eq!(f["otel.status_code"], "OK");
}

#[tokio::test]
async fn aws_trace_header_is_the_parent_without_traceparent_and_errors_are_named() {
    let f = run(Msg {
        fail: true,
        traceparent: Some("not-a-traceparent"),
        xray: Some(XRAY),
    })
    .await;
    assert_eq!(f["trace_id"], "5759e988bd862e3fe1be46a994272793");
    assert_eq!(f["parent_span_id"], "53995c3f42cd8ad8");
    assert_eq!(f["parent.source"], "aws_trace_header");
    assert!(!f.contains_key("link.trace_id"));
    assert_eq!(f["outcome"], "error");
    assert_eq!(f["error.type"], "timeout");
    assert_eq!(f["otel.status_code"], "ERROR");
}
