//! Visibility timeout: queue default and per-receive value, 0–43200 s, the 12 h cap
//! counted from the receive, receive counts and timestamps, stale receipt handles.

use std::time::Duration;

use aws_sdk_sqs::types::{MessageSystemAttributeName as M, QueueAttributeName as A};

use crate::support::{Ctx, Target, conformance, err_code};

conformance!(
    visibility_timeout_queue_default_hides_then_redelivers,
    visibility_timeout_per_receive_overrides_queue_default,
    visibility_timeout_range_is_0_to_43200,
    visibility_timeout_capped_at_12h_from_receive,
    receive_count_and_timestamps_are_reported,
    system_attributes_can_be_requested_by_name,
    receipt_handle_goes_stale_after_next_receive,
);

async fn visibility_timeout_queue_default_hides_then_redelivers(ctx: &Ctx) {
    let url = ctx.queue("conf-vis", &[(A::VisibilityTimeout, "2")]).await;
    let id = ctx.send(&url, "m").await;
    let first = ctx.receive_n(&url, 1).await;
    assert_eq!(first.len(), 1);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        ctx.receive(&url, 1).await.is_empty(),
        "hidden for the 2 s default"
    );
    let second = ctx.receive_within(&url, 1, Duration::from_secs(4)).await;
    assert_eq!(second.len(), 1, "visible again after 2 s");
    assert_eq!(second[0].message_id(), Some(id.as_str()));
    let count = second[0]
        .attributes()
        .and_then(|a| a.get(&M::ApproximateReceiveCount));
    assert_eq!(count.map(String::as_str), Some("2"));
}

async fn visibility_timeout_per_receive_overrides_queue_default(ctx: &Ctx) {
    let url = ctx
        .queue("conf-visrecv", &[(A::VisibilityTimeout, "600")])
        .await;
    ctx.send(&url, "m").await;
    let first = ctx.receive_with(&url, 1, Some(1)).await;
    assert_eq!(first.len(), 1);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
    let second = loop {
        let got = ctx.receive_with(&url, 1, Some(0)).await;
        if !got.is_empty() || tokio::time::Instant::now() >= deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        second.len(),
        1,
        "the 1 s per-receive timeout won over the queue's 600 s"
    );
    // VisibilityTimeout 0 on receive leaves the message visible at once.
    let third = ctx.receive(&url, 1).await;
    assert_eq!(third.len(), 1, "a 0 s receive leaves it visible");
}

async fn visibility_timeout_range_is_0_to_43200(ctx: &Ctx) {
    let url = ctx
        .queue("conf-visrange", &[(A::VisibilityTimeout, "43200")])
        .await;
    assert_eq!(
        ctx.attribute(&url, A::VisibilityTimeout).await.as_deref(),
        Some("43200")
    );
    for bad in ["43201", "-1"] {
        let result = ctx
            .client
            .create_queue()
            .queue_name(ctx.name("conf-visbad"))
            .attributes(A::VisibilityTimeout, bad)
            .send()
            .await;
        // LocalStack 4.12 does not range-check queue attributes; AWS allows 0–43200.
        if let Some(out) = ctx.rejects_but_localstack_accepts(result, "InvalidAttributeValue", bad)
        {
            ctx.track(out.queue_url().unwrap_or_default());
        }
    }
    let result = ctx
        .client
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(43201)
        .send()
        .await;
    // LocalStack 4.12 does not range-check ReceiveMessage's VisibilityTimeout.
    ctx.rejects_but_localstack_accepts(result, "InvalidParameterValue", "receive 43201");

    ctx.send(&url, "m").await;
    let got = ctx.receive_n(&url, 1).await;
    let handle = got[0].receipt_handle().expect("handle");
    let result = ctx
        .client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(handle)
        .visibility_timeout(43201)
        .send()
        .await;
    // LocalStack 4.12 does not range-check ChangeMessageVisibility either.
    ctx.rejects_but_localstack_accepts(result, "InvalidParameterValue", "change to 43201");
    ctx.client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(handle)
        .visibility_timeout(0)
        .send()
        .await
        .expect("0 is in range");
}

async fn visibility_timeout_capped_at_12h_from_receive(ctx: &Ctx) {
    let url = ctx.queue("conf-vis12h", &[]).await;
    ctx.send(&url, "m").await;
    let got = ctx.receive_n(&url, 1).await;
    let handle = got[0].receipt_handle().expect("handle").to_owned();
    let change = |secs: i32| {
        ctx.client
            .change_message_visibility()
            .queue_url(&url)
            .receipt_handle(&handle)
            .visibility_timeout(secs)
            .send()
    };
    change(43000).await.expect("within 12 h of the receive");
    tokio::time::sleep(Duration::from_secs(2)).await;
    // AWS: the total visibility timeout of a message is capped at 12 h from the
    // receive; asking for 43200 s two seconds after the receive goes past it.
    // LocalStack 4.12 does not count the cap from the receive: it takes any value up
    // to 43200 s at any time.
    ctx.rejects_but_localstack_accepts(change(43200).await, "InvalidParameterValue", "past 12 h");
    change(43100)
        .await
        .expect("still within 12 h of the receive");
    if ctx.time_is_free() {
        // Six hours later, 7 h more is past the cap, 5 h more is not.
        tokio::time::sleep(Duration::from_secs(6 * 3600)).await;
        assert_eq!(err_code(change(7 * 3600).await), "InvalidParameterValue");
        change(5 * 3600)
            .await
            .expect("ends before 12 h after the receive");
    }
}

async fn receive_count_and_timestamps_are_reported(ctx: &Ctx) {
    let url = ctx
        .queue("conf-sysattrs", &[(A::VisibilityTimeout, "1")])
        .await;
    ctx.send(&url, "m").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let first = ctx.receive_within(&url, 1, Duration::from_secs(2)).await;
    assert_eq!(first.len(), 1);
    let attrs = first[0].attributes().cloned().unwrap_or_default();
    let num = |k: &M| -> i64 {
        attrs
            .get(k)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{k:?} in {attrs:?}"))
    };
    assert_eq!(num(&M::ApproximateReceiveCount), 1);
    let sent = num(&M::SentTimestamp);
    let first_receive = num(&M::ApproximateFirstReceiveTimestamp);
    assert!(sent > 1_600_000_000_000, "epoch milliseconds: {sent}");
    assert!(
        first_receive - sent >= 1500,
        "received 2 s after sending: sent {sent}, first receive {first_receive}"
    );
    assert!(
        attrs.get(&M::SenderId).is_some_and(|s| !s.is_empty()),
        "SenderId: {attrs:?}"
    );

    tokio::time::sleep(Duration::from_millis(1000)).await;
    let second = ctx.receive_within(&url, 1, Duration::from_secs(4)).await;
    assert_eq!(second.len(), 1);
    let attrs2 = second[0].attributes().cloned().unwrap_or_default();
    assert_eq!(
        attrs2.get(&M::ApproximateReceiveCount).map(String::as_str),
        Some("2")
    );
    assert_eq!(
        attrs2.get(&M::ApproximateFirstReceiveTimestamp),
        attrs.get(&M::ApproximateFirstReceiveTimestamp),
        "the first receive stays the first"
    );
    assert_eq!(attrs2.get(&M::SentTimestamp), attrs.get(&M::SentTimestamp));
}

async fn system_attributes_can_be_requested_by_name(ctx: &Ctx) {
    let url = ctx.queue("conf-sysname", &[]).await;
    ctx.send(&url, "m").await;
    let out = ctx
        .client
        .receive_message()
        .queue_url(&url)
        .message_system_attribute_names(M::SentTimestamp)
        .message_system_attribute_names(M::ApproximateReceiveCount)
        .send()
        .await
        .expect("ReceiveMessage");
    let msg = &out.messages()[0];
    let attrs = msg.attributes().cloned().unwrap_or_default();
    assert_eq!(attrs.len(), 2, "only what was asked for: {attrs:?}");
    assert!(attrs.contains_key(&M::SentTimestamp));
    assert!(attrs.contains_key(&M::ApproximateReceiveCount));

    ctx.client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(msg.receipt_handle().expect("handle"))
        .visibility_timeout(0)
        .send()
        .await
        .expect("release");
    let none = ctx
        .client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("ReceiveMessage");
    assert!(
        none.messages()[0].attributes().is_none_or(|a| a.is_empty()),
        "no system attributes unless asked for"
    );
}

async fn receipt_handle_goes_stale_after_next_receive(ctx: &Ctx) {
    let url = ctx
        .queue("conf-stale", &[(A::VisibilityTimeout, "1")])
        .await;
    ctx.send(&url, "m").await;
    let first = ctx.receive_n(&url, 1).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
    let second = loop {
        let got = ctx.receive_with(&url, 1, Some(600)).await;
        if !got.is_empty() || tokio::time::Instant::now() >= deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(second.len(), 1);
    let old = first[0].receipt_handle().expect("handle");
    let new = second[0].receipt_handle().expect("handle");
    assert_ne!(old, new, "each receive gives a new receipt handle");
    // AWS: only the most recent receipt handle changes the message's visibility; the
    // old one is refused.
    let result = ctx
        .client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(old)
        .visibility_timeout(0)
        .send()
        .await;
    if ctx.target == Target::LocalStack {
        // LocalStack 4.12 accepts any handle it once issued for the message, so the
        // stale handle releases it; AWS refuses a handle older than the latest receive.
        assert!(result.is_ok(), "{result:?}");
        return;
    }
    let code = err_code(result);
    assert!(
        code == "InvalidParameterValue" || code == "ReceiptHandleIsInvalid",
        "the stale handle is refused: {code}"
    );
    assert!(
        ctx.receive(&url, 1).await.is_empty(),
        "still in flight under the new handle"
    );
    ctx.delete(&url, &second[0]).await;
    assert_eq!(
        ctx.count(&url, A::ApproximateNumberOfMessagesNotVisible)
            .await,
        0
    );
}
