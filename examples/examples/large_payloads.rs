//! Run with: cargo run --example large_payloads
//!
//! Payloads bigger than SQS takes (1 MiB at most, often 256 KiB on older queues) go
//! through S3, in the format of AWS's extended clients: the body goes to a bucket and
//! the message carries a pointer, so a Java or Python service on the same queue reads
//! them too. The same `Offload` setting on both ends:
//!
//! - the `Producer` sends a body over the queue's `MaximumMessageSize` to S3 and the
//!   pointer to SQS; smaller bodies stay in the message;
//! - the worker fetches the payload before decoding, so the handler's `Message<Report>`
//!   is the real report (`msg.s3_pointer()` says where it was), and deletes the object
//!   only once the message's SQS delete succeeded. A dead-lettered copy keeps its
//!   pointer and object; a lifecycle rule on the bucket cleans up after messages that
//!   expire unconsumed (see docs/s3-limits.md).
//!
//! It runs on the in-process SQS and S3 unless `AWS_ENDPOINT_URL` (LocalStack) or AWS
//! credentials are set; see examples/README.md.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use weir::aws_sdk_s3::Client as S3;
use weir::aws_sdk_sqs::Client as Sqs;
use weir::prelude::*;
use weir::sqs::s3::Offload;
use weir::test::unique_name;
use weir_examples::{delete_queues, until_drained};

/// A daily report: a few KiB for a quiet shop, megabytes for a busy one.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Report {
    shop: u64,
    rows: Vec<String>,
}

impl Report {
    fn new(shop: u64, rows: usize) -> Self {
        let rows = (0..rows)
            .map(|i| format!("{shop:04}-{i:08}: 1 x widget, 4.99 EUR"))
            .collect();
        Self { shop, rows }
    }
}

/// What the worker saw: reports handled, how many came through S3, and their bytes.
#[derive(Debug, Default)]
struct Seen {
    handled: AtomicU64,
    via_s3: AtomicU64,
    bytes: AtomicU64,
}

async fn run(
    sqs: &Sqs,
    s3: &S3,
    shops: u64,
) -> Result<(Arc<Seen>, usize), Box<dyn std::error::Error>> {
    let bucket = unique_name("reports").to_lowercase();
    s3.create_bucket().bucket(&bucket).send().await?;
    let topology = QueueSpec::standard(unique_name("reports"))
        .dead_letter(3)
        .ensure(sqs)
        .await?;
    let (queue, dlq) = (topology.queue, topology.dlq.ok_or("no dead-letter queue")?);
    let offload = Offload::new(s3.clone(), &bucket);

    // Even shops are busy: 60 000 rows, 2.2 MiB of JSON. Odd ones fit in SQS.
    let producer = Producer::<Report>::builder(queue.clone())
        .offload(offload.clone())
        .build()?;
    let reports: Vec<Report> = (0..shops)
        .map(|shop| Report::new(shop, if shop % 2 == 0 { 60_000 } else { 50 }))
        .collect();
    for sent in producer.send_batch(&reports).await {
        sent?;
    }
    println!(
        "sent {shops} reports to {} (large ones through s3://{bucket})",
        queue.name()
    );

    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    let worker = Worker::builder(queue.clone())
        .offload(offload)
        .dead_letter(&dlq)
        .wait_time(Duration::from_secs(1))
        .handler(handler_fn(move |msg: Message<Report>| {
            let s = s.clone();
            async move {
                let report = msg
                    .body()
                    .map_err(|e| HandlerError::reject(e.to_string()))?;
                let size = msg.raw_body().len();
                if let Some(pointer) = msg.s3_pointer() {
                    println!(
                        "shop {}: {size} bytes via s3://{}/{}",
                        report.shop,
                        pointer.bucket(),
                        pointer.key()
                    );
                    s.via_s3.fetch_add(1, Ordering::Relaxed);
                }
                s.bytes.fetch_add(size as u64, Ordering::Relaxed);
                s.handled.fetch_add(1, Ordering::Relaxed);
                Ok::<_, HandlerError>(())
            }
        }))
        .build()?;
    worker.run_until(until_drained(&queue)).await;

    // The objects of acknowledged messages are gone.
    let left = s3
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await?
        .contents()
        .len();
    s3.delete_bucket().bucket(&bucket).send().await?;
    delete_queues(&[&queue, &dlq]).await;
    Ok((seen, left))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (sqs, s3) = weir_examples::clients_with_s3().await;
    let (seen, left) = run(&sqs, &s3, 6).await?;
    println!(
        "handled {} reports ({} through S3, {} MiB in all); {left} objects left in the bucket",
        seen.handled.load(Ordering::Relaxed),
        seen.via_s3.load(Ordering::Relaxed),
        seen.bytes.load(Ordering::Relaxed) / (1024 * 1024)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn large_reports_go_through_s3_and_their_objects_go_after_the_ack() {
        let local = weir::local::LocalSqs::new();
        let (seen, left) = run(&local.client(), &local.s3_client(), 4).await.unwrap();
        assert_eq!(seen.handled.load(Ordering::Relaxed), 4);
        assert_eq!(seen.via_s3.load(Ordering::Relaxed), 2, "the two busy shops");
        assert!(seen.bytes.load(Ordering::Relaxed) > 2 * 2 * 1024 * 1024);
        assert_eq!(left, 0, "every acknowledged payload's object was deleted");
    }
}
