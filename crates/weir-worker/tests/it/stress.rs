//! 50 000 messages through a layered handler on four threads, against the in-process SQS
//! with network-shaped latency: every message ends with exactly one final outcome.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use tower::limit::ConcurrencyLimitLayer;
use weir_middleware::{RetryLayer, TimeoutLayer, TraceLayer};
use weir_worker::{HandlerError, Message, RetryPolicy, Worker, handler_fn};

use crate::support::{Env, assert_accounted, run_until};

const MESSAGES: usize = 50_000;

/// What message `i` does: by `i % 10`.
async fn handle(
    i: usize,
    delivery: u32,
    tries: &AtomicU8,
    done: &AtomicU8,
) -> Result<(), HandlerError> {
    let attempt = tries.fetch_add(1, Ordering::Relaxed) + 1;
    match i % 10 {
        // Synchronous work, no await.
        0..=2 => {
            let mut x = i as u64;
            for _ in 0..2_000 {
                x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
            }
        }
        3 | 4 => tokio::time::sleep(Duration::from_millis(1)).await,
        // Fails once: the retry layer tries again in process.
        5 if attempt == 1 => return Err(HandlerError::retry("transient")),
        6 => return Err(HandlerError::reject("never valid")),
        7 if delivery == 1 => panic!("panics on its first delivery"),
        // Fails every in-process attempt of its first delivery: retried by SQS.
        8 if delivery == 1 => return Err(HandlerError::retry("down for a while")),
        _ => {}
    }
    done.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

async fn send_all(env: &Env, q: &weir_sqs::Queue) {
    let mut senders = tokio::task::JoinSet::new();
    for part in 0..16 {
        let env_client = env.client.clone();
        let url = q.url().to_owned();
        senders.spawn(async move {
            let mine: Vec<usize> = (0..MESSAGES).filter(|i| i % 16 == part).collect();
            for chunk in mine.chunks(10) {
                let entries = chunk.iter().map(|i| {
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .message_body(i.to_string())
                        .build()
                        .unwrap()
                });
                let out = env_client
                    .send_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(entries.collect()))
                    .send()
                    .await
                    .unwrap();
                assert!(out.failed.is_empty());
            }
        });
    }
    while let Some(r) = senders.join_next().await {
        r.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_thousand_messages_through_a_layered_handler() {
    let env = Env::threaded();
    let (q, dlq) = env.with_dlq("stress").await;
    send_all(&env, &q).await;
    let tries: Arc<Vec<AtomicU8>> = Arc::new((0..MESSAGES).map(|_| AtomicU8::new(0)).collect());
    let done: Arc<Vec<AtomicU8>> = Arc::new((0..MESSAGES).map(|_| AtomicU8::new(0)).collect());
    let (t, d) = (tries.clone(), done.clone());
    let retry = weir_middleware::InPlaceRetry::builder()
        .max_attempts(2)
        .min_delay(Duration::from_millis(1))
        .build()
        .unwrap();
    let worker = Worker::builder(q.clone())
        .layer(TraceLayer::new())
        .layer(TimeoutLayer::new("handler", Duration::from_secs(30)))
        .layer(RetryLayer::new(retry))
        .layer(ConcurrencyLimitLayer::new(64))
        .handler(handler_fn(move |m: Message<usize>| {
            let (t, d) = (t.clone(), d.clone());
            async move {
                let i = *m.body().unwrap();
                handle(i, m.receive_count(), &t[i], &d[i]).await
            }
        }))
        .concurrency(200)
        .pollers(8)
        .retry_policy(RetryPolicy::fixed(Duration::ZERO))
        .max_attempts(5)
        .dead_letter(&dlq)
        .build()
        .unwrap();
    let expected_ok = MESSAGES - MESSAGES / 10;
    let report = run_until(worker, Duration::from_secs(300), || {
        done.iter()
            .map(|d| usize::from(d.load(Ordering::Relaxed)))
            .sum::<usize>()
            == expected_ok
    })
    .await;

    let tenth = (MESSAGES / 10) as u64;
    for (i, d) in done.iter().enumerate() {
        let want = u8::from(i % 10 != 6);
        assert_eq!(
            d.load(Ordering::Relaxed),
            want,
            "message {i} succeeded {d:?} times"
        );
    }
    assert_eq!(report.received, MESSAGES as u64 + 2 * tenth, "{report:?}");
    assert_eq!(report.succeeded, expected_ok as u64);
    assert_eq!(report.acked, MESSAGES as u64);
    assert_eq!(report.dead_lettered, tenth);
    assert_eq!(report.panics, tenth, "only the planned panics");
    assert_eq!(report.retried, 2 * tenth);
    assert_accounted(&report);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
    assert_eq!(env.counts(dlq.url()).await.0, tenth);
}
