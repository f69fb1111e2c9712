//! Run with: cargo run --example redrive
//!
//! Getting dead letters back once the bug is fixed.
//!
//! A worker with a bug rejects every order, so they all end in the dead-letter queue
//! (see `retries_and_dlq` for how they get there). The fix ships; a **redrive** (an SQS
//! message move task, `weir::sqs::redrive::start`) sends the dead letters back to the
//! source queue, and the fixed worker processes them. Endpoints without move tasks get a
//! manual move instead (`redrive::manual`: receive, send, delete).

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use weir::aws_sdk_sqs::Client;
use weir::prelude::*;
use weir::sqs::redrive::{self, ManualMove};
use weir::test::unique_name;
use weir_examples::{count, delete_queues, until_drained};

fn worker(
    queue: &Queue,
    dlq: &Queue,
    fixed: Arc<AtomicBool>,
) -> Result<Worker<u64>, Box<dyn Error>> {
    let handler = handler_fn(move |_order: Message<u64>| {
        let fixed = fixed.load(Ordering::Relaxed);
        async move {
            if fixed {
                Ok(())
            } else {
                Err(HandlerError::reject("bug: the tax table is empty"))
            }
        }
    });
    Ok(Worker::builder(queue.clone())
        .handler(handler)
        .dead_letter(dlq)
        .wait_time(Duration::from_secs(1))
        .build()?)
}

/// Moves every message of `dlq` back to `queue`; says how.
async fn redrive(dlq: &Queue, queue: &Queue) -> Result<String, Box<dyn Error>> {
    if let Err(e) = redrive::start(dlq, queue.arn(), Some(50)).await {
        println!("no message move task ({e}); moving by hand");
        let moved = redrive::manual(dlq, queue, &ManualMove::default()).await?;
        return Ok(format!(
            "manual move: {} moved, {} failed",
            moved.moved, moved.failed
        ));
    }
    loop {
        // ListMessageMoveTasks lists the most recent task first.
        match redrive::list(dlq).await?.first() {
            Some(t) if t.status.as_deref() == Some("RUNNING") => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Some(t) => {
                return Ok(format!(
                    "move task {}, {} moved",
                    t.status.as_deref().unwrap_or("?"),
                    t.moved
                ));
            }
            None => return Ok("move task finished".to_owned()),
        }
    }
}

#[derive(Debug)]
struct Summary {
    first: WorkerReport,
    /// How the redrive went.
    moved: String,
    second: WorkerReport,
    /// Messages left in the dead-letter queue and in the queue at the end.
    left: (u64, u64),
}

async fn run(client: &Client, orders: u64) -> Result<Summary, Box<dyn Error>> {
    let topology = QueueSpec::standard(unique_name("redrive-orders"))
        .dead_letter(10)
        .ensure(client)
        .await?;
    let (queue, dlq) = (topology.queue, topology.dlq.ok_or("no dead-letter queue")?);
    let ids: Vec<u64> = (0..orders).collect();
    for r in Producer::<u64>::new(queue.clone()).send_batch(&ids).await {
        r?;
    }

    let fixed = Arc::new(AtomicBool::new(false));
    let first = worker(&queue, &dlq, fixed.clone())?
        .run_until(until_drained(&queue))
        .await;

    fixed.store(true, Ordering::Relaxed);
    let moved = redrive(&dlq, &queue).await?;
    let second = worker(&queue, &dlq, fixed)?
        .run_until(until_drained(&queue))
        .await;

    let left = (count(&dlq).await?, count(&queue).await?);
    delete_queues(&[&queue, &dlq]).await;
    Ok(Summary {
        first,
        moved,
        second,
        left,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let client = weir_examples::client().await;
    let s = run(&client, 20).await?;
    println!(
        "with the bug: {} orders dead-lettered",
        s.first.dead_lettered
    );
    println!("the fix ships; redrive: {}", s.moved);
    println!(
        "fixed: {} orders processed; left in the dead-letter queue: {}, in the queue: {}",
        s.second.succeeded, s.left.0, s.left.1
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn every_dead_letter_comes_back_and_is_processed() {
        let client = weir::local::LocalSqs::new().client();
        let s = tokio::time::timeout(Duration::from_secs(600), run(&client, 20))
            .await
            .expect("both runs drain their queue")
            .unwrap();
        assert_eq!(s.first.dead_lettered, 20);
        assert_eq!(s.first.succeeded, 0);
        assert_eq!(s.second.succeeded, 20, "every dead letter came back");
        assert_eq!(s.second.dead_lettered, 0);
        assert_eq!(s.left, (0, 0));
    }
}
