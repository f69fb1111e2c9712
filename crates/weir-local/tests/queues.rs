//! Queue operations through the real SDK client.

use aws_sdk_sqs::types::QueueAttributeName;
use weir_local::LocalSqs;

async fn create(client: &aws_sdk_sqs::Client, name: &str) -> String {
    client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create_queue")
        .queue_url
        .expect("queue url")
}

#[tokio::test(start_paused = true)]
async fn create_get_url_send_receive_delete() {
    let sqs = LocalSqs::new();
    let client = sqs.client();
    let url = create(&client, "basic").await;
    assert_eq!(url, "http://sqs.us-east-1.localhost/000000000000/basic");
    let got = client
        .get_queue_url()
        .queue_name("basic")
        .send()
        .await
        .unwrap();
    assert_eq!(got.queue_url(), Some(url.as_str()));

    let sent = client
        .send_message()
        .queue_url(&url)
        .message_body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent.md5_of_message_body(),
        Some("5d41402abc4b2a76b9719d911017c592")
    );
    let received = client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    let msgs = received.messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].body(), Some("hello"));
    assert_eq!(msgs[0].message_id(), sent.message_id());
    client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(msgs[0].receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    let attrs = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attrs = attrs.attributes().unwrap();
    assert_eq!(attrs[&QueueAttributeName::ApproximateNumberOfMessages], "0");
    assert_eq!(
        attrs[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "0"
    );
    assert_eq!(
        attrs[&QueueAttributeName::QueueArn],
        "arn:aws:sqs:us-east-1:000000000000:basic"
    );
}

#[tokio::test(start_paused = true)]
async fn missing_queue_is_typed_error() {
    let client = LocalSqs::new().client();
    let err = client
        .get_queue_url()
        .queue_name("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_queue_does_not_exist(), "{err:?}");
    let err = client
        .send_message()
        .queue_url("http://sqs.us-east-1.localhost/000000000000/nope")
        .message_body("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_queue_does_not_exist(), "{err:?}");
}
