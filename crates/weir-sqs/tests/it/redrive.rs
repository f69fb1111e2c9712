use std::time::Duration;

use weir_sqs::redrive::{self, ManualMove};
use weir_sqs::{Consumer, Producer, QueueSpec, ReceiveOptions, Topology};

use crate::support::{client, unique};

/// A queue whose DLQ holds `n` messages (each received twice without an ack).
async fn dlq_with(n: u32) -> Topology {
    let client = client().await;
    let t = QueueSpec::standard(unique("redrive"))
        .dead_letter(1)
        .ensure(&client)
        .await
        .unwrap();
    let dlq = t.dlq.clone().unwrap();
    let producer: Producer<u32> = Producer::new(dlq);
    let values: Vec<u32> = (0..n).collect();
    let r = producer.send_batch(&values).await;
    assert!(r.iter().all(Result::is_ok));
    t
}

async fn count(q: &weir_sqs::Queue, n: usize) -> usize {
    let c: Consumer<u32> = Consumer::new(q.clone());
    let mut seen = 0;
    for _ in 0..40 {
        let got = c
            .receive(&ReceiveOptions::default().with_wait(Duration::from_secs(1)))
            .await
            .unwrap();
        seen += got.len();
        c.ack_batch(&got).await;
        if seen >= n {
            break;
        }
    }
    seen
}

#[tokio::test(start_paused = true)]
async fn manual_move_keeps_every_message() {
    let t = dlq_with(15).await;
    let dlq = t.dlq.clone().unwrap();
    let report = redrive::manual(
        &dlq,
        &t.queue,
        &ManualMove {
            max_per_second: Some(100),
            ..ManualMove::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(report.moved, 15);
    assert_eq!(report.failed, 0);
    assert_eq!(count(&t.queue, 15).await, 15);
    assert_eq!(dlq.depth().await.unwrap().visible, 0);
}

#[tokio::test(start_paused = true)]
async fn manual_move_respects_the_limit() {
    let t = dlq_with(5).await;
    let dlq = t.dlq.clone().unwrap();
    let report = redrive::manual(
        &dlq,
        &t.queue,
        &ManualMove {
            limit: Some(3),
            ..ManualMove::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(report.moved, 3);
    assert_eq!(dlq.depth().await.unwrap().visible, 2);
}

#[tokio::test(start_paused = true)]
async fn move_task_start_list_cancel() {
    let t = dlq_with(3).await;
    let dlq = t.dlq.clone().unwrap();
    let handle = redrive::start(&dlq, t.queue.arn(), None).await.unwrap();
    assert!(!handle.is_empty());
    let tasks = redrive::list(&dlq).await.unwrap();
    assert!(!tasks.is_empty());
    assert_eq!(tasks[0].source_arn.as_deref(), dlq.arn());
    assert_eq!(
        count(&t.queue, 3).await,
        3,
        "the task moved the messages back"
    );
    // Cancelling a finished (or unknown) task is an SQS error.
    assert!(redrive::cancel(&dlq, "no-such-task").await.is_err());
}

#[tokio::test(start_paused = true)]
async fn bad_rates_are_refused() {
    let t = dlq_with(0).await;
    let dlq = t.dlq.clone().unwrap();
    assert!(redrive::start(&dlq, None, Some(0)).await.is_err());
    assert!(
        redrive::manual(
            &dlq,
            &t.queue,
            &ManualMove {
                max_per_second: Some(0),
                ..ManualMove::default()
            }
        )
        .await
        .is_err()
    );
}

#[tokio::test(start_paused = true)]
async fn manual_move_is_paced() {
    let t = dlq_with(30).await;
    let dlq = t.dlq.clone().unwrap();
    let start = tokio::time::Instant::now();
    let report = redrive::manual(
        &dlq,
        &t.queue,
        &ManualMove {
            max_per_second: Some(10),
            wait: Duration::ZERO,
            ..ManualMove::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(report.moved, 30);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(3),
        "30 messages at 10/s: {took:?}"
    );
    if crate::support::in_process() {
        // Over the network, paused time also advances while waiting on I/O.
        assert!(took < Duration::from_secs(4), "{took:?}");
    }
}
