//! Many clients and tasks at once.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use weir_local::LocalSqs;

async fn run(producers: usize, per_producer: usize, consumers: usize, wait: i32) -> usize {
    let sqs = LocalSqs::new();
    let client = sqs.client();
    let url = client
        .create_queue()
        .queue_name("busy")
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url");
    let total = producers * per_producer;
    let mut tasks = Vec::new();
    for p in 0..producers {
        let client = sqs.client();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            for chunk in 0..per_producer / 10 {
                let mut req = client.send_message_batch().queue_url(&url);
                for i in 0..10 {
                    req = req.entries(
                        SendMessageBatchRequestEntry::builder()
                            .id(format!("e{i}"))
                            .message_body(format!("{p}-{chunk}-{i}"))
                            .build()
                            .expect("entry"),
                    );
                }
                let out = req.send().await.expect("send batch");
                assert_eq!(out.successful().len(), 10);
            }
        }));
    }
    let received = Arc::new(AtomicUsize::new(0));
    let mut consumers_handles = Vec::new();
    for _ in 0..consumers {
        let client = sqs.client();
        let url = url.clone();
        let received = received.clone();
        consumers_handles.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while received.load(Ordering::SeqCst) < total {
                let got = client
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(wait)
                    .send()
                    .await
                    .expect("receive");
                let msgs = got.messages();
                received.fetch_add(msgs.len(), Ordering::SeqCst);
                if msgs.is_empty() {
                    continue;
                }
                let mut del = client.delete_message_batch().queue_url(&url);
                for (i, m) in msgs.iter().enumerate() {
                    seen.push(m.body().unwrap_or_default().to_owned());
                    del = del.entries(
                        DeleteMessageBatchRequestEntry::builder()
                            .id(format!("d{i}"))
                            .receipt_handle(m.receipt_handle().unwrap_or_default())
                            .build()
                            .expect("entry"),
                    );
                }
                let out = del.send().await.expect("delete batch");
                assert!(out.failed().is_empty());
            }
            seen
        }));
    }
    for t in tasks {
        t.await.expect("producer");
    }
    let mut all = HashSet::new();
    let mut n = 0;
    for c in consumers_handles {
        let seen = c.await.expect("consumer");
        n += seen.len();
        all.extend(seen);
    }
    assert_eq!(n, all.len(), "no message delivered twice");
    assert_eq!(all.len(), total);
    total
}

#[tokio::test(start_paused = true)]
async fn producers_and_long_polling_consumers_interleave() {
    assert_eq!(run(4, 50, 3, 20).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_in_parallel_threads() {
    // Long polls of 1 s: a consumer returns as soon as messages arrive.
    assert_eq!(run(4, 100, 4, 1).await, 400);
}
