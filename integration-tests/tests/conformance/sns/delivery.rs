//! What a subscribed queue receives: the notification envelope AWS writes, raw message
//! delivery with its attributes, and fan-out to every subscription.

use aws_sdk_sns::primitives::Blob;
use aws_sdk_sns::types::MessageAttributeValue as SnsAttr;

use super::{envelope, payloads, string_attr};
use crate::support::{Ctx, conformance, fail};

conformance!(
    a_notification_carries_every_envelope_field,
    the_subject_is_there_only_when_given,
    envelope_message_attributes_are_type_and_value,
    raw_delivery_sends_the_message_with_sqs_attributes,
    a_publish_fans_out_to_every_subscribed_queue,
    an_empty_or_oversized_message_is_refused,
);

async fn a_notification_carries_every_envelope_field(ctx: &Ctx) {
    let topic = ctx.topic("conf-env").await;
    let url = ctx.queue("conf-env-q", &[]).await;
    let sub = ctx.subscribe(&topic, &url, false).await;
    let id = ctx.publish(&topic, r#"{"order":7}"#, &[]).await;
    let got = ctx.delivered(&url, 1).await;
    assert_eq!(got.len(), 1);
    let env = envelope(&got[0]);
    assert_eq!(env["Type"], "Notification");
    assert_eq!(env["MessageId"], id.as_str(), "the id Publish returned");
    assert_eq!(env["TopicArn"], topic.as_str());
    assert_eq!(env["Message"], r#"{"order":7}"#);
    assert_eq!(env["SignatureVersion"], "1");
    let ts = env["Timestamp"].as_str().expect("Timestamp");
    // e.g. 2012-05-02T00:54:06.655Z: milliseconds, UTC.
    assert_eq!(ts.len(), 24, "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[19] == b'.', "{ts}");
    for key in ["Signature", "SigningCertURL", "UnsubscribeURL"] {
        assert!(
            env[key].as_str().is_some_and(|v| !v.is_empty()),
            "{key}: {env}"
        );
    }
    assert!(
        env["UnsubscribeURL"]
            .as_str()
            .unwrap_or_default()
            .contains(&sub),
        "{env}"
    );
    assert!(
        env.get("Subject").is_none(),
        "no Subject unless given: {env}"
    );
    assert!(
        env.get("MessageAttributes").is_none(),
        "no attributes unless given: {env}"
    );
    assert!(
        got[0]
            .message_attributes
            .as_ref()
            .is_none_or(|a| a.is_empty())
    );
}

async fn the_subject_is_there_only_when_given(ctx: &Ctx) {
    let topic = ctx.topic("conf-subject").await;
    let url = ctx.queue("conf-subject-q", &[]).await;
    ctx.subscribe(&topic, &url, false).await;
    ctx.sns
        .publish()
        .topic_arn(&topic)
        .message("with")
        .subject("New order")
        .send()
        .await
        .unwrap_or_else(|e| fail("Publish", &e));
    let got = ctx.delivered(&url, 1).await;
    assert_eq!(envelope(&got[0])["Subject"], "New order");
}

async fn envelope_message_attributes_are_type_and_value(ctx: &Ctx) {
    let topic = ctx.topic("conf-envattrs").await;
    let url = ctx.queue("conf-envattrs-q", &[]).await;
    ctx.subscribe(&topic, &url, false).await;
    let number = SnsAttr::builder()
        .data_type("Number")
        .string_value("42")
        .build()
        .expect("typed");
    let binary = SnsAttr::builder()
        .data_type("Binary")
        .binary_value(Blob::new(vec![1, 2, 3]))
        .build()
        .expect("typed");
    ctx.sns
        .publish()
        .topic_arn(&topic)
        .message("m")
        .message_attributes("tenant", string_attr("acme"))
        .message_attributes("qty", number)
        .message_attributes("blob", binary)
        .send()
        .await
        .unwrap_or_else(|e| fail("Publish", &e));
    let got = ctx.delivered(&url, 1).await;
    let attrs = &envelope(&got[0])["MessageAttributes"];
    assert_eq!(
        attrs["tenant"],
        serde_json::json!({"Type": "String", "Value": "acme"})
    );
    assert_eq!(
        attrs["qty"],
        serde_json::json!({"Type": "Number", "Value": "42"})
    );
    assert_eq!(
        attrs["blob"],
        serde_json::json!({"Type": "Binary", "Value": "AQID"})
    );
}

async fn raw_delivery_sends_the_message_with_sqs_attributes(ctx: &Ctx) {
    let topic = ctx.topic("conf-raw").await;
    let url = ctx.queue("conf-raw-q", &[]).await;
    ctx.subscribe(&topic, &url, true).await;
    let number = SnsAttr::builder()
        .data_type("Number")
        .string_value("7")
        .build()
        .expect("typed");
    ctx.sns
        .publish()
        .topic_arn(&topic)
        .message(r#"{"order":7}"#)
        .message_attributes("tenant", string_attr("acme"))
        .message_attributes("qty", number)
        .send()
        .await
        .unwrap_or_else(|e| fail("Publish", &e));
    let got = ctx.delivered(&url, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].body(),
        Some(r#"{"order":7}"#),
        "the body is the message itself"
    );
    let attrs = got[0].message_attributes.clone().unwrap_or_default();
    assert_eq!(attrs["tenant"].data_type(), "String");
    assert_eq!(attrs["tenant"].string_value(), Some("acme"));
    assert_eq!(attrs["qty"].data_type(), "Number");
    assert_eq!(attrs["qty"].string_value(), Some("7"));
}

async fn a_publish_fans_out_to_every_subscribed_queue(ctx: &Ctx) {
    let topic = ctx.topic("conf-fan").await;
    let (a, b) = (
        ctx.queue("conf-fan-a", &[]).await,
        ctx.queue("conf-fan-b", &[]).await,
    );
    ctx.subscribe(&topic, &a, false).await;
    ctx.subscribe(&topic, &b, true).await;
    ctx.publish(&topic, "one event", &[]).await;
    assert_eq!(payloads(&ctx.delivered(&a, 1).await), ["one event"]);
    let raw = ctx.delivered(&b, 1).await;
    assert_eq!(raw.len(), 1);
    assert_eq!(raw[0].body(), Some("one event"));
}

async fn an_empty_or_oversized_message_is_refused(ctx: &Ctx) {
    let topic = ctx.topic("conf-size").await;
    ctx.rejects(
        ctx.sns.publish().topic_arn(&topic).message("").send().await,
        "InvalidParameter",
        "an empty message",
    );
    // 256 KiB (262,144 bytes) is the most SNS takes, attributes included.
    ctx.rejects(
        ctx.sns
            .publish()
            .topic_arn(&topic)
            .message("x".repeat(262_145))
            .send()
            .await,
        "InvalidParameter",
        "a message over 256 KiB",
    );
    ctx.sns
        .publish()
        .topic_arn(&topic)
        .message("x".repeat(262_144))
        .send()
        .await
        .unwrap_or_else(|e| fail("Publish of exactly 256 KiB", &e));
}
