use std::time::Duration;

use weir_sqs::{BatchingProducer, Consumer, Producer, Queue, ReceiveOptions};

use crate::support::{client, create_queue, unique};
use weir_sqs::RequestCounter;

async fn setup() -> (Queue, RequestCounter) {
    let (client, counter) = RequestCounter::attach(&client().await);
    let name = unique("batching");
    create_queue(&client, &name).await;
    let q = Queue::open(&client, &name).await.unwrap();
    counter.reset();
    (q, counter)
}

async fn count_messages(q: &Queue, n: usize) -> usize {
    let consumer: Consumer<u32> = Consumer::new(q.clone());
    let mut seen = 0;
    for _ in 0..30 {
        let got = consumer
            .receive(&ReceiveOptions::default().with_wait(Duration::from_secs(1)))
            .await
            .unwrap();
        seen += got.len();
        consumer.ack_batch(&got).await;
        if seen >= n {
            break;
        }
    }
    seen
}

#[tokio::test(start_paused = true)]
async fn full_batches_flush_at_ten() {
    let (q, counter) = setup().await;
    let batching = BatchingProducer::builder(Producer::<u32>::new(q.clone()))
        .linger(Duration::from_secs(3600))
        .build()
        .unwrap();
    let mut pending = Vec::new();
    for i in 0..20 {
        pending.push(batching.enqueue(&i).await.unwrap());
    }
    for p in pending {
        assert!(!p.await.unwrap().message_id().is_empty());
    }
    assert_eq!(
        counter.get("SendMessageBatch"),
        2,
        "two full batches, no linger wait"
    );
    batching.close().await;
    assert_eq!(count_messages(&q, 20).await, 20);
}

#[tokio::test(start_paused = true)]
async fn close_flushes_a_partial_batch() {
    let (q, counter) = setup().await;
    let batching = BatchingProducer::builder(Producer::<u32>::new(q.clone()))
        .linger(Duration::from_secs(3600))
        .build()
        .unwrap();
    let a = batching.enqueue(&1).await.unwrap();
    let b = batching.enqueue(&2).await.unwrap();
    batching.close().await;
    a.await.unwrap();
    b.await.unwrap();
    assert_eq!(counter.get("SendMessageBatch"), 1);
    assert_eq!(count_messages(&q, 2).await, 2);
}

#[tokio::test(start_paused = true)]
async fn drop_flushes_too() {
    let (q, _counter) = setup().await;
    let batching = BatchingProducer::builder(Producer::<u32>::new(q.clone()))
        .linger(Duration::from_secs(3600))
        .build()
        .unwrap();
    let a = batching.enqueue(&1).await.unwrap();
    drop(batching);
    a.await.unwrap();
    assert_eq!(count_messages(&q, 1).await, 1);
}

#[tokio::test(start_paused = true)]
async fn linger_flushes_a_lone_message() {
    let (q, counter) = setup().await;
    let batching = BatchingProducer::new(Producer::<u32>::new(q.clone()));
    let out = batching.send(&7).await.unwrap();
    assert!(!out.message_id().is_empty());
    assert_eq!(counter.get("SendMessageBatch"), 1);
    batching.close().await;
}

#[tokio::test(start_paused = true)]
async fn invalid_messages_are_refused_at_enqueue() {
    let (q, counter) = setup().await;
    let batching = BatchingProducer::new(
        Producer::<String>::builder(q)
            .codec(weir_sqs::RawString)
            .build()
            .unwrap(),
    );
    let e = batching.enqueue(&"x".repeat(1_048_577)).await.unwrap_err();
    assert!(matches!(e, weir_sqs::Error::PayloadTooLarge(_)));
    batching.close().await;
    assert_eq!(counter.total(), 0);
}

#[tokio::test(start_paused = true)]
async fn builder_validates() {
    let (q, _c) = setup().await;
    assert!(
        BatchingProducer::builder(Producer::<u32>::new(q.clone()))
            .buffer(0)
            .build()
            .is_err()
    );
    assert!(
        BatchingProducer::builder(Producer::<u32>::new(q.clone()))
            .max_in_flight(0)
            .build()
            .is_err()
    );
    assert!(
        BatchingProducer::builder(Producer::<u32>::new(q))
            .linger(Duration::from_secs(3601))
            .build()
            .is_err()
    );
}

#[tokio::test(start_paused = true)]
async fn linger_bounds_the_wait_of_a_partial_batch() {
    let (q, _counter) = setup().await;
    let batching = BatchingProducer::builder(Producer::<u32>::new(q))
        .linger(Duration::from_millis(10))
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    batching.send(&1).await.unwrap();
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(10), "{waited:?}");
    if crate::support::in_process() {
        // Over the network, paused time also advances while waiting on I/O.
        assert!(waited < Duration::from_millis(20), "{waited:?}");
    }
    batching.close().await;
}

#[tokio::test(start_paused = true)]
async fn a_full_buffer_pushes_back_on_the_caller() {
    let client = crate::support::slow_client(Duration::from_secs(1));
    let name = unique("backpressure");
    create_queue(&client, &name).await;
    let q = Queue::open(&client, &name).await.unwrap();
    let (client, counter) = RequestCounter::attach(q.client());
    let q = Queue::with_attributes(client, q.url(), q.attributes().clone());
    let batching = BatchingProducer::builder(Producer::<u32>::new(q))
        .buffer(5)
        .max_in_flight(1)
        .linger(Duration::from_millis(1))
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let mut returned = Vec::new();
    let mut pending = Vec::new();
    for i in 0..60 {
        pending.push(batching.enqueue(&i).await.unwrap());
        returned.push(start.elapsed());
    }
    // 10 in the call in flight, 10 waiting for it, 5 in the buffer: the 26th waits.
    assert_eq!(returned[24], Duration::ZERO, "{returned:?}");
    assert!(returned[25] >= Duration::from_secs(1), "{returned:?}");
    for p in pending {
        p.await.unwrap();
    }
    assert_eq!(
        counter.get("SendMessageBatch"),
        6,
        "full batches under load"
    );
    batching.close().await;
}

#[tokio::test(start_paused = true)]
async fn fifo_order_is_kept_through_the_buffer() {
    let client = client().await;
    let name = format!("{}.fifo", unique("batching-fifo"));
    crate::support::create_fifo(&client, &name, true).await;
    let q = Queue::open(&client, &name).await.unwrap();
    let batching = BatchingProducer::new(Producer::<u32>::new(q.clone()));
    let mut pending = Vec::new();
    for i in 0..35 {
        let opts = weir_sqs::SendOptions::default().with_group_id("g");
        pending.push(batching.enqueue_with(&i, opts).await.unwrap());
    }
    for p in pending {
        p.await.unwrap();
    }
    batching.close().await;
    let consumer: Consumer<u32> = Consumer::new(q);
    let mut got = Vec::new();
    while got.len() < 35 {
        let msgs = consumer.receive(&ReceiveOptions::default()).await.unwrap();
        assert!(!msgs.is_empty());
        got.extend(msgs.iter().map(|m| *m.body().unwrap()));
        consumer.ack_batch(&msgs).await;
    }
    assert_eq!(got, (0..35).collect::<Vec<_>>());
}
