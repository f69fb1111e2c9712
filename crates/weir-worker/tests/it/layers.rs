//! Tower, the way the card means it: weir's and tower's layers compose around a worker
//! handler, the one classification decides what a failure means, the message's token
//! reaches layers and spawned tasks, and permit-reserving layers hold with many pollers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tower::limit::ConcurrencyLimitLayer;
use weir_middleware::{RateLimitLayer, RateLimiter, TimeoutLayer, TraceLayer};
use weir_worker::{HandlerError, Message, Worker, dlq_attributes, handler_fn};

use crate::support::{
    Attempts, Count, assert_accounted, attrs_of, eventually, in_process_retries, run_until, spawn,
    transient_or_rejected,
};

worker_test! {
/// The stack weir-middleware's docs recommend, around a worker handler: transient
/// failures are retried in process (the message is received once), a reject is never
/// retried and goes to the DLQ, and the trace, timeout and concurrency layers pass.
async fn the_recommended_stack_composes_around_a_handler(env) {
    let (q, dlq) = env.with_dlq("stack").await;
    env.send(&q, (0..20).map(|i| i.to_string())).await;
    let calls = Attempts::default();
    let c = calls.clone();
    let worker = Worker::builder(q.clone())
        .layer(TraceLayer::new())
        .layer(TimeoutLayer::new("handler", Duration::from_secs(25)))
        .layer(in_process_retries())
        .layer(ConcurrencyLimitLayer::new(4))
        .handler(handler_fn(move |m: Message<u32>| {
            let result = transient_or_rejected(&c, *m.body().unwrap());
            async move { result }
        }))
        .dead_letter(&dlq)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(60), || {
        let calls = calls.lock().unwrap();
        calls.len() == 20 && calls.iter().filter(|(n, _)| *n % 4 == 0).all(|(_, a)| *a == 3)
    })
    .await;
    let calls = calls.lock().unwrap().clone();
    assert!(calls.iter().filter(|(n, _)| *n % 4 == 1).all(|(_, a)| *a == 1), "a reject is tried once: {calls:?}");
    assert_eq!(report.received, 20, "retried in process, not redelivered: {report:?}");
    assert_eq!(report.dead_lettered, 5);
    assert_eq!(report.acked, 20);
    assert_eq!(report.retried, 0);
    assert_accounted(&report);
    let dead = env.drain(dlq.url()).await;
    assert_eq!(dead.len(), 5);
    assert_eq!(attrs_of(&dead[0])[dlq_attributes::REASON], "rejected");
}
}

worker_test! {
/// A non-retryable `weir_sqs::Error` returned with `?` from a handler (a producer's
/// `PayloadTooLarge`) is a reject: dead-lettered at once, not retried up to
/// `max_attempts`.
async fn a_non_retryable_sqs_error_in_a_handler_is_a_reject(env) {
    let dlq = env.queue("too-big-dlq", &[]).await;
    let out = env.queue("too-big-out", &[]).await;
    let q = env.queue("too-big", &[]).await;
    env.send(&q, ["1".to_owned()]).await;
    let producer: weir_sqs::Producer<String> = weir_sqs::Producer::new(out);
    let calls = Count::default();
    let c = calls.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let (producer, c) = (producer.clone(), c.clone());
            async move {
                c.inc();
                producer.send(&"x".repeat(2_000_000)).await?;
                Ok::<_, weir_sqs::Error>(())
            }
        }))
        .max_attempts(5)
        .dead_letter(&dlq)
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    assert!(eventually(Duration::from_secs(30), || async { calls.get() == 1 }).await);
    assert!(eventually(Duration::from_secs(30), || async { handle.health().in_flight == 0 }).await);
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!((report.received, report.retried, report.dead_lettered), (1, 0, 1), "{report:?}");
    let dead = env.drain(dlq.url()).await;
    assert!(attrs_of(&dead[0])[dlq_attributes::ERROR].contains("1048576"), "names the limit");
}
}

worker_test! {
/// The message's token travels with the request: a timeout layer fires it, and the
/// task the handler spawned with it stops; the message is retried.
async fn a_timeout_layer_cancels_the_messages_token(env) {
    let q = env.queue("timeout-token", &[]).await;
    env.send(&q, ["1".to_owned()]).await;
    let stopped = Count::default();
    let s = stopped.clone();
    let worker = Worker::builder(q.clone())
        .layer(TimeoutLayer::new("handler", Duration::from_millis(300)))
        .handler(handler_fn(move |m: Message<u32>| {
            let s = s.clone();
            async move {
                if m.receive_count() > 1 {
                    return Ok(());
                }
                let token = m.cancellation().clone();
                let work = tokio::spawn(async move {
                    token.cancelled().await;
                    s.inc();
                });
                tokio::time::sleep(Duration::from_secs(3600)).await;
                drop(work);
                Ok::<_, HandlerError>(())
            }
        }))
        .retry_policy(weir_worker::RetryPolicy::fixed(Duration::from_secs(1)))
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(30), || stopped.get() == 1).await;
    assert_eq!(stopped.get(), 1, "the spawned task saw the timeout");
    assert_eq!(report.retried, 1, "{report:?}");
}
}

/// A handler that is not `Clone`: it goes behind `BufferLayer`.
struct Unique(Count);

impl tower::Service<Message<u32>> for Unique {
    type Response = ();
    type Error = HandlerError;
    type Future = std::future::Ready<Result<(), HandlerError>>;
    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), HandlerError>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn call(&mut self, _: Message<u32>) -> Self::Future {
        self.0.inc();
        std::future::ready(Ok(()))
    }
}

worker_test! {
/// Tower's `Buffer` (for a handler that is not `Clone`) and `LoadShed` compose too.
async fn buffer_and_load_shed_compose(env) {
    let q = env.queue("buffered", &[]).await;
    env.send(&q, (0..30).map(|i| i.to_string())).await;
    let done = Count::default();
    let worker = Worker::builder(q.clone())
        .layer(tower::buffer::BufferLayer::new(64))
        .layer(tower::load_shed::LoadShedLayer::new())
        .handler(Unique(done.clone()))
        .concurrency(20)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(30), || done.get() == 30).await;
    assert_eq!(report.acked, 30, "{report:?}");
    assert_eq!(report.panics, 0);
}
}

worker_test! {
/// Permit-reserving layers with several pollers: each poller owns its clone, so the
/// readiness a `ConcurrencyLimit` and a rate limit granted is spent by that clone's
/// call. No call panics ("poll_ready must be called first"), no permit is spent twice.
async fn permit_reserving_layers_hold_with_many_pollers(env) {
    let q = env.queue("permits", &[]).await;
    env.send(&q, (0..300).map(|i| i.to_string())).await;
    let (running, peak, done) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)), Count::default());
    let (r, p, d) = (running.clone(), peak.clone(), done.clone());
    let limiter = RateLimiter::new(5_000.0, 50).unwrap();
    let worker = Worker::builder(q.clone())
        .layer(RateLimitLayer::new(limiter))
        .layer(ConcurrencyLimitLayer::new(3))
        .handler(handler_fn(move |_m: Message<u32>| {
            let (r, p, d) = (r.clone(), p.clone(), d.clone());
            async move {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                r.fetch_sub(1, Ordering::SeqCst);
                d.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .concurrency(80)
        .pollers(8)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(120), || done.get() == 300).await;
    assert_eq!(report.panics, 0, "{report:?}");
    assert_eq!(peak.load(Ordering::SeqCst), 3, "the limit held and was used");
    assert_eq!(report.acked, 300);
    assert_accounted(&report);
}
}
