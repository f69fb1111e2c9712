//! Batches: 1–10 entries, ids `[A-Za-z0-9_-]{1,80}` and distinct, per-entry partial
//! failures, a bounded total batch size.

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    QueueAttributeName as A, SendMessageBatchRequestEntry,
};

use crate::support::{Ctx, Target, conformance, service_err};

conformance!(
    batches_of_ten_entries_succeed,
    batches_of_eleven_entries_are_too_many,
    empty_batches_are_rejected,
    batch_entry_ids_must_be_distinct,
    batch_entry_ids_must_match_the_pattern,
    send_batch_reports_partial_failures_per_entry,
    send_batch_rejects_out_of_range_delay_per_entry,
    delete_batch_reports_partial_failures_per_entry,
    send_batch_total_size_is_limited,
    batch_results_carry_digests_and_per_entry_visibility_errors,
);

fn send_entry(id: &str, body: &str) -> SendMessageBatchRequestEntry {
    SendMessageBatchRequestEntry::builder()
        .id(id)
        .message_body(body)
        .build()
        .expect("entry")
}

fn delete_entry(id: &str, handle: &str) -> DeleteMessageBatchRequestEntry {
    DeleteMessageBatchRequestEntry::builder()
        .id(id)
        .receipt_handle(handle)
        .build()
        .expect("entry")
}

fn visibility_entry(id: &str, handle: &str) -> ChangeMessageVisibilityBatchRequestEntry {
    ChangeMessageVisibilityBatchRequestEntry::builder()
        .id(id)
        .receipt_handle(handle)
        .visibility_timeout(0)
        .build()
        .expect("entry")
}

async fn batches_of_ten_entries_succeed(ctx: &Ctx) {
    let url = ctx
        .queue("conf-batch10", &[(A::VisibilityTimeout, "600")])
        .await;
    let sends: Vec<_> = (0..10)
        .map(|i| send_entry(&format!("s{i}"), &format!("m{i}")))
        .collect();
    let out = ctx
        .client
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(sends))
        .send()
        .await
        .expect("SendMessageBatch");
    assert_eq!(out.successful().len(), 10);
    let got = ctx.receive_n(&url, 10).await;
    assert_eq!(got.len(), 10);
    let handles: Vec<&str> = got.iter().filter_map(|m| m.receipt_handle()).collect();

    let vis: Vec<_> = handles
        .iter()
        .enumerate()
        .map(|(i, h)| visibility_entry(&format!("v{i}"), h))
        .collect();
    let out = ctx
        .client
        .change_message_visibility_batch()
        .queue_url(&url)
        .set_entries(Some(vis))
        .send()
        .await
        .expect("ChangeMessageVisibilityBatch");
    assert_eq!(out.successful().len(), 10);

    let got = ctx.receive_n(&url, 10).await;
    assert_eq!(got.len(), 10, "all ten were released");
    let dels: Vec<_> = got
        .iter()
        .enumerate()
        .map(|(i, m)| delete_entry(&format!("d{i}"), m.receipt_handle().expect("handle")))
        .collect();
    let out = ctx
        .client
        .delete_message_batch()
        .queue_url(&url)
        .set_entries(Some(dels))
        .send()
        .await
        .expect("DeleteMessageBatch");
    assert_eq!(out.successful().len(), 10);
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessagesNotVisible)
            .await,
        0
    );
}

async fn batches_of_eleven_entries_are_too_many(ctx: &Ctx) {
    let url = ctx.queue("conf-batch11", &[]).await;
    let sends: Vec<_> = (0..11).map(|i| send_entry(&format!("s{i}"), "m")).collect();
    let err = service_err(
        ctx.client
            .send_message_batch()
            .queue_url(&url)
            .set_entries(Some(sends))
            .send()
            .await,
    );
    assert!(err.is_too_many_entries_in_batch_request(), "{err:?}");
    let dels: Vec<_> = (0..11)
        .map(|i| delete_entry(&format!("d{i}"), "h"))
        .collect();
    let err = service_err(
        ctx.client
            .delete_message_batch()
            .queue_url(&url)
            .set_entries(Some(dels))
            .send()
            .await,
    );
    assert!(err.is_too_many_entries_in_batch_request(), "{err:?}");
    let vis: Vec<_> = (0..11)
        .map(|i| visibility_entry(&format!("v{i}"), "h"))
        .collect();
    let err = service_err(
        ctx.client
            .change_message_visibility_batch()
            .queue_url(&url)
            .set_entries(Some(vis))
            .send()
            .await,
    );
    assert!(err.is_too_many_entries_in_batch_request(), "{err:?}");
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessages).await,
        0,
        "nothing was sent"
    );
}

async fn empty_batches_are_rejected(ctx: &Ctx) {
    let url = ctx.queue("conf-batch0", &[]).await;
    let err = service_err(
        ctx.client
            .send_message_batch()
            .queue_url(&url)
            .set_entries(Some(vec![]))
            .send()
            .await,
    );
    assert!(err.is_empty_batch_request(), "{err:?}");
    let err = service_err(
        ctx.client
            .delete_message_batch()
            .queue_url(&url)
            .set_entries(Some(vec![]))
            .send()
            .await,
    );
    assert!(err.is_empty_batch_request(), "{err:?}");
    let err = service_err(
        ctx.client
            .change_message_visibility_batch()
            .queue_url(&url)
            .set_entries(Some(vec![]))
            .send()
            .await,
    );
    assert!(err.is_empty_batch_request(), "{err:?}");
}

async fn batch_entry_ids_must_be_distinct(ctx: &Ctx) {
    let url = ctx.queue("conf-batchdup", &[]).await;
    let err = service_err(
        ctx.client
            .send_message_batch()
            .queue_url(&url)
            .entries(send_entry("same", "a"))
            .entries(send_entry("same", "b"))
            .send()
            .await,
    );
    assert!(err.is_batch_entry_ids_not_distinct(), "{err:?}");
    let err = service_err(
        ctx.client
            .delete_message_batch()
            .queue_url(&url)
            .entries(delete_entry("same", "h1"))
            .entries(delete_entry("same", "h2"))
            .send()
            .await,
    );
    assert!(err.is_batch_entry_ids_not_distinct(), "{err:?}");
    let err = service_err(
        ctx.client
            .change_message_visibility_batch()
            .queue_url(&url)
            .entries(visibility_entry("same", "h1"))
            .entries(visibility_entry("same", "h2"))
            .send()
            .await,
    );
    assert!(err.is_batch_entry_ids_not_distinct(), "{err:?}");
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessages).await,
        0,
        "nothing was sent"
    );
}

async fn batch_entry_ids_must_match_the_pattern(ctx: &Ctx) {
    let url = ctx.queue("conf-batchids", &[]).await;
    let long = "a".repeat(81);
    // LocalStack 4.12 accepts non-ASCII letters in ids; AWS allows only [A-Za-z0-9_-].
    let send = ctx
        .client
        .send_message_batch()
        .queue_url(&url)
        .entries(send_entry("é", "m"))
        .send()
        .await;
    ctx.rejects_but_localstack_accepts(send, "AWS.SimpleQueueService.InvalidBatchEntryId", "id é");
    for bad in ["has.dot", "has space", "", long.as_str()] {
        let err = service_err(
            ctx.client
                .send_message_batch()
                .queue_url(&url)
                .entries(send_entry(bad, "m"))
                .send()
                .await,
        );
        assert!(err.is_invalid_batch_entry_id(), "id {bad:?}: {err:?}");
        let err = service_err(
            ctx.client
                .delete_message_batch()
                .queue_url(&url)
                .entries(delete_entry(bad, "h"))
                .send()
                .await,
        );
        assert!(err.is_invalid_batch_entry_id(), "id {bad:?}: {err:?}");
    }
    let ok = "A-z_0".repeat(16);
    assert_eq!(ok.len(), 80);
    let out = ctx
        .client
        .send_message_batch()
        .queue_url(&url)
        .entries(send_entry(&ok, "m"))
        .send()
        .await
        .expect("an 80-character id of the allowed characters");
    assert_eq!(out.successful()[0].id(), ok);
}

async fn send_batch_reports_partial_failures_per_entry(ctx: &Ctx) {
    let url = ctx.queue("conf-batchpartial", &[]).await;
    let out = ctx
        .client
        .send_message_batch()
        .queue_url(&url)
        .entries(send_entry("good1", "fine"))
        .entries(send_entry("bad_chars", "nope\u{1}"))
        .entries(send_entry("good2", "fine too"))
        .send()
        .await
        .expect("SendMessageBatch answers per entry");
    let mut ok: Vec<&str> = out.successful().iter().map(|s| s.id()).collect();
    ok.sort_unstable();
    assert_eq!(ok, ["good1", "good2"]);
    let failed: Vec<(&str, &str, bool)> = out
        .failed()
        .iter()
        .map(|f| (f.id(), f.code(), f.sender_fault()))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "bad_chars");
    assert!(
        failed[0].1 == "InvalidMessageContents" || failed[0].1 == "InvalidParameterValue",
        "{failed:?}"
    );
    // LocalStack 4.12 marks this entry SenderFault=false; AWS blames the sender.
    if ctx.target != Target::LocalStack {
        assert!(failed[0].2, "the sender is at fault");
    }
    assert_eq!(ctx.receive_n(&url, 2).await.len(), 2);
}

async fn send_batch_rejects_out_of_range_delay_per_entry(ctx: &Ctx) {
    let url = ctx.queue("conf-batchdelay", &[]).await;
    let delayed = SendMessageBatchRequestEntry::builder()
        .id("too_late")
        .message_body("m")
        .delay_seconds(901)
        .build()
        .expect("entry");
    let out = ctx
        .client
        .send_message_batch()
        .queue_url(&url)
        .entries(send_entry("good", "fine"))
        .entries(delayed)
        .send()
        .await
        .expect("SendMessageBatch answers per entry");
    assert!(out.successful().iter().any(|s| s.id() == "good"));
    if ctx.target == Target::LocalStack {
        // LocalStack 4.12 does not range-check DelaySeconds (it takes 901); AWS fails
        // the entry with InvalidParameterValue.
        assert_eq!(out.successful().len(), 2);
    } else {
        assert_eq!(out.failed().len(), 1, "{:?}", out.failed());
        assert_eq!(out.failed()[0].id(), "too_late");
        assert_eq!(out.failed()[0].code(), "InvalidParameterValue");
        assert!(out.failed()[0].sender_fault());
    }
}

async fn delete_batch_reports_partial_failures_per_entry(ctx: &Ctx) {
    let url = ctx.queue("conf-delpartial", &[]).await;
    ctx.send(&url, "m").await;
    let got = ctx.receive_n(&url, 1).await;
    let out = ctx
        .client
        .delete_message_batch()
        .queue_url(&url)
        .entries(delete_entry(
            "real",
            got[0].receipt_handle().expect("handle"),
        ))
        .entries(delete_entry("bogus", "not-a-receipt-handle"))
        .send()
        .await
        .expect("DeleteMessageBatch answers per entry");
    assert_eq!(out.successful().len(), 1);
    assert_eq!(out.successful()[0].id(), "real");
    assert_eq!(out.failed().len(), 1);
    assert_eq!(out.failed()[0].id(), "bogus");
    assert_eq!(out.failed()[0].code(), "ReceiptHandleIsInvalid");
    // LocalStack 4.12 marks this entry SenderFault=false; AWS blames the sender.
    if ctx.target != Target::LocalStack {
        assert!(out.failed()[0].sender_fault());
    }
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessagesNotVisible)
            .await,
        0
    );
}

async fn send_batch_total_size_is_limited(ctx: &Ctx) {
    let url = ctx.queue("conf-batchsize", &[]).await;
    // Each entry alone is under 1 MiB; together they are over it.
    let half = "x".repeat(600 * 1024);
    let err = service_err(
        ctx.client
            .send_message_batch()
            .queue_url(&url)
            .entries(send_entry("a", &half))
            .entries(send_entry("b", &half))
            .send()
            .await,
    );
    assert!(err.is_batch_request_too_long(), "{err:?}");
    assert_eq!(ctx.count(&url, A::ApproximateNumberOfMessages).await, 0);
}

async fn batch_results_carry_digests_and_per_entry_visibility_errors(ctx: &Ctx) {
    let url = ctx
        .queue("conf-batchmd5", &[(A::VisibilityTimeout, "600")])
        .await;
    let attrs =
        std::collections::HashMap::from([("k".to_owned(), crate::support::string_attr("v"))]);
    let entry = SendMessageBatchRequestEntry::builder()
        .id("with_attrs")
        .message_body("body one")
        .set_message_attributes(Some(attrs.clone()))
        .build()
        .expect("entry");
    let out = ctx
        .client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry)
        .entries(send_entry("plain", "body two"))
        .send()
        .await
        .expect("SendMessageBatch");
    for ok in out.successful() {
        match ok.id() {
            "with_attrs" => {
                assert_eq!(
                    ok.md5_of_message_body(),
                    crate::support::md5_of_body("body one")
                );
                assert_eq!(
                    ok.md5_of_message_attributes(),
                    Some(crate::support::md5_of_attributes(&attrs).as_str())
                );
            }
            "plain" => {
                assert_eq!(
                    ok.md5_of_message_body(),
                    crate::support::md5_of_body("body two")
                );
                assert!(ok.md5_of_message_attributes().is_none());
            }
            other => panic!("unexpected id {other}"),
        }
    }
    let got = ctx.receive_n(&url, 2).await;
    assert_eq!(got.len(), 2);
    let bad = ChangeMessageVisibilityBatchRequestEntry::builder()
        .id("too_long")
        .receipt_handle(got[0].receipt_handle().expect("handle"))
        .visibility_timeout(43201)
        .build()
        .expect("entry");
    let out = ctx
        .client
        .change_message_visibility_batch()
        .queue_url(&url)
        .entries(bad)
        .entries(visibility_entry(
            "release",
            got[1].receipt_handle().expect("handle"),
        ))
        .send()
        .await
        .expect("ChangeMessageVisibilityBatch answers per entry");
    let mut ok: Vec<&str> = out.successful().iter().map(|s| s.id()).collect();
    ok.sort_unstable();
    if ctx.target == Target::LocalStack {
        // LocalStack 4.12 does not range-check VisibilityTimeout (it takes 43201); AWS
        // fails the entry with InvalidParameterValue.
        assert_eq!(ok, ["release", "too_long"]);
        assert!(out.failed().is_empty());
    } else {
        assert_eq!(ok, ["release"]);
        assert_eq!(out.failed().len(), 1);
        assert_eq!(out.failed()[0].id(), "too_long");
        assert_eq!(out.failed()[0].code(), "InvalidParameterValue");
    }
}
