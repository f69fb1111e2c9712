//! Dead letters: RedrivePolicy, RedriveAllowPolicy, ListDeadLetterSourceQueues, and
//! message move tasks (Start/List/CancelMessageMoveTask).

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName as A;

use crate::support::{Ctx, Target, conformance, err_code};

conformance!(
    redrive_policy_moves_message_to_dlq_after_max_receives,
    list_dead_letter_source_queues_lists_sources,
    redrive_allow_policy_deny_all_refuses_sources,
    redrive_allow_policy_by_queue_allows_only_listed_sources,
    redrive_policy_rejects_bad_values,
    message_move_task_moves_messages_to_a_destination,
    message_move_task_returns_dead_letters_to_their_source,
    cancel_message_move_task_stops_a_running_task,
    start_message_move_task_rejects_queues_that_are_not_dlqs,
    redrive_dlq_must_match_the_queue_type,
    fifo_redrive_moves_message_to_fifo_dlq,
    message_move_task_parameters_are_validated,
);

fn redrive(dlq_arn: &str, max: u32) -> String {
    format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":{max}}}"#)
}

/// A DLQ and a source queue (visibility 1 s) that sends there after `max` receives.
async fn pair(ctx: &Ctx, max: u32) -> (String, String) {
    let dlq = ctx.queue("conf-dlq", &[]).await;
    let policy = redrive(&ctx.arn(&dlq).await, max);
    let src = ctx
        .queue(
            "conf-src",
            &[(A::RedrivePolicy, &policy), (A::VisibilityTimeout, "1")],
        )
        .await;
    (dlq, src)
}

/// Polls ListMessageMoveTasks until the newest task is no longer RUNNING.
async fn wait_for_task(
    ctx: &Ctx,
    source_arn: &str,
) -> aws_sdk_sqs::types::ListMessageMoveTasksResultEntry {
    for _ in 0..60 {
        let out = ctx
            .client
            .list_message_move_tasks()
            .source_arn(source_arn)
            .max_results(10)
            .send()
            .await
            .expect("ListMessageMoveTasks");
        if let Some(task) = out.results().first()
            && task.status() != Some("RUNNING")
        {
            return task.clone();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("the move task did not finish in 30 s");
}

async fn redrive_policy_moves_message_to_dlq_after_max_receives(ctx: &Ctx) {
    let (dlq, src) = pair(ctx, 2).await;
    let id = ctx.send(&src, "poison").await;
    for n in 1..=2 {
        let got = ctx.receive_within(&src, 1, Duration::from_secs(4)).await;
        assert_eq!(got.len(), 1, "receive {n} gets the message");
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    // Once the 1 s timeout is over, the next receive moves it instead of returning it.
    let third = ctx.receive_within(&src, 10, Duration::from_secs(3)).await;
    assert!(third.is_empty(), "the third receive moves it to the DLQ");
    let dead = ctx.receive_n(&dlq, 1).await;
    assert_eq!(dead.len(), 1, "the message is in the DLQ");
    assert_eq!(
        dead[0].message_id(),
        Some(id.as_str()),
        "with its message id"
    );
    assert_eq!(dead[0].body(), Some("poison"));
    assert_eq!(ctx.count(&src, A::ApproximateNumberOfMessages).await, 0);
    // AWS stamps where a dead letter came from.
    let attrs = dead[0].attributes().cloned().unwrap_or_default();
    let source =
        attrs.get(&aws_sdk_sqs::types::MessageSystemAttributeName::DeadLetterQueueSourceArn);
    assert_eq!(
        source,
        Some(&ctx.arn(&src).await),
        "DeadLetterQueueSourceArn: {attrs:?}"
    );
}

async fn list_dead_letter_source_queues_lists_sources(ctx: &Ctx) {
    let dlq = ctx.queue("conf-dlqlist", &[]).await;
    let policy = redrive(&ctx.arn(&dlq).await, 3);
    let a = ctx.queue("conf-srca", &[(A::RedrivePolicy, &policy)]).await;
    let b = ctx.queue("conf-srcb", &[(A::RedrivePolicy, &policy)]).await;
    let unrelated = ctx.queue("conf-unrelated", &[]).await;
    let out = ctx
        .client
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .send()
        .await
        .expect("ListDeadLetterSourceQueues");
    let urls: HashSet<&str> = out.queue_urls().iter().map(String::as_str).collect();
    assert_eq!(urls, HashSet::from([a.as_str(), b.as_str()]));
    assert!(!urls.contains(unrelated.as_str()));
    let none = ctx
        .client
        .list_dead_letter_source_queues()
        .queue_url(&unrelated)
        .send()
        .await
        .expect("ListDeadLetterSourceQueues");
    assert!(none.queue_urls().is_empty());
}

async fn redrive_allow_policy_deny_all_refuses_sources(ctx: &Ctx) {
    let dlq = ctx
        .queue(
            "conf-denyall",
            &[(A::RedriveAllowPolicy, r#"{"redrivePermission":"denyAll"}"#)],
        )
        .await;
    let allow = ctx
        .attribute(&dlq, A::RedriveAllowPolicy)
        .await
        .expect("RedriveAllowPolicy");
    let allow: serde_json::Value = serde_json::from_str(&allow).expect("JSON");
    assert_eq!(allow["redrivePermission"], "denyAll");
    let policy = redrive(&ctx.arn(&dlq).await, 3);
    let result = ctx
        .client
        .create_queue()
        .queue_name(ctx.name("conf-denied"))
        .attributes(A::RedrivePolicy, policy)
        .send()
        .await;
    // LocalStack 4.12 does not enforce RedriveAllowPolicy; AWS refuses a RedrivePolicy
    // that names a DLQ whose policy is denyAll.
    if let Some(out) =
        ctx.rejects_but_localstack_accepts(result, "InvalidParameterValue", "denyAll")
    {
        ctx.track(out.queue_url().unwrap_or_default());
    }
}

async fn redrive_allow_policy_by_queue_allows_only_listed_sources(ctx: &Ctx) {
    let allowed_name = ctx.name("conf-allowed");
    let denied_name = ctx.name("conf-notallowed");
    // The ARN of a queue is known before it exists: reuse the DLQ's prefix.
    let probe = ctx.queue("conf-probe", &[]).await;
    let probe_arn = ctx.arn(&probe).await;
    let arn_prefix = probe_arn
        .rsplit_once(':')
        .map(|(p, _)| p)
        .expect("an ARN")
        .to_owned();
    let allowed_arn = format!("{arn_prefix}:{allowed_name}");
    let allow = format!(r#"{{"redrivePermission":"byQueue","sourceQueueArns":["{allowed_arn}"]}}"#);
    let dlq = ctx
        .queue("conf-byqueue", &[(A::RedriveAllowPolicy, &allow)])
        .await;
    let policy = redrive(&ctx.arn(&dlq).await, 3);
    ctx.create(&allowed_name, &[(A::RedrivePolicy, &policy)])
        .await;
    let result = ctx
        .client
        .create_queue()
        .queue_name(&denied_name)
        .attributes(A::RedrivePolicy, &policy)
        .send()
        .await;
    // LocalStack 4.12 does not enforce RedriveAllowPolicy; AWS refuses a source queue
    // that is not in sourceQueueArns.
    if let Some(out) =
        ctx.rejects_but_localstack_accepts(result, "InvalidParameterValue", "byQueue")
    {
        ctx.track(out.queue_url().unwrap_or_default());
    }
}

async fn redrive_policy_rejects_bad_values(ctx: &Ctx) {
    let dlq = ctx.queue("conf-badredrive", &[]).await;
    let arn = ctx.arn(&dlq).await;
    let missing = format!("{arn}-missing");
    let mut cases = vec![
        ("maxReceiveCount 0", redrive(&arn, 0)),
        ("maxReceiveCount 1001", redrive(&arn, 1001)),
        ("a missing DLQ", redrive(&missing, 3)),
    ];
    // LocalStack 4.12 stores a RedrivePolicy that is not JSON, and from then on every
    // ListDeadLetterSourceQueues and StartMessageMoveTask in the account fails with
    // InternalError until that queue is gone: not sent there. AWS rejects it.
    if ctx.target != Target::LocalStack {
        cases.push(("not JSON", "nope".to_owned()));
    }
    for (what, policy) in cases {
        let result = ctx
            .client
            .create_queue()
            .queue_name(ctx.name("conf-badsrc"))
            .attributes(A::RedrivePolicy, policy)
            .send()
            .await;
        // LocalStack 4.12 does not validate RedrivePolicy; AWS answers
        // InvalidParameterValue (maxReceiveCount is 1–1000, the DLQ must exist).
        if let Some(out) = ctx.rejects_but_localstack_accepts(result, "InvalidParameterValue", what)
        {
            // Delete at once: other scenarios list this account's DLQ sources.
            let _ = ctx
                .client
                .delete_queue()
                .queue_url(out.queue_url().unwrap_or_default())
                .send()
                .await;
        }
    }
    ctx.queue("conf-goodsrc", &[(A::RedrivePolicy, &redrive(&arn, 1000))])
        .await;
}

async fn message_move_task_moves_messages_to_a_destination(ctx: &Ctx) {
    let (dlq, src) = pair(ctx, 3).await;
    let target = ctx.queue("conf-movetarget", &[]).await;
    for i in 0..3 {
        ctx.send(&dlq, &format!("dead {i}")).await;
    }
    let dlq_arn = ctx.arn(&dlq).await;
    let started = ctx
        .client
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .destination_arn(ctx.arn(&target).await)
        .send()
        .await
        .expect("StartMessageMoveTask");
    assert!(started.task_handle().is_some_and(|h| !h.is_empty()));
    let task = wait_for_task(ctx, &dlq_arn).await;
    assert_eq!(task.status(), Some("COMPLETED"), "{task:?}");
    assert_eq!(task.approximate_number_of_messages_moved(), 3);
    assert_eq!(task.source_arn(), Some(dlq_arn.as_str()));
    let moved = ctx.receive_n(&target, 3).await;
    assert_eq!(moved.len(), 3);
    assert_eq!(ctx.count(&dlq, A::ApproximateNumberOfMessages).await, 0);
    assert_eq!(
        ctx.count(&src, A::ApproximateNumberOfMessages).await,
        0,
        "not to the source"
    );
}

async fn message_move_task_returns_dead_letters_to_their_source(ctx: &Ctx) {
    let (dlq, src) = pair(ctx, 1).await;
    ctx.send(&src, "poison").await;
    assert_eq!(ctx.receive_n(&src, 1).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        ctx.receive_within(&src, 1, Duration::from_secs(3))
            .await
            .is_empty(),
        "moved to the DLQ"
    );
    assert_eq!(ctx.count(&dlq, A::ApproximateNumberOfMessages).await, 1);

    let dlq_arn = ctx.arn(&dlq).await;
    ctx.client
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .send()
        .await
        .expect("StartMessageMoveTask without a destination");
    let task = wait_for_task(ctx, &dlq_arn).await;
    assert_eq!(task.status(), Some("COMPLETED"), "{task:?}");
    let back = ctx.receive_n(&src, 1).await;
    assert_eq!(back.len(), 1, "back in its source queue");
    assert_eq!(back[0].body(), Some("poison"));
}

async fn cancel_message_move_task_stops_a_running_task(ctx: &Ctx) {
    let (dlq, src) = pair(ctx, 3).await;
    for i in 0..5 {
        let entries: Vec<_> = (0..10)
            .map(|j| {
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(format!("e{j}"))
                    .message_body(format!("dead {i}-{j}"))
                    .build()
                    .expect("entry")
            })
            .collect();
        ctx.client
            .send_message_batch()
            .queue_url(&dlq)
            .set_entries(Some(entries))
            .send()
            .await
            .expect("SendMessageBatch");
    }
    let dlq_arn = ctx.arn(&dlq).await;
    let started = ctx
        .client
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .destination_arn(ctx.arn(&src).await)
        .max_number_of_messages_per_second(1)
        .send()
        .await
        .expect("StartMessageMoveTask");
    let handle = started.task_handle().expect("TaskHandle").to_owned();
    let listed = ctx
        .client
        .list_message_move_tasks()
        .source_arn(&dlq_arn)
        .send()
        .await
        .expect("ListMessageMoveTasks");
    assert_eq!(listed.results()[0].status(), Some("RUNNING"));
    assert_eq!(
        listed.results()[0].max_number_of_messages_per_second(),
        Some(1)
    );
    assert_eq!(listed.results()[0].task_handle(), Some(handle.as_str()));

    // One move task at a time per source queue.
    let second = ctx
        .client
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .destination_arn(ctx.arn(&src).await)
        .send()
        .await;
    let code = err_code(second);
    assert!(
        code == "InvalidParameterValue" || code == "AWS.SimpleQueueService.UnsupportedOperation",
        "{code}"
    );

    let cancelled = ctx
        .client
        .cancel_message_move_task()
        .task_handle(&handle)
        .send()
        .await
        .expect("CancelMessageMoveTask");
    assert!(cancelled.approximate_number_of_messages_moved() < 50);
    let task = wait_for_task(ctx, &dlq_arn).await;
    assert!(
        matches!(task.status(), Some("CANCELLED" | "CANCELLING")),
        "{task:?}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let left = ctx.count(&dlq, A::ApproximateNumberOfMessages).await;
    assert!(left > 0, "the cancelled task left messages behind");
}

async fn start_message_move_task_rejects_queues_that_are_not_dlqs(ctx: &Ctx) {
    let plain = ctx.queue("conf-notdlq", &[]).await;
    let arn = ctx.arn(&plain).await;
    let result = ctx
        .client
        .start_message_move_task()
        .source_arn(&arn)
        .send()
        .await;
    let code = err_code(result);
    assert!(
        code == "InvalidParameterValue" || code == "AWS.SimpleQueueService.UnsupportedOperation",
        "not a DLQ: {code}"
    );
    let result = ctx
        .client
        .start_message_move_task()
        .source_arn(format!("{arn}-missing"))
        .send()
        .await;
    let code = err_code(result);
    assert!(
        code == "ResourceNotFoundException" || code == "AWS.SimpleQueueService.NonExistentQueue",
        "missing: {code}"
    );
    let result = ctx
        .client
        .cancel_message_move_task()
        .task_handle("bogus-handle")
        .send()
        .await;
    let code = err_code(result);
    assert!(
        code == "ResourceNotFoundException" || code == "InvalidParameterValue",
        "bad handle: {code}"
    );
}

async fn redrive_dlq_must_match_the_queue_type(ctx: &Ctx) {
    let fifo_dlq = ctx.fifo_queue("conf-fifodlq", &[]).await;
    let policy = redrive(&ctx.arn(&fifo_dlq).await, 3);
    let result = ctx
        .client
        .create_queue()
        .queue_name(ctx.name("conf-stdsrc"))
        .attributes(A::RedrivePolicy, policy)
        .send()
        .await;
    // AWS: the DLQ of a standard queue must be a standard queue. LocalStack 4.12 does
    // not check the DLQ's type.
    if let Some(out) =
        ctx.rejects_but_localstack_accepts(result, "InvalidParameterValue", "std -> fifo")
    {
        ctx.track(out.queue_url().unwrap_or_default());
    }
}

async fn fifo_redrive_moves_message_to_fifo_dlq(ctx: &Ctx) {
    let dlq = ctx.fifo_queue("conf-fdlq", &[]).await;
    let policy = redrive(&ctx.arn(&dlq).await, 1);
    let src = ctx
        .fifo_queue(
            "conf-fsrc",
            &[(A::RedrivePolicy, &policy), (A::VisibilityTimeout, "1")],
        )
        .await;
    ctx.send_fifo(&src, "poison", "g", "d1").await;
    ctx.send_fifo(&src, "next", "g", "d2").await;
    let first = ctx.receive(&src, 1).await;
    assert_eq!(first[0].body(), Some("poison"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The poison message has used its one receive: it moves, and the group moves on.
    let next = ctx.receive_within(&src, 1, Duration::from_secs(4)).await;
    assert_eq!(next.first().and_then(|m| m.body()), Some("next"));
    let dead = ctx.receive_within(&dlq, 1, Duration::from_secs(2)).await;
    assert_eq!(dead.first().and_then(|m| m.body()), Some("poison"));
    let attrs = dead[0].attributes().cloned().unwrap_or_default();
    assert_eq!(
        attrs
            .get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId)
            .map(String::as_str),
        Some("g"),
        "keeps its group"
    );
}

async fn message_move_task_parameters_are_validated(ctx: &Ctx) {
    let (dlq, _src) = pair(ctx, 3).await;
    let dlq_arn = ctx.arn(&dlq).await;
    let none = ctx
        .client
        .list_message_move_tasks()
        .source_arn(&dlq_arn)
        .send()
        .await
        .expect("ListMessageMoveTasks");
    assert!(none.results().is_empty(), "no task has run yet");
    let result = ctx
        .client
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .max_number_of_messages_per_second(501)
        .send()
        .await;
    // AWS: MaxNumberOfMessagesPerSecond is at most 500. LocalStack 4.12 takes 501 (and
    // starts a task).
    ctx.rejects_but_localstack_accepts(
        result,
        "InvalidParameterValue",
        "MaxNumberOfMessagesPerSecond 501",
    );
    let result = ctx
        .client
        .list_message_move_tasks()
        .source_arn(&dlq_arn)
        .max_results(11)
        .send()
        .await;
    // AWS: MaxResults is 1–10. LocalStack 4.12 takes 11.
    ctx.rejects_but_localstack_accepts(
        result,
        "InvalidParameterValue",
        "ListMessageMoveTasks MaxResults 11",
    );
}
