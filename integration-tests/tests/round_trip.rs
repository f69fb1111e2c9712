//! The first real round trip: create, send in batches, long-poll, delete in batches, and
//! dead-letter, through an `aws_sdk_sqs::Client` built from aws-config's defaults.
//!
//! Each scenario runs in-process (paused time) always, and against LocalStack with the
//! `localstack` feature (the README's test command turns it on).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, QueueAttributeName};
use weir_integration_tests::queues::send;
use weir_integration_tests::unique_name;

async fn create_pair(client: &Client) -> (String, String) {
    let dlq_url = client
        .create_queue()
        .queue_name(unique_name("rt-dlq"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()
        .remove(&QueueAttributeName::QueueArn)
        .unwrap();
    let redrive = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"2"}}"#);
    let url = client
        .create_queue()
        .queue_name(unique_name("rt"))
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    (url, dlq_url)
}

async fn delete_queues(client: &Client, urls: &[&str]) {
    for url in urls {
        client.delete_queue().queue_url(*url).send().await.unwrap();
    }
}

async fn twenty_five_messages_round_trip_in_batches(client: Client) {
    let (url, dlq_url) = create_pair(&client).await;

    let sent: BTreeSet<String> = (0..25).map(|i| format!(r#"{{"order":{i}}}"#)).collect();
    send(&client, &url, sent.iter().cloned()).await;

    let mut received = BTreeSet::new();
    let mut receives = 0;
    while received.len() < sent.len() {
        receives += 1;
        assert!(receives <= 30, "only {} of 25 received", received.len());
        let out = client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(2)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            continue;
        }
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(format!("d{i}"))
                    .receipt_handle(m.receipt_handle().unwrap())
                    .build()
                    .unwrap()
            })
            .collect::<Vec<_>>();
        let deleted = client
            .delete_message_batch()
            .queue_url(&url)
            .set_entries(Some(entries))
            .send()
            .await
            .unwrap();
        assert!(
            deleted.failed.is_empty(),
            "failed deletes: {:?}",
            deleted.failed
        );
        assert_eq!(deleted.successful.len(), messages.len());
        for m in messages {
            let body = m.body.unwrap();
            assert!(
                received.insert(body.clone()),
                "duplicate delivery of {body}"
            );
        }
    }
    assert_eq!(received, sent);

    // Everything was deleted: a short poll finds nothing.
    let rest = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    assert!(rest.messages.unwrap_or_default().is_empty());
    delete_queues(&client, &[&url, &dlq_url]).await;
}

async fn a_message_received_past_max_receive_count_lands_in_the_dlq(client: Client) {
    let (url, dlq_url) = create_pair(&client).await;
    client
        .send_message()
        .queue_url(&url)
        .message_body("poison")
        .send()
        .await
        .unwrap();

    // Receives 1 and 2 return the message; each time it is left undeleted and its
    // visibility runs out. Receive 3 would exceed maxReceiveCount = 2, so SQS moves it
    // to the dead-letter queue instead of returning it.
    for attempt in 1..=2 {
        let out = client
            .receive_message()
            .queue_url(&url)
            .visibility_timeout(1)
            .wait_time_seconds(2)
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
            )
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        assert_eq!(messages.len(), 1, "receive {attempt} found no message");
        let count = messages[0]
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
            })
            .unwrap();
        assert_eq!(count, &attempt.to_string());
        tokio::time::sleep(Duration::from_millis(1_200)).await;
    }
    let third = client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    assert!(
        third.messages.unwrap_or_default().is_empty(),
        "the third receive must not return the message"
    );

    let dead = client
        .receive_message()
        .queue_url(&dlq_url)
        .wait_time_seconds(5)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body(), Some("poison"));
    delete_queues(&client, &[&url, &dlq_url]).await;
}

macro_rules! on_both_targets {
    ($($scenario:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test(start_paused = true)]
                async fn $scenario() {
                    super::$scenario(weir_local::LocalSqs::new().client()).await;
                }
            )*
        }

        #[cfg(feature = "localstack")]
        mod localstack {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(weir_integration_tests::localstack_client().await).await;
                }
            )*
        }
    };
}

on_both_targets!(
    twenty_five_messages_round_trip_in_batches,
    a_message_received_past_max_receive_count_lands_in_the_dlq,
);
