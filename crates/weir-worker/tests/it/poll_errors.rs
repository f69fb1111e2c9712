//! Receives that fail: exponential backoff with a cap, not ready meanwhile, recovery.

use std::time::Duration;

use weir_sqs::{Queue, QueueAttributes};
use weir_worker::{HandlerError, Message, Worker, handler_fn};

use crate::support::{Count, eventually, spawn};

worker_test! {
async fn failing_polls_back_off_and_recover(env) {
    let probe = env.queue("probe", &[]).await;
    let url = probe.url().replace("probe", "later");
    // The queue does not exist yet: every receive fails.
    let queue = Queue::with_attributes(env.client.clone(), &url, QueueAttributes::default());
    let done = Count::default();
    let d = done.clone();
    // Paused: a minute against an 8 s cap; real time: 7.5 s against 1 s.
    let backoff_max = env.pick(8, 1);
    let worker = Worker::builder(queue)
        .handler(handler_fn(move |_m: Message<u32>| {
            let d = d.clone();
            async move {
                d.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .poll_backoff_max(Duration::from_secs(backoff_max))
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    tokio::time::sleep(Duration::from_secs(60 * backoff_max / 8)).await;
    let health = handle.health();
    assert!(health.live && !health.ready, "{health:?}");
    assert!(health.last_successful_poll.is_none());
    // Create the queue; the worker recovers on its own.
    let real = env.queue("later", &[]).await;
    assert_eq!(real.url(), url);
    env.send(&real, ["1".to_owned()]).await;
    assert!(eventually(Duration::from_secs(30), || async { done.get() == 1 }).await);
    assert!(handle.health().ready);
    handle.shutdown();
    let report = task.await.unwrap();
    // Backoff from 100 ms doubling to the cap: about 10 to 14 failures in 7.5 caps'
    // time; without backoff there would be thousands.
    assert!((8..=25).contains(&report.poll_errors), "{report:?}");
    assert_eq!(report.acked, 1);
}
}

worker_test! {
async fn server_errors_throttling_and_resets_are_survived(env) {
    use weir_local::{FaultAction, FaultRule};
    let q = env.queue("faulty", &[]).await;
    env.send(&q, (0..20).map(|i| i.to_string())).await;
    let faults = env.local.faults();
    faults.inject(
        FaultRule::error(500, "InternalError", "boom")
            .operation("ReceiveMessage")
            .times(12),
    );
    faults.inject(
        FaultRule::error(400, "ThrottlingException", "slow down")
            .operation("ReceiveMessage")
            .times(6),
    );
    faults.inject(
        FaultRule::new(FaultAction::DropConnection)
            .operation("ReceiveMessage")
            .times(6),
    );
    let done = Count::default();
    let d = done.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let d = d.clone();
            async move {
                d.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!handle.health().ready, "not ready while receives fail");
    assert!(eventually(Duration::from_secs(300), || async { done.get() == 20 }).await);
    assert!(handle.health().ready);
    handle.shutdown();
    let report = task.await.unwrap();
    assert!(report.poll_errors >= 3, "{report:?}");
    assert_eq!(report.acked, 20);
}
}

worker_test! {
async fn failed_deletes_are_retried(env) {
    use weir_local::FaultRule;
    let q = env.queue("delete-fails", &[]).await;
    env.send(&q, (0..30).map(|i| i.to_string())).await;
    env.local.faults().inject(
        FaultRule::error(500, "InternalError", "try again")
            .operation("DeleteMessageBatch")
            .times(5),
    );
    let done = Count::default();
    let d = done.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let d = d.clone();
            async move {
                d.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    assert!(eventually(Duration::from_secs(60), || async { done.get() == 30 }).await);
    // Let the retried deletes go through before stopping.
    assert!(eventually(Duration::from_secs(60), || async { handle.health().in_flight == 0 }).await);
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!(report.acked, 30, "{report:?}");
    assert_eq!(report.ack_failures, 0);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}
