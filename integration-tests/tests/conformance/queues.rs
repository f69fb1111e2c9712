//! Queues: CreateQueue, GetQueueUrl, ListQueues, Get/SetQueueAttributes, DeleteQueue,
//! PurgeQueue, TagQueue, UntagQueue, ListQueueTags.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName as A;

use crate::support::{Ctx, Target, conformance, service_err};

conformance!(
    create_queue_with_attributes_and_tags,
    create_queue_is_idempotent_when_attributes_match,
    create_queue_with_different_attributes_is_queue_already_exists,
    get_queue_url_finds_the_queue,
    list_queues_filters_by_prefix,
    list_queues_paginates_with_max_results_and_next_token,
    get_queue_attributes_all_returns_the_standard_set,
    get_queue_attributes_each_by_name,
    approximate_counts_track_visible_in_flight_and_delayed,
    set_queue_attributes_updates_values,
    delete_queue_removes_it,
    purge_queue_removes_all_messages,
    purge_queue_twice_is_purge_queue_in_progress,
    tag_untag_and_list_queue_tags,
    set_queue_attributes_bumps_last_modified_timestamp,
    queue_visibility_change_spares_messages_in_flight,
    purge_queue_removes_delayed_messages_too,
    get_queue_url_finds_fifo_queues_and_list_queues_lists_them,
);

async fn create_queue_with_attributes_and_tags(ctx: &Ctx) {
    let name = ctx.name("conf-create");
    let out = ctx
        .client
        .create_queue()
        .queue_name(&name)
        .attributes(A::VisibilityTimeout, "45")
        .attributes(A::DelaySeconds, "3")
        .attributes(A::MessageRetentionPeriod, "3600")
        .tags("team", "weir")
        .tags("env", "test")
        .send()
        .await
        .expect("CreateQueue");
    let url = out.queue_url().expect("a URL").to_owned();
    ctx.track(&url);
    assert!(
        url.ends_with(&format!("/{name}")),
        "the URL ends with the name: {url}"
    );

    let attrs = ctx.attributes(&url).await;
    assert_eq!(
        attrs.get(&A::VisibilityTimeout).map(String::as_str),
        Some("45")
    );
    assert_eq!(attrs.get(&A::DelaySeconds).map(String::as_str), Some("3"));
    assert_eq!(
        attrs.get(&A::MessageRetentionPeriod).map(String::as_str),
        Some("3600")
    );
    let arn = attrs.get(&A::QueueArn).expect("QueueArn");
    assert!(
        arn.starts_with("arn:aws:sqs:") && arn.ends_with(&format!(":{name}")),
        "{arn}"
    );

    let tags = ctx
        .client
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .expect("ListQueueTags");
    let tags = tags.tags.unwrap_or_default();
    assert_eq!(tags.get("team").map(String::as_str), Some("weir"));
    assert_eq!(tags.get("env").map(String::as_str), Some("test"));
    assert_eq!(tags.len(), 2);
}

async fn create_queue_is_idempotent_when_attributes_match(ctx: &Ctx) {
    let name = ctx.name("conf-idem");
    let first = ctx.create(&name, &[(A::VisibilityTimeout, "40")]).await;
    let again = ctx
        .client
        .create_queue()
        .queue_name(&name)
        .attributes(A::VisibilityTimeout, "40")
        .send()
        .await
        .expect("CreateQueue with the same attributes succeeds");
    assert_eq!(again.queue_url(), Some(first.as_str()));
}

async fn create_queue_with_different_attributes_is_queue_already_exists(ctx: &Ctx) {
    let name = ctx.name("conf-exists");
    ctx.create(&name, &[(A::VisibilityTimeout, "40")]).await;
    let result = ctx
        .client
        .create_queue()
        .queue_name(&name)
        .attributes(A::VisibilityTimeout, "41")
        .send()
        .await;
    let err = service_err(result);
    assert!(
        err.is_queue_name_exists(),
        "QueueAlreadyExists, got {err:?}"
    );
    assert_eq!(
        aws_sdk_sqs::error::ProvideErrorMetadata::code(&err),
        Some("QueueAlreadyExists")
    );
}

async fn get_queue_url_finds_the_queue(ctx: &Ctx) {
    let name = ctx.name("conf-url");
    let url = ctx.create(&name, &[]).await;
    let out = ctx
        .client
        .get_queue_url()
        .queue_name(&name)
        .send()
        .await
        .expect("GetQueueUrl");
    assert_eq!(out.queue_url(), Some(url.as_str()));

    let missing = ctx
        .client
        .get_queue_url()
        .queue_name(ctx.name("conf-nope"))
        .send()
        .await;
    let err = service_err(missing);
    assert!(
        err.is_queue_does_not_exist(),
        "QueueDoesNotExist, got {err:?}"
    );
}

async fn list_queues_filters_by_prefix(ctx: &Ctx) {
    let prefix = ctx.name("conf-prefix");
    let a = ctx.create(&format!("{prefix}-a"), &[]).await;
    let b = ctx.create(&format!("{prefix}-b"), &[]).await;
    let other = ctx.queue("conf-other", &[]).await;
    let out = ctx
        .client
        .list_queues()
        .queue_name_prefix(&prefix)
        .send()
        .await
        .expect("ListQueues");
    let urls: HashSet<&str> = out.queue_urls().iter().map(String::as_str).collect();
    assert_eq!(urls, HashSet::from([a.as_str(), b.as_str()]));
    assert!(!urls.contains(other.as_str()));
}

async fn list_queues_paginates_with_max_results_and_next_token(ctx: &Ctx) {
    let prefix = ctx.name("conf-page");
    let mut want = HashSet::new();
    for i in 0..3 {
        want.insert(ctx.create(&format!("{prefix}-{i}"), &[]).await);
    }
    let mut seen = HashSet::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let out = ctx
            .client
            .list_queues()
            .queue_name_prefix(&prefix)
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .expect("ListQueues");
        pages += 1;
        assert!(out.queue_urls().len() <= 2, "MaxResults bounds a page");
        seen.extend(out.queue_urls().iter().cloned());
        token = out.next_token;
        if token.is_none() || pages > 5 {
            break;
        }
    }
    assert_eq!(seen, want);
    assert_eq!(pages, 2, "3 queues in pages of 2 take two pages");

    let bad = ctx.client.list_queues().max_results(1001).send().await;
    // LocalStack 4.12 takes MaxResults 1001; AWS allows 1–1000.
    ctx.rejects_but_localstack_accepts(bad, "InvalidParameterValue", "MaxResults 1001");
}

async fn get_queue_attributes_all_returns_the_standard_set(ctx: &Ctx) {
    let url = ctx.queue("conf-all", &[]).await;
    let attrs = ctx.attributes(&url).await;
    for name in [
        A::QueueArn,
        A::ApproximateNumberOfMessages,
        A::ApproximateNumberOfMessagesNotVisible,
        A::ApproximateNumberOfMessagesDelayed,
        A::CreatedTimestamp,
        A::LastModifiedTimestamp,
        A::VisibilityTimeout,
        A::MaximumMessageSize,
        A::MessageRetentionPeriod,
        A::DelaySeconds,
        A::ReceiveMessageWaitTimeSeconds,
    ] {
        assert!(
            attrs.contains_key(&name),
            "All includes {name:?}: {attrs:?}"
        );
    }
    let get = |n: A| attrs.get(&n).cloned().unwrap_or_default();
    assert_eq!(get(A::VisibilityTimeout), "30");
    assert_eq!(get(A::MessageRetentionPeriod), "345600");
    assert_eq!(get(A::DelaySeconds), "0");
    assert_eq!(get(A::ReceiveMessageWaitTimeSeconds), "0");
    assert_eq!(get(A::ApproximateNumberOfMessages), "0");
    // AWS raised the default and maximum message size to 1 MiB on 2025-08-04.
    assert_eq!(get(A::MaximumMessageSize), "1048576");
    assert!(
        !attrs.contains_key(&A::FifoQueue),
        "a standard queue has no FifoQueue attribute"
    );
}

async fn get_queue_attributes_each_by_name(ctx: &Ctx) {
    let dlq = ctx.queue("conf-each-dlq", &[]).await;
    let dlq_arn = ctx.arn(&dlq).await;
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}"#);
    let url = ctx.queue("conf-each", &[(A::RedrivePolicy, &policy)]).await;
    ctx.send(&url, "one").await;
    for name in [
        A::QueueArn,
        A::ApproximateNumberOfMessages,
        A::ApproximateNumberOfMessagesNotVisible,
        A::ApproximateNumberOfMessagesDelayed,
        A::CreatedTimestamp,
        A::LastModifiedTimestamp,
        A::VisibilityTimeout,
        A::MaximumMessageSize,
        A::MessageRetentionPeriod,
        A::DelaySeconds,
        A::ReceiveMessageWaitTimeSeconds,
        A::RedrivePolicy,
    ] {
        let out = ctx
            .client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(name.clone())
            .send()
            .await
            .expect("GetQueueAttributes");
        let attrs = out.attributes.unwrap_or_default();
        assert_eq!(
            attrs.len(),
            1,
            "asking for {name:?} returns only it: {attrs:?}"
        );
        let value = attrs
            .get(&name)
            .unwrap_or_else(|| panic!("{name:?} returned"));
        if name != A::QueueArn && name != A::RedrivePolicy {
            assert!(
                value.parse::<i64>().is_ok(),
                "{name:?} is a number: {value}"
            );
        }
    }
    assert_eq!(ctx.count(&url, A::ApproximateNumberOfMessages).await, 1);
    let redrive = ctx
        .attribute(&url, A::RedrivePolicy)
        .await
        .expect("RedrivePolicy");
    let redrive: serde_json::Value = serde_json::from_str(&redrive).expect("JSON");
    assert_eq!(redrive["deadLetterTargetArn"], dlq_arn.as_str());
}

async fn approximate_counts_track_visible_in_flight_and_delayed(ctx: &Ctx) {
    let url = ctx.queue("conf-counts", &[]).await;
    for i in 0..3 {
        ctx.send(&url, &format!("m{i}")).await;
    }
    ctx.client
        .send_message()
        .queue_url(&url)
        .message_body("later")
        .delay_seconds(60)
        .send()
        .await
        .expect("SendMessage");
    assert_eq!(ctx.count(&url, A::ApproximateNumberOfMessages).await, 3);
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessagesDelayed).await,
        1
    );
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessagesNotVisible)
            .await,
        0
    );

    let got = ctx.receive_n(&url, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(ctx.count(&url, A::ApproximateNumberOfMessages).await, 2);
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessagesNotVisible)
            .await,
        1
    );

    ctx.delete(&url, &got[0]).await;
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessagesNotVisible)
            .await,
        0
    );
    assert_eq!(ctx.count(&url, A::ApproximateNumberOfMessages).await, 2);
}

async fn set_queue_attributes_updates_values(ctx: &Ctx) {
    let url = ctx.queue("conf-set", &[]).await;
    ctx.client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(A::VisibilityTimeout, "120")
        .attributes(A::DelaySeconds, "5")
        .attributes(A::ReceiveMessageWaitTimeSeconds, "7")
        .attributes(A::MaximumMessageSize, "2048")
        .send()
        .await
        .expect("SetQueueAttributes");
    let attrs = ctx.attributes(&url).await;
    assert_eq!(attrs[&A::VisibilityTimeout], "120");
    assert_eq!(attrs[&A::DelaySeconds], "5");
    assert_eq!(attrs[&A::ReceiveMessageWaitTimeSeconds], "7");
    assert_eq!(attrs[&A::MaximumMessageSize], "2048");

    let bad = ctx
        .client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(A::VisibilityTimeout, "43201")
        .send()
        .await;
    // LocalStack 4.12 does not range-check queue attributes; AWS allows 0–43200.
    if ctx
        .rejects_but_localstack_accepts(bad, "InvalidAttributeValue", "43201")
        .is_none()
    {
        assert_eq!(
            ctx.attribute(&url, A::VisibilityTimeout).await.as_deref(),
            Some("120")
        );
    }
}

async fn delete_queue_removes_it(ctx: &Ctx) {
    let name = ctx.name("conf-delete");
    let url = ctx.create(&name, &[]).await;
    ctx.client
        .delete_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("DeleteQueue");
    // AWS says deletion can take up to 60 s to be seen everywhere; both engines apply it
    // at once, and the next call is the first thing any of them would see.
    let err = service_err(ctx.client.get_queue_url().queue_name(&name).send().await);
    assert!(err.is_queue_does_not_exist(), "{err:?}");
    let err = service_err(
        ctx.client
            .send_message()
            .queue_url(&url)
            .message_body("x")
            .send()
            .await,
    );
    assert!(err.is_queue_does_not_exist(), "{err:?}");
}

async fn purge_queue_removes_all_messages(ctx: &Ctx) {
    let url = ctx.queue("conf-purge", &[]).await;
    for i in 0..5 {
        ctx.send(&url, &format!("m{i}")).await;
    }
    let inflight = ctx.receive_n(&url, 1).await;
    assert_eq!(inflight.len(), 1);
    ctx.client
        .purge_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("PurgeQueue");
    // AWS: "The message deletion process takes up to 60 seconds"; allow a moment.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(ctx.count(&url, A::ApproximateNumberOfMessages).await, 0);
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessagesNotVisible)
            .await,
        0
    );
    assert!(ctx.receive(&url, 10).await.is_empty());
    // The queue still works afterwards.
    ctx.send(&url, "after").await;
    assert_eq!(ctx.receive_n(&url, 1).await.len(), 1);
}

async fn purge_queue_twice_is_purge_queue_in_progress(ctx: &Ctx) {
    let url = ctx.queue("conf-purge2", &[]).await;
    ctx.client
        .purge_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("PurgeQueue");
    let again = ctx.client.purge_queue().queue_url(&url).send().await;
    // LocalStack 4.12 allows back-to-back purges; AWS allows one per 60 s.
    if ctx
        .rejects_but_localstack_accepts(
            again,
            "AWS.SimpleQueueService.PurgeQueueInProgress",
            "second purge",
        )
        .is_some()
    {
        return;
    }
    let err = service_err(ctx.client.purge_queue().queue_url(&url).send().await);
    assert!(
        err.is_purge_queue_in_progress(),
        "a third purge within 60 s: {err:?}"
    );
    if ctx.time_is_free() {
        tokio::time::sleep(Duration::from_secs(61)).await;
        ctx.client
            .purge_queue()
            .queue_url(&url)
            .send()
            .await
            .expect("a purge 61 s later works");
    }
}

async fn tag_untag_and_list_queue_tags(ctx: &Ctx) {
    let url = ctx.queue("conf-tags", &[]).await;
    let empty = ctx
        .client
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .expect("ListQueueTags");
    assert!(empty.tags.unwrap_or_default().is_empty());
    ctx.client
        .tag_queue()
        .queue_url(&url)
        .tags("a", "1")
        .tags("b", "2")
        .send()
        .await
        .expect("TagQueue");
    ctx.client
        .tag_queue()
        .queue_url(&url)
        .tags("a", "3")
        .send()
        .await
        .expect("TagQueue");
    ctx.client
        .untag_queue()
        .queue_url(&url)
        .tag_keys("b")
        .send()
        .await
        .expect("UntagQueue");
    let tags = ctx
        .client
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .expect("ListQueueTags");
    let tags = tags.tags.unwrap_or_default();
    assert_eq!(tags.len(), 1, "{tags:?}");
    assert_eq!(
        tags.get("a").map(String::as_str),
        Some("3"),
        "TagQueue overwrites a key"
    );
}

async fn set_queue_attributes_bumps_last_modified_timestamp(ctx: &Ctx) {
    let url = ctx.queue("conf-lastmod", &[]).await;
    let before = ctx.attributes(&url).await;
    let created: i64 = before[&A::CreatedTimestamp].parse().expect("epoch seconds");
    let modified: i64 = before[&A::LastModifiedTimestamp]
        .parse()
        .expect("epoch seconds");
    assert!(
        created > 1_600_000_000 && created < 10_000_000_000,
        "seconds, not ms: {created}"
    );
    assert!(modified >= created);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    ctx.client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(A::DelaySeconds, "1")
        .send()
        .await
        .expect("SetQueueAttributes");
    let after = ctx.attributes(&url).await;
    let modified_after: i64 = after[&A::LastModifiedTimestamp]
        .parse()
        .expect("epoch seconds");
    if ctx.target == Target::LocalStack {
        // LocalStack 4.12 leaves LastModifiedTimestamp at the creation time; AWS moves
        // it on every SetQueueAttributes.
        assert_eq!(modified_after, modified);
    } else {
        assert!(modified_after > modified, "{modified} -> {modified_after}");
    }
    assert_eq!(after[&A::CreatedTimestamp], before[&A::CreatedTimestamp]);
}

async fn queue_visibility_change_spares_messages_in_flight(ctx: &Ctx) {
    // AWS: a new queue VisibilityTimeout applies to messages received after the change.
    let url = ctx
        .queue("conf-vischange", &[(A::VisibilityTimeout, "600")])
        .await;
    ctx.send(&url, "m").await;
    let got = ctx.receive_n(&url, 1).await;
    assert_eq!(got.len(), 1);
    ctx.client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(A::VisibilityTimeout, "1")
        .send()
        .await
        .expect("SetQueueAttributes");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        ctx.receive(&url, 1).await.is_empty(),
        "still under its 600 s lease"
    );
    ctx.send(&url, "n").await;
    let second = ctx.receive_n(&url, 1).await;
    assert_eq!(second[0].body(), Some("n"));
    let again = ctx.receive_within(&url, 1, Duration::from_secs(4)).await;
    assert_eq!(
        again.first().and_then(|m| m.body()),
        Some("n"),
        "received under the new 1 s"
    );
}

async fn purge_queue_removes_delayed_messages_too(ctx: &Ctx) {
    let url = ctx.queue("conf-purgedelayed", &[]).await;
    ctx.client
        .send_message()
        .queue_url(&url)
        .message_body("later")
        .delay_seconds(2)
        .send()
        .await
        .expect("SendMessage");
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessagesDelayed).await,
        1
    );
    ctx.client
        .purge_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("PurgeQueue");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        ctx.receive(&url, 10).await.is_empty(),
        "the delayed message was purged"
    );
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessagesDelayed).await,
        0
    );
}

async fn get_queue_url_finds_fifo_queues_and_list_queues_lists_them(ctx: &Ctx) {
    let prefix = ctx.name("conf-fifolist");
    let name = format!("{prefix}.fifo");
    let url = ctx.create(&name, &[(A::FifoQueue, "true")]).await;
    let got = ctx
        .client
        .get_queue_url()
        .queue_name(&name)
        .send()
        .await
        .expect("GetQueueUrl");
    assert_eq!(got.queue_url(), Some(url.as_str()));
    let listed = ctx
        .client
        .list_queues()
        .queue_name_prefix(&prefix)
        .send()
        .await
        .expect("ListQueues");
    assert_eq!(listed.queue_urls(), std::slice::from_ref(&url));
    assert!(
        listed.next_token().is_none(),
        "no NextToken without MaxResults"
    );
    // The name without `.fifo` is another (missing) queue.
    let err = service_err(ctx.client.get_queue_url().queue_name(&prefix).send().await);
    assert!(err.is_queue_does_not_exist(), "{err:?}");
}
