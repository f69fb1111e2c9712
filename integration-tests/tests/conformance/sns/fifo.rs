//! FIFO topics into FIFO queues: order within a group, deduplication, and what a FIFO
//! topic requires.

use aws_sdk_sqs::types::MessageSystemAttributeName as Sys;

use super::payloads;
use crate::support::{Ctx, conformance, fail};

conformance!(
    a_fifo_topic_delivers_a_group_in_order_with_its_group_id,
    a_repeated_deduplication_id_is_delivered_once,
    content_based_deduplication_hashes_the_message,
    a_fifo_publish_without_a_group_id_is_refused,
);

async fn publish_fifo(ctx: &Ctx, topic: &str, body: &str, group: &str, dedup: Option<&str>) {
    ctx.sns
        .publish()
        .topic_arn(topic)
        .message(body)
        .message_group_id(group)
        .set_message_deduplication_id(dedup.map(str::to_owned))
        .send()
        .await
        .unwrap_or_else(|e| fail("Publish", &e));
}

async fn a_fifo_topic_delivers_a_group_in_order_with_its_group_id(ctx: &Ctx) {
    let topic = ctx.fifo_topic("conf-fifo", &[]).await;
    let url = ctx.fifo_queue("conf-fifo-q", &[]).await;
    ctx.subscribe(&topic, &url, true).await;
    for i in 0..5 {
        publish_fifo(ctx, &topic, &format!("m{i}"), "g1", Some(&format!("d{i}"))).await;
    }
    let got = ctx.delivered(&url, 5).await;
    let bodies: Vec<&str> = got.iter().map(|m| m.body().unwrap_or_default()).collect();
    assert_eq!(bodies, ["m0", "m1", "m2", "m3", "m4"], "in publish order");
    for m in &got {
        let attrs = m.attributes.clone().unwrap_or_default();
        assert_eq!(
            attrs.get(&Sys::MessageGroupId).map(String::as_str),
            Some("g1")
        );
    }
}

async fn a_repeated_deduplication_id_is_delivered_once(ctx: &Ctx) {
    let topic = ctx.fifo_topic("conf-fifodedup", &[]).await;
    let url = ctx.fifo_queue("conf-fifodedup-q", &[]).await;
    ctx.subscribe(&topic, &url, true).await;
    publish_fifo(ctx, &topic, "first", "g", Some("same")).await;
    publish_fifo(ctx, &topic, "second", "g", Some("same")).await;
    publish_fifo(ctx, &topic, "third", "g", Some("other")).await;
    let got = ctx.delivered(&url, 2).await;
    let bodies: Vec<&str> = got.iter().map(|m| m.body().unwrap_or_default()).collect();
    assert_eq!(bodies, ["first", "third"]);
}

async fn content_based_deduplication_hashes_the_message(ctx: &Ctx) {
    let topic = ctx
        .fifo_topic("conf-fifocbd", &[("ContentBasedDeduplication", "true")])
        .await;
    let url = ctx.fifo_queue("conf-fifocbd-q", &[]).await;
    ctx.subscribe(&topic, &url, false).await;
    for body in ["same", "same", "other"] {
        publish_fifo(ctx, &topic, body, "g", None).await;
    }
    assert_eq!(payloads(&ctx.delivered(&url, 2).await), ["other", "same"]);
}

async fn a_fifo_publish_without_a_group_id_is_refused(ctx: &Ctx) {
    let topic = ctx.fifo_topic("conf-fifonogroup", &[]).await;
    ctx.rejects(
        ctx.sns
            .publish()
            .topic_arn(&topic)
            .message("m")
            .message_deduplication_id("d")
            .send()
            .await,
        "InvalidParameter",
        "a FIFO publish without MessageGroupId",
    );
    // LocalStack 4.12 takes it (and delivers it without a deduplication id).
    ctx.rejects_but_localstack_accepts(
        ctx.sns
            .publish()
            .topic_arn(&topic)
            .message("m")
            .message_group_id("g")
            .send()
            .await,
        "InvalidParameter",
        "a FIFO publish without a deduplication id, content-based deduplication off",
    );
}
