//! Dead-letter queues: redrive on receive, allow policies, move tasks.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use weir_local::LocalSqs;

async fn queue(client: &Client, name: &str, attrs: &[(QueueAttributeName, String)]) -> String {
    let mut req = client.create_queue().queue_name(name);
    for (k, v) in attrs {
        req = req.attributes(k.clone(), v.clone());
    }
    req.send().await.expect("create").queue_url.expect("url")
}

async fn arn(client: &Client, url: &str) -> String {
    client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("attrs")
        .attributes
        .expect("map")
        .remove(&QueueAttributeName::QueueArn)
        .expect("arn")
}

fn redrive(dlq_arn: &str, max: u32) -> (QueueAttributeName, String) {
    (
        QueueAttributeName::RedrivePolicy,
        format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{max}"}}"#),
    )
}

async fn receive(client: &Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive")
        .messages
        .unwrap_or_default()
}

async fn count(client: &Client, url: &str) -> String {
    client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("attrs")
        .attributes
        .expect("map")
        .remove(&QueueAttributeName::ApproximateNumberOfMessages)
        .expect("count")
}

#[tokio::test(start_paused = true)]
async fn message_moves_to_dlq_after_max_receive_count() {
    let client = LocalSqs::new().client();
    let dlq = queue(&client, "dlq", &[]).await;
    let dlq_arn = arn(&client, &dlq).await;
    let src = queue(&client, "src", &[redrive(&dlq_arn, 2)]).await;
    let src_arn = arn(&client, &src).await;
    let sent = client
        .send_message()
        .queue_url(&src)
        .message_body("poison")
        .send()
        .await
        .unwrap();
    assert_eq!(receive(&client, &src).await.len(), 1);
    assert_eq!(receive(&client, &src).await.len(), 1);
    // The third receive would exceed maxReceiveCount=2: the message moves instead.
    assert!(receive(&client, &src).await.is_empty());
    let moved = receive(&client, &dlq).await;
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].message_id(), sent.message_id());
    let a = moved[0].attributes().unwrap();
    assert_eq!(
        a[&MessageSystemAttributeName::DeadLetterQueueSourceArn],
        src_arn
    );

    let sources = client
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .send()
        .await
        .unwrap();
    assert_eq!(sources.queue_urls(), std::slice::from_ref(&src));
}

#[tokio::test(start_paused = true)]
async fn redrive_policy_is_validated() {
    let client = LocalSqs::new().client();
    let missing = "arn:aws:sqs:us-east-1:000000000000:nope";
    let err = client
        .create_queue()
        .queue_name("bad")
        .attributes(QueueAttributeName::RedrivePolicy, redrive(missing, 3).1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );

    let deny = queue(
        &client,
        "deny-dlq",
        &[(
            QueueAttributeName::RedriveAllowPolicy,
            r#"{"redrivePermission":"denyAll"}"#.into(),
        )],
    )
    .await;
    let deny_arn = arn(&client, &deny).await;
    let err = client
        .create_queue()
        .queue_name("denied")
        .attributes(QueueAttributeName::RedrivePolicy, redrive(&deny_arn, 3).1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );

    let allowed_src = "arn:aws:sqs:us-east-1:000000000000:allowed";
    let by_queue = queue(
        &client,
        "byqueue-dlq",
        &[(
            QueueAttributeName::RedriveAllowPolicy,
            format!(r#"{{"redrivePermission":"byQueue","sourceQueueArns":["{allowed_src}"]}}"#),
        )],
    )
    .await;
    let by_queue_arn = arn(&client, &by_queue).await;
    queue(&client, "allowed", &[redrive(&by_queue_arn, 3)]).await;
    let other = queue(&client, "other", &[]).await;
    let err = client
        .set_queue_attributes()
        .queue_url(&other)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            redrive(&by_queue_arn, 3).1,
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );

    let err = client
        .set_queue_attributes()
        .queue_url(&other)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            redrive(&by_queue_arn, 0).1,
        )
        .send()
        .await
        .unwrap_err();
    // maxReceiveCount out of 1..=1000: AWS answers InvalidParameterValue.
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );

    let fifo_dlq = client
        .create_queue()
        .queue_name("d.fifo")
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let fifo_arn = arn(&client, &fifo_dlq).await;
    let err = client
        .set_queue_attributes()
        .queue_url(&other)
        .attributes(QueueAttributeName::RedrivePolicy, redrive(&fifo_arn, 3).1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
}

async fn fill_dlq(client: &Client, n: usize) -> (String, String, String, String) {
    let dlq = queue(client, "mdlq", &[]).await;
    let dlq_arn = arn(client, &dlq).await;
    let src = queue(client, "msrc", &[redrive(&dlq_arn, 1)]).await;
    for i in 0..n {
        client
            .send_message()
            .queue_url(&src)
            .message_body(format!("m{i}"))
            .send()
            .await
            .expect("send");
    }
    while !receive(client, &src).await.is_empty() {}
    assert_eq!(count(client, &dlq).await, n.to_string());
    let src_arn = arn(client, &src).await;
    (src, src_arn, dlq, dlq_arn)
}

#[tokio::test(start_paused = true)]
async fn move_task_returns_messages_to_their_source() {
    let client = LocalSqs::new().client();
    let (src, _src_arn, dlq, dlq_arn) = fill_dlq(&client, 5).await;
    let started = client
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .send()
        .await
        .unwrap();
    assert!(started.task_handle().is_some());
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(count(&client, &dlq).await, "0");
    assert_eq!(count(&client, &src).await, "5");
    let tasks = client
        .list_message_move_tasks()
        .source_arn(&dlq_arn)
        .send()
        .await
        .unwrap();
    let t = &tasks.results()[0];
    assert_eq!(t.status(), Some("COMPLETED"));
    assert_eq!(t.approximate_number_of_messages_moved(), 5);
    assert_eq!(t.approximate_number_of_messages_to_move(), Some(5));
}

#[tokio::test(start_paused = true)]
async fn move_task_honours_rate_and_cancel_and_one_active_task() {
    let client = LocalSqs::new().client();
    let (_src, _src_arn, dlq, dlq_arn) = fill_dlq(&client, 10).await;
    let dest = queue(&client, "dest", &[]).await;
    let dest_arn = arn(&client, &dest).await;
    let started = client
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .destination_arn(&dest_arn)
        .max_number_of_messages_per_second(1)
        .send()
        .await
        .unwrap();
    let err = client
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(count(&client, &dest).await, "3");
    let cancelled = client
        .cancel_message_move_task()
        .task_handle(started.task_handle().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.approximate_number_of_messages_moved(), 3);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(count(&client, &dest).await, "3");
    assert_eq!(count(&client, &dlq).await, "7");
    let tasks = client
        .list_message_move_tasks()
        .source_arn(&dlq_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tasks.results()[0].status(), Some("CANCELLED"));
    let err = client
        .cancel_message_move_task()
        .task_handle(started.task_handle().unwrap())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn move_task_errors() {
    let client = LocalSqs::new().client();
    let missing = "arn:aws:sqs:us-east-1:000000000000:missing";
    let err = client
        .start_message_move_task()
        .source_arn(missing)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = client
        .list_message_move_tasks()
        .source_arn(missing)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    // A handle that is not AWS's base64 JSON is malformed; a well-formed one for a
    // task that does not exist is not found.
    let err = client
        .cancel_message_move_task()
        .task_handle("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("InvalidParameterValue"), "{err:?}");
    let unknown = aws_smithy_types::base64::encode(format!(
        r#"{{"taskId":"00000000-0000-0000-0000-000000000000","sourceArn":"{}"}}"#,
        arn(&client, &queue(&client, "no-task", &[]).await).await
    ));
    let err = client
        .cancel_message_move_task()
        .task_handle(unknown)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let plain = queue(&client, "plain", &[]).await;
    let plain_arn = arn(&client, &plain).await;
    let err = client
        .start_message_move_task()
        .source_arn(&plain_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
}

#[tokio::test(start_paused = true)]
async fn dead_letter_sources_paginate() {
    let client = LocalSqs::new().client();
    let dlq = queue(&client, "pdlq", &[]).await;
    let dlq_arn = arn(&client, &dlq).await;
    for i in 0..3 {
        queue(&client, &format!("psrc-{i}"), &[redrive(&dlq_arn, 5)]).await;
    }
    queue(&client, "unrelated", &[]).await;
    let first = client
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.queue_urls().len(), 2);
    let token = first.next_token().expect("more pages");
    let second = client
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .max_results(2)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.queue_urls().len(), 1);
    assert!(second.next_token().is_none());
    assert!(second.queue_urls()[0].ends_with("/psrc-2"));
}
