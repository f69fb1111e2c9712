//! Queue operations through the real SDK client.

use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::types::QueueAttributeName;
use weir_local::LocalSqs;

async fn create(client: &aws_sdk_sqs::Client, name: &str) -> String {
    client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create_queue")
        .queue_url
        .expect("queue url")
}

#[tokio::test(start_paused = true)]
async fn create_get_url_send_receive_delete() {
    let sqs = LocalSqs::new();
    let client = sqs.client();
    let url = create(&client, "basic").await;
    assert_eq!(url, "http://sqs.us-east-1.localhost/000000000000/basic");
    let got = client
        .get_queue_url()
        .queue_name("basic")
        .send()
        .await
        .unwrap();
    assert_eq!(got.queue_url(), Some(url.as_str()));

    let sent = client
        .send_message()
        .queue_url(&url)
        .message_body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent.md5_of_message_body(),
        Some("5d41402abc4b2a76b9719d911017c592")
    );
    let received = client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    let msgs = received.messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].body(), Some("hello"));
    assert_eq!(msgs[0].message_id(), sent.message_id());
    client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(msgs[0].receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    let attrs = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attrs = attrs.attributes().unwrap();
    assert_eq!(attrs[&QueueAttributeName::ApproximateNumberOfMessages], "0");
    assert_eq!(
        attrs[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "0"
    );
    assert_eq!(
        attrs[&QueueAttributeName::QueueArn],
        "arn:aws:sqs:us-east-1:000000000000:basic"
    );
}

#[tokio::test(start_paused = true)]
async fn missing_queue_is_typed_error() {
    let client = LocalSqs::new().client();
    let err = client
        .get_queue_url()
        .queue_name("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_queue_does_not_exist(), "{err:?}");
    let err = client
        .send_message()
        .queue_url("http://sqs.us-east-1.localhost/000000000000/nope")
        .message_body("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_queue_does_not_exist(), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn create_is_idempotent_only_when_attributes_match() {
    let client = LocalSqs::new().client();
    let url = client
        .create_queue()
        .queue_name("idem")
        .attributes(QueueAttributeName::VisibilityTimeout, "45")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let again = client
        .create_queue()
        .queue_name("idem")
        .attributes(QueueAttributeName::VisibilityTimeout, "45")
        .send()
        .await
        .unwrap();
    assert_eq!(again.queue_url(), Some(url.as_str()));
    let plain = client
        .create_queue()
        .queue_name("idem")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.queue_url(), Some(url.as_str()));
    let err = client
        .create_queue()
        .queue_name("idem")
        .attributes(QueueAttributeName::VisibilityTimeout, "46")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_queue_name_exists(), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn queue_names_and_fifo_suffix_are_validated() {
    let client = LocalSqs::new().client();
    for bad in ["", "has space", "dot.name", &"x".repeat(81)] {
        let err = client
            .create_queue()
            .queue_name(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            err.into_service_error().meta().code(),
            Some("InvalidParameterValue"),
            "{bad:?}"
        );
    }
    client
        .create_queue()
        .queue_name("x".repeat(80))
        .send()
        .await
        .unwrap();
    let err = client
        .create_queue()
        .queue_name("f.fifo")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
    let err = client
        .create_queue()
        .queue_name("notfifo")
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
    client
        .create_queue()
        .queue_name("f.fifo")
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap();
    let err = client
        .create_queue()
        .queue_name("bad-attr")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_attribute_name(), "{err:?}");
    let err = client
        .create_queue()
        .queue_name("bad-value")
        .attributes(QueueAttributeName::VisibilityTimeout, "43201")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_attribute_value(), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn list_queues_filters_and_paginates() {
    let client = LocalSqs::new().client();
    for i in 0..5 {
        create(&client, &format!("page-{i}")).await;
    }
    create(&client, "other").await;
    let all = client.list_queues().send().await.unwrap();
    assert_eq!(all.queue_urls().len(), 6);
    assert!(all.next_token().is_none());
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_queues()
            .queue_name_prefix("page-")
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(page.queue_urls().len() <= 2);
        seen.extend(page.queue_urls().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().all(|u| u.contains("/page-")));
    let err = client
        .list_queues()
        .max_results(1001)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
}

#[tokio::test(start_paused = true)]
async fn attributes_get_set_and_validate() {
    let client = LocalSqs::new().client();
    let url = create(&client, "attrs").await;
    let before = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let a = before.attributes().unwrap();
    assert_eq!(a[&QueueAttributeName::VisibilityTimeout], "30");
    assert_eq!(a[&QueueAttributeName::MaximumMessageSize], "1048576");
    assert_eq!(a[&QueueAttributeName::MessageRetentionPeriod], "345600");
    assert_eq!(a[&QueueAttributeName::DelaySeconds], "0");
    assert!(a.contains_key(&QueueAttributeName::CreatedTimestamp));
    assert!(!a.contains_key(&QueueAttributeName::FifoQueue));
    tokio::time::advance(std::time::Duration::from_secs(5)).await;
    client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::VisibilityTimeout, "120")
        .attributes(QueueAttributeName::DelaySeconds, "5")
        .send()
        .await
        .unwrap();
    let after = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::VisibilityTimeout)
        .attribute_names(QueueAttributeName::LastModifiedTimestamp)
        .attribute_names(QueueAttributeName::CreatedTimestamp)
        .send()
        .await
        .unwrap();
    let b = after.attributes().unwrap();
    assert_eq!(b.len(), 3);
    assert_eq!(b[&QueueAttributeName::VisibilityTimeout], "120");
    let created: u64 = b[&QueueAttributeName::CreatedTimestamp].parse().unwrap();
    let modified: u64 = b[&QueueAttributeName::LastModifiedTimestamp]
        .parse()
        .unwrap();
    assert!(modified >= created + 4, "{created} {modified}");

    for (name, value) in [
        (QueueAttributeName::VisibilityTimeout, "43201"),
        (QueueAttributeName::DelaySeconds, "901"),
        (QueueAttributeName::MaximumMessageSize, "1023"),
        (QueueAttributeName::MessageRetentionPeriod, "1209601"),
        (QueueAttributeName::ReceiveMessageWaitTimeSeconds, "21"),
    ] {
        let err = client
            .set_queue_attributes()
            .queue_url(&url)
            .attributes(name.clone(), value)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_invalid_attribute_value(), "{name:?} {err:?}");
    }
    let err = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::from("Bogus"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_attribute_name(), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn delete_queue_then_recreate_after_sixty_seconds() {
    let client = LocalSqs::new().client();
    let url = create(&client, "gone").await;
    client.delete_queue().queue_url(&url).send().await.unwrap();
    let err = client
        .get_queue_url()
        .queue_name("gone")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_queue_does_not_exist());
    let err = client
        .delete_queue()
        .queue_url(&url)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_queue_does_not_exist());
    let err = client
        .create_queue()
        .queue_name("gone")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_queue_deleted_recently());
    tokio::time::advance(std::time::Duration::from_secs(61)).await;
    create(&client, "gone").await;
}

#[tokio::test(start_paused = true)]
async fn queue_deleted_recently_can_be_turned_off() {
    let client = LocalSqs::builder()
        .queue_deleted_recently(false)
        .build()
        .client();
    let url = create(&client, "again").await;
    client.delete_queue().queue_url(&url).send().await.unwrap();
    let again = create(&client, "again").await;
    assert_eq!(again, url);
    let attrs = client
        .get_queue_attributes()
        .queue_url(&again)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attrs.attributes().unwrap()[&QueueAttributeName::ApproximateNumberOfMessages],
        "0"
    );
}

#[tokio::test(start_paused = true)]
async fn purge_empties_and_is_limited_to_once_a_minute() {
    let client = LocalSqs::new().client();
    let url = create(&client, "purge").await;
    for _ in 0..3 {
        client
            .send_message()
            .queue_url(&url)
            .message_body("x")
            .send()
            .await
            .unwrap();
    }
    client.purge_queue().queue_url(&url).send().await.unwrap();
    let got = client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert!(got.messages().is_empty());
    let err = client
        .purge_queue()
        .queue_url(&url)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_purge_queue_in_progress(), "{err:?}");
    tokio::time::advance(std::time::Duration::from_secs(60)).await;
    client.purge_queue().queue_url(&url).send().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn tags_can_be_set_listed_and_removed() {
    let client = LocalSqs::new().client();
    let url = client
        .create_queue()
        .queue_name("tagged")
        .tags("team", "a")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    client
        .tag_queue()
        .queue_url(&url)
        .tags("env", "test")
        .send()
        .await
        .unwrap();
    let tags = client
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    let t = tags.tags().unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(t["team"], "a");
    client
        .untag_queue()
        .queue_url(&url)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = client
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().unwrap().len(), 1);
    let err = client
        .tag_queue()
        .queue_url("http://x/000000000000/missing")
        .tags("a", "b")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_queue_does_not_exist());
}

#[tokio::test(start_paused = true)]
async fn permissions_are_written_into_the_policy_as_aws_writes_them() {
    let client = LocalSqs::new().client();
    let url = create(&client, "perm").await;
    let policy = || async {
        client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::Policy)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap_or_default()
            .remove(&QueueAttributeName::Policy)
    };
    client
        .add_permission()
        .queue_url(&url)
        .label("senders")
        .aws_account_ids("111111111111")
        .actions("SendMessage")
        .send()
        .await
        .unwrap();
    client
        .add_permission()
        .queue_url(&url)
        .label("readers")
        .aws_account_ids("111111111111")
        .aws_account_ids("222222222222")
        .actions("ReceiveMessage")
        .actions("DeleteMessage")
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&policy().await.unwrap()).unwrap();
    let arn = "arn:aws:sqs:us-east-1:000000000000:perm";
    assert_eq!(v["Version"], "2008-10-17");
    assert_eq!(v["Id"], format!("{arn}/SQSDefaultPolicy"));
    assert_eq!(
        v["Statement"][0],
        serde_json::json!({
            "Sid": "senders", "Effect": "Allow",
            "Principal": { "AWS": "arn:aws:iam::111111111111:root" },
            "Action": "SQS:SendMessage", "Resource": arn,
        })
    );
    assert_eq!(
        v["Statement"][1]["Principal"]["AWS"],
        serde_json::json!([
            "arn:aws:iam::111111111111:root",
            "arn:aws:iam::222222222222:root"
        ])
    );
    assert_eq!(
        v["Statement"][1]["Action"],
        serde_json::json!(["SQS:ReceiveMessage", "SQS:DeleteMessage"])
    );
    let dup = client
        .add_permission()
        .queue_url(&url)
        .label("senders")
        .aws_account_ids("111111111111")
        .actions("SendMessage")
        .send()
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Some("InvalidParameterValue"));
    for label in ["senders", "readers"] {
        client
            .remove_permission()
            .queue_url(&url)
            .label(label)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(
        policy().await,
        None,
        "the last statement takes the policy with it"
    );
    let gone = client
        .remove_permission()
        .queue_url(&url)
        .label("senders")
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Some("InvalidParameterValue"));
}

#[tokio::test(start_paused = true)]
async fn builder_options_shape_urls_and_arns() {
    let sqs = LocalSqs::builder()
        .account_id("123456789012")
        .region("eu-west-1")
        .queue_url_base("http://localhost:9324/")
        .build();
    let client = sqs.client();
    let url = create(&client, "custom").await;
    assert_eq!(url, "http://localhost:9324/123456789012/custom");
    let attrs = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attrs.attributes().unwrap()[&QueueAttributeName::QueueArn],
        "arn:aws:sqs:eu-west-1:123456789012:custom"
    );
    assert!(format!("{sqs:?}").contains("123456789012"));
}
