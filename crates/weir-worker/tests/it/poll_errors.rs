//! Receives that fail: exponential backoff with a cap, not ready meanwhile, recovery.

use std::time::Duration;

use weir_sqs::{Queue, QueueAttributes};
use weir_worker::{HandlerError, Message, Worker, handler_fn};

use crate::support::{Count, env, spawn, wait_for};

#[tokio::test(start_paused = true)]
async fn failing_polls_back_off_and_recover() {
    let env = env();
    let probe = env.queue("probe", &[]).await;
    let url = probe.url().replace("probe", "later");
    // The queue does not exist yet: every receive fails.
    let queue = Queue::with_attributes(env.client.clone(), &url, QueueAttributes::default());
    let done = Count::default();
    let d = done.clone();
    let worker = Worker::builder(queue)
        .handler(handler_fn(move |_m: Message<u32>| {
            let d = d.clone();
            async move {
                d.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .poll_backoff_max(Duration::from_secs(8))
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    tokio::time::sleep(Duration::from_secs(60)).await;
    let health = handle.health();
    assert!(health.live && !health.ready, "{health:?}");
    assert!(health.last_successful_poll.is_none());
    // Create the queue; the worker recovers on its own.
    let real = env.queue("later", &[]).await;
    assert_eq!(real.url(), url);
    env.send(&real, ["1".to_owned()]).await;
    wait_for(Duration::from_secs(30), || done.get() == 1).await;
    assert!(handle.health().ready);
    handle.shutdown();
    let report = task.await.unwrap();
    // Backoff from 200 ms doubling to an 8 s cap (with jitter in [d/2, d]): in 60 s,
    // between ~12 and ~20 failures; without backoff there would be thousands.
    assert!((8..=25).contains(&report.poll_errors), "{report:?}");
    assert_eq!(report.acked, 1);
}
