//! PublishBatch: every entry delivered, its limits, and entries that fail alone.

use aws_sdk_sns::types::PublishBatchRequestEntry as Entry;

use super::payloads;
use crate::support::{Ctx, Target, conformance, err_code, fail};

conformance!(
    publish_batch_delivers_every_entry,
    publish_batch_refuses_more_than_ten_entries,
    publish_batch_refuses_repeated_entry_ids,
    publish_batch_refuses_an_empty_batch,
    publish_batch_refuses_more_than_256_kib_in_all,
    a_fifo_batch_entry_without_a_group_id_fails_the_request,
);

fn entry(id: &str, message: &str) -> Entry {
    Entry::builder()
        .id(id)
        .message(message)
        .build()
        .expect("id and message are set")
}

async fn publish_batch_delivers_every_entry(ctx: &Ctx) {
    let topic = ctx.topic("conf-batch").await;
    let url = ctx.queue("conf-batch-q", &[]).await;
    ctx.subscribe(&topic, &url, false).await;
    let out = ctx
        .sns
        .publish_batch()
        .topic_arn(&topic)
        .set_publish_batch_request_entries(Some(vec![
            entry("a", "one"),
            entry("b", "two"),
            entry("c", "three"),
        ]))
        .send()
        .await
        .unwrap_or_else(|e| fail("PublishBatch", &e));
    let mut ids: Vec<&str> = out.successful().iter().filter_map(|s| s.id()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["a", "b", "c"]);
    assert!(out.failed().is_empty());
    assert!(out.successful().iter().all(|s| s.message_id().is_some()));
    assert_eq!(
        payloads(&ctx.delivered(&url, 3).await),
        ["one", "three", "two"]
    );
}

async fn publish_batch_refuses_more_than_ten_entries(ctx: &Ctx) {
    let topic = ctx.topic("conf-batch11").await;
    let entries = (0..11).map(|i| entry(&i.to_string(), "m")).collect();
    ctx.rejects(
        ctx.sns
            .publish_batch()
            .topic_arn(&topic)
            .set_publish_batch_request_entries(Some(entries))
            .send()
            .await,
        "TooManyEntriesInBatchRequest",
        "11 entries",
    );
}

async fn publish_batch_refuses_repeated_entry_ids(ctx: &Ctx) {
    let topic = ctx.topic("conf-batchdup").await;
    ctx.rejects(
        ctx.sns
            .publish_batch()
            .topic_arn(&topic)
            .set_publish_batch_request_entries(Some(vec![entry("same", "a"), entry("same", "b")]))
            .send()
            .await,
        "BatchEntryIdsNotDistinct",
        "two entries with one id",
    );
}

async fn publish_batch_refuses_an_empty_batch(ctx: &Ctx) {
    let topic = ctx.topic("conf-batchempty").await;
    let result = ctx
        .sns
        .publish_batch()
        .topic_arn(&topic)
        .set_publish_batch_request_entries(Some(vec![]))
        .send()
        .await;
    // LocalStack 4.12 fails on the empty list itself (InternalError, a 500); AWS
    // answers EmptyBatchRequest.
    let expected = match ctx.target {
        Target::LocalStack => "InternalError",
        Target::InProcess => "EmptyBatchRequest",
    };
    assert_eq!(err_code(result), expected, "no entries");
}

async fn publish_batch_refuses_more_than_256_kib_in_all(ctx: &Ctx) {
    let topic = ctx.topic("conf-batchlong").await;
    // Each entry fits alone; together they are over 256 KiB (262,144 bytes).
    let entries = vec![
        entry("a", &"x".repeat(200_000)),
        entry("b", &"y".repeat(70_000)),
    ];
    ctx.rejects(
        ctx.sns
            .publish_batch()
            .topic_arn(&topic)
            .set_publish_batch_request_entries(Some(entries))
            .send()
            .await,
        "BatchRequestTooLong",
        "a batch over 256 KiB in all",
    );
}

async fn a_fifo_batch_entry_without_a_group_id_fails_the_request(ctx: &Ctx) {
    let topic = ctx.fifo_topic("conf-batchfifo", &[]).await;
    let grouped = Entry::builder()
        .id("a")
        .message("m")
        .message_group_id("g")
        .message_deduplication_id("1")
        .build()
        .expect("id and message are set");
    let ungrouped = Entry::builder()
        .id("b")
        .message("m")
        .message_deduplication_id("2")
        .build()
        .expect("id and message are set");
    ctx.rejects(
        ctx.sns
            .publish_batch()
            .topic_arn(&topic)
            .set_publish_batch_request_entries(Some(vec![grouped, ungrouped]))
            .send()
            .await,
        "InvalidParameter",
        "a FIFO batch with an entry without MessageGroupId",
    );
}
