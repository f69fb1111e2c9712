//! Queues per region, AddPermission / RemovePermission and the policy they write, tag
//! calls with nothing to do, and the `FifoQueue` attribute.

use aws_sdk_sqs::types::QueueAttributeName as A;

use crate::support::{Ctx, client_in_region, conformance, err_code};

conformance!(
    queues_live_per_region,
    add_permission_writes_the_policy_and_remove_permission_takes_it_back,
    add_and_remove_permission_refuse_bad_input,
    tag_queue_without_tags_and_untag_queue_without_keys_are_refused,
    fifo_queue_attribute_on_a_standard_queue_is_unknown,
    fifo_queue_true_is_accepted_on_a_fifo_queue,
);

async fn queues_live_per_region(ctx: &Ctx) {
    let name = ctx.name("conf-region");
    let home = ctx.create(&name, &[]).await;
    let west = client_in_region(&ctx.client, "eu-west-1");
    // The same name in another region is another queue, with that region in its ARN.
    let url = west
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("CreateQueue in eu-west-1")
        .queue_url
        .unwrap_or_default();
    let arn = west
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .unwrap_or_default()
        .remove(&A::QueueArn)
        .unwrap_or_default();
    assert!(arn.starts_with("arn:aws:sqs:eu-west-1:"), "{arn}");
    assert!(ctx.arn(&home).await.starts_with("arn:aws:sqs:us-east-1:"));
    west.send_message()
        .queue_url(&url)
        .message_body("west")
        .send()
        .await
        .expect("SendMessage in eu-west-1");
    assert!(
        ctx.receive(&home, 1).await.is_empty(),
        "the us-east-1 queue is apart"
    );
    let listed = west
        .list_queues()
        .queue_name_prefix(&name)
        .send()
        .await
        .expect("ListQueues");
    assert_eq!(listed.queue_urls().len(), 1);
    let other = client_in_region(&ctx.client, "ap-south-1");
    let none = other.get_queue_url().queue_name(&name).send().await;
    assert_eq!(err_code(none), "AWS.SimpleQueueService.NonExistentQueue");
    west.delete_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("DeleteQueue in eu-west-1");
}

async fn add_permission_writes_the_policy_and_remove_permission_takes_it_back(ctx: &Ctx) {
    let url = ctx.queue("conf-perm", &[]).await;
    let arn = ctx.arn(&url).await;
    let account = arn.split(':').nth(4).unwrap_or_default().to_owned();
    ctx.client
        .add_permission()
        .queue_url(&url)
        .label("senders")
        .aws_account_ids(&account)
        .actions("SendMessage")
        .send()
        .await
        .expect("AddPermission");
    let policy = ctx.attribute(&url, A::Policy).await.expect("a policy");
    let v: serde_json::Value = serde_json::from_str(&policy).expect("JSON policy");
    assert_eq!(v["Id"], format!("{arn}/SQSDefaultPolicy"));
    assert_eq!(
        v["Statement"][0],
        serde_json::json!({
            "Sid": "senders",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
            "Action": "SQS:SendMessage",
            "Resource": arn,
        })
    );
    ctx.client
        .remove_permission()
        .queue_url(&url)
        .label("senders")
        .send()
        .await
        .expect("RemovePermission");
    let after = ctx.attribute(&url, A::Policy).await;
    let left: Option<serde_json::Value> =
        after.as_deref().and_then(|p| serde_json::from_str(p).ok());
    assert!(
        left.as_ref()
            .is_none_or(|p| p["Statement"].as_array().is_none_or(Vec::is_empty)),
        "{after:?}"
    );
}

async fn add_and_remove_permission_refuse_bad_input(ctx: &Ctx) {
    let url = ctx.queue("conf-permbad", &[]).await;
    let add = |label: &str, action: &str| {
        ctx.client
            .add_permission()
            .queue_url(&url)
            .label(label)
            .aws_account_ids("111111111111")
            .actions(action)
            .send()
    };
    add("one", "SendMessage").await.expect("AddPermission");
    assert_eq!(
        err_code(add("one", "SendMessage").await),
        "InvalidParameterValue",
        "label taken"
    );
    assert_eq!(
        err_code(add("two", "Nonsense").await),
        "InvalidParameterValue",
        "unknown action"
    );
    let gone = ctx
        .client
        .remove_permission()
        .queue_url(&url)
        .label("never-added")
        .send()
        .await;
    assert_eq!(err_code(gone), "InvalidParameterValue");
}

async fn tag_queue_without_tags_and_untag_queue_without_keys_are_refused(ctx: &Ctx) {
    let url = ctx.queue("conf-tagsempty", &[]).await;
    let tag = ctx
        .client
        .tag_queue()
        .queue_url(&url)
        .set_tags(Some(std::collections::HashMap::new()))
        .send()
        .await;
    let untag = ctx
        .client
        .untag_queue()
        .queue_url(&url)
        .set_tag_keys(Some(Vec::new()))
        .send()
        .await;
    // LocalStack 4.12 takes both as no-ops; AWS refuses them.
    ctx.rejects_but_localstack_accepts(tag, "MissingParameter", "TagQueue without tags");
    ctx.rejects_but_localstack_accepts(untag, "InvalidParameterValue", "UntagQueue without keys");
}

async fn fifo_queue_attribute_on_a_standard_queue_is_unknown(ctx: &Ctx) {
    for value in ["false", "true"] {
        let result = ctx
            .client
            .create_queue()
            .queue_name(ctx.name("conf-fifoattr"))
            .attributes(A::FifoQueue, value)
            .send()
            .await;
        if let Ok(out) = &result {
            ctx.track(out.queue_url().unwrap_or_default());
        }
        let code = err_code(result);
        if value == "false" {
            // FifoQueue is not an attribute of standard queues, even false.
            assert_eq!(code, "InvalidAttributeName");
        } else {
            assert_eq!(
                code, "InvalidParameterValue",
                "a FIFO queue needs a .fifo name"
            );
        }
    }
    let url = ctx.queue("conf-fifoattrset", &[]).await;
    let set = ctx
        .client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(A::FifoQueue, "false")
        .send()
        .await;
    assert_eq!(err_code(set), "InvalidAttributeName");
}

async fn fifo_queue_true_is_accepted_on_a_fifo_queue(ctx: &Ctx) {
    let url = ctx.fifo_queue("conf-fifotrue", &[]).await;
    ctx.client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(A::FifoQueue, "true")
        .send()
        .await
        .expect("FifoQueue=true on a FIFO queue");
    assert_eq!(
        ctx.attribute(&url, A::FifoQueue).await.as_deref(),
        Some("true")
    );
}
