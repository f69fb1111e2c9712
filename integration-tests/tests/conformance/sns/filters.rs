//! Filter policies: a subscription gets only what its policy matches, on message
//! attributes (the default scope) or on the message body (`FilterPolicyScope`).
//! Each scenario publishes what must not match first and what must match last, and
//! waits for the last: what was filtered out would have arrived by then.

use super::payloads;
use crate::support::{Ctx, conformance, fail};

conformance!(
    exact_string_values_match,
    prefix_matches_the_start,
    anything_but_matches_every_other_value,
    numeric_ranges_match_numbers,
    exists_false_matches_a_missing_attribute,
    every_key_of_a_policy_must_match,
    a_body_policy_matches_the_json_body,
    a_malformed_policy_is_refused,
);

/// Subscribes a fresh queue with `policy` (and `scope`), publishes each
/// `(body, attributes)` in order, and returns the bodies that arrived, sorted.
async fn filtered(
    ctx: &Ctx,
    policy: serde_json::Value,
    scope: Option<&str>,
    publishes: &[(&str, &[(&str, &str)])],
    expected: usize,
) -> Vec<String> {
    let topic = ctx.topic("conf-filter").await;
    let url = ctx.queue("conf-filter-q", &[]).await;
    let policy = policy.to_string();
    let mut attrs = vec![("FilterPolicy", policy.as_str())];
    if let Some(scope) = scope {
        attrs.push(("FilterPolicyScope", scope));
    }
    ctx.subscribe_with(&topic, &url, &attrs).await;
    for (body, message_attrs) in publishes {
        ctx.publish(&topic, body, message_attrs).await;
    }
    payloads(&ctx.delivered(&url, expected).await)
}

async fn exact_string_values_match(ctx: &Ctx) {
    let got = filtered(
        ctx,
        serde_json::json!({"color": ["red", "green"]}),
        None,
        &[
            ("blue", &[("color", "blue")]),
            ("none", &[]),
            ("red", &[("color", "red")]),
            ("green", &[("color", "green")]),
        ],
        2,
    )
    .await;
    assert_eq!(got, ["green", "red"]);
}

async fn prefix_matches_the_start(ctx: &Ctx) {
    let got = filtered(
        ctx,
        serde_json::json!({"region": [{"prefix": "eu-"}]}),
        None,
        &[
            ("us", &[("region", "us-east-1")]),
            ("eu", &[("region", "eu-west-1")]),
        ],
        1,
    )
    .await;
    assert_eq!(got, ["eu"]);
}

async fn anything_but_matches_every_other_value(ctx: &Ctx) {
    let got = filtered(
        ctx,
        serde_json::json!({"status": [{"anything-but": ["test", "draft"]}]}),
        None,
        &[
            ("test", &[("status", "test")]),
            ("draft", &[("status", "draft")]),
            ("live", &[("status", "live")]),
        ],
        1,
    )
    .await;
    assert_eq!(got, ["live"]);
}

async fn numeric_ranges_match_numbers(ctx: &Ctx) {
    let topic = ctx.topic("conf-numeric").await;
    let url = ctx.queue("conf-numeric-q", &[]).await;
    let policy = serde_json::json!({"price": [{"numeric": [">=", 100, "<", 200]}]}).to_string();
    ctx.subscribe_with(&topic, &url, &[("FilterPolicy", &policy)])
        .await;
    for price in ["99.5", "250", "100", "150.25"] {
        let attr = aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("Number")
            .string_value(price)
            .build()
            .expect("typed");
        ctx.sns
            .publish()
            .topic_arn(&topic)
            .message(price)
            .message_attributes("price", attr)
            .send()
            .await
            .unwrap_or_else(|e| fail("Publish", &e));
    }
    assert_eq!(payloads(&ctx.delivered(&url, 2).await), ["100", "150.25"]);
}

async fn exists_false_matches_a_missing_attribute(ctx: &Ctx) {
    let got = filtered(
        ctx,
        serde_json::json!({"internal": [{"exists": false}]}),
        None,
        &[
            ("internal", &[("internal", "yes")]),
            ("public", &[("other", "x")]),
        ],
        1,
    )
    .await;
    assert_eq!(got, ["public"]);
}

async fn every_key_of_a_policy_must_match(ctx: &Ctx) {
    let got = filtered(
        ctx,
        serde_json::json!({"color": ["red"], "size": ["L"]}),
        None,
        &[
            ("red-only", &[("color", "red")]),
            ("L-only", &[("size", "L")]),
            ("both", &[("color", "red"), ("size", "L")]),
        ],
        1,
    )
    .await;
    assert_eq!(got, ["both"]);
}

async fn a_body_policy_matches_the_json_body(ctx: &Ctx) {
    let got = filtered(
        ctx,
        serde_json::json!({"order": {"kind": ["big"]}}),
        Some("MessageBody"),
        &[
            (r#"{"order":{"kind":"small"}}"#, &[]),
            ("not json", &[]),
            (r#"{"order":{"kind":"big","id":1}}"#, &[("kind", "small")]),
        ],
        1,
    )
    .await;
    assert_eq!(got, [r#"{"order":{"kind":"big","id":1}}"#]);
}

async fn a_malformed_policy_is_refused(ctx: &Ctx) {
    let topic = ctx.topic("conf-badpolicy").await;
    let url = ctx.queue("conf-badpolicy-q", &[]).await;
    let arn = ctx.arn(&url).await;
    ctx.rejects(
        ctx.sns
            .subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(&arn)
            .attributes("FilterPolicy", "{not json")
            .send()
            .await,
        "InvalidParameter",
        "a filter policy that is not JSON",
    );
}
