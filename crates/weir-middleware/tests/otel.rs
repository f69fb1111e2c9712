//! With the `otel` feature a trace continues across the queue: the spans are exported
//! in memory, and the consumer's `process` span is a child of the span that sent the
//! message.

#![cfg(feature = "otel")]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use opentelemetry::trace::{SpanKind, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tower::{Service, ServiceBuilder, ServiceExt};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use weir_middleware::trace::MessageMeta;
use weir_middleware::{BoxError, TraceLayer};
use weir_sqs::{Consumer, Producer, QueueSpec, ReceiveOptions};

struct Traced {
    exporter: InMemorySpanExporter,
    provider: SdkTracerProvider,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Traced {
    fn install() -> Self {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("weir-test"));
        let subscriber = tracing_subscriber::registry().with(layer);
        let guard = tracing::subscriber::set_default(subscriber);
        Self {
            exporter,
            provider,
            _guard: guard,
        }
    }

    fn spans(&self) -> Vec<SpanData> {
        self.provider.force_flush().unwrap();
        self.exporter.get_finished_spans().unwrap()
    }
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| {
        panic!(
            "no span {name} in {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    })
}

async fn process<M: MessageMeta>(msg: M) {
    let mut svc = ServiceBuilder::new()
        .layer(TraceLayer::new())
        .service_fn(|_m: M| async { Ok::<_, BoxError>(()) });
    svc.ready().await.unwrap().call(msg).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn producer_and_consumer_share_one_trace() {
    let traced = Traced::install();
    let client = weir_local::LocalSqs::new().client();
    let queue = QueueSpec::standard("orders")
        .ensure(&client)
        .await
        .unwrap()
        .queue;
    let producer = Producer::<u64>::builder(queue.clone())
        .traceparent(weir_middleware::otel::traceparent)
        .build()
        .unwrap();
    async { producer.send(&7).await.unwrap() }
        .instrument(tracing::info_span!("checkout"))
        .await;

    let received = Consumer::<u64>::new(queue)
        .receive(&ReceiveOptions::default())
        .await
        .unwrap();
    assert!(
        received[0].traceparent().is_some(),
        "the producer sent its context"
    );
    process(received.into_iter().next().unwrap()).await;

    let spans = traced.spans();
    let checkout = named(&spans, "checkout");
    let processed = named(&spans, "process orders");
    let trace = checkout.span_context.trace_id();
    assert_eq!(
        processed.span_context.trace_id(),
        trace,
        "one trace across the queue"
    );
    assert_eq!(processed.span_kind, SpanKind::Consumer);
    // The producer sends the context of the span it is called in.
    assert_eq!(processed.parent_span_id, checkout.span_context.span_id());
    assert!(processed.parent_span_is_remote);
    let send = named(&spans, "send orders");
    assert_eq!(
        send.span_context.trace_id(),
        trace,
        "the send is in the same trace"
    );
    assert_eq!(send.span_kind, SpanKind::Producer);
}

struct FromSns(&'static str);

impl MessageMeta for FromSns {
    fn message_id(&self) -> Option<&str> {
        Some("m-1")
    }
    fn queue_name(&self) -> Option<&str> {
        Some("orders")
    }
    fn aws_trace_header(&self) -> Option<&str> {
        Some(self.0)
    }
}

#[tokio::test(start_paused = true)]
async fn an_xray_header_alone_parents_the_span() {
    let traced = Traced::install();
    process(FromSns(
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    ))
    .await;
    let spans = traced.spans();
    let processed = named(&spans, "process orders");
    assert_eq!(
        processed.span_context.trace_id().to_string(),
        "5759e988bd862e3fe1be46a994272793"
    );
    assert_eq!(processed.parent_span_id.to_string(), "53995c3f42cd8ad8");
    assert!(processed.parent_span_is_remote);
}

#[tokio::test(start_paused = true)]
async fn a_malformed_header_starts_a_new_trace() {
    let traced = Traced::install();
    process(FromSns("Root=garbage")).await;
    let spans = traced.spans();
    let processed = named(&spans, "process orders");
    assert!(!processed.parent_span_is_remote);
    assert_eq!(
        processed.parent_span_id,
        opentelemetry::trace::SpanId::INVALID
    );
}
