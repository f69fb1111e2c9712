//! FIFO queues: ordering, deduplication, group blocking, attempt ids.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use weir_local::LocalSqs;

async fn fifo(client: &Client, name: &str, content_dedup: bool) -> String {
    client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(
            QueueAttributeName::ContentBasedDeduplication,
            if content_dedup { "true" } else { "false" },
        )
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url")
}

async fn send(
    client: &Client,
    url: &str,
    group: &str,
    body: &str,
) -> aws_sdk_sqs::operation::send_message::SendMessageOutput {
    client
        .send_message()
        .queue_url(url)
        .message_group_id(group)
        .message_body(body)
        .send()
        .await
        .expect("send")
}

async fn receive(client: &Client, url: &str, max: i32) -> Vec<aws_sdk_sqs::types::Message> {
    client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive")
        .messages
        .unwrap_or_default()
}

fn bodies(msgs: &[aws_sdk_sqs::types::Message]) -> Vec<&str> {
    msgs.iter().map(|m| m.body().unwrap_or_default()).collect()
}

#[tokio::test(start_paused = true)]
async fn order_is_kept_per_group_and_sequence_numbers_increase() {
    let client = LocalSqs::new().client();
    let url = fifo(&client, "order.fifo", true).await;
    let mut seqs = Vec::new();
    for i in 0..5 {
        let out = send(&client, &url, "g", &format!("m{i}")).await;
        let s = out.sequence_number().unwrap().to_owned();
        assert!(
            s.len() >= 20 && s.bytes().all(|b| b.is_ascii_digit()),
            "{s}"
        );
        seqs.push(s.parse::<u128>().unwrap());
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    let got = receive(&client, &url, 10).await;
    assert_eq!(bodies(&got), ["m0", "m1", "m2", "m3", "m4"]);
    let a = got[0].attributes().unwrap();
    assert_eq!(a[&MessageSystemAttributeName::MessageGroupId], "g");
    assert!(a.contains_key(&MessageSystemAttributeName::SequenceNumber));
    assert!(a.contains_key(&MessageSystemAttributeName::MessageDeduplicationId));
}

#[tokio::test(start_paused = true)]
async fn a_group_is_blocked_while_a_message_is_in_flight() {
    let client = LocalSqs::new().client();
    let url = fifo(&client, "block.fifo", true).await;
    send(&client, &url, "a", "a1").await;
    send(&client, &url, "a", "a2").await;
    send(&client, &url, "b", "b1").await;
    let first = receive(&client, &url, 1).await;
    assert_eq!(bodies(&first), ["a1"]);
    // Group a is blocked: only b1 can come out.
    let second = receive(&client, &url, 10).await;
    assert_eq!(bodies(&second), ["b1"]);
    assert!(receive(&client, &url, 10).await.is_empty());
    client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(first[0].receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(bodies(&receive(&client, &url, 10).await), ["a2"]);
}

#[tokio::test(start_paused = true)]
async fn a_returned_message_comes_back_first_in_its_group() {
    let client = LocalSqs::new().client();
    let url = fifo(&client, "retry.fifo", true).await;
    send(&client, &url, "g", "one").await;
    send(&client, &url, "g", "two").await;
    let got = client
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(5)
        .send()
        .await
        .unwrap();
    assert_eq!(got.messages()[0].body(), Some("one"));
    tokio::time::advance(Duration::from_secs(6)).await;
    assert_eq!(bodies(&receive(&client, &url, 10).await), ["one", "two"]);
}

#[tokio::test(start_paused = true)]
async fn duplicates_within_five_minutes_are_dropped() {
    let client = LocalSqs::new().client();
    let url = fifo(&client, "dedup.fifo", true).await;
    let a = send(&client, &url, "g", "same").await;
    let b = send(&client, &url, "g", "same").await;
    assert_eq!(a.message_id(), b.message_id());
    let explicit = |id: &str| {
        client
            .send_message()
            .queue_url(&url)
            .message_group_id("g")
            .message_body("other body")
            .message_deduplication_id(id)
            .send()
    };
    let c = explicit("d1").await.unwrap();
    let d = explicit("d1").await.unwrap();
    assert_eq!(c.message_id(), d.message_id());
    let got = receive(&client, &url, 10).await;
    assert_eq!(got.len(), 2);
    for m in &got {
        client
            .delete_message()
            .queue_url(&url)
            .receipt_handle(m.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
    }
    tokio::time::advance(Duration::from_secs(301)).await;
    let e = send(&client, &url, "g", "same").await;
    assert_ne!(e.message_id(), a.message_id());
    assert_eq!(receive(&client, &url, 10).await.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn content_based_dedup_uses_sha256_of_body() {
    let client = LocalSqs::new().client();
    let url = fifo(&client, "sha.fifo", true).await;
    send(&client, &url, "g", "hello").await;
    let got = receive(&client, &url, 1).await;
    assert_eq!(
        got[0].attributes().unwrap()[&MessageSystemAttributeName::MessageDeduplicationId],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
}

#[tokio::test(start_paused = true)]
async fn fifo_send_rules() {
    let client = LocalSqs::new().client();
    let url = fifo(&client, "rules.fifo", false).await;
    let err = client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_deduplication_id("d")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("MissingParameter")
    );
    let err = client
        .send_message()
        .queue_url(&url)
        .message_group_id("g")
        .message_body("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
    let err = client
        .send_message()
        .queue_url(&url)
        .message_group_id("g")
        .message_deduplication_id("d")
        .message_body("x")
        .delay_seconds(5)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
    // Dedup ids are not valid on standard queues.
    let std_url = client
        .create_queue()
        .queue_name("std")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let err = client
        .send_message()
        .queue_url(&std_url)
        .message_deduplication_id("d")
        .message_body("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
}

#[tokio::test(start_paused = true)]
async fn receive_request_attempt_id_returns_the_same_messages() {
    let client = LocalSqs::new().client();
    let url = fifo(&client, "attempt.fifo", true).await;
    send(&client, &url, "g", "m1").await;
    send(&client, &url, "h", "m2").await;
    let call = || {
        client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .receive_request_attempt_id("attempt-1")
            .send()
    };
    let first = call().await.unwrap();
    let second = call().await.unwrap();
    assert_eq!(first.messages().len(), 2);
    let ids = |o: &aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput| {
        o.messages()
            .iter()
            .map(|m| {
                (
                    m.message_id().unwrap().to_owned(),
                    m.receipt_handle().unwrap().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), ids(&second));
    // A different attempt id gets nothing: both groups are in flight.
    let other = client
        .receive_message()
        .queue_url(&url)
        .receive_request_attempt_id("attempt-2")
        .send()
        .await
        .unwrap();
    assert!(other.messages().is_empty());
}

#[tokio::test(start_paused = true)]
async fn dedup_scope_message_group_allows_same_id_in_other_groups() {
    let client = LocalSqs::new().client();
    let url = client
        .create_queue()
        .queue_name("scope.fifo")
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
        .attributes(QueueAttributeName::DeduplicationScope, "messageGroup")
        .attributes(QueueAttributeName::FifoThroughputLimit, "perMessageGroupId")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    send(&client, &url, "a", "same").await;
    send(&client, &url, "b", "same").await;
    send(&client, &url, "a", "same").await;
    assert_eq!(receive(&client, &url, 10).await.len(), 2);
}
