//! The worker with an S3 offload on LocalStack (issue 15), on a 4-thread runtime in real
//! time: 2 MiB payloads offloaded by a Producer are decoded by the worker, the acked
//! ones' objects deleted in batches; a rejected one's dead-letter copy keeps the pointer,
//! its marker and its object, and after a redrive a second worker handles it and deletes
//! the object; a pointer to a missing object is dead-lettered as `decode_failed` with
//! S3's error.

#![cfg(feature = "localstack")]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::types::MessageAttributeValue;
use weir_integration_tests::queues::{counts, create_queue, drain};
use weir_integration_tests::worker_kit::{assert_accounted, attrs_of, run_until};
use weir_integration_tests::{localstack_client, localstack_s3_client, unique_name};
use weir_sqs::s3::{Offload, S3Pointer, SIZE_ATTRIBUTE};
use weir_sqs::{Producer, Queue, RawString};
use weir_worker::{HandlerError, Message, Worker, dlq_attributes, handler_fn};

const MIB: usize = 1024 * 1024;

async fn bucket(s3: &aws_sdk_s3::Client) -> String {
    let name = unique_name("wk-s3").to_lowercase().replace('_', "-");
    s3.create_bucket().bucket(&name).send().await.unwrap();
    name
}

async fn keys(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

fn payload(i: usize) -> String {
    let mut s = format!("payload-{i}:");
    s.push_str(&"x".repeat(2 * MIB - s.len()));
    s
}

/// A worker that records what it handled, and rejects the payloads `reject` says.
fn worker(
    queue: &Queue,
    dlq: &Queue,
    offload: Offload,
    reject: fn(&str) -> bool,
) -> (Worker<String>, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let worker = Worker::builder(queue.clone())
        .codec(RawString)
        .offload(offload)
        .handler(handler_fn(move |m: Message<String>| {
            let body = m.body().cloned().map_err(|e| e.to_string());
            s.lock().unwrap().push(body.clone().unwrap_or_default());
            async move {
                let body = body.map_err(HandlerError::reject)?;
                if reject(&body) {
                    return Err(HandlerError::reject("not this one"));
                }
                Ok(())
            }
        }))
        .wait_time(Duration::from_secs(1))
        .dead_letter(dlq)
        .build()
        .unwrap();
    (worker, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offloaded_payloads_are_acked_dead_lettered_and_redriven_with_their_objects() {
    let sqs = localstack_client().await;
    let s3 = localstack_s3_client().await;
    let bucket = bucket(&s3).await;
    let queue = create_queue(&sqs, &unique_name("wk-s3"), &[]).await;
    let dlq = create_queue(&sqs, &unique_name("wk-s3-dlq"), &[]).await;
    let offload = Offload::new(s3.clone(), &bucket);
    let producer: Producer<String, RawString> = Producer::builder(queue.clone())
        .codec(RawString)
        .offload(offload.clone())
        .build()
        .unwrap();
    let sent: Vec<String> = (0..4).map(payload).collect();
    for p in &sent {
        producer.send(p).await.unwrap();
    }
    assert_eq!(keys(&s3, &bucket).await.len(), 4);

    let rejected = |b: &str| b.starts_with("payload-0:");
    let (w, seen) = worker(&queue, &dlq, offload.clone(), rejected);
    let report = run_until(w, Duration::from_secs(60), || {
        seen.lock().unwrap().len() >= 4
    })
    .await;
    assert_accounted(&report);
    assert_eq!((report.acked, report.dead_lettered), (4, 1), "{report:?}");
    assert_eq!(report.payloads_deleted, 3, "{report:?}");
    let mut got = seen.lock().unwrap().clone();
    got.sort();
    assert_eq!(got, sent, "every payload decoded whole");
    let left = keys(&s3, &bucket).await;
    assert_eq!(
        left.len(),
        1,
        "only the dead-lettered message's object stays"
    );

    let dead = drain(&sqs, dlq.url(), Duration::from_secs(1)).await;
    assert_eq!(dead.len(), 1);
    let copy = &dead[0];
    let pointer = S3Pointer::from_body(copy.body().unwrap()).expect("the copy is the pointer");
    assert_eq!(
        (pointer.bucket(), pointer.key()),
        (bucket.as_str(), left[0].as_str())
    );
    let attrs = copy.message_attributes.clone().unwrap_or_default();
    assert_eq!(attrs[SIZE_ATTRIBUTE].data_type(), "Number");
    assert_eq!(attrs_of(copy)[dlq_attributes::REASON], "rejected");

    // Redrive: the copy back to the source queue, then out of the DLQ.
    let mut send = sqs
        .send_message()
        .queue_url(queue.url())
        .message_body(copy.body().unwrap());
    for (k, v) in attrs {
        send = send.message_attributes(k, v);
    }
    send.send().await.unwrap();
    sqs.delete_message()
        .queue_url(dlq.url())
        .receipt_handle(copy.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    let (w, seen) = worker(&queue, &dlq, offload, |_| false);
    let report = run_until(w, Duration::from_secs(60), || {
        !seen.lock().unwrap().is_empty()
    })
    .await;
    assert_eq!(
        (report.acked, report.payloads_deleted),
        (1, 1),
        "{report:?}"
    );
    assert_eq!(
        seen.lock().unwrap()[0],
        sent[0],
        "the redriven payload found"
    );
    assert!(
        keys(&s3, &bucket).await.is_empty(),
        "deleted after this ack"
    );
    assert_eq!(counts(&sqs, queue.url()).await, (0, 0, 0));
    assert_eq!(counts(&sqs, dlq.url()).await, (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pointer_to_a_missing_object_is_dead_lettered_with_s3s_error() {
    let sqs = localstack_client().await;
    let s3 = localstack_s3_client().await;
    let bucket = bucket(&s3).await;
    let queue = create_queue(&sqs, &unique_name("wk-s3-gone"), &[]).await;
    let dlq = create_queue(&sqs, &unique_name("wk-s3-gone-dlq"), &[]).await;
    sqs.send_message()
        .queue_url(queue.url())
        .message_body(S3Pointer::new(&bucket, "never-uploaded").to_body())
        .message_attributes(
            SIZE_ATTRIBUTE,
            MessageAttributeValue::builder()
                .data_type("Number")
                .string_value("2097152")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (w, seen) = worker(&queue, &dlq, Offload::new(s3, &bucket), |_| false);
    let handle = w.handle();
    let task = tokio::spawn(w.run());
    let arrived = weir_integration_tests::eventually(Duration::from_secs(60), || {
        let (sqs, url) = (sqs.clone(), dlq.url().to_owned());
        async move { counts(&sqs, &url).await.0 == 1 }
    })
    .await;
    assert!(arrived, "{:?}", handle.health());
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!(
        (report.decode_failures, report.dead_lettered),
        (1, 1),
        "{report:?}"
    );
    assert!(seen.lock().unwrap().is_empty(), "the handler never saw it");
    let dead = drain(&sqs, dlq.url(), Duration::from_secs(1)).await;
    let attrs = attrs_of(&dead[0]);
    assert_eq!(attrs[dlq_attributes::REASON], "decode_failed");
    let error = &attrs[dlq_attributes::ERROR];
    assert!(
        error.contains("NoSuchKey") && error.contains("never-uploaded"),
        "{error}"
    );
}
