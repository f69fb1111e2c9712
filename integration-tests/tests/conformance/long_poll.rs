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
