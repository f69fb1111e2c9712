//! Topics and subscriptions: CreateTopic, ListTopics, Get/SetTopicAttributes,
//! DeleteTopic, Subscribe, ListSubscriptionsByTopic, Get/SetSubscriptionAttributes,
//! Unsubscribe.

use crate::support::{Ctx, conformance, fail};

conformance!(
    create_topic_returns_its_arn_and_is_idempotent,
    list_topics_lists_a_new_topic,
    topic_attributes_read_and_write,
    delete_topic_removes_it_and_its_subscriptions,
    a_missing_topic_is_not_found,
    a_bad_topic_name_is_refused,
    subscribe_an_sqs_queue_is_confirmed_and_idempotent,
    subscription_attributes_read_and_write,
    unsubscribe_stops_delivery,
    subscribe_refuses_an_unknown_protocol,
);

async fn create_topic_returns_its_arn_and_is_idempotent(ctx: &Ctx) {
    let name = ctx.name("conf-topic");
    let first = ctx.create_topic(&name, &[]).await;
    assert!(first.starts_with("arn:aws:sns:"), "{first}");
    assert!(first.ends_with(&format!(":{name}")), "{first}");
    let again = ctx.create_topic(&name, &[]).await;
    assert_eq!(
        first, again,
        "CreateTopic of an existing name returns its ARN"
    );
}

async fn list_topics_lists_a_new_topic(ctx: &Ctx) {
    let arn = ctx.topic("conf-list").await;
    let mut found = false;
    let mut token = None;
    loop {
        let out = ctx
            .sns
            .list_topics()
            .set_next_token(token)
            .send()
            .await
            .unwrap_or_else(|e| fail("ListTopics", &e));
        found |= out.topics().iter().any(|t| t.topic_arn() == Some(&arn));
        token = out.next_token;
        if token.is_none() {
            break;
        }
    }
    assert!(found, "{arn} listed");
}

async fn topic_attributes_read_and_write(ctx: &Ctx) {
    let arn = ctx.topic("conf-attrs").await;
    ctx.sns
        .set_topic_attributes()
        .topic_arn(&arn)
        .attribute_name("DisplayName")
        .attribute_value("Orders")
        .send()
        .await
        .unwrap_or_else(|e| fail("SetTopicAttributes", &e));
    let attrs = ctx
        .sns
        .get_topic_attributes()
        .topic_arn(&arn)
        .send()
        .await
        .unwrap_or_else(|e| fail("GetTopicAttributes", &e))
        .attributes
        .unwrap_or_default();
    assert_eq!(attrs.get("TopicArn"), Some(&arn));
    assert_eq!(attrs.get("DisplayName").map(String::as_str), Some("Orders"));
    for key in ["Owner", "Policy", "SubscriptionsConfirmed"] {
        assert!(attrs.contains_key(key), "{key} in {attrs:?}");
    }
    let policy: serde_json::Value = serde_json::from_str(&attrs["Policy"]).expect("JSON policy");
    assert!(policy["Statement"].is_array(), "{policy}");
}

async fn delete_topic_removes_it_and_its_subscriptions(ctx: &Ctx) {
    let arn = ctx.topic("conf-delete").await;
    let url = ctx.queue("conf-delete-q", &[]).await;
    ctx.subscribe(&arn, &url, false).await;
    ctx.sns
        .delete_topic()
        .topic_arn(&arn)
        .send()
        .await
        .unwrap_or_else(|e| fail("DeleteTopic", &e));
    let topics = ctx
        .sns
        .list_topics()
        .send()
        .await
        .unwrap_or_else(|e| fail("ListTopics", &e));
    assert!(!topics.topics().iter().any(|t| t.topic_arn() == Some(&arn)));
    let subs = ctx
        .sns
        .list_subscriptions()
        .send()
        .await
        .unwrap_or_else(|e| fail("ListSubscriptions", &e));
    assert!(
        !subs
            .subscriptions()
            .iter()
            .any(|s| s.topic_arn() == Some(&arn)),
        "the topic's subscriptions go with it"
    );
}

async fn a_missing_topic_is_not_found(ctx: &Ctx) {
    let missing = "arn:aws:sns:us-east-1:000000000000:conf-no-such-topic";
    ctx.rejects(
        ctx.sns
            .get_topic_attributes()
            .topic_arn(missing)
            .send()
            .await,
        "NotFound",
        "GetTopicAttributes of a missing topic",
    );
    ctx.rejects(
        ctx.sns
            .publish()
            .topic_arn(missing)
            .message("x")
            .send()
            .await,
        "NotFound",
        "Publish to a missing topic",
    );
    ctx.rejects(
        ctx.sns
            .subscribe()
            .topic_arn(missing)
            .protocol("sqs")
            .endpoint("arn:aws:sqs:us-east-1:000000000000:q")
            .send()
            .await,
        "NotFound",
        "Subscribe to a missing topic",
    );
}

async fn a_bad_topic_name_is_refused(ctx: &Ctx) {
    for bad in ["has space", "semi;colon", &"x".repeat(257)] {
        ctx.rejects(
            ctx.sns.create_topic().name(bad).send().await,
            "InvalidParameter",
            "a topic name with other than letters, digits, - and _ (or over 256)",
        );
    }
}

async fn subscribe_an_sqs_queue_is_confirmed_and_idempotent(ctx: &Ctx) {
    let arn = ctx.topic("conf-sub").await;
    let url = ctx.queue("conf-sub-q", &[]).await;
    let sub = ctx.subscribe(&arn, &url, false).await;
    assert!(sub.starts_with(&format!("{arn}:")), "{sub}");
    let again = ctx.subscribe(&arn, &url, false).await;
    assert_eq!(sub, again, "the same endpoint subscribes once");
    let listed = ctx
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&arn)
        .send()
        .await
        .unwrap_or_else(|e| fail("ListSubscriptionsByTopic", &e));
    let subs = listed.subscriptions();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].protocol(), Some("sqs"));
    assert_eq!(subs[0].endpoint(), Some(ctx.arn(&url).await.as_str()));
    assert_eq!(subs[0].subscription_arn(), Some(sub.as_str()));
}

async fn subscription_attributes_read_and_write(ctx: &Ctx) {
    let arn = ctx.topic("conf-subattrs").await;
    let url = ctx.queue("conf-subattrs-q", &[]).await;
    let sub = ctx.subscribe(&arn, &url, false).await;
    let get = || async {
        ctx.sns
            .get_subscription_attributes()
            .subscription_arn(&sub)
            .send()
            .await
            .unwrap_or_else(|e| fail("GetSubscriptionAttributes", &e))
            .attributes
            .unwrap_or_default()
    };
    let attrs = get().await;
    assert_eq!(attrs.get("Protocol").map(String::as_str), Some("sqs"));
    assert_eq!(attrs.get("TopicArn"), Some(&arn));
    assert_eq!(attrs.get("SubscriptionArn"), Some(&sub));
    assert_eq!(
        attrs.get("RawMessageDelivery").map(String::as_str),
        Some("false")
    );
    assert_eq!(
        attrs.get("PendingConfirmation").map(String::as_str),
        Some("false")
    );
    ctx.sns
        .set_subscription_attributes()
        .subscription_arn(&sub)
        .attribute_name("RawMessageDelivery")
        .attribute_value("true")
        .send()
        .await
        .unwrap_or_else(|e| fail("SetSubscriptionAttributes", &e));
    assert_eq!(
        get().await.get("RawMessageDelivery").map(String::as_str),
        Some("true")
    );
}

async fn unsubscribe_stops_delivery(ctx: &Ctx) {
    let arn = ctx.topic("conf-unsub").await;
    let url = ctx.queue("conf-unsub-q", &[]).await;
    let sub = ctx.subscribe(&arn, &url, true).await;
    ctx.publish(&arn, "before", &[]).await;
    assert_eq!(ctx.delivered(&url, 1).await.len(), 1);
    ctx.sns
        .unsubscribe()
        .subscription_arn(&sub)
        .send()
        .await
        .unwrap_or_else(|e| fail("Unsubscribe", &e));
    ctx.publish(&arn, "after", &[]).await;
    assert!(
        ctx.delivered(&url, 0).await.is_empty(),
        "nothing after Unsubscribe"
    );
}

async fn subscribe_refuses_an_unknown_protocol(ctx: &Ctx) {
    let arn = ctx.topic("conf-proto").await;
    ctx.rejects(
        ctx.sns
            .subscribe()
            .topic_arn(&arn)
            .protocol("carrier-pigeon")
            .endpoint("coo")
            .send()
            .await,
        "InvalidParameter",
        "an unknown protocol",
    );
}
