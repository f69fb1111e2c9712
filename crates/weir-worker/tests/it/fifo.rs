//! FIFO queues: order per group under failures, groups in parallel, released rest of a
//! failed group, acks not delayed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir_worker::{AckBatching, HandlerError, Message, RetryPolicy, Worker, handler_fn};

use crate::support::{assert_accounted, run_until};

#[derive(Default)]
struct Log {
    /// Per group: the sequence numbers that succeeded, in order.
    done: HashMap<String, Vec<u32>>,
    busy: HashSet<String>,
    overlaps: usize,
    parallel_peak: usize,
}

worker_test! {
async fn order_holds_per_group_under_failures_with_many_groups(env) {
    let q = env.fifo("orders.fifo").await;
    const GROUPS: u32 = 25;
    const PER_GROUP: u32 = 16;
    let mut items = Vec::new();
    for seq in 0..PER_GROUP {
        for g in 0..GROUPS {
            items.push((format!("{seq}"), Some(format!("g{g}"))));
        }
    }
    env.send_grouped(&q, items).await;
    let log = Arc::new(Mutex::new(Log::default()));
    let l = log.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u32>| {
            let l = l.clone();
            async move {
                let group = m.group_id().unwrap().to_owned();
                let seq = *m.body().unwrap();
                {
                    let mut log = l.lock().unwrap();
                    if !log.busy.insert(group.clone()) {
                        log.overlaps += 1;
                    }
                    log.parallel_peak = log.parallel_peak.max(log.busy.len());
                }
                tokio::time::sleep(Duration::from_millis(u64::from(seq % 4) * 10)).await;
                // Deterministic failures: about one in four first attempts fails.
                let fail = m.receive_count() == 1
                    && (seq * 7 + group.len() as u32 * 3 + seq / 3).is_multiple_of(4);
                let mut log = l.lock().unwrap();
                log.busy.remove(&group);
                if fail {
                    return Err(HandlerError::retry("flaky"));
                }
                log.done.entry(group).or_default().push(seq);
                Ok(())
            }
        }))
        .concurrency(40)
        .pollers(4)
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(1)))
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(600), || {
        log.lock()
            .unwrap()
            .done
            .values()
            .map(Vec::len)
            .sum::<usize>()
            == (GROUPS * PER_GROUP) as usize
    })
    .await;
    {
        let log = log.lock().unwrap();
        assert_eq!(log.overlaps, 0, "a group never runs two messages at once");
        assert!(log.parallel_peak > 1, "groups run in parallel");
        for (g, seqs) in &log.done {
            assert_eq!(
                *seqs,
                (0..PER_GROUP).collect::<Vec<_>>(),
                "group {g} out of order"
            );
        }
    }
    assert!(report.retried > 0);
    assert_eq!(report.acked, u64::from(GROUPS * PER_GROUP));
    assert_accounted(&report);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}

worker_test! {
async fn a_failure_releases_the_rest_of_its_group(env) {
    let q = env.fifo("release.fifo").await;
    env.send_grouped(&q, (0..5).map(|i| (i.to_string(), Some("g".to_owned()))))
        .await;
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = order.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u32>| {
            let o = o.clone();
            async move {
                let seq = *m.body().unwrap();
                if seq == 1 && m.receive_count() == 1 {
                    return Err(HandlerError::retry("first try of 1 fails"));
                }
                o.lock().unwrap().push(seq);
                Ok(())
            }
        }))
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(2)))
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(120), || {
        order.lock().unwrap().len() == 5
    })
    .await;
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    assert_eq!(report.released_on_failure, 3, "2, 3 and 4 were given back");
    assert_eq!(report.retried, 1);
    assert_accounted(&report);
}
}

worker_test! {
async fn fifo_acks_are_not_delayed(env) {
    let q = env.fifo("fast.fifo").await;
    // 30 messages of one group: the next batch of a group is only delivered after the
    // previous messages are deleted.
    env.send_grouped(&q, (0..30).map(|i| (i.to_string(), Some("one".to_owned()))))
        .await;
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = order.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u32>| {
            let o = o.clone();
            async move {
                o.lock().unwrap().push(*m.body().unwrap());
                Ok::<_, HandlerError>(())
            }
        }))
        .ack_batching(AckBatching::new().interval(Duration::from_secs(5)))
        .wait_time(Duration::from_secs(1))
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let report = run_until(worker, Duration::from_secs(120), || {
        order.lock().unwrap().len() == 30
    })
    .await;
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(*order.lock().unwrap(), (0..30).collect::<Vec<_>>());
    assert_eq!(report.acked, 30);
}
}

worker_test! {
async fn a_lost_receive_response_is_recovered_by_its_attempt_id(env) {
    use weir_local::{FaultAction, FaultRule};
    let q = env.fifo("lost.fifo").await;
    env.send_grouped(&q, (0..10).map(|i| (i.to_string(), Some("g".to_owned()))))
        .await;
    // The first receive takes effect but its response is lost: without the same
    // ReceiveRequestAttemptId on the retry, those messages would stay invisible for the
    // whole visibility timeout.
    env.local.faults().inject(
        FaultRule::new(FaultAction::LoseResponse)
            .operation("ReceiveMessage")
            .times(1),
    );
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = order.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u32>| {
            let o = o.clone();
            async move {
                o.lock().unwrap().push(*m.body().unwrap());
                Ok::<_, HandlerError>(())
            }
        }))
        .visibility_timeout(Duration::from_secs(300))
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let report = run_until(worker, Duration::from_secs(600), || {
        order.lock().unwrap().len() >= 10
    })
    .await;
    assert!(
        start.elapsed() < Duration::from_secs(120),
        "recovered without waiting out the visibility timeout: {:?}",
        start.elapsed()
    );
    assert_eq!(*order.lock().unwrap(), (0..10).collect::<Vec<_>>());
    assert_eq!(report.acked, 10);
}
}

worker_test! {
/// Undecodable messages keep their place in their group: dead-lettered in turn, with
/// the group's order intact and no group ever running two messages at once.
async fn order_holds_with_undecodable_messages_in_a_group(env) {
    let dlq = env.fifo("poison-dlq.fifo").await;
    let q = env.fifo("poison.fifo").await;
    let mut items = Vec::new();
    for seq in 0..6u32 {
        for g in ["a", "b", "c"] {
            let body = if seq % 3 == 1 { format!("bad-{g}-{seq}") } else { seq.to_string() };
            items.push((body, Some(g.to_owned())));
        }
    }
    env.send_grouped(&q, items).await;
    let log = Arc::new(Mutex::new(Log::default()));
    let l = log.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u32>| {
            let l = l.clone();
            async move {
                let group = m.group_id().unwrap().to_owned();
                if !l.lock().unwrap().busy.insert(group.clone()) {
                    l.lock().unwrap().overlaps += 1;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                let mut log = l.lock().unwrap();
                log.busy.remove(&group);
                log.done.entry(group).or_default().push(*m.body().unwrap());
                Ok::<_, HandlerError>(())
            }
        }))
        .dead_letter(&dlq)
        .concurrency(20)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(60), || {
        log.lock().unwrap().done.values().map(Vec::len).sum::<usize>() == 12
    })
    .await;
    {
        let log = log.lock().unwrap();
        assert_eq!(log.overlaps, 0);
        for g in ["a", "b", "c"] {
            assert_eq!(log.done[g], vec![0, 2, 3, 5], "group {g}");
        }
    }
    assert_eq!(report.decode_failures, 6, "{report:?}");
    assert_eq!(report.dead_lettered, 6);
    assert_accounted(&report);
    let dead: Vec<String> = env
        .drain(dlq.url())
        .await
        .iter()
        .map(|m| m.body().unwrap().to_owned())
        .collect();
    assert_eq!(dead.len(), 6, "{dead:?}");
}
}
