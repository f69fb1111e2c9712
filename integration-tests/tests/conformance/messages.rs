//! Messages: SendMessage, SendMessageBatch, ReceiveMessage, DeleteMessage,
//! DeleteMessageBatch, ChangeMessageVisibility, ChangeMessageVisibilityBatch.

use std::time::Duration;

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    QueueAttributeName as A, SendMessageBatchRequestEntry,
};

use crate::support::{Ctx, Target, conformance, md5_of_body};

conformance!(
    send_receive_delete_roundtrip,
    send_message_batch_sends_every_entry,
    receive_respects_max_number_of_messages,
    delete_message_batch_deletes_every_entry,
    change_message_visibility_to_zero_releases_the_message,
    change_message_visibility_extends_the_lease,
    change_message_visibility_batch_per_entry,
    deleted_message_is_never_received_again,
);

async fn send_receive_delete_roundtrip(ctx: &Ctx) {
    let url = ctx.queue("conf-roundtrip", &[]).await;
    let body = "hello, weir ✓";
    let sent = ctx
        .client
        .send_message()
        .queue_url(&url)
        .message_body(body)
        .send()
        .await
        .expect("SendMessage");
    let id = sent.message_id().expect("MessageId").to_owned();
    // MD5 of the UTF-8 body, hex (aws-sdk-rust does not check it; the suite does).
    assert_eq!(sent.md5_of_message_body(), Some(md5_of_body(body).as_str()));

    let got = ctx.receive_n(&url, 1).await;
    assert_eq!(got.len(), 1);
    let msg = &got[0];
    assert_eq!(msg.message_id(), Some(id.as_str()));
    assert_eq!(msg.body(), Some(body));
    assert_eq!(msg.md5_of_body(), sent.md5_of_message_body());
    assert!(msg.receipt_handle().is_some_and(|h| !h.is_empty()));

    ctx.delete(&url, msg).await;
    assert_eq!(ctx.count(&url, A::ApproximateNumberOfMessages).await, 0);
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessagesNotVisible)
            .await,
        0
    );
}

async fn send_message_batch_sends_every_entry(ctx: &Ctx) {
    let url = ctx.queue("conf-sendbatch", &[]).await;
    let entries: Vec<_> = (0..4)
        .map(|i| {
            SendMessageBatchRequestEntry::builder()
                .id(format!("e{i}"))
                .message_body(format!("body {i}"))
                .build()
                .expect("entry")
        })
        .collect();
    let out = ctx
        .client
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(entries))
        .send()
        .await
        .expect("SendMessageBatch");
    assert!(out.failed().is_empty(), "{:?}", out.failed());
    let mut ids: Vec<&str> = out.successful().iter().map(|s| s.id()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["e0", "e1", "e2", "e3"]);
    assert!(out.successful().iter().all(|s| !s.message_id().is_empty()));

    let got = ctx.receive_n(&url, 4).await;
    let mut bodies: Vec<&str> = got.iter().filter_map(|m| m.body()).collect();
    bodies.sort_unstable();
    assert_eq!(bodies, ["body 0", "body 1", "body 2", "body 3"]);
}

async fn receive_respects_max_number_of_messages(ctx: &Ctx) {
    let url = ctx.queue("conf-max", &[]).await;
    for i in 0..5 {
        ctx.send(&url, &format!("m{i}")).await;
    }
    let got = ctx.receive(&url, 2).await;
    assert!(!got.is_empty() && got.len() <= 2, "got {}", got.len());
    let one = ctx
        .client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("ReceiveMessage");
    assert!(
        one.messages().len() <= 1,
        "the default MaxNumberOfMessages is 1"
    );

    let receive = |max: i32| {
        ctx.client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(max)
            .send()
    };
    ctx.rejects(
        receive(11).await,
        "InvalidParameterValue",
        "MaxNumberOfMessages 11",
    );
    // LocalStack 4.12 takes MaxNumberOfMessages 0; AWS allows 1–10.
    ctx.rejects_but_localstack_accepts(
        receive(0).await,
        "InvalidParameterValue",
        "MaxNumberOfMessages 0",
    );
}

async fn delete_message_batch_deletes_every_entry(ctx: &Ctx) {
    let url = ctx.queue("conf-delbatch", &[]).await;
    for i in 0..3 {
        ctx.send(&url, &format!("m{i}")).await;
    }
    let got = ctx.receive_n(&url, 3).await;
    assert_eq!(got.len(), 3);
    let entries: Vec<_> = got
        .iter()
        .enumerate()
        .map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(m.receipt_handle().expect("handle"))
                .build()
                .expect("entry")
        })
        .collect();
    let out = ctx
        .client
        .delete_message_batch()
        .queue_url(&url)
        .set_entries(Some(entries))
        .send()
        .await
        .expect("DeleteMessageBatch");
    assert!(out.failed().is_empty(), "{:?}", out.failed());
    assert_eq!(out.successful().len(), 3);
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessagesNotVisible)
            .await,
        0
    );
    assert_eq!(ctx.count(&url, A::ApproximateNumberOfMessages).await, 0);
}

async fn change_message_visibility_to_zero_releases_the_message(ctx: &Ctx) {
    let url = ctx
        .queue("conf-cmv0", &[(A::VisibilityTimeout, "600")])
        .await;
    let id = ctx.send(&url, "m").await;
    let got = ctx.receive_n(&url, 1).await;
    assert!(ctx.receive(&url, 1).await.is_empty(), "in flight for 600 s");
    ctx.client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(got[0].receipt_handle().expect("handle"))
        .visibility_timeout(0)
        .send()
        .await
        .expect("ChangeMessageVisibility");
    let again = ctx.receive_n(&url, 1).await;
    assert_eq!(again.len(), 1, "visible again at once");
    assert_eq!(again[0].message_id(), Some(id.as_str()));
}

async fn change_message_visibility_extends_the_lease(ctx: &Ctx) {
    let url = ctx
        .queue("conf-cmvext", &[(A::VisibilityTimeout, "1")])
        .await;
    ctx.send(&url, "m").await;
    let got = ctx.receive_n(&url, 1).await;
    ctx.client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(got[0].receipt_handle().expect("handle"))
        .visibility_timeout(30)
        .send()
        .await
        .expect("ChangeMessageVisibility");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        ctx.receive(&url, 1).await.is_empty(),
        "the lease was extended past the 1 s default"
    );
    // The extended handle still deletes the message.
    ctx.delete(&url, &got[0]).await;
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessagesNotVisible)
            .await,
        0
    );
}

async fn change_message_visibility_batch_per_entry(ctx: &Ctx) {
    let url = ctx
        .queue("conf-cmvb", &[(A::VisibilityTimeout, "600")])
        .await;
    for i in 0..2 {
        ctx.send(&url, &format!("m{i}")).await;
    }
    let got = ctx.receive_n(&url, 2).await;
    assert_eq!(got.len(), 2);
    let entries = vec![
        ChangeMessageVisibilityBatchRequestEntry::builder()
            .id("release")
            .receipt_handle(got[0].receipt_handle().expect("handle"))
            .visibility_timeout(0)
            .build()
            .expect("entry"),
        ChangeMessageVisibilityBatchRequestEntry::builder()
            .id("keep")
            .receipt_handle(got[1].receipt_handle().expect("handle"))
            .visibility_timeout(900)
            .build()
            .expect("entry"),
        ChangeMessageVisibilityBatchRequestEntry::builder()
            .id("bogus")
            .receipt_handle("not-a-receipt-handle")
            .visibility_timeout(0)
            .build()
            .expect("entry"),
    ];
    let out = ctx
        .client
        .change_message_visibility_batch()
        .queue_url(&url)
        .set_entries(Some(entries))
        .send()
        .await
        .expect("ChangeMessageVisibilityBatch");
    let mut ok: Vec<&str> = out.successful().iter().map(|s| s.id()).collect();
    ok.sort_unstable();
    assert_eq!(ok, ["keep", "release"]);
    assert_eq!(out.failed().len(), 1);
    let failed = &out.failed()[0];
    assert_eq!(failed.id(), "bogus");
    assert_eq!(failed.code(), "ReceiptHandleIsInvalid");
    // LocalStack 4.12 marks this entry SenderFault=false; AWS blames the sender.
    if ctx.target != Target::LocalStack {
        assert!(failed.sender_fault());
    }

    let again = ctx.receive_n(&url, 2).await;
    assert_eq!(again.len(), 1, "only the released message is visible");
    assert_eq!(again[0].message_id(), got[0].message_id());
}

async fn deleted_message_is_never_received_again(ctx: &Ctx) {
    let url = ctx
        .queue("conf-deleted", &[(A::VisibilityTimeout, "1")])
        .await;
    ctx.send(&url, "once").await;
    let got = ctx.receive_n(&url, 1).await;
    ctx.delete(&url, &got[0]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(ctx.receive(&url, 10).await.is_empty());
    // Deleting again with the same handle is not an error (AWS: idempotent while the
    // handle is valid).
    ctx.delete(&url, &got[0]).await;
}
