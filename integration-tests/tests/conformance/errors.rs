//! Errors and bad input: missing queues, bad attribute names, receipt handles that are
//! garbage or no longer in flight, characters SQS rejects, bad queue names.

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName as A;

use crate::support::{Ctx, conformance, err_code, service_err};

conformance!(
    missing_queue_is_queue_does_not_exist_everywhere,
    unknown_queue_attribute_name_is_invalid_attribute_name,
    garbage_receipt_handle_is_receipt_handle_is_invalid,
    body_with_characters_sqs_rejects_is_invalid_message_contents,
    body_with_every_allowed_character_range_roundtrips,
    empty_body_is_rejected,
    invalid_queue_names_are_rejected,
    recreating_a_deleted_queue_at_once_is_queue_deleted_recently,
);

async fn missing_queue_is_queue_does_not_exist_everywhere(ctx: &Ctx) {
    // A URL of the right shape for this endpoint, naming a queue that does not exist.
    let real = ctx.queue("conf-real", &[]).await;
    let url = format!("{real}-missing");
    let c = &ctx.client;
    let e = service_err(
        c.send_message()
            .queue_url(&url)
            .message_body("m")
            .send()
            .await,
    );
    assert!(e.is_queue_does_not_exist(), "SendMessage: {e:?}");
    let e = service_err(c.receive_message().queue_url(&url).send().await);
    assert!(e.is_queue_does_not_exist(), "ReceiveMessage: {e:?}");
    let e = service_err(
        c.get_queue_attributes()
            .queue_url(&url)
            .attribute_names(A::All)
            .send()
            .await,
    );
    assert!(e.is_queue_does_not_exist(), "GetQueueAttributes: {e:?}");
    let e = service_err(
        c.set_queue_attributes()
            .queue_url(&url)
            .attributes(A::DelaySeconds, "1")
            .send()
            .await,
    );
    assert!(e.is_queue_does_not_exist(), "SetQueueAttributes: {e:?}");
    let e = service_err(c.purge_queue().queue_url(&url).send().await);
    assert!(e.is_queue_does_not_exist(), "PurgeQueue: {e:?}");
    let e = service_err(
        c.delete_message()
            .queue_url(&url)
            .receipt_handle("h")
            .send()
            .await,
    );
    assert!(e.is_queue_does_not_exist(), "DeleteMessage: {e:?}");
    let e = service_err(c.list_queue_tags().queue_url(&url).send().await);
    assert!(e.is_queue_does_not_exist(), "ListQueueTags: {e:?}");
    let e = service_err(c.delete_queue().queue_url(&url).send().await);
    assert!(e.is_queue_does_not_exist(), "DeleteQueue: {e:?}");
    assert_eq!(
        aws_sdk_sqs::error::ProvideErrorMetadata::code(&e),
        Some("AWS.SimpleQueueService.NonExistentQueue"),
        "the query-compatible code"
    );
}

async fn unknown_queue_attribute_name_is_invalid_attribute_name(ctx: &Ctx) {
    let url = ctx.queue("conf-badattr", &[]).await;
    let bogus = A::from("NotAnAttribute");
    let e = service_err(
        ctx.client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(bogus.clone())
            .send()
            .await,
    );
    assert!(e.is_invalid_attribute_name(), "GetQueueAttributes: {e:?}");
    let e = service_err(
        ctx.client
            .set_queue_attributes()
            .queue_url(&url)
            .attributes(bogus.clone(), "1")
            .send()
            .await,
    );
    assert!(e.is_invalid_attribute_name(), "SetQueueAttributes: {e:?}");
    let result = ctx
        .client
        .create_queue()
        .queue_name(ctx.name("conf-badattr2"))
        .attributes(bogus, "1")
        .send()
        .await;
    if let Ok(out) = &result {
        ctx.track(out.queue_url().unwrap_or_default());
    }
    let e = service_err(result);
    assert!(e.is_invalid_attribute_name(), "CreateQueue: {e:?}");
    // A read-only attribute cannot be set.
    let e = service_err(
        ctx.client
            .set_queue_attributes()
            .queue_url(&url)
            .attributes(A::ApproximateNumberOfMessages, "5")
            .send()
            .await,
    );
    assert!(e.is_invalid_attribute_name(), "read-only attribute: {e:?}");
}

async fn garbage_receipt_handle_is_receipt_handle_is_invalid(ctx: &Ctx) {
    let url = ctx.queue("conf-badhandle", &[]).await;
    let e = service_err(
        ctx.client
            .delete_message()
            .queue_url(&url)
            .receipt_handle("garbage")
            .send()
            .await,
    );
    assert!(e.is_receipt_handle_is_invalid(), "DeleteMessage: {e:?}");
    let e = service_err(
        ctx.client
            .change_message_visibility()
            .queue_url(&url)
            .receipt_handle("garbage")
            .visibility_timeout(5)
            .send()
            .await,
    );
    assert!(
        e.is_receipt_handle_is_invalid(),
        "ChangeMessageVisibility: {e:?}"
    );
}

async fn body_with_characters_sqs_rejects_is_invalid_message_contents(ctx: &Ctx) {
    let url = ctx.queue("conf-badchars", &[]).await;
    for bad in [
        "a\u{1}b",
        "\u{0}",
        "\u{8}",
        "\u{B}",
        "\u{1F}",
        "x\u{FFFE}",
        "\u{FFFF}",
    ] {
        let e = service_err(
            ctx.client
                .send_message()
                .queue_url(&url)
                .message_body(bad)
                .send()
                .await,
        );
        assert!(e.is_invalid_message_contents(), "{bad:?}: {e:?}");
    }
    assert_eq!(ctx.count(&url, A::ApproximateNumberOfMessages).await, 0);
}

async fn body_with_every_allowed_character_range_roundtrips(ctx: &Ctx) {
    let url = ctx.queue("conf-goodchars", &[]).await;
    let body = "\t\n\r \u{20}~\u{7F}\u{D7FF}\u{E000}\u{FFFD}\u{10000}\u{10FFFF}😀";
    ctx.send(&url, body).await;
    let got = ctx.receive_n(&url, 1).await;
    assert_eq!(got[0].body(), Some(body));
}

async fn empty_body_is_rejected(ctx: &Ctx) {
    let url = ctx.queue("conf-empty", &[]).await;
    let code = err_code(
        ctx.client
            .send_message()
            .queue_url(&url)
            .message_body("")
            .send()
            .await,
    );
    assert!(
        code == "MissingParameter" || code == "InvalidParameterValue",
        "{code}"
    );
}

async fn invalid_queue_names_are_rejected(ctx: &Ctx) {
    let long = "q".repeat(81);
    for bad in [
        "has space",
        "dot.name",
        "slash/name",
        "ünï",
        "",
        long.as_str(),
    ] {
        let result = ctx.client.create_queue().queue_name(bad).send().await;
        if let Ok(out) = &result {
            ctx.track(out.queue_url().unwrap_or_default());
        }
        assert_eq!(
            err_code(result),
            "InvalidParameterValue",
            "queue name {bad:?}"
        );
    }
    let ok = format!("{}-_", ctx.name("c"));
    let ok = format!("{ok}{}", "q".repeat(80 - ok.len()));
    assert_eq!(ok.len(), 80);
    ctx.create(&ok, &[]).await;
}

async fn recreating_a_deleted_queue_at_once_is_queue_deleted_recently(ctx: &Ctx) {
    let name = ctx.name("conf-recreate");
    let url = ctx.create(&name, &[]).await;
    ctx.client
        .delete_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("DeleteQueue");
    let result = ctx.client.create_queue().queue_name(&name).send().await;
    // AWS: "you must wait at least 60 seconds before creating a queue with the same
    // name" (QueueDeletedRecently). LocalStack 4.12 recreates it at once.
    if let Some(out) = ctx.rejects_but_localstack_accepts(
        result,
        "AWS.SimpleQueueService.QueueDeletedRecently",
        "recreate within 60 s",
    ) {
        ctx.track(out.queue_url().unwrap_or_default());
        return;
    }
    if ctx.time_is_free() {
        tokio::time::sleep(Duration::from_secs(61)).await;
        ctx.create(&name, &[]).await;
    }
}
