//! The test kit on both runtimes: each outcome a message can have, read from SQS.

#![cfg(feature = "test-util")]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use weir::local::LocalSqs;
use weir::prelude::*;
use weir::test::{Outcome, TestQueue, eventually};

/// 1: ok; 0: rejected; 2: retried every time; 3: fails its first delivery only.
async fn handle(msg: Message<u64>) -> Result<(), HandlerError> {
    match msg
        .body()
        .map_err(|e| HandlerError::reject(e.to_string()))?
    {
        0 => Err(HandlerError::reject("zero is not an order")),
        2 => Err(HandlerError::retry("downstream timed out")),
        3 if msg.receive_count() == 1 => Err(HandlerError::retry("first try fails")),
        _ => Ok(()),
    }
}

/// `handle` with a fixed retry delay, three attempts, and the kit's dead-letter queue.
fn worker(queue: &TestQueue, retry_after: Duration) -> Worker<u64> {
    Worker::builder(queue.queue().clone())
        .handler(handler_fn(handle))
        .dead_letter(queue.dlq())
        .max_attempts(3)
        .retry_policy(RetryPolicy::fixed(retry_after))
        .wait_time(Duration::from_secs(1))
        .build()
        .unwrap()
}

async fn every_outcome(queue: TestQueue) {
    for n in [1_u64, 0, 2, 3] {
        queue.send(&n).await.unwrap();
    }
    queue.send_raw("not json").await.unwrap();
    let run = queue
        .run(worker(&queue, Duration::from_secs(1)))
        .await
        .unwrap();

    assert_eq!(run.outcomes.len(), 5);
    assert_eq!(run.outcomes[0], Outcome::Acked);
    let dead = |o: &Outcome| match o {
        Outcome::DeadLettered {
            reason, attempts, ..
        } => Some((reason.clone(), *attempts)),
        _ => None,
    };
    assert_eq!(
        dead(&run.outcomes[1]),
        Some(("rejected".to_owned(), Some(1)))
    );
    assert_eq!(
        dead(&run.outcomes[2]),
        Some(("max_attempts".to_owned(), Some(3)))
    );
    assert_eq!(
        run.outcomes[3],
        Outcome::Acked,
        "acked on its second delivery"
    );
    assert_eq!(
        dead(&run.outcomes[4]).map(|d| d.0),
        Some("decode_failed".to_owned())
    );
    assert_eq!(run.report.succeeded, 2);
    assert_eq!(run.report.dead_lettered, 3);
}

#[tokio::test(start_paused = true)]
async fn every_outcome_on_a_paused_clock() {
    every_outcome(TestQueue::standard().await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_outcome_in_real_time_with_network_latency() {
    let local = LocalSqs::builder()
        .latency(Duration::from_millis(1), Duration::from_millis(5))
        .build();
    let queue = TestQueue::with_spec(local, QueueSpec::standard("orders"))
        .await
        .unwrap();
    every_outcome(queue).await;
}

#[tokio::test(start_paused = true)]
async fn a_run_cut_short_reports_when_the_retry_comes_due() {
    let queue = TestQueue::standard()
        .await
        .unwrap()
        .run_timeout(Duration::from_secs(5));
    queue.send(&2_u64).await.unwrap();
    let run = queue
        .run(worker(&queue, Duration::from_secs(600)))
        .await
        .unwrap();
    let Outcome::Retried {
        visible_again_after,
    } = run.outcomes[0]
    else {
        panic!("expected a pending retry, got {:?}", run.outcomes[0]);
    };
    // Retried ~0 s into the run, the run lasted 5 s: due about 595 s after it ended.
    assert!(
        visible_again_after > Duration::from_secs(580)
            && visible_again_after <= Duration::from_secs(600),
        "{visible_again_after:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_handler_still_running_at_the_timeout_is_released() {
    let queue = TestQueue::standard()
        .await
        .unwrap()
        .run_timeout(Duration::from_secs(5));
    queue.send(&1_u64).await.unwrap();
    let worker = Worker::builder(queue.queue().clone())
        .handler(handler_fn(|_msg: Message<u64>| async {
            tokio::time::sleep(Duration::from_secs(3_600)).await;
            Ok::<_, HandlerError>(())
        }))
        .shutdown_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let run = queue.run(worker).await.unwrap();
    assert_eq!(run.outcomes, vec![Outcome::Released]);
    assert_eq!(run.report.released_unfinished, 1);
}

#[tokio::test(start_paused = true)]
async fn fifo_messages_are_numbered_and_kept_in_order() {
    let queue = TestQueue::fifo().await.unwrap();
    for n in [1_u64, 1, 1] {
        queue.send(&n).await.unwrap(); // equal bodies: the kit's dedup ids keep all three
    }
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let worker = Worker::builder(queue.queue().clone())
        .handler(handler_fn(move |msg: Message<u64>| {
            let record = record.clone();
            async move {
                record
                    .lock()
                    .unwrap()
                    .push(msg.sequence_number().unwrap().to_owned());
                Ok::<_, HandlerError>(())
            }
        }))
        .build()
        .unwrap();
    let run = queue.run(worker).await.unwrap();
    assert_eq!(run.outcomes, vec![Outcome::Acked; 3]);
    let seen = seen.lock().unwrap().clone();
    let mut sorted = seen.clone();
    sorted.sort_by_key(|s| s.parse::<u128>().unwrap());
    assert_eq!(seen.len(), 3);
    assert_eq!(seen, sorted, "one group is handled in order");
}

#[tokio::test(start_paused = true)]
async fn eventually_gives_up_at_its_timeout() {
    let start = tokio::time::Instant::now();
    assert!(!eventually(Duration::from_secs(2), || async { false }).await);
    assert!(start.elapsed() >= Duration::from_secs(2));
    assert!(eventually(Duration::from_secs(2), || async { true }).await);
}
