//! Back pressure on the in-process SQS (weir-local), in paused time: the depth monitor
//! samples GetQueueAttributes, the layer engages above the high watermark, holds between
//! the marks, and releases at the low one.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_sqs::Client;
use tokio_test::{assert_pending, task};
use tower::{ServiceBuilder, ServiceExt};
use weir_middleware::BoxError;
use weir_middleware::backpressure::{
    BackpressureLayer, BackpressurePolicy, BackpressureState, DepthMonitor,
};

async fn queue(client: &Client, name: &str) -> String {
    let out = client.create_queue().queue_name(name).send().await.unwrap();
    out.queue_url().unwrap().to_owned()
}

async fn send(client: &Client, url: &str, n: usize) {
    for i in 0..n {
        client
            .send_message()
            .queue_url(url)
            .message_body(format!("m{i}"))
            .send()
            .await
            .unwrap();
    }
}

async fn drain(client: &Client, url: &str, mut n: usize) {
    while n > 0 {
        let batch = i32::try_from(n.min(10)).unwrap();
        let out = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(batch)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            client
                .delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            n -= 1;
        }
    }
}

/// Waits for the monitor's next sample and returns its depth.
async fn next_sample(depth: &DepthMonitor) -> u64 {
    let mut rx = depth.subscribe();
    rx.changed().await.unwrap();
    rx.borrow().unwrap().total()
}

#[tokio::test(start_paused = true)]
async fn engages_above_high_holds_between_and_releases_below_low() {
    let sqs = weir_local::LocalSqs::new();
    let client = sqs.client();
    let url = queue(&client, "bp-hysteresis").await;

    let depth = DepthMonitor::builder(client.clone(), url.clone())
        .interval(Duration::from_secs(1))
        .spawn()
        .unwrap();
    let layer = BackpressureLayer::builder(depth.clone())
        .high_watermark(20)
        .low_watermark(10)
        .policy(BackpressurePolicy::Wait {
            timeout: Duration::from_secs(120),
        })
        .build()
        .unwrap();
    let producer = {
        let client = client.clone();
        let url = url.clone();
        ServiceBuilder::new()
            .layer(layer.clone())
            .service_fn(move |body: String| {
                let client = client.clone();
                let url = url.clone();
                async move {
                    client
                        .send_message()
                        .queue_url(url)
                        .message_body(body)
                        .send()
                        .await?;
                    Ok::<(), BoxError>(())
                }
            })
    };

    assert_eq!(next_sample(&depth).await, 0);
    assert_eq!(layer.state(), BackpressureState::Open);
    producer.clone().oneshot("first".into()).await.unwrap();

    // 1 + 24 = 25 > 20: engaged at the next sample.
    send(&client, &url, 24).await;
    assert_eq!(next_sample(&depth).await, 25);
    assert_eq!(layer.state(), BackpressureState::Engaged);

    // A producer now waits.
    let mut blocked = task::spawn(producer.clone().oneshot("held".into()));
    assert_pending!(blocked.poll());

    // 25 -> 15: between the marks, still engaged, the producer still waits (no flapping).
    drain(&client, &url, 10).await;
    assert_eq!(next_sample(&depth).await, 15);
    assert_pending!(blocked.poll());
    assert_eq!(layer.state(), BackpressureState::Engaged);
    // And again, a few samples later, still between the marks.
    for _ in 0..3 {
        assert_eq!(next_sample(&depth).await, 15);
        assert_pending!(blocked.poll());
    }

    // 15 -> 10: at the low watermark, released; the held send goes through.
    drain(&client, &url, 5).await;
    assert_eq!(next_sample(&depth).await, 10);
    blocked.await.unwrap();
    assert_eq!(layer.state(), BackpressureState::Open);
    assert_eq!(next_sample(&depth).await, 11);

    // 11 .. 20 stays open (between the marks from below): no flapping either way.
    for _ in 0..9 {
        producer.clone().oneshot("more".into()).await.unwrap();
    }
    assert_eq!(next_sample(&depth).await, 20);
    assert_eq!(layer.state(), BackpressureState::Open);

    let stats = layer.stats();
    assert_eq!(stats.engagements, 1);
    assert_eq!(stats.waits, 1);
    assert_eq!(stats.rejected, 0);
    // Engaged from the 25 sample to the 10 sample: samples 25, 15, 15, 15, 15, 10, 1 s apart.
    assert_eq!(stats.throttled_time, Duration::from_secs(5));
    assert_eq!(depth.errors(), 0);
}

#[tokio::test(start_paused = true)]
async fn samples_not_visible_and_delayed_when_asked() {
    let sqs = weir_local::LocalSqs::new();
    let client = sqs.client();
    let url = queue(&client, "bp-counts").await;
    send(&client, &url, 5).await;
    client
        .send_message()
        .queue_url(&url)
        .message_body("later")
        .delay_seconds(600)
        .send()
        .await
        .unwrap();
    let received = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(2)
        .send()
        .await
        .unwrap();
    assert_eq!(received.messages().len(), 2);

    let depth = DepthMonitor::builder(client.clone(), url)
        .interval(Duration::from_secs(1))
        .include_not_visible(true)
        .include_delayed(true)
        .spawn()
        .unwrap();
    let mut rx = depth.subscribe();
    rx.changed().await.unwrap();
    let sample = rx.borrow().unwrap();
    assert_eq!(sample.visible, 3);
    assert_eq!(sample.not_visible, Some(2));
    assert_eq!(sample.delayed, Some(1));
    assert_eq!(sample.total(), 6);
}

#[tokio::test(start_paused = true)]
async fn a_missing_queue_is_counted_not_fatal() {
    let sqs = weir_local::LocalSqs::new();
    let client = sqs.client();
    let url = format!("{}/000000000000/missing", sqs.endpoint_url());
    let depth = DepthMonitor::builder(client, url)
        .interval(Duration::from_secs(1))
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(depth.latest(), None);
    assert_eq!(depth.errors(), 4);
}
