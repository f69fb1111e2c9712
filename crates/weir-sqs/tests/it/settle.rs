//! The single-attempt batch calls a worker retries around, and raw sends.

use std::time::Duration;

use weir_sqs::{AttributeValue, Consumer, Error, Queue, ReceiveOptions, SendOptions};

use crate::support::{client, create_fifo, create_queue, unique};

async fn received(q: &Queue, n: usize) -> Vec<weir_sqs::Message<String>> {
    let c: Consumer<String, weir_sqs::RawString> =
        Consumer::with_codec(q.clone(), weir_sqs::RawString);
    let mut got = Vec::new();
    while got.len() < n {
        got.extend(c.receive(&ReceiveOptions::default()).await.unwrap());
    }
    got
}

#[tokio::test(start_paused = true)]
async fn delete_batch_once_reports_each_entry() {
    let client = client().await;
    let url = create_queue(&client, &unique("once")).await;
    let q = Queue::from_url(&client, &url).await.unwrap();
    for i in 0..3 {
        q.send_raw(format!("m{i}"), SendOptions::default())
            .await
            .unwrap();
    }
    let msgs = received(&q, 3).await;
    let mut handles: Vec<&str> = msgs.iter().map(|m| m.receipt_handle()).collect();
    handles.insert(1, "");
    let results = q.delete_batch_once(&handles).await.unwrap();
    assert_eq!(results.len(), 4);
    assert!(results[0].is_ok() && results[2].is_ok() && results[3].is_ok());
    assert!(
        matches!(&results[1], Err(Error::InvalidInput(e)) if e.field() == "receipt handle"),
        "{:?}",
        results[1]
    );
    assert_eq!(q.depth().await.unwrap().in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn once_calls_refuse_more_than_ten_before_the_network() {
    let client = client().await;
    let url = create_queue(&client, &unique("eleven")).await;
    let q = Queue::from_url(&client, &url).await.unwrap();
    let handles = vec!["h"; 11];
    let e = q.delete_batch_once(&handles).await.unwrap_err();
    assert!(e.to_string().contains("1 to 10"), "{e}");
    let none: Vec<(&str, Duration)> = Vec::new();
    assert!(q.change_visibility_batch_once(&none).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn change_visibility_batch_once_releases_and_reports_bad_handles() {
    let client = client().await;
    let url = create_queue(&client, &unique("vis-once")).await;
    let q = Queue::from_url(&client, &url).await.unwrap();
    q.send_raw("x", SendOptions::default()).await.unwrap();
    let msgs = received(&q, 1).await;
    let entries = [
        (msgs[0].receipt_handle(), Duration::ZERO),
        ("not-a-receipt-handle", Duration::ZERO),
    ];
    let results = q.change_visibility_batch_once(&entries).await.unwrap();
    assert!(results[0].is_ok(), "{:?}", results[0]);
    match &results[1] {
        Err(Error::BatchEntry(f)) => assert_eq!(f.code(), "ReceiptHandleIsInvalid"),
        other => panic!("expected a failed entry, got {other:?}"),
    }
    assert_eq!(q.depth().await.unwrap().visible, 1);
}

#[tokio::test(start_paused = true)]
async fn send_raw_checks_size_and_fifo_rules_first() {
    let client = client().await;
    let url = create_queue(&client, &unique("raw")).await;
    let q = Queue::from_url(&client, &url).await.unwrap();
    let too_big = "x".repeat(1_048_577);
    assert!(matches!(
        q.send_raw(too_big, SendOptions::default()).await,
        Err(Error::PayloadTooLarge(_))
    ));
    let fifo_url = create_fifo(&client, &format!("{}.fifo", unique("raw")), false).await;
    let fifo = Queue::from_url(&client, &fifo_url).await.unwrap();
    let e = fifo
        .send_raw("x", SendOptions::default().with_group_id("g"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("deduplication id"), "{e}");
    let opts = SendOptions::default()
        .with_attribute("k", AttributeValue::string("v"))
        .with_group_id("g")
        .with_dedup_id("d1");
    let out = fifo.send_raw("x", opts).await.unwrap();
    assert!(out.sequence_number().is_some());
    let msgs = received(&fifo, 1).await;
    assert_eq!(msgs[0].attribute("k"), Some("v"));
    assert_eq!(msgs[0].raw_body(), "x");
}
