use std::time::Duration;

use serde::{Deserialize, Serialize};
use weir_sqs::{Consumer, Error, Queue, RawString, ReceiveOptions};

use crate::support::{client, create_queue, unique};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u32,
}

async fn queue_with(bodies: &[&str]) -> (aws_sdk_sqs::Client, Queue) {
    let client = client().await;
    let name = unique("consume");
    let url = create_queue(&client, &name).await;
    for b in bodies {
        client
            .send_message()
            .queue_url(&url)
            .message_body(*b)
            .message_attributes(
                "k",
                aws_sdk_sqs::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("v")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    let q = Queue::open(&client, &name).await.unwrap();
    (client, q)
}

async fn receive_all<T>(c: &Consumer<T>, n: usize) -> Vec<weir_sqs::Message<T>>
where
    weir_sqs::Json: weir_sqs::Decode<T>,
{
    let mut out = Vec::new();
    for _ in 0..20 {
        out.extend(
            c.receive(&ReceiveOptions::default().with_wait(Duration::from_secs(1)))
                .await
                .unwrap(),
        );
        if out.len() >= n {
            break;
        }
    }
    out
}

#[tokio::test(start_paused = true)]
async fn receive_decodes_and_keeps_poison_messages() {
    let (_c, q) = queue_with(&[r#"{"id":1}"#, "not json", r#"{"id":2}"#]).await;
    let consumer: Consumer<Order> = Consumer::new(q);
    let msgs = receive_all(&consumer, 3).await;
    assert_eq!(msgs.len(), 3);
    let mut ids: Vec<u32> = msgs
        .iter()
        .filter_map(|m| m.body().ok())
        .map(|o| o.id)
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![1, 2]);
    let poison = msgs.iter().find(|m| m.body().is_err()).unwrap();
    assert_eq!(poison.raw_body(), "not json");
    for m in &msgs {
        assert_eq!(m.receive_count(), 1);
        assert!(m.sent_at().is_some());
        assert!(!m.message_id().is_empty());
        assert_eq!(m.attribute("k"), Some("v"));
    }
    let results = consumer.ack_batch(&msgs).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(consumer.queue().depth().await.unwrap().in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn raw_string_consumer_reads_any_body() {
    let (_c, q) = queue_with(&["<xml/>"]).await;
    let consumer = Consumer::with_codec(q, RawString);
    let msgs = consumer
        .receive(&ReceiveOptions::default().with_wait(Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(msgs[0].body().unwrap(), "<xml/>");
    consumer.ack(&msgs[0]).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn nack_makes_the_message_visible_again() {
    let (_c, q) = queue_with(&[r#"{"id":7}"#]).await;
    let consumer: Consumer<Order> = Consumer::new(q);
    let first = receive_all(&consumer, 1).await;
    consumer.nack(&first[0], Duration::ZERO).await.unwrap();
    let again = receive_all(&consumer, 1).await;
    assert_eq!(again[0].message_id(), first[0].message_id());
    assert_eq!(again[0].receive_count(), 2);
    consumer.ack(&again[0]).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn extend_and_release_in_batches() {
    let bodies: Vec<String> = (0..12).map(|i| format!(r#"{{"id":{i}}}"#)).collect();
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let (_c, q) = queue_with(&refs).await;
    let consumer: Consumer<Order> = Consumer::new(q.clone());
    let msgs = receive_all(&consumer, 12).await;
    assert_eq!(msgs.len(), 12);
    let r = consumer
        .change_visibility_batch(&msgs, Duration::from_secs(600))
        .await;
    assert!(r.iter().all(Result::is_ok), "{r:?}");
    consumer
        .extend(&msgs[0], Duration::from_secs(60))
        .await
        .unwrap();
    // A bad entry fails alone, before the network; the others go through.
    let mut entries: Vec<(&str, Duration)> = msgs
        .iter()
        .map(|m| (m.receipt_handle(), Duration::ZERO))
        .collect();
    entries[3].1 = Duration::from_secs(50_000);
    let r = q.change_visibility_batch(&entries).await;
    assert!(matches!(r[3], Err(Error::InvalidInput(_))));
    assert_eq!(r.iter().filter(|r| r.is_ok()).count(), 11);
    // Released: visible again.
    let again = receive_all(&consumer, 11).await;
    assert_eq!(again.len(), 11);
    consumer.ack_batch(&again).await;
}

#[tokio::test(start_paused = true)]
async fn ack_batch_reports_each_entry() {
    let (_c, q) = queue_with(&[r#"{"id":1}"#]).await;
    let consumer: Consumer<Order> = Consumer::new(q.clone());
    let msgs = receive_all(&consumer, 1).await;
    let r = q
        .delete_batch(&[msgs[0].receipt_handle(), "not-a-receipt-handle"])
        .await;
    assert!(r[0].is_ok(), "{r:?}");
    let e = r[1].as_ref().unwrap_err();
    assert!(matches!(e, Error::BatchEntry(_)), "{e:?}");
    assert!(!e.is_retryable(), "{e:?}");
    assert!(e.code().is_some());
}

#[tokio::test(start_paused = true)]
async fn receive_options_are_checked_first() {
    let (_c, q) = queue_with(&[]).await;
    let consumer: Consumer<Order> = Consumer::new(q);
    let e = consumer
        .receive(&ReceiveOptions::default().with_max_messages(11))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("1-10"), "{e}");
    let e = consumer
        .receive(&ReceiveOptions::default().with_attempt_id("x"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)));
}

#[tokio::test(start_paused = true)]
async fn fifo_receive_attempt_id_returns_the_same_messages() {
    let client = client().await;
    let name = format!("{}.fifo", unique("attempt"));
    crate::support::create_fifo(&client, &name, true).await;
    let q = Queue::open(&client, &name).await.unwrap();
    let producer: weir_sqs::Producer<Order> = weir_sqs::Producer::new(q.clone());
    for id in 0..3 {
        producer
            .send_with(
                &Order { id },
                weir_sqs::SendOptions::default().with_group_id("g"),
            )
            .await
            .unwrap();
    }
    let consumer: Consumer<Order> = Consumer::new(q);
    let opts = ReceiveOptions::default().with_attempt_id("attempt-1");
    let first = consumer.receive(&opts).await.unwrap();
    assert_eq!(first.len(), 3);
    assert!(first.iter().all(|m| m.sequence_number().is_some()));
    if !crate::support::in_process() {
        // LocalStack 4.12 does not replay receives by attempt id (it returns nothing).
        return;
    }
    let again = consumer.receive(&opts).await.unwrap();
    let ids = |ms: &[weir_sqs::Message<Order>]| {
        ms.iter()
            .map(|m| m.message_id().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&again),
        ids(&first),
        "a retried receive returns the same messages"
    );
}
