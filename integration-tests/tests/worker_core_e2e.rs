//! The worker core's scenarios on LocalStack, on a 4-thread runtime in real time: a
//! near-1 MiB message reaches the DLQ whole, weir-middleware's recommended stack and a
//! permit-reserving layer compose around a handler with several pollers, and FIFO order
//! holds with undecodable messages in a group.

#![cfg(feature = "localstack")]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tower::limit::ConcurrencyLimitLayer;
use weir_integration_tests::queues::{FIFO, create_queue, drain, send, send_grouped};
use weir_integration_tests::worker_kit::{
    Attempts, assert_accounted, in_process_retries, run_until, transient_or_rejected,
};
use weir_integration_tests::{localstack_client, unique_name};
use weir_middleware::{RateLimitLayer, RateLimiter, TimeoutLayer, TraceLayer};
use weir_worker::{HandlerError, Message, Worker, dlq_attributes, handler_fn};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rejected_message_near_the_size_limit_reaches_the_dlq_whole() {
    let client = localstack_client().await;
    let q = create_queue(&client, &unique_name("wk-core-big"), &[]).await;
    let dlq = create_queue(&client, &unique_name("wk-core-big-dlq"), &[]).await;
    // Near the queue's limit, whatever LocalStack's is (256 KiB or 1 MiB), with room
    // left for the weir.dlq.* attributes (closer to it, they are dropped: see weir-worker's
    // tests).
    let limit = q.attributes().max_message_size();
    let body = format!("\"{}\"", "7".repeat(limit - 1024));
    client
        .send_message()
        .queue_url(q.url())
        .message_body(&body)
        .send()
        .await
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<String>| {
            c.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(HandlerError::reject("too many sevens")) }
        }))
        .max_attempts(3)
        .wait_time(Duration::from_secs(1))
        .dead_letter(&dlq)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(60), || {
        calls.load(Ordering::SeqCst) >= 1
    })
    .await;
    assert_eq!(report.dead_lettered, 1, "{report:?}");
    assert_eq!(report.retried, 0);
    let dead = drain(&client, dlq.url(), Duration::from_secs(1)).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].body().map(str::len),
        Some(body.len()),
        "the body is whole"
    );
    let attrs = dead[0].message_attributes.clone().unwrap_or_default();
    assert_eq!(
        attrs[dlq_attributes::REASON].string_value.as_deref(),
        Some("rejected")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_recommended_stack_and_a_rate_limit_layer_compose_with_eight_pollers() {
    let client = localstack_client().await;
    let q = create_queue(&client, &unique_name("wk-core-stack"), &[]).await;
    let dlq = create_queue(&client, &unique_name("wk-core-stack-dlq"), &[]).await;
    send(&client, q.url(), (0..200).map(|i| i.to_string())).await;
    let calls = Attempts::default();
    let c = calls.clone();
    let worker = Worker::builder(q.clone())
        .layer(TraceLayer::new())
        .layer(TimeoutLayer::new("handler", Duration::from_secs(25)))
        .layer(in_process_retries())
        .layer(RateLimitLayer::new(RateLimiter::new(500.0, 5).unwrap()))
        .layer(ConcurrencyLimitLayer::new(16))
        .handler(handler_fn(move |m: Message<u32>| {
            let result = transient_or_rejected(&c, *m.body().unwrap());
            async move { result }
        }))
        .concurrency(80)
        .pollers(8)
        .wait_time(Duration::from_secs(1))
        .dead_letter(&dlq)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(60), || {
        let calls = calls.lock().unwrap();
        calls.len() == 200
            && calls
                .iter()
                .filter(|(n, _)| *n % 4 == 0)
                .all(|(_, a)| *a == 3)
    })
    .await;
    assert_eq!(report.panics, 0, "no permit spent twice: {report:?}");
    assert_eq!(report.received, 200, "retried in process: {report:?}");
    assert_eq!(report.dead_lettered, 50);
    assert_eq!(report.acked, 200);
    assert_accounted(&report);
    assert_eq!(
        drain(&client, dlq.url(), Duration::from_secs(1))
            .await
            .len(),
        50
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifo_order_holds_with_undecodable_messages() {
    let client = localstack_client().await;
    let q = create_queue(&client, &unique_name("wk-core-fifo.fifo"), FIFO).await;
    let dlq = create_queue(&client, &unique_name("wk-core-fifo-dlq.fifo"), FIFO).await;
    let mut items = Vec::new();
    for i in 0..6 {
        for g in ["a", "b", "c"] {
            // Every third message of a group is not a number.
            let body = if i % 3 == 1 {
                format!("not-a-number-{i}")
            } else {
                i.to_string()
            };
            items.push((body, Some(g.to_owned())));
        }
    }
    send_grouped(&client, q.url(), items).await;
    let log = Arc::new(Mutex::new(HashMap::<String, Vec<u32>>::new()));
    let l = log.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u32>| {
            let l = l.clone();
            async move {
                let g = m.group_id().unwrap().to_owned();
                l.lock()
                    .unwrap()
                    .entry(g)
                    .or_default()
                    .push(*m.body().unwrap());
                Ok::<_, HandlerError>(())
            }
        }))
        .wait_time(Duration::from_secs(1))
        .concurrency(20)
        .dead_letter(&dlq)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(60), || {
        log.lock().unwrap().values().map(Vec::len).sum::<usize>() == 12
    })
    .await;
    for g in ["a", "b", "c"] {
        assert_eq!(log.lock().unwrap()[g], vec![0, 2, 3, 5], "group {g}");
    }
    assert_eq!(report.decode_failures, 6, "{report:?}");
    assert_eq!(report.dead_lettered, 6);
    assert_eq!(
        drain(&client, dlq.url(), Duration::from_secs(1))
            .await
            .len(),
        6
    );
}
