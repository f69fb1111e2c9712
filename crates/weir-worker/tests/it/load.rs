//! A long run of 100 000 messages: every message acked exactly once, at about 0.2 SQS
//! requests per message. `WEIR_LOAD_N` changes the size for a quicker local loop.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir_worker::{HandlerError, Message, Worker, handler_fn};

use crate::support::{assert_accounted, run_until};

/// 100 000 by default, the size the worker issue asks for (about 30–60 s in a debug
/// build on 2 cores); `WEIR_LOAD_N` overrides it.
fn n() -> usize {
    std::env::var("WEIR_LOAD_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

worker_test! {
async fn a_long_run_acks_each_message_exactly_once(env) {
    let n = n();
    let q = env.queue("load", &[]).await;
    env.send(&q, (0..n).map(|i| i.to_string())).await;
    let seen = Arc::new(Mutex::new((HashSet::with_capacity(n), 0usize)));
    let s = seen.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u64>| {
            let s = s.clone();
            async move {
                let mut seen = s.lock().unwrap();
                if !seen.0.insert(*m.body().unwrap()) {
                    seen.1 += 1;
                }
                Ok::<_, HandlerError>(())
            }
        }))
        .concurrency(200)
        .pollers(16)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(3600), || {
        seen.lock().unwrap().0.len() == n
    })
    .await;
    let dups = seen.lock().unwrap().1;
    assert_eq!(dups, 0, "duplicates handled: {report:?}");
    assert_eq!(report.acked, n as u64);
    assert_eq!(report.possible_duplicates, 0);
    assert_accounted(&report);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
    // Requests per message: receives of 10 plus deletes of 10 is 0.2.
    let per_message = report.sqs_requests as f64 / n as f64;
    assert!(
        per_message <= 0.21,
        "{per_message} requests per message: {report:?}"
    );
}
}
