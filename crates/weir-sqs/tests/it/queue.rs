use std::time::Duration;

use weir_sqs::{Error, Queue};

use crate::support::{client, create_fifo, create_queue, unique};

#[tokio::test(start_paused = true)]
async fn opens_by_name_url_and_arn() {
    let client = client().await;
    let name = unique("open");
    let url = create_queue(&client, &name).await;

    let by_name = Queue::open(&client, &name).await.unwrap();
    assert_eq!(by_name.url(), url);
    assert_eq!(by_name.name(), name);
    assert!(!by_name.is_fifo());
    assert_eq!(
        by_name.attributes().visibility_timeout(),
        Duration::from_secs(30)
    );

    let by_url = Queue::open(&client, &url).await.unwrap();
    assert_eq!(by_url.name(), name);

    let arn = by_name.arn().expect("arn attribute").to_owned();
    let by_arn = Queue::open(&client, &arn).await.unwrap();
    assert_eq!(by_arn.url(), url);
}

#[tokio::test(start_paused = true)]
async fn fifo_attributes_are_cached() {
    let client = client().await;
    let name = format!("{}.fifo", unique("fifo-attrs"));
    create_fifo(&client, &name, true).await;
    let q = Queue::open(&client, &name).await.unwrap();
    assert!(q.is_fifo());
    assert!(q.attributes().content_based_deduplication());
}

#[tokio::test(start_paused = true)]
async fn missing_queue_is_queue_not_found() {
    let client = client().await;
    let name = unique("missing");
    match Queue::open(&client, &name).await.unwrap_err() {
        Error::QueueNotFound(e) => assert_eq!(e.queue(), name),
        other => panic!("expected QueueNotFound, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn bad_names_are_refused_before_the_network() {
    let client = client().await;
    let e = Queue::open(&client, "has space").await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
    let e = Queue::open(&client, "arn:aws:sns:us-east-1:1:x")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
}

#[tokio::test(start_paused = true)]
async fn depth_and_purge() {
    let client = client().await;
    let name = unique("depth");
    let url = create_queue(&client, &name).await;
    for i in 0..3 {
        client
            .send_message()
            .queue_url(&url)
            .message_body(format!("{i}"))
            .send()
            .await
            .unwrap();
    }
    let q = Queue::open(&client, &name).await.unwrap();
    let d = q.depth().await.unwrap();
    assert_eq!(d.visible, 3);
    q.purge().await.unwrap();
    assert_eq!(q.depth().await.unwrap().visible, 0);
}
