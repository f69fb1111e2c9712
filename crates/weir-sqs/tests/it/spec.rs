use std::time::Duration;

use weir_sqs::{Error, QueueSpec};

use crate::support::{client, unique};
use weir_sqs::RequestCounter;

#[tokio::test(start_paused = true)]
async fn creates_queue_and_dlq_with_redrive_policy() {
    let client = client().await;
    let name = unique("spec");
    let spec = QueueSpec::standard(&name)
        .visibility(Duration::from_secs(45))
        .receive_wait(Duration::from_secs(5))
        .retention(Duration::from_secs(3600))
        .dead_letter(3);
    let t = spec.ensure(&client).await.unwrap();
    assert!(t.drift.is_empty(), "{:?}", t.drift);
    assert_eq!(
        t.queue.attributes().visibility_timeout(),
        Duration::from_secs(45)
    );
    assert_eq!(t.queue.attributes().receive_wait(), Duration::from_secs(5));
    let dlq = t.dlq.expect("dlq");
    assert_eq!(dlq.name(), format!("{name}-dlq"));
    let policy: serde_json::Value = serde_json::from_str(
        t.queue
            .attributes()
            .redrive_policy()
            .expect("redrive policy"),
    )
    .unwrap();
    assert_eq!(policy["deadLetterTargetArn"], dlq.arn().unwrap());
    assert_eq!(policy["maxReceiveCount"].to_string().trim_matches('"'), "3");
    let allow = dlq
        .attributes()
        .get("RedriveAllowPolicy")
        .expect("redrive allow policy");
    assert!(allow.contains("byQueue"), "{allow}");

    // Idempotent: a second run creates nothing and finds no drift.
    let (counting_client, counter) = RequestCounter::attach(&client);
    let again = spec.ensure(&counting_client).await.unwrap();
    assert!(again.drift.is_empty(), "{:?}", again.drift);
    assert_eq!(again.queue.url(), t.queue.url());
    assert_eq!(counter.get("CreateQueue"), 0);
}

#[tokio::test(start_paused = true)]
async fn reports_drift_without_overwriting() {
    let client = client().await;
    let name = unique("drift");
    QueueSpec::standard(&name)
        .visibility(Duration::from_secs(30))
        .ensure(&client)
        .await
        .unwrap();
    let t = QueueSpec::standard(&name)
        .visibility(Duration::from_secs(90))
        .ensure(&client)
        .await
        .unwrap();
    assert_eq!(t.drift.len(), 1, "{:?}", t.drift);
    assert_eq!(t.drift[0].attribute, "VisibilityTimeout");
    assert_eq!(t.drift[0].expected, "90");
    assert_eq!(t.drift[0].actual.as_deref(), Some("30"));
    assert_eq!(
        t.queue.attributes().visibility_timeout(),
        Duration::from_secs(30)
    );
}

#[tokio::test(start_paused = true)]
async fn fifo_spec() {
    let client = client().await;
    let name = format!("{}.fifo", unique("spec-fifo"));
    let t = QueueSpec::fifo(&name)
        .content_based_deduplication(true)
        .dead_letter(2)
        .ensure(&client)
        .await
        .unwrap();
    assert!(t.queue.is_fifo());
    assert!(t.queue.attributes().content_based_deduplication());
    let dlq = t.dlq.unwrap();
    assert!(dlq.is_fifo());
    assert!(dlq.name().ends_with("-dlq.fifo"));
}

#[tokio::test(start_paused = true)]
async fn invalid_spec_is_refused_before_the_network() {
    let (client, counter) = RequestCounter::attach(&client().await);
    let e = QueueSpec::standard("x")
        .delay(Duration::from_secs(1000))
        .ensure(&client)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)));
    assert_eq!(counter.total(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_existing_dlq_is_reported_not_changed() {
    let client = client().await;
    let name = unique("spec-existing-dlq");
    crate::support::create_queue(&client, &format!("{name}-dlq")).await;
    let t = QueueSpec::standard(&name)
        .dead_letter(4)
        .ensure(&client)
        .await
        .unwrap();
    let mut attrs: Vec<&str> = t.drift.iter().map(|d| d.attribute.as_str()).collect();
    attrs.sort_unstable();
    assert_eq!(
        attrs,
        ["MessageRetentionPeriod", "RedriveAllowPolicy"],
        "{:?}",
        t.drift
    );
    let dlq = t.dlq.unwrap();
    assert!(
        dlq.attributes().get("RedriveAllowPolicy").is_none(),
        "left as it was"
    );
    // The new source queue still gets its redrive policy.
    assert!(t.queue.attributes().redrive_policy().is_some());
}
