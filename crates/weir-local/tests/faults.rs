//! Injected faults as the SDK sees them: errors, retries, latency, lost responses.

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use tokio::time::Instant;
use weir_local::{FaultAction, FaultRule, LocalSqs};

async fn setup() -> (LocalSqs, aws_sdk_sqs::Client, String) {
    let sqs = LocalSqs::new();
    let client = sqs.client();
    let url = client
        .create_queue()
        .queue_name("faulty")
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url");
    (sqs, client, url)
}

async fn visible(client: &aws_sdk_sqs::Client, url: &str) -> String {
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
async fn injected_errors_reach_the_sdk_as_service_errors() {
    let (sqs, client, url) = setup().await;
    sqs.faults().inject(
        FaultRule::error(400, "AWS.SimpleQueueService.NonExistentQueue", "gone")
            .operation("SendMessage")
            .times(1),
    );
    let err = client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_queue_does_not_exist(), "{err:?}");
    assert_eq!(visible(&client, &url).await, "0");
    client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(visible(&client, &url).await, "1");
}

#[tokio::test(start_paused = true)]
async fn throttling_and_dropped_connections_are_retried_by_the_sdk() {
    let (sqs, client, url) = setup().await;
    sqs.faults().inject(
        FaultRule::error(400, "ThrottlingException", "slow down")
            .operation("SendMessage")
            .times(1),
    );
    sqs.faults().inject(
        FaultRule::new(FaultAction::DropConnection)
            .operation("SendMessage")
            .times(1),
    );
    client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .send()
        .await
        .unwrap();
    assert!(
        sqs.faults().is_empty(),
        "both faults were hit and retried past"
    );
    assert_eq!(visible(&client, &url).await, "1");
}

#[tokio::test(start_paused = true)]
async fn a_lost_response_makes_the_retry_a_duplicate() {
    let (sqs, client, url) = setup().await;
    sqs.faults().inject(
        FaultRule::new(FaultAction::LoseResponse)
            .operation("SendMessage")
            .times(1),
    );
    client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(visible(&client, &url).await, "2");
}

#[tokio::test(start_paused = true)]
async fn latency_runs_on_the_tokio_clock() {
    let (sqs, client, url) = setup().await;
    sqs.faults().inject(
        FaultRule::new(FaultAction::Latency(Duration::from_secs(5))).operation("ReceiveMessage"),
    );
    let start = Instant::now();
    client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert!(start.elapsed() >= Duration::from_secs(5));
    sqs.faults().clear();
    let start = Instant::now();
    client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(1));
}
