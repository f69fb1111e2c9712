//! Large payloads through S3 (the `s3` feature): 2 MiB payloads offloaded by a
//! Producer, fetched before decoding by the worker, their objects deleted after the ack
//! (or kept), kept for a dead-lettered copy and found again after a redrive; a missing
//! object dead-lettered with the reason, or skipped unseen. The S3 is the in-process
//! one of the same `LocalSqs` as the SQS.

use std::time::Duration;

use aws_sdk_sqs::types::MessageAttributeValue;
use weir_sqs::s3::{Cleanup, Offload, S3Pointer, SIZE_ATTRIBUTE};
use weir_sqs::{Producer, Queue, RawString, RequestCounter};
use weir_worker::{HandlerError, Message, Worker, dlq_attributes, handler_fn};

use crate::support::{Count, Env, assert_accounted, attrs_of, run_until};

const MIB: usize = 1024 * 1024;

/// A payload of `len` bytes that says which one it is.
fn payload(i: usize, len: usize) -> String {
    let mut s = format!("payload-{i}:");
    s.push_str(&"x".repeat(len - s.len()));
    s
}

/// A bucket on this environment's S3, its client, and an offload to it.
async fn bucket(env: &Env, name: &str) -> (aws_sdk_s3::Client, Offload) {
    let s3 = env.s3();
    s3.create_bucket().bucket(name).send().await.unwrap();
    (s3.clone(), Offload::new(s3, name))
}

async fn keys(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

/// Sends `n` payloads of `len` bytes through a Producer that offloads them.
async fn produce(queue: &Queue, offload: &Offload, n: usize, len: usize) -> Vec<String> {
    let producer: Producer<String, RawString> = Producer::builder(queue.clone())
        .codec(RawString)
        .offload(offload.clone())
        .build()
        .unwrap();
    let mut sent = Vec::new();
    for i in 0..n {
        let p = payload(i, len);
        producer.send(&p).await.unwrap();
        sent.push(p);
    }
    sent
}

fn limit(env: &Env) -> Duration {
    env.pick(Duration::from_secs(60), Duration::from_secs(30))
}

worker_test! {
    /// The handler's `Message<String>` is the 2 MiB payload; after the ack, the object
    /// is gone, deleted in batches (no `DeleteObject` per message).
    async fn big_payloads_are_decoded_acked_and_their_objects_deleted(env) {
        let (queue, dlq) = env.with_dlq("big").await;
        let (s3, offload) = bucket(&env, "payloads").await;
        let sent = produce(&queue, &offload, 4, 2 * MIB).await;
        assert_eq!(keys(&s3, "payloads").await.len(), 4);
        // The worker's S3 calls, counted.
        let (counted, s3_calls) = counted_s3(&s3);
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        let worker = Worker::builder(queue.clone())
            .codec(RawString)
            .offload(Offload::new(counted, "payloads"))
            .handler(handler_fn(move |m: Message<String>| {
                let s = s.clone();
                async move {
                    let body = m.body().map_err(|e| HandlerError::reject(e.to_string()))?;
                    assert!(m.s3_pointer().is_some());
                    assert_eq!(S3Pointer::from_body(m.sqs_body()).as_ref(), m.s3_pointer());
                    assert_eq!(m.raw_body(), body.as_str());
                    s.lock().unwrap().push(body.clone());
                    Ok::<_, HandlerError>(())
                }
            }))
            .wait_time(Duration::from_secs(1))
            .dead_letter(&dlq)
            .build()
            .unwrap();
        let report = run_until(worker, limit(&env), || seen.lock().unwrap().len() >= 4).await;
        assert_accounted(&report);
        assert_eq!((report.acked, report.payloads_deleted), (4, 4), "{report:?}");
        assert_eq!(report.payload_delete_failures, 0);
        let mut got = seen.lock().unwrap().clone();
        got.sort();
        assert_eq!(got, sent);
        assert!(keys(&s3, "payloads").await.is_empty(), "every object deleted");
        assert_eq!(s3_calls.get("DeleteObject"), 0);
        let batches = s3_calls.get("DeleteObjects");
        assert!((1..=4).contains(&batches), "{batches} DeleteObjects");
        assert_eq!(env.counts(queue.url()).await, (0, 0, 0));
    }
}

/// A copy of `s3` whose calls a new counter counts.
fn counted_s3(s3: &aws_sdk_s3::Client) -> (aws_sdk_s3::Client, RequestCounter) {
    let counter = RequestCounter::new();
    let config = s3
        .config()
        .to_builder()
        .interceptor(counter.clone())
        .build();
    (aws_sdk_s3::Client::from_conf(config), counter)
}

worker_test! {
    /// Many acks flushing together: their objects go in few `DeleteObjects` calls.
    async fn many_acks_delete_their_objects_in_few_calls(env) {
        let (queue, _dlq) = env.with_dlq("many").await;
        let (s3, offload) = bucket(&env, "many-payloads").await;
        let offload = offload.with_always_through_s3(true);
        let n = 60;
        produce(&queue, &offload, n, 100).await;
        let (counted, s3_calls) = counted_s3(&s3);
        let done = Count::default();
        let d = done.clone();
        let worker = Worker::builder(queue.clone())
            .codec(RawString)
            .offload(Offload::new(counted, "many-payloads"))
            .handler(handler_fn(move |_m: Message<String>| {
                d.inc();
                async { Ok::<_, HandlerError>(()) }
            }))
            .concurrency(60)
            .wait_time(Duration::from_secs(1))
            .build()
            .unwrap();
        let report = run_until(worker, limit(&env), || done.get() >= n).await;
        assert_eq!(report.payloads_deleted, n as u64, "{report:?}");
        assert!(keys(&s3, "many-payloads").await.is_empty());
        let calls = s3_calls.get("DeleteObjects");
        // At most one per flush of up to 10 acks, fewer when flushes meet.
        assert!(calls <= report.sqs_requests && calls < n as u64, "{calls} DeleteObjects for {n}");
        assert_eq!(s3_calls.get("DeleteObject"), 0);
    }
}

worker_test! {
    /// `Cleanup::Keep`: acked, and the objects stay.
    async fn keep_leaves_the_objects(env) {
        let (queue, _dlq) = env.with_dlq("keep").await;
        let (s3, offload) = bucket(&env, "kept").await;
        produce(&queue, &offload, 2, 2 * MIB).await;
        let done = Count::default();
        let d = done.clone();
        let worker = Worker::builder(queue.clone())
            .codec(RawString)
            .offload(offload.with_cleanup(Cleanup::Keep))
            .handler(handler_fn(move |m: Message<String>| {
                assert_eq!(m.body().unwrap().len(), 2 * MIB);
                d.inc();
                async { Ok::<_, HandlerError>(()) }
            }))
            .wait_time(Duration::from_secs(1))
            .build()
            .unwrap();
        let report = run_until(worker, limit(&env), || done.get() >= 2).await;
        assert_eq!((report.acked, report.payloads_deleted), (2, 0), "{report:?}");
        assert_eq!(keys(&s3, "kept").await.len(), 2, "kept");
        assert_eq!(env.counts(queue.url()).await, (0, 0, 0));
    }
}

worker_test! {
    /// A rejected message's dead-letter copy is the pointer with its marker, its object
    /// stays; moved back to the source queue, a second worker handles it and deletes it.
    async fn a_dead_lettered_copy_keeps_its_object_and_a_redrive_finds_it(env) {
        let (queue, dlq) = env.with_dlq("redrive").await;
        let (s3, offload) = bucket(&env, "redriven").await;
        let sent = produce(&queue, &offload, 1, 2 * MIB).await;
        let key = keys(&s3, "redriven").await.pop().unwrap();
        let calls = Count::default();
        let c = calls.clone();
        let worker = Worker::builder(queue.clone())
            .codec(RawString)
            .offload(offload.clone())
            .handler(handler_fn(move |_m: Message<String>| {
                c.inc();
                async { Err::<(), _>(HandlerError::reject("not today")) }
            }))
            .wait_time(Duration::from_secs(1))
            .dead_letter(&dlq)
            .build()
            .unwrap();
        let report = run_until(worker, limit(&env), || calls.get() >= 1).await;
        assert_accounted(&report);
        assert_eq!((report.dead_lettered, report.acked), (1, 1), "{report:?}");
        assert_eq!(report.payloads_deleted, 0);
        assert_eq!(keys(&s3, "redriven").await, std::slice::from_ref(&key), "the object stays");
        assert_eq!(env.counts(queue.url()).await, (0, 0, 0));

        // The copy: the pointer, its marker, the reason.
        let dead = env.drain(dlq.url()).await;
        assert_eq!(dead.len(), 1);
        let copy = &dead[0];
        let pointer = S3Pointer::from_body(copy.body().unwrap()).expect("a pointer body");
        assert_eq!((pointer.bucket(), pointer.key()), ("redriven", key.as_str()));
        let attrs = copy.message_attributes.clone().unwrap_or_default();
        assert_eq!(attrs[SIZE_ATTRIBUTE].data_type(), "Number");
        assert_eq!(attrs[SIZE_ATTRIBUTE].string_value(), Some((2 * MIB).to_string().as_str()));
        assert_eq!(attrs_of(copy)[dlq_attributes::REASON], "rejected");

        // Redrive: the copy goes back with its attributes (weir.dlq.* included, as SQS's
        // own redrive keeps them), then leaves the DLQ.
        let mut send = env
            .client
            .send_message()
            .queue_url(queue.url())
            .message_body(copy.body().unwrap());
        for (k, v) in attrs {
            send = send.message_attributes(k, v);
        }
        send.send().await.unwrap();
        env.client
            .delete_message()
            .queue_url(dlq.url())
            .receipt_handle(copy.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();

        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        let worker = Worker::builder(queue.clone())
            .codec(RawString)
            .offload(offload)
            .handler(handler_fn(move |m: Message<String>| {
                s.lock().unwrap().push(m.body().unwrap().clone());
                async { Ok::<_, HandlerError>(()) }
            }))
            .wait_time(Duration::from_secs(1))
            .dead_letter(&dlq)
            .build()
            .unwrap();
        let report = run_until(worker, limit(&env), || !seen.lock().unwrap().is_empty()).await;
        assert_eq!((report.acked, report.payloads_deleted), (1, 1), "{report:?}");
        assert_eq!(*seen.lock().unwrap(), sent, "the payload, found again");
        assert!(keys(&s3, "redriven").await.is_empty(), "deleted after this ack");
        assert_eq!(env.counts(queue.url()).await, (0, 0, 0));
        assert_eq!(env.counts(dlq.url()).await, (0, 0, 0));
    }
}

/// Sends one offloaded message, then deletes its object: a pointer to nothing.
async fn dangling(env: &Env, queue: &Queue, s3: &aws_sdk_s3::Client, bucket: &str) -> String {
    let key = format!("gone-{}", env.pick("p", "t"));
    let pointer = S3Pointer::new(bucket, &key);
    env.client
        .send_message()
        .queue_url(queue.url())
        .message_body(pointer.to_body())
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
    assert!(keys(s3, bucket).await.iter().all(|k| *k != key));
    key
}

worker_test! {
    /// A missing object: never handed to the handler, dead-lettered as `decode_failed`
    /// with S3's error.
    async fn a_missing_object_is_dead_lettered_with_the_reason(env) {
        let (queue, dlq) = env.with_dlq("missing").await;
        let (s3, offload) = bucket(&env, "holes").await;
        let key = dangling(&env, &queue, &s3, "holes").await;
        let calls = Count::default();
        let c = calls.clone();
        let worker = Worker::builder(queue.clone())
            .codec(RawString)
            .offload(offload)
            .handler(handler_fn(move |_m: Message<String>| {
                c.inc();
                async { Ok::<_, HandlerError>(()) }
            }))
            .wait_time(Duration::from_secs(1))
            .dead_letter(&dlq)
            .build()
            .unwrap();
        let dlq_url = dlq.url().to_owned();
        let client = env.client.clone();
        let (handle, task) = crate::support::spawn(worker);
        let arrived = crate::support::eventually(limit(&env), || {
            let (client, url) = (client.clone(), dlq_url.clone());
            async move {
                weir_integration_tests::queues::counts(&client, &url).await.0 == 1
            }
        })
        .await;
        assert!(arrived, "{:?}", handle.health());
        handle.shutdown();
        let report = task.await.unwrap();
        assert_accounted(&report);
        assert_eq!(calls.get(), 0, "the handler never sees it");
        assert_eq!((report.decode_failures, report.dead_lettered), (1, 1), "{report:?}");
        let dead = env.drain(dlq.url()).await;
        let attrs = attrs_of(&dead[0]);
        assert_eq!(attrs[dlq_attributes::REASON], "decode_failed");
        let error = &attrs[dlq_attributes::ERROR];
        assert!(error.contains("NoSuchKey") && error.contains(&key), "{error}");
        assert!(dead[0].message_attributes().unwrap().contains_key(SIZE_ATTRIBUTE));
        assert_eq!(env.counts(queue.url()).await, (0, 0, 0));
    }
}

worker_test! {
    /// `ignore_payload_not_found`: the message with a missing object is deleted by the
    /// receive, unseen and uncounted; the others are handled; nothing is left behind.
    async fn ignore_payload_not_found_skips_the_message_unseen(env) {
        let (queue, dlq) = env.with_dlq("ignored").await;
        let (s3, offload) = bucket(&env, "ignored").await;
        dangling(&env, &queue, &s3, "ignored").await;
        let sent = produce(&queue, &offload, 2, 2 * MIB).await;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        let worker = Worker::builder(queue.clone())
            .codec(RawString)
            .offload(offload.with_ignore_payload_not_found(true))
            .handler(handler_fn(move |m: Message<String>| {
                s.lock().unwrap().push(m.body().unwrap().clone());
                async { Ok::<_, HandlerError>(()) }
            }))
            .wait_time(Duration::from_secs(1))
            .dead_letter(&dlq)
            .build()
            .unwrap();
        let client = env.client.clone();
        let url = queue.url().to_owned();
        let (handle, task) = crate::support::spawn(worker);
        let drained = crate::support::eventually(limit(&env), || {
            let (client, url, n) = (client.clone(), url.clone(), seen.lock().unwrap().len());
            async move {
                n >= 2 && weir_integration_tests::queues::counts(&client, &url).await == (0, 0, 0)
            }
        })
        .await;
        assert!(drained, "{:?}", handle.health());
        handle.shutdown();
        let report = task.await.unwrap();
        assert_accounted(&report);
        let mut got = seen.lock().unwrap().clone();
        got.sort();
        assert_eq!(got, sent, "only the messages with payloads reach the handler");
        assert_eq!((report.received, report.acked, report.dead_lettered), (2, 2, 0), "{report:?}");
        assert_eq!(report.decode_failures, 0);
        assert_eq!(env.counts(dlq.url()).await, (0, 0, 0));
        assert!(keys(&s3, "ignored").await.is_empty());
    }
}

worker_test! {
    /// A 20 MiB payload (multipart is above 100 MiB, so one PutObject) and a small one
    /// from the same producer: the handler gets both whole, only the large one through
    /// S3, and its object goes after the ack.
    async fn a_twenty_mib_payload_beside_a_small_one(env) {
        let (queue, dlq) = env.with_dlq("twenty").await;
        let (s3, offload) = bucket(&env, "twenty").await;
        produce(&queue, &offload, 1, 20 * MIB).await;
        produce(&queue, &offload, 1, 1_000).await;
        assert_eq!(keys(&s3, "twenty").await.len(), 1, "only the large one is offloaded");
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        let worker = Worker::builder(queue.clone())
            .codec(RawString)
            .offload(offload)
            .handler(handler_fn(move |m: Message<String>| {
                let s = s.clone();
                async move {
                    let body = m.body().map_err(|e| HandlerError::reject(e.to_string()))?;
                    s.lock().unwrap().push((body.len(), m.s3_pointer().is_some()));
                    Ok::<_, HandlerError>(())
                }
            }))
            .wait_time(Duration::from_secs(1))
            .dead_letter(&dlq)
            .build()
            .unwrap();
        let report = run_until(worker, limit(&env), || seen.lock().unwrap().len() >= 2).await;
        assert_accounted(&report);
        let mut got = seen.lock().unwrap().clone();
        got.sort_unstable();
        assert_eq!(got, [(1_000, false), (20 * MIB, true)]);
        assert_eq!(report.payloads_deleted, 1, "{report:?}");
        assert!(keys(&s3, "twenty").await.is_empty());
    }
}
