//! Deletes that fail or are slow: the message keeps its lease until its delete
//! completes, failed deletes are retried while the lease holds, readiness covers them,
//! and a delete that lands after the visibility timeout is reported.

use std::time::Duration;

use weir_local::{FaultAction, FaultRule};
use weir_sqs::Queue;
use weir_worker::{HandlerError, Lease, Message, Worker, handler_fn};

use crate::support::{Count, eventually, spawn};

fn counting_worker(q: &Queue, done: &Count, lease: Lease) -> Worker<u32> {
    let d = done.clone();
    Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let d = d.clone();
            async move {
                d.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .visibility_timeout(Duration::from_secs(5))
        .lease(lease)
        .build()
        .unwrap()
}

worker_test! {
async fn a_delete_outage_keeps_the_lease_and_clears_readiness(env) {
    let q = env.queue("delete-outage", &[]).await;
    env.send(&q, (0..10).map(|i| i.to_string())).await;
    env.local.faults().inject(
        FaultRule::error(500, "InternalError", "deletes are down").operation("DeleteMessageBatch"),
    );
    let done = Count::default();
    let (handle, task) = spawn(counting_worker(&q, &done, Lease::new()));
    assert!(eventually(Duration::from_secs(10), || async { done.get() == 10 }).await);
    assert!(eventually(Duration::from_secs(10), || async { !handle.health().ready }).await);
    // 30 s of failing deletes: six times the visibility timeout, and far beyond the
    // old 0.7 s of retries. The leases keep the messages invisible meanwhile.
    tokio::time::sleep(Duration::from_secs(30)).await;
    let health = handle.health();
    assert!(health.live && !health.ready, "{health:?}");
    assert_eq!(health.in_flight, 10, "{health:?}");
    assert_eq!(done.get(), 10, "no message was delivered again");
    env.local.faults().clear();
    assert!(eventually(Duration::from_secs(30), || async { handle.health().in_flight == 0 }).await);
    assert!(handle.health().ready, "ready again once a delete succeeds");
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!(report.acked, 10, "{report:?}");
    assert_eq!(report.ack_failures, 0, "{report:?}");
    assert_eq!(report.possible_duplicates, 0, "{report:?}");
    assert!(report.lease_extensions > 0, "{report:?}");
    assert_eq!(done.get(), 10);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}

worker_test! {
async fn a_slow_delete_is_covered_by_the_lease(env) {
    let q = env.queue("slow-delete-leased", &[]).await;
    env.send(&q, ["1".to_owned()]).await;
    env.local.faults().inject(
        FaultRule::new(FaultAction::Latency(Duration::from_secs(12)))
            .operation("DeleteMessageBatch")
            .times(1),
    );
    let done = Count::default();
    let (handle, task) = spawn(counting_worker(&q, &done, Lease::new()));
    assert!(eventually(Duration::from_secs(10), || async { done.get() == 1 }).await);
    assert!(eventually(Duration::from_secs(30), || async { handle.health().in_flight == 0 }).await);
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!(done.get(), 1, "delivered once");
    assert_eq!(report.acked, 1, "{report:?}");
    assert_eq!(report.possible_duplicates, 0, "{report:?}");
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}

worker_test! {
async fn a_delete_after_the_visibility_timeout_is_a_possible_duplicate(env) {
    // Without a lease nothing extends the message while its delete is slow: SQS
    // delivers it again, and the late delete (a stale receipt handle) succeeds without
    // deleting. The worker must not count it as acked.
    let q = env.queue("slow-delete-unleased", &[]).await;
    env.send(&q, ["1".to_owned()]).await;
    env.local.faults().inject(
        FaultRule::new(FaultAction::Latency(Duration::from_secs(8)))
            .operation("DeleteMessageBatch")
            .times(1),
    );
    let done = Count::default();
    let (handle, task) = spawn(counting_worker(&q, &done, Lease::disabled()));
    assert!(eventually(Duration::from_secs(30), || async { done.get() == 2 && handle.health().in_flight == 0 }).await);
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!(report.possible_duplicates, 1, "{report:?}");
    assert_eq!(report.acked, 1, "{report:?}");
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}

worker_test! {
async fn shutdown_gives_failing_deletes_a_bounded_number_of_attempts(env) {
    let q = env.queue("delete-outage-at-shutdown", &[]).await;
    env.send(&q, (0..5).map(|i| i.to_string())).await;
    env.local.faults().inject(
        FaultRule::error(500, "InternalError", "deletes are down").operation("DeleteMessageBatch"),
    );
    let done = Count::default();
    let (handle, task) = spawn(counting_worker(&q, &done, Lease::new()));
    assert!(eventually(Duration::from_secs(10), || async { done.get() == 5 }).await);
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(
        handle.health().in_flight,
        5,
        "still retrying while the lease holds"
    );
    let stopped = tokio::time::Instant::now();
    handle.shutdown();
    let report = task.await.unwrap();
    let took = stopped.elapsed();
    // 4 attempts, a few hundred ms apart, each with the SDK's own retries.
    assert!(took < Duration::from_secs(15), "shutdown took {took:?}");
    assert_eq!(report.acked, 0, "{report:?}");
    assert_eq!(report.ack_failures, 5, "{report:?}");
    // Not deleted, not lost: they reappear after their visibility timeout.
    env.local.faults().clear();
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(env.counts(q.url()).await.0, 5);
}
}
