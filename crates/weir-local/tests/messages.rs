//! Sending, batches, message attributes and their checksums, through the real SDK.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageAttributeValue, MessageSystemAttributeName, MessageSystemAttributeNameForSends,
    MessageSystemAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry,
};
use md5::{Digest, Md5};
use weir_local::LocalSqs;

async fn queue(client: &Client, name: &str) -> String {
    client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url")
}

fn attr(data_type: &str, value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type(data_type)
        .string_value(value)
        .build()
        .expect("attribute")
}

/// The documented algorithm, written out independently of the crate.
fn expected_md5(attrs: &[(&str, &str, &[u8], u8)]) -> String {
    let mut sorted = attrs.to_vec();
    sorted.sort_by_key(|a| a.0);
    let mut h = Md5::new();
    for (name, ty, value, transport) in sorted {
        for part in [name.as_bytes(), ty.as_bytes()] {
            h.update((part.len() as u32).to_be_bytes());
            h.update(part);
        }
        h.update([transport]);
        h.update((value.len() as u32).to_be_bytes());
        h.update(value);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(start_paused = true)]
async fn attributes_round_trip_with_aws_checksums() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "attrs").await;
    let sent = client
        .send_message()
        .queue_url(&url)
        .message_body("body")
        .message_attributes("color", attr("String", "blue"))
        .message_attributes("weight", attr("Number.float", "1.5"))
        .message_attributes(
            "raw",
            MessageAttributeValue::builder()
                .data_type("Binary")
                .binary_value(Blob::new(vec![0u8, 1, 2, 255]))
                .build()
                .unwrap(),
        )
        .message_system_attributes(
            MessageSystemAttributeNameForSends::AwsTraceHeader,
            MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value("Root=1-abc")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let want = expected_md5(&[
        ("color", "String", b"blue", 1),
        ("weight", "Number.float", b"1.5", 1),
        ("raw", "Binary", &[0, 1, 2, 255], 2),
    ]);
    assert_eq!(sent.md5_of_message_attributes(), Some(want.as_str()));
    assert_eq!(
        sent.md5_of_message_system_attributes(),
        Some(expected_md5(&[("AWSTraceHeader", "String", b"Root=1-abc", 1)]).as_str())
    );

    let got = client
        .receive_message()
        .queue_url(&url)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::AwsTraceHeader)
        .send()
        .await
        .unwrap();
    let m = &got.messages()[0];
    assert_eq!(m.md5_of_message_attributes(), Some(want.as_str()));
    let a = m.message_attributes().unwrap();
    assert_eq!(a["color"].string_value(), Some("blue"));
    assert_eq!(a["weight"].data_type(), "Number.float");
    assert_eq!(a["raw"].binary_value().unwrap().as_ref(), &[0u8, 1, 2, 255]);
    assert_eq!(
        m.attributes().unwrap()[&MessageSystemAttributeName::AwsTraceHeader],
        "Root=1-abc"
    );
}

#[tokio::test(start_paused = true)]
async fn attribute_selection_by_name_and_prefix() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "attrsel").await;
    client
        .send_message()
        .queue_url(&url)
        .message_body("b")
        .message_attributes("a.x", attr("String", "1"))
        .message_attributes("a.y", attr("String", "2"))
        .message_attributes("b", attr("String", "3"))
        .send()
        .await
        .unwrap();
    let got = client
        .receive_message()
        .queue_url(&url)
        .message_attribute_names("a.*")
        .send()
        .await
        .unwrap();
    let m = &got.messages()[0];
    let a = m.message_attributes().unwrap();
    assert_eq!(a.len(), 2);
    assert!(a.contains_key("a.x") && a.contains_key("a.y"));
    assert_eq!(
        m.md5_of_message_attributes(),
        Some(expected_md5(&[("a.x", "String", b"1", 1), ("a.y", "String", b"2", 1)]).as_str())
    );
}

#[tokio::test(start_paused = true)]
async fn invalid_messages_are_rejected_with_aws_codes() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "invalid").await;
    let err = client
        .send_message()
        .queue_url(&url)
        .message_body("bad \u{1} char")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_message_contents(), "{err:?}");

    let mut too_many = client.send_message().queue_url(&url).message_body("x");
    for i in 0..11 {
        too_many = too_many.message_attributes(format!("a{i}"), attr("String", "v"));
    }
    let err = too_many.send().await.unwrap_err().into_service_error();
    assert_eq!(err.meta().code(), Some("InvalidParameterValue"));
    assert!(err.meta().message().unwrap().contains("[10]"));

    for (name, ty, value) in [
        ("AWS.reserved", "String", "v"),
        (".lead", "String", "v"),
        ("a..b", "String", "v"),
        ("ok", "Text", "v"),
        ("n", "Number", "not-a-number"),
        ("e", "String", ""),
    ] {
        let err = client
            .send_message()
            .queue_url(&url)
            .message_body("x")
            .message_attributes(name, attr(ty, value))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(
            err.meta().code(),
            Some("InvalidParameterValue"),
            "{name} {ty} {value}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn maximum_message_size_counts_body_and_attributes() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "size").await;
    client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::MaximumMessageSize, "1024")
        .send()
        .await
        .unwrap();
    client
        .send_message()
        .queue_url(&url)
        .message_body("x".repeat(1024))
        .send()
        .await
        .unwrap();
    // 1000 body bytes + "name" (4) + "String" (6) + 20 value bytes = 1030 > 1024.
    let err = client
        .send_message()
        .queue_url(&url)
        .message_body("x".repeat(1000))
        .message_attributes("name", attr("String", &"v".repeat(20)))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("InvalidParameterValue"));
    assert!(err.meta().message().unwrap().contains("1024"));
}

fn entry(id: &str, body: &str) -> SendMessageBatchRequestEntry {
    SendMessageBatchRequestEntry::builder()
        .id(id)
        .message_body(body)
        .build()
        .expect("entry")
}

#[tokio::test(start_paused = true)]
async fn batches_send_receive_change_and_delete() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "batch").await;
    let mut req = client.send_message_batch().queue_url(&url);
    for i in 0..10 {
        req = req.entries(entry(&format!("m{i}"), &format!("body {i}")));
    }
    let sent = req.send().await.unwrap();
    assert_eq!(sent.successful().len(), 10);
    assert!(sent.failed().is_empty());
    let got = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    assert_eq!(got.messages().len(), 10);

    let mut change = client.change_message_visibility_batch().queue_url(&url);
    for (i, m) in got.messages().iter().enumerate().take(2) {
        change = change.entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id(format!("c{i}"))
                .receipt_handle(m.receipt_handle().unwrap())
                .visibility_timeout(60)
                .build()
                .unwrap(),
        );
    }
    change = change.entries(
        ChangeMessageVisibilityBatchRequestEntry::builder()
            .id("bad")
            .receipt_handle("garbage")
            .visibility_timeout(60)
            .build()
            .unwrap(),
    );
    let changed = change.send().await.unwrap();
    assert_eq!(changed.successful().len(), 2);
    assert_eq!(changed.failed().len(), 1);
    assert_eq!(changed.failed()[0].id(), "bad");
    assert_eq!(changed.failed()[0].code(), "ReceiptHandleIsInvalid");

    let mut del = client.delete_message_batch().queue_url(&url);
    for (i, m) in got.messages().iter().enumerate() {
        del = del.entries(
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(m.receipt_handle().unwrap())
                .build()
                .unwrap(),
        );
    }
    let deleted = del.send().await.unwrap();
    assert_eq!(deleted.successful().len(), 10);
    let attrs = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let a = attrs.attributes().unwrap();
    assert_eq!(a[&QueueAttributeName::ApproximateNumberOfMessages], "0");
    assert_eq!(
        a[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "0"
    );
}

#[tokio::test(start_paused = true)]
async fn batch_request_errors_are_typed() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "batcherr").await;

    let err = client
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(vec![]))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_empty_batch_request(), "{err:?}");

    let mut req = client.send_message_batch().queue_url(&url);
    for i in 0..11 {
        req = req.entries(entry(&format!("m{i}"), "x"));
    }
    let err = req.send().await.unwrap_err().into_service_error();
    assert!(err.is_too_many_entries_in_batch_request(), "{err:?}");

    let err = client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("same", "a"))
        .entries(entry("same", "b"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_batch_entry_ids_not_distinct(), "{err:?}");

    let err = client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("not ok!", "a"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_batch_entry_id(), "{err:?}");

    let big = "x".repeat(300_000);
    let mut req = client.send_message_batch().queue_url(&url);
    for i in 0..4 {
        req = req.entries(entry(&format!("b{i}"), &big));
    }
    let err = req.send().await.unwrap_err().into_service_error();
    assert!(err.is_batch_request_too_long(), "{err:?}");

    let err = client
        .delete_message_batch()
        .queue_url(&url)
        .set_entries(Some(vec![]))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_empty_batch_request(), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn batch_partial_failure_reports_each_entry() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "partial").await;
    let sent = client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("good", "fine"))
        .entries(entry("bad", "nul \u{0}"))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.successful().len(), 1);
    assert_eq!(sent.successful()[0].id(), "good");
    assert_eq!(sent.failed().len(), 1);
    assert_eq!(sent.failed()[0].id(), "bad");
    assert!(sent.failed()[0].sender_fault());
    assert_eq!(sent.failed()[0].code(), "InvalidMessageContents");
}
