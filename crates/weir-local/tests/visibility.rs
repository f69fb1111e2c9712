//! Visibility timeouts, long polling, delays and retention under paused time.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use tokio::time::Instant;
use weir_local::LocalSqs;

async fn queue(client: &Client, name: &str, attrs: &[(QueueAttributeName, &str)]) -> String {
    let mut req = client.create_queue().queue_name(name);
    for (k, v) in attrs {
        req = req.attributes(k.clone(), *v);
    }
    req.send().await.expect("create").queue_url.expect("url")
}

async fn send(client: &Client, url: &str, body: &str) {
    client
        .send_message()
        .queue_url(url)
        .message_body(body)
        .send()
        .await
        .expect("send");
}

async fn receive(client: &Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive")
        .messages
        .unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn message_reappears_after_visibility_timeout() {
    let client = LocalSqs::new().client();
    let url = queue(
        &client,
        "vis",
        &[(QueueAttributeName::VisibilityTimeout, "10")],
    )
    .await;
    send(&client, &url, "a").await;
    let first = receive(&client, &url).await;
    assert_eq!(first.len(), 1);
    assert!(receive(&client, &url).await.is_empty());
    tokio::time::advance(Duration::from_secs(9)).await;
    assert!(receive(&client, &url).await.is_empty());
    tokio::time::advance(Duration::from_secs(2)).await;
    let again = receive(&client, &url).await;
    assert_eq!(again.len(), 1);
    let attrs = again[0].attributes().unwrap();
    assert_eq!(
        attrs[&MessageSystemAttributeName::ApproximateReceiveCount],
        "2"
    );
    assert_ne!(again[0].receipt_handle(), first[0].receipt_handle());
    // The first handle is stale now: deleting with it succeeds but deletes nothing.
    client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(first[0].receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    let counts = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    assert_eq!(
        counts.attributes().unwrap()[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "1"
    );
    // The current handle deletes it.
    client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(again[0].receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(60)).await;
    assert!(receive(&client, &url).await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn per_receive_visibility_timeout_overrides_queue_default() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "vis2", &[]).await;
    send(&client, &url, "a").await;
    let got = client
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(2)
        .send()
        .await
        .unwrap();
    assert_eq!(got.messages().len(), 1);
    tokio::time::advance(Duration::from_secs(3)).await;
    assert_eq!(receive(&client, &url).await.len(), 1);
    let err = client
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(43_201)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
}

#[tokio::test(start_paused = true)]
async fn change_visibility_extends_shortens_and_is_bounded() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "cmv", &[]).await;
    send(&client, &url, "a").await;
    let m = receive(&client, &url).await.remove(0);
    let handle = m.receipt_handle().unwrap();
    client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(handle)
        .visibility_timeout(100)
        .send()
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(50)).await;
    assert!(receive(&client, &url).await.is_empty());
    // Past 12 hours from the receive: rejected.
    let err = client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(handle)
        .visibility_timeout(43_200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
    // Zero makes it visible at once.
    client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(handle)
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let again = receive(&client, &url).await;
    assert_eq!(again.len(), 1);
    // Once visible again (and not received since), the latest handle still applies, as
    // on AWS: the message is hidden again.
    client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(again[0].receipt_handle().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(again[0].receipt_handle().unwrap())
        .visibility_timeout(10)
        .send()
        .await
        .unwrap();
    assert!(receive(&client, &url).await.is_empty());
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(receive(&client, &url).await.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn malformed_receipt_handle_is_invalid() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "rh", &[]).await;
    let err = client
        .delete_message()
        .queue_url(&url)
        .receipt_handle("garbage")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_receipt_handle_is_invalid(), "{err:?}");
    let err = client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle("garbage")
        .visibility_timeout(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_receipt_handle_is_invalid(), "{err:?}");
    // A handle from another queue is invalid too.
    let other = queue(&client, "rh2", &[]).await;
    send(&client, &other, "x").await;
    let m = receive(&client, &other).await.remove(0);
    let err = client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(m.receipt_handle().unwrap())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_receipt_handle_is_invalid(), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn empty_long_poll_of_twenty_seconds_completes_without_waiting() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "lp", &[]).await;
    let start = Instant::now();
    let wall = std::time::SystemTime::now();
    let got = client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(20)
        .send()
        .await
        .unwrap();
    assert!(got.messages().is_empty());
    assert!(
        start.elapsed() >= Duration::from_secs(20),
        "the paused clock moved 20 s"
    );
    assert!(
        wall.elapsed().unwrap() < Duration::from_secs(5),
        "no real waiting"
    );
}

#[tokio::test(start_paused = true)]
async fn short_poll_returns_at_once() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "sp", &[]).await;
    let start = Instant::now();
    assert!(receive(&client, &url).await.is_empty());
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn long_poll_returns_as_soon_as_a_message_arrives() {
    let sqs = LocalSqs::new();
    let client = sqs.client();
    let url = queue(
        &client,
        "lp2",
        &[(QueueAttributeName::ReceiveMessageWaitTimeSeconds, "20")],
    )
    .await;
    let start = Instant::now();
    let poller = {
        let client = client.clone();
        let url = url.clone();
        tokio::spawn(async move { receive(&client, &url).await })
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    send(&client, &url, "wake").await;
    let got = poller.await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body(), Some("wake"));
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(3) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn long_poll_wakes_when_a_delayed_message_becomes_visible() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "lp3", &[]).await;
    client
        .send_message()
        .queue_url(&url)
        .message_body("later")
        .delay_seconds(5)
        .send()
        .await
        .unwrap();
    let start = Instant::now();
    let got = client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(20)
        .send()
        .await
        .unwrap();
    assert_eq!(got.messages().len(), 1);
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(6),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn delays_count_as_delayed_then_visible() {
    let client = LocalSqs::new().client();
    let url = queue(
        &client,
        "delay",
        &[(QueueAttributeName::DelaySeconds, "30")],
    )
    .await;
    send(&client, &url, "q-delay").await;
    let attrs = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let a = attrs.attributes().unwrap();
    assert_eq!(
        a[&QueueAttributeName::ApproximateNumberOfMessagesDelayed],
        "1"
    );
    assert_eq!(a[&QueueAttributeName::ApproximateNumberOfMessages], "0");
    assert!(receive(&client, &url).await.is_empty());
    tokio::time::advance(Duration::from_secs(31)).await;
    assert_eq!(receive(&client, &url).await.len(), 1);
    let err = client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .delay_seconds(901)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
}

#[tokio::test(start_paused = true)]
async fn expired_messages_vanish() {
    let client = LocalSqs::new().client();
    let url = queue(
        &client,
        "ret",
        &[(QueueAttributeName::MessageRetentionPeriod, "60")],
    )
    .await;
    send(&client, &url, "old").await;
    tokio::time::advance(Duration::from_secs(61)).await;
    assert!(receive(&client, &url).await.is_empty());
    let attrs = client
        .get_queue_attributes()
        .queue_url(&url)
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
async fn system_attributes_follow_the_paused_clock() {
    let client = LocalSqs::new().client();
    let url = queue(&client, "sys", &[]).await;
    send(&client, &url, "a").await;
    tokio::time::advance(Duration::from_secs(7)).await;
    let m = receive(&client, &url).await.remove(0);
    let a = m.attributes().unwrap();
    let sent: u64 = a[&MessageSystemAttributeName::SentTimestamp]
        .parse()
        .unwrap();
    let first: u64 = a[&MessageSystemAttributeName::ApproximateFirstReceiveTimestamp]
        .parse()
        .unwrap();
    assert!((7_000..7_100).contains(&(first - sent)), "{sent} {first}");
    assert_eq!(a[&MessageSystemAttributeName::SenderId], "test");
    assert_eq!(a[&MessageSystemAttributeName::ApproximateReceiveCount], "1");
}
