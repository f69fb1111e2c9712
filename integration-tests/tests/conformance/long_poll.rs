//! Long polling: WaitTimeSeconds 0–20, the queue's ReceiveMessageWaitTimeSeconds, a
//! long poll that returns as soon as a message arrives, a short poll that returns at once.

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName as A;
use tokio::time::Instant;

use crate::support::{Ctx, conformance, err_code};

conformance!(
    short_poll_on_empty_queue_returns_at_once,
    long_poll_on_empty_queue_waits_the_full_time,
    long_poll_returns_as_soon_as_a_message_arrives,
    queue_receive_wait_time_is_the_default_long_poll,
    wait_time_seconds_range_is_0_to_20,
    long_poll_returns_when_a_message_becomes_visible_again,
    long_poll_returns_when_a_delay_ends,
    concurrent_receivers_never_share_a_message,
);

async fn short_poll_on_empty_queue_returns_at_once(ctx: &Ctx) {
    let url = ctx.queue("conf-short", &[]).await;
    let start = Instant::now();
    let out = ctx
        .client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(0)
        .send()
        .await
        .expect("ReceiveMessage");
    assert!(out.messages().is_empty());
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "took {:?}",
        start.elapsed()
    );
}

async fn long_poll_on_empty_queue_waits_the_full_time(ctx: &Ctx) {
    let url = ctx.queue("conf-longempty", &[]).await;
    let start = Instant::now();
    let out = ctx
        .client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(2)
        .send()
        .await
        .expect("ReceiveMessage");
    let took = start.elapsed();
    assert!(out.messages().is_empty());
    assert!(took >= Duration::from_millis(1900), "waited only {took:?}");
    assert!(took < Duration::from_secs(6), "waited {took:?}");
}

async fn long_poll_returns_as_soon_as_a_message_arrives(ctx: &Ctx) {
    let url = ctx.queue("conf-longarrive", &[]).await;
    let sender = {
        let client = ctx.client.clone();
        let url = url.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            client
                .send_message()
                .queue_url(url)
                .message_body("late")
                .send()
                .await
        })
    };
    let start = Instant::now();
    let out = ctx
        .client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(20)
        .send()
        .await
        .expect("ReceiveMessage");
    let took = start.elapsed();
    sender.await.expect("task").expect("SendMessage");
    assert_eq!(out.messages().len(), 1, "the message sent mid-poll arrives");
    assert_eq!(out.messages()[0].body(), Some("late"));
    assert!(
        took >= Duration::from_millis(900),
        "returned before the send: {took:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "returned {took:?} into a 20 s poll"
    );
}

async fn queue_receive_wait_time_is_the_default_long_poll(ctx: &Ctx) {
    let url = ctx
        .queue("conf-queuewait", &[(A::ReceiveMessageWaitTimeSeconds, "2")])
        .await;
    let start = Instant::now();
    let out = ctx
        .client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("ReceiveMessage");
    let took = start.elapsed();
    assert!(out.messages().is_empty());
    assert!(
        took >= Duration::from_millis(1900),
        "the queue's 2 s applied: {took:?}"
    );

    let start = Instant::now();
    ctx.client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(0)
        .send()
        .await
        .expect("ReceiveMessage");
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "WaitTimeSeconds 0 overrides it"
    );
}

async fn wait_time_seconds_range_is_0_to_20(ctx: &Ctx) {
    let url = ctx
        .queue(
            "conf-waitrange",
            &[(A::ReceiveMessageWaitTimeSeconds, "20")],
        )
        .await;
    assert_eq!(
        ctx.attribute(&url, A::ReceiveMessageWaitTimeSeconds)
            .await
            .as_deref(),
        Some("20")
    );
    for bad in [21, -1] {
        let result = ctx
            .client
            .receive_message()
            .queue_url(&url)
            .wait_time_seconds(bad)
            .send()
            .await;
        assert_eq!(
            err_code(result),
            "InvalidParameterValue",
            "WaitTimeSeconds {bad}"
        );
    }
    let result = ctx
        .client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(A::ReceiveMessageWaitTimeSeconds, "21")
        .send()
        .await;
    // LocalStack 4.12 does not range-check queue attributes; AWS allows 0–20.
    ctx.rejects_but_localstack_accepts(
        result,
        "InvalidAttributeValue",
        "ReceiveMessageWaitTimeSeconds 21",
    );
}

async fn long_poll_returns_when_a_message_becomes_visible_again(ctx: &Ctx) {
    let url = ctx.queue("conf-longvis", &[]).await;
    ctx.send(&url, "m").await;
    let first = ctx.receive_with(&url, 1, Some(1)).await;
    assert_eq!(first.len(), 1);
    let start = Instant::now();
    let out = ctx
        .client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(20)
        .send()
        .await
        .expect("ReceiveMessage");
    let took = start.elapsed();
    assert_eq!(
        out.messages().len(),
        1,
        "the poll got the message back after its 1 s lease"
    );
    assert_eq!(out.messages()[0].message_id(), first[0].message_id());
    assert!(
        took < Duration::from_secs(5),
        "returned {took:?} into a 20 s poll"
    );
}

async fn long_poll_returns_when_a_delay_ends(ctx: &Ctx) {
    let url = ctx.queue("conf-longdelay", &[]).await;
    ctx.client
        .send_message()
        .queue_url(&url)
        .message_body("delayed")
        .delay_seconds(2)
        .send()
        .await
        .expect("SendMessage");
    let start = Instant::now();
    let out = ctx
        .client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(20)
        .send()
        .await
        .expect("ReceiveMessage");
    let took = start.elapsed();
    assert_eq!(out.messages().len(), 1);
    assert!(
        took >= Duration::from_millis(1500),
        "not before the delay: {took:?}"
    );
    assert!(
        took < Duration::from_secs(6),
        "returned {took:?} into a 20 s poll"
    );
}

async fn concurrent_receivers_never_share_a_message(ctx: &Ctx) {
    let url = ctx
        .queue("conf-concurrent", &[(A::VisibilityTimeout, "600")])
        .await;
    for i in 0..20 {
        ctx.send(&url, &format!("m{i}")).await;
    }
    let pollers: Vec<_> = (0..4)
        .map(|_| {
            let client = ctx.client.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for _ in 0..10 {
                    let out = client
                        .receive_message()
                        .queue_url(&url)
                        .max_number_of_messages(3)
                        .wait_time_seconds(1)
                        .send()
                        .await
                        .expect("ReceiveMessage");
                    ids.extend(
                        out.messages()
                            .iter()
                            .filter_map(|m| m.message_id().map(str::to_owned)),
                    );
                }
                ids
            })
        })
        .collect();
    let mut all = Vec::new();
    for p in pollers {
        all.extend(p.await.expect("poller"));
    }
    let distinct: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(
        distinct.len(),
        all.len(),
        "no message went to two receivers"
    );
    assert_eq!(all.len(), 20, "every message was received once");
}
