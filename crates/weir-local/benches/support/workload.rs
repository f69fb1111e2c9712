//! The workload the `roundtrip` bench and the `prof` bench share: a batch of ten
//! sent, received and deleted through a real `aws_sdk_sqs::Client`.

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};

/// send_batch(10) + receive(10) + delete_batch(10) through the SDK.
pub(crate) async fn roundtrip(
    client: &aws_sdk_sqs::Client,
    url: &str,
    entries: &[SendMessageBatchRequestEntry],
) {
    client
        .send_message_batch()
        .queue_url(url)
        .set_entries(Some(entries.to_vec()))
        .send()
        .await
        .expect("send");
    let got = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    let del: Vec<_> = got
        .messages()
        .iter()
        .enumerate()
        .map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .build()
                .expect("entry")
        })
        .collect();
    assert_eq!(del.len(), 10);
    client
        .delete_message_batch()
        .queue_url(url)
        .set_entries(Some(del))
        .send()
        .await
        .expect("delete");
}

/// The ten entries every round trip sends.
pub(crate) fn entries() -> Vec<SendMessageBatchRequestEntry> {
    (0..10)
        .map(|i| {
            SendMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .message_body(format!("benchmark message body number {i}"))
                .build()
                .expect("entry")
        })
        .collect()
}

/// One round trip per client at once, each in a task of its own on the current
/// runtime, all joined.
pub(crate) async fn concurrent_round(
    clients: &[(aws_sdk_sqs::Client, String)],
    entries: &[SendMessageBatchRequestEntry],
) {
    let tasks: Vec<_> = clients
        .iter()
        .cloned()
        .map(|(client, url)| {
            let entries = entries.to_vec();
            tokio::spawn(async move { roundtrip(&client, &url, &entries).await })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
}
