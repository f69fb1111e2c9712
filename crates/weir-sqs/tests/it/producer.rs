use std::time::Duration;

use serde::{Deserialize, Serialize};
use weir_sqs::codec::TaggedJson;
use weir_sqs::{AttributeValue, Consumer, Error, Producer, Queue, ReceiveOptions, SendOptions};

use crate::support::{client, create_fifo, create_queue, unique};
use weir_sqs::RequestCounter;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u32,
    note: String,
}

fn order(id: u32) -> Order {
    Order {
        id,
        note: "n".repeat(10),
    }
}

async fn drain<T>(c: &Consumer<T>, n: usize) -> Vec<weir_sqs::Message<T>>
where
    weir_sqs::Json: weir_sqs::Decode<T>,
{
    let mut out = Vec::new();
    for _ in 0..30 {
        let got = c
            .receive(&ReceiveOptions::default().with_wait(Duration::from_secs(1)))
            .await
            .unwrap();
        let r = c.ack_batch(&got).await;
        assert!(r.iter().all(Result::is_ok));
        out.extend(got);
        if out.len() >= n {
            break;
        }
    }
    out
}

#[tokio::test(start_paused = true)]
async fn send_and_receive_with_attributes_and_traceparent() {
    let client = client().await;
    let name = unique("send");
    create_queue(&client, &name).await;
    let q = Queue::open(&client, &name).await.unwrap();
    let producer: Producer<Order> = Producer::builder(q.clone())
        .traceparent(|| Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned()))
        .build()
        .unwrap();
    let out = producer
        .send_with(
            &order(1),
            SendOptions::default().with_attribute("tenant", AttributeValue::string("acme")),
        )
        .await
        .unwrap();
    assert!(!out.message_id().is_empty());
    let consumer: Consumer<Order> = Consumer::new(q);
    let got = drain(&consumer, 1).await;
    assert_eq!(got[0].message_id(), out.message_id());
    assert_eq!(got[0].body().unwrap(), &order(1));
    assert_eq!(got[0].attribute("tenant"), Some("acme"));
    assert_eq!(
        got[0].traceparent(),
        Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    );
}

#[tokio::test(start_paused = true)]
async fn send_batch_uses_one_call_per_ten() {
    let (client, counter) = RequestCounter::attach(&client().await);
    let name = unique("batch");
    create_queue(&client, &name).await;
    let q = Queue::open(&client, &name).await.unwrap();
    let producer: Producer<Order> = Producer::new(q.clone());
    let orders: Vec<Order> = (0..25).map(order).collect();
    counter.reset();
    let results = producer.send_batch(&orders).await;
    assert_eq!(results.len(), 25);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(counter.get("SendMessageBatch"), 3);
    assert_eq!(counter.total(), 3);
    let got = drain(&Consumer::<Order>::new(q), 25).await;
    let mut ids: Vec<u32> = got.iter().map(|m| m.body().unwrap().id).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..25).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn send_batch_splits_by_size() {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let (client, counter) = RequestCounter::attach(&client().await);
    let name = unique("batch-size");
    client
        .create_queue()
        .queue_name(&name)
        .attributes(A::MaximumMessageSize, "1024")
        .send()
        .await
        .unwrap();
    let q = Queue::open(&client, &name).await.unwrap();
    assert_eq!(q.attributes().max_message_size(), 1024);
    let producer: Producer<String, weir_sqs::RawString> = Producer::builder(q)
        .codec(weir_sqs::RawString)
        .build()
        .unwrap();
    let bodies: Vec<String> = (0..10).map(|i| format!("{i}{}", "x".repeat(299))).collect();
    counter.reset();
    let results = producer.send_batch(&bodies).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // 300 bytes each, 1024 per call: 3 per call -> 4 calls
    assert_eq!(counter.get("SendMessageBatch"), 4);
}

#[tokio::test(start_paused = true)]
async fn invalid_messages_fail_alone_before_the_network() {
    let (client, counter) = RequestCounter::attach(&client().await);
    let name = unique("batch-invalid");
    create_queue(&client, &name).await;
    let q = Queue::open(&client, &name).await.unwrap();
    let producer: Producer<String, weir_sqs::RawString> = Producer::builder(q)
        .codec(weir_sqs::RawString)
        .build()
        .unwrap();
    let bodies = vec![
        "ok".to_owned(),
        "bad \u{1}".to_owned(),
        "x".repeat(1_048_577),
        String::new(),
    ];
    counter.reset();
    let r = producer.send_batch(&bodies).await;
    assert!(r[0].is_ok());
    assert!(matches!(r[1], Err(Error::InvalidInput(_))));
    match &r[2] {
        Err(Error::PayloadTooLarge(p)) => {
            assert_eq!(p.limit(), 1_048_576);
            assert_eq!(p.actual(), 1_048_577);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(r[3], Err(Error::InvalidInput(_))));
    assert_eq!(counter.total(), 1, "one call, for the one valid message");
    // Single sends refuse before the network too.
    let e = producer.send(&"x".repeat(1_048_577)).await.unwrap_err();
    assert!(matches!(e, Error::PayloadTooLarge(_)));
    let many: weir_sqs::Attributes = (0..11)
        .map(|i| (format!("a{i}"), AttributeValue::string("v")))
        .collect();
    let e = producer
        .send_with(
            &"x".to_owned(),
            SendOptions {
                attributes: many,
                ..SendOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("limit is 10"), "{e}");
    let e = producer
        .send_with(&"x".to_owned(), SendOptions::default().with_dedup_id("d"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("only FIFO"), "{e}");
    assert_eq!(counter.total(), 1);
}

#[tokio::test(start_paused = true)]
async fn delayed_send_is_not_visible_at_once() {
    let client = client().await;
    let name = unique("delay");
    create_queue(&client, &name).await;
    let q = Queue::open(&client, &name).await.unwrap();
    let producer: Producer<Order> = Producer::new(q.clone());
    producer
        .send_with(
            &order(1),
            SendOptions::default().with_delay(Duration::from_secs(60)),
        )
        .await
        .unwrap();
    let consumer: Consumer<Order> = Consumer::new(q.clone());
    let got = consumer
        .receive(&ReceiveOptions::default().with_wait(Duration::ZERO))
        .await
        .unwrap();
    assert!(got.is_empty());
    assert_eq!(q.depth().await.unwrap().delayed, 1);
}

#[tokio::test(start_paused = true)]
async fn fifo_rules_and_order() {
    let client = client().await;
    let name = format!("{}.fifo", unique("fifo-send"));
    create_fifo(&client, &name, false).await;
    let q = Queue::open(&client, &name).await.unwrap();
    let producer: Producer<Order> = Producer::new(q.clone());
    let e = producer.send(&order(1)).await.unwrap_err();
    assert!(e.to_string().contains("group id"), "{e}");
    let e = producer
        .send_with(&order(1), SendOptions::default().with_group_id("g"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("deduplication id"), "{e}");
    let orders: Vec<Order> = (0..15).map(order).collect();
    let r = producer
        .send_batch_with(orders.iter().map(|o| {
            (
                o,
                SendOptions::default()
                    .with_group_id("g")
                    .with_dedup_id(format!("d{}", o.id)),
            )
        }))
        .await;
    assert!(r.iter().all(Result::is_ok), "{r:?}");
    assert!(r[0].as_ref().unwrap().sequence_number().is_some());
    let consumer: Consumer<Order> = Consumer::new(q);
    let got = drain(&consumer, 15).await;
    let ids: Vec<u32> = got.iter().map(|m| m.body().unwrap().id).collect();
    assert_eq!(ids, (0..15).collect::<Vec<_>>(), "FIFO order kept");
    assert_eq!(got[0].group_id(), Some("g"));
    assert_eq!(got[0].dedup_id(), Some("d0"));
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Event {
    Placed(Order),
    Cancelled { id: u32 },
}

#[tokio::test(start_paused = true)]
async fn type_tags_route_several_types_on_one_queue() {
    let client = client().await;
    let name = unique("tagged");
    create_queue(&client, &name).await;
    let q = Queue::open(&client, &name).await.unwrap();
    let producer: Producer<Event, TaggedJson> = Producer::builder(q.clone())
        .codec(TaggedJson)
        .build()
        .unwrap();
    producer.send(&Event::Placed(order(1))).await.unwrap();
    producer.send(&Event::Cancelled { id: 1 }).await.unwrap();
    let consumer: Consumer<Event, TaggedJson> = Consumer::with_codec(q, TaggedJson);
    let mut got = Vec::new();
    for _ in 0..10 {
        got.extend(
            consumer
                .receive(&ReceiveOptions::default().with_wait(Duration::from_secs(1)))
                .await
                .unwrap(),
        );
        if got.len() >= 2 {
            break;
        }
    }
    let mut tags: Vec<&str> = got.iter().map(|m| m.type_tag().unwrap()).collect();
    tags.sort_unstable();
    assert_eq!(tags, ["Cancelled", "Placed"]);
    for m in &got {
        match (m.type_tag(), m.body().unwrap()) {
            (Some("Placed"), Event::Placed(o)) => {
                assert_eq!(o, &order(1));
                assert_eq!(
                    m.raw_body(),
                    serde_json::to_string(&order(1)).unwrap(),
                    "plain JSON body"
                );
            }
            (Some("Cancelled"), Event::Cancelled { id }) => assert_eq!(*id, 1),
            other => panic!("{other:?}"),
        }
    }
}

async fn faulty_queue(
    fail_calls: usize,
    code: &'static str,
    sender_fault: bool,
) -> (Queue, crate::support::FaultyBatch) {
    let (client, faulty) = crate::support::faulty_batch_client(fail_calls, code, sender_fault);
    let name = unique("faulty");
    create_queue(&client, &name).await;
    (Queue::open(&client, &name).await.unwrap(), faulty)
}

#[tokio::test(start_paused = true)]
async fn only_the_failed_retryable_entry_is_sent_again() {
    let (q, faulty) = faulty_queue(1, "InternalError", false).await;
    let producer: Producer<Order> = Producer::new(q.clone());
    let orders: Vec<Order> = (0..3).map(order).collect();
    let r = producer.send_batch(&orders).await;
    assert!(r.iter().all(Result::is_ok), "{r:?}");
    assert_eq!(faulty.calls(), vec![vec!["0", "1", "2"], vec!["1"]]);
    let got = drain(&Consumer::<Order>::new(q), 3).await;
    assert_eq!(got.len(), 3, "every message stored once");
}

#[tokio::test(start_paused = true)]
async fn a_sender_fault_entry_is_not_retried() {
    let (q, faulty) = faulty_queue(usize::MAX, "InvalidParameterValue", true).await;
    let producer: Producer<Order> = Producer::new(q);
    let orders: Vec<Order> = (0..3).map(order).collect();
    let r = producer.send_batch(&orders).await;
    assert!(r[0].is_ok() && r[2].is_ok());
    let e = r[1].as_ref().unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterValue"));
    assert!(!e.is_retryable());
    assert_eq!(faulty.calls().len(), 1);
    // require_all turns the results into one PartialBatch error with the detail.
    match weir_sqs::batch::require_all("SendMessageBatch", r).unwrap_err() {
        Error::PartialBatch(f) => {
            assert_eq!(f.total(), 3);
            assert_eq!(f.entries().len(), 1);
            assert_eq!(f.entries()[0].index(), 1);
            assert_eq!(f.entries()[0].code(), "InvalidParameterValue");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn retries_are_bounded_with_backoff() {
    let (q, faulty) = faulty_queue(usize::MAX, "InternalError", false).await;
    let producer: Producer<Order> = Producer::new(q);
    let start = tokio::time::Instant::now();
    let r = producer.send_batch(&[order(0), order(1)]).await;
    assert!(r[0].is_ok());
    let e = r[1].as_ref().unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    let calls = faulty.calls();
    assert_eq!(calls.len(), 4, "one try and three retries: {calls:?}");
    assert!(calls[1..].iter().all(|c| c == &vec!["1".to_owned()]));
    assert!(
        start.elapsed() >= Duration::from_millis(150),
        "backed off: {:?}",
        start.elapsed()
    );
}
