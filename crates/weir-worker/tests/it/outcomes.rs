//! Each outcome path: ack, retry (policy and retry_after), reject and undecodable to
//! the DLQ, max attempts, no DLQ, a failing DLQ send, panics.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName as A;
use tokio::time::Instant;
use weir_worker::{
    DeadLetter, HandlerError, Message, RetryPolicy, Worker, dlq_attributes, handler_fn,
};

use crate::support::{Count, assert_accounted, attrs_of, run_until};

worker_test! {
async fn ok_messages_are_acked_in_batches(env) {
    let q = env.queue("acks", &[]).await;
    env.send(&q, (0..95).map(|i| format!("{i}"))).await;
    let seen = Count::default();
    let s = seen.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let s = s.clone();
            async move {
                s.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .concurrency(20)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(60), || seen.get() == 95).await;
    assert_eq!(report.received, 95);
    assert_eq!(report.acked, 95);
    assert_eq!(report.succeeded, 95);
    assert_eq!(report.possible_duplicates, 0);
    assert_accounted(&report);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
    // 95 deletes in batches of at most 10: at least 10 calls, far fewer than 95.
    assert!(report.sqs_requests < 95, "{report:?}");
}
}

worker_test! {
async fn retry_waits_for_the_policy_backoff(env) {
    let q = env.queue("retry", &[]).await;
    env.send(&q, ["1".to_owned()]).await;
    let times = Arc::new(Mutex::new(Vec::new()));
    let t = times.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u32>| {
            let t = t.clone();
            async move {
                t.lock().unwrap().push((Instant::now(), m.receive_count()));
                if m.receive_count() == 1 {
                    Err(HandlerError::retry("transient"))
                } else {
                    Ok(())
                }
            }
        }))
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(7)))
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(60), || {
        times.lock().unwrap().len() == 2
    })
    .await;
    let times = times.lock().unwrap().clone();
    assert_eq!(times[1].1, 2);
    let gap = times[1].0 - times[0].0;
    assert!(
        gap >= Duration::from_secs(7) && gap < Duration::from_secs(9),
        "{gap:?}"
    );
    assert_eq!(report.retried, 1);
    assert_eq!(report.acked, 1);
    assert_accounted(&report);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}

worker_test! {
async fn retry_after_and_plain_errors_are_honoured(env) {
    let q = env.queue("retry-after", &[]).await;
    env.send(&q, ["1".to_owned(), "2".to_owned()]).await;
    let times = Arc::new(Mutex::new(Vec::new()));
    let t = times.clone();
    let after = env.pick(120, 4);
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u32>| {
            let t = t.clone();
            async move {
                let n = *m.body().unwrap();
                t.lock().unwrap().push((n, Instant::now()));
                match (n, m.receive_count()) {
                    (1, 1) => {
                        Err(HandlerError::retry_after(Duration::from_secs(after), "busy").into())
                    }
                    // Any other error type is a retry with the policy's backoff.
                    (2, 1) => Err::<(), Box<dyn std::error::Error + Send + Sync>>("plain".into()),
                    _ => Ok(()),
                }
            }
        }))
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(1)))
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(300), || {
        times.lock().unwrap().len() == 4
    })
    .await;
    let times = times.lock().unwrap().clone();
    let first = |n: u32| times.iter().find(|(m, _)| *m == n).unwrap().1;
    let last = |n: u32| times.iter().rev().find(|(m, _)| *m == n).unwrap().1;
    let gap1 = last(1) - first(1);
    let gap2 = last(2) - first(2);
    let after = Duration::from_secs(after);
    assert!(gap1 >= after && gap1 < after + Duration::from_secs(2), "{gap1:?}");
    assert!(
        gap2 >= Duration::from_secs(1) && gap2 < after,
        "the policy's 1 s, not the other message's wait: {gap2:?}"
    );
    assert_eq!(report.retried, 2);
    assert_eq!(report.acked, 2);
    assert_accounted(&report);
}
}

worker_test! {
async fn reject_goes_to_the_dlq_with_its_reason_then_is_deleted(env) {
    let (q, dlq) = env.with_dlq("reject").await;
    env.send(&q, ["1".to_owned(), "2".to_owned()]).await;
    let calls = Count::default();
    let c = calls.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u32>| {
            let c = c.clone();
            async move {
                c.inc();
                if *m.body().unwrap() == 2 {
                    Err(HandlerError::reject("two is not allowed"))
                } else {
                    Ok(())
                }
            }
        }))
        .dead_letter(&dlq)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(60), || calls.get() == 2).await;
    assert_eq!(report.dead_lettered, 1);
    assert_eq!(
        report.acked, 2,
        "the rejected one is deleted after the DLQ send"
    );
    assert_accounted(&report);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
    let dead = env.drain(dlq.url()).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body(), Some("2"));
    let attrs = attrs_of(&dead[0]);
    assert_eq!(attrs[dlq_attributes::REASON], "rejected");
    assert_eq!(attrs[dlq_attributes::ERROR], "two is not allowed");
    assert_eq!(attrs[dlq_attributes::ATTEMPTS], "1");
    assert_eq!(attrs[dlq_attributes::SOURCE], q.arn().unwrap());
}
}

worker_test! {
async fn undecodable_bodies_go_to_the_dlq_without_calling_the_handler(env) {
    let (q, dlq) = env.with_dlq("poison").await;
    env.send(&q, ["not a number".to_owned(), "5".to_owned()])
        .await;
    let calls = Count::default();
    let c = calls.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let c = c.clone();
            async move {
                c.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .dead_letter(DeadLetter::new(dlq.url()))
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(60), || calls.get() == 1).await;
    let dead = env.drain(dlq.url()).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body(), Some("not a number"));
    assert_eq!(attrs_of(&dead[0])[dlq_attributes::REASON], "decode_failed");
    assert_eq!(calls.get(), 1, "the handler saw only the good message");
    assert_eq!(report.decode_failures, 1);
    assert_eq!(report.dead_lettered, 1);
    assert_accounted(&report);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}

worker_test! {
async fn max_attempts_dead_letters_with_the_count(env) {
    let (q, dlq) = env.with_dlq("exhaust").await;
    env.send(&q, ["9".to_owned()]).await;
    let calls = Count::default();
    let c = calls.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let c = c.clone();
            async move {
                c.inc();
                Err::<(), _>(HandlerError::retry("always"))
            }
        }))
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(1)))
        .max_attempts(3)
        .dead_letter(&dlq)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(60), || calls.get() == 3).await;
    let dead = env.drain(dlq.url()).await;
    assert_eq!(dead.len(), 1);
    let attrs = attrs_of(&dead[0]);
    assert_eq!(attrs[dlq_attributes::REASON], "max_attempts");
    assert_eq!(attrs[dlq_attributes::ATTEMPTS], "3");
    assert_eq!(attrs[dlq_attributes::ERROR], "always");
    assert_eq!(report.retried, 2);
    assert_eq!(report.dead_lettered, 1);
    assert_accounted(&report);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}

worker_test! {
async fn without_a_dlq_the_redrive_policy_is_the_safety_net(env) {
    let redrive_dlq = env.queue("net-dlq", &[]).await;
    let policy = format!(
        r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":"2"}}"#,
        redrive_dlq.arn().unwrap()
    );
    let q = env
        .queue("net", &[(A::RedrivePolicy, policy.as_str())])
        .await;
    env.send(&q, ["1".to_owned()]).await;
    let calls = Count::default();
    let c = calls.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let c = c.clone();
            async move {
                c.inc();
                Err::<(), _>(HandlerError::reject("never"))
            }
        }))
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(1)))
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(60), || calls.get() == 2).await;
    // Without a DLQ a reject is a retry; the queue's redrive moved it after 2 receives.
    assert_eq!(report.dead_lettered, 0);
    assert_eq!(report.retried, 2);
    assert_accounted(&report);
    tokio::time::sleep(Duration::from_secs(5)).await;
    // The third receive attempt (by a plain consumer) triggers the move.
    let _ = env.drain(q.url()).await;
    assert_eq!(env.drain(redrive_dlq.url()).await.len(), 1);
}
}

worker_test! {
async fn a_failing_dlq_send_leaves_the_message_in_the_queue(env) {
    let q = env.queue("dlq-down", &[]).await;
    let missing = format!("{}-missing", q.url());
    env.send(&q, ["1".to_owned()]).await;
    let calls = Count::default();
    let c = calls.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let c = c.clone();
            async move {
                c.inc();
                Err::<(), _>(HandlerError::reject("bad"))
            }
        }))
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(30)))
        .dead_letter(DeadLetter::new(missing))
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(60), || calls.get() == 1).await;
    assert_eq!(report.dead_lettered, 0);
    assert_eq!(report.acked, 0, "never deleted before the DLQ has it");
    assert_eq!(report.retried, 1);
    assert_accounted(&report);
    let (visible, invisible, _) = env.counts(q.url()).await;
    assert_eq!(visible + invisible, 1);
}
}

worker_test! {
async fn a_panicking_handler_is_retried_and_the_worker_goes_on(env) {
    let q = env.queue("panics", &[]).await;
    env.send(&q, (0..10).map(|i| i.to_string())).await;
    let ok = Count::default();
    let o = ok.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u32>| {
            let o = o.clone();
            async move {
                if m.body().unwrap().is_multiple_of(3) && m.receive_count() == 1 {
                    panic!("boom {}", m.body().unwrap());
                }
                o.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(2)))
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(60), || ok.get() == 10).await;
    assert_eq!(report.panics, 4);
    assert_eq!(report.retried, 4);
    assert_eq!(report.acked, 10);
    assert_accounted(&report);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}

worker_test! {
/// A rejected message near SQS's 1 MiB limit reaches the DLQ: the copy is made to fit
/// (never the body shortened), and says what was left out.
async fn a_rejected_message_near_one_mib_reaches_the_dlq(env) {
    let (q, dlq) = env.with_dlq("near-limit").await;
    // A JSON string, so that it decodes: 1 048 566 bytes in all.
    let body = format!("\"{}\"", "7".repeat(1_048_564));
    env.client
        .send_message()
        .queue_url(q.url())
        .message_body(&body)
        .send()
        .await
        .unwrap();
    let calls = Count::default();
    let c = calls.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<String>| {
            let c = c.clone();
            async move {
                c.inc();
                Err::<(), _>(HandlerError::reject("too many sevens"))
            }
        }))
        .max_attempts(3)
        .dead_letter(&dlq)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(30), || calls.get() >= 1).await;
    assert_eq!(calls.get(), 1, "handled once, not retried: {report:?}");
    assert_eq!(report.dead_lettered, 1, "{report:?}");
    assert_eq!(report.retried, 0);
    let dead = env.drain(dlq.url()).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body().map(str::len), Some(body.len()), "the body is whole");
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}

worker_test! {
/// An undecodable message near the limit, with attributes of its own, reaches the DLQ
/// whole: the original attributes make way for the `weir.dlq.*` ones, and the copy says
/// they were dropped.
async fn an_undecodable_message_near_one_mib_reaches_the_dlq_whole(env) {
    let (q, dlq) = env.with_dlq("near-limit-undecodable").await;
    let body = "x".repeat(1_048_000);
    env.client
        .send_message()
        .queue_url(q.url())
        .message_body(&body)
        .message_attributes(
            "origin",
            aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value("o".repeat(500))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(|_m: Message<u32>| async { Ok::<_, HandlerError>(()) }))
        .dead_letter(&dlq)
        .build()
        .unwrap();
    let (handle, run) = crate::support::spawn(worker);
    let start = tokio::time::Instant::now();
    while env.counts(dlq.url()).await.0 == 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "not dead-lettered: {:?}", handle.health());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.shutdown();
    let report = run.await.unwrap();
    let dead = env.drain(dlq.url()).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(report.dead_lettered, 1, "{report:?}");
    assert_eq!(dead[0].body().map(str::len), Some(body.len()), "the body is whole");
    let attrs = dead[0].message_attributes().cloned().unwrap_or_default();
    assert!(!attrs.contains_key("origin"), "the original attribute made way");
    let dropped = attrs.get("weir.dlq.dropped").and_then(|v| v.string_value()).unwrap_or("");
    assert!(dropped.contains("origin"), "the copy says what it left out: {dropped:?}");
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}
