//! Run with: cargo run --example fan_out
//!
//! Fan-out: the order service publishes each event once, to an SNS topic; every service
//! that cares has its own queue subscribed to the topic and its own worker, and none of
//! them knows the others exist. Billing gets every order; shipping, through a filter
//! policy, only the orders with something to ship (`kind` = `physical`).
//!
//! `TopicSpec` creates the topic and subscribes both queues (with the queue policy that
//! lets the topic send, and shipping's filter policy); `Publisher<OrderPlaced>` publishes
//! typed events in batches of 10 with a `kind` attribute; each worker unwraps the SNS
//! envelope (`Envelope::Sns`), so its handler decodes `OrderPlaced` and
//! `msg.envelope()` keeps the topic.
//!
//! It runs on the in-process SQS and SNS unless `AWS_ENDPOINT_URL` (LocalStack) or AWS
//! credentials are set; see examples/README.md.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use weir::aws_sdk_sns::Client as Sns;
use weir::aws_sdk_sqs::Client as Sqs;
use weir::prelude::*;
use weir::sqs::sns::{PublishOptions, Publisher, SubscriptionSpec, TopicSpec};
use weir::sqs::{AttributeValue, Envelope, EnvelopeInfo};
use weir::test::unique_name;
use weir_examples::{ctrl_c, delete_queues};

/// The event the order service publishes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OrderPlaced {
    id: u64,
    physical: bool,
}

/// One service: a worker on its own queue that counts the orders it handles, until it
/// has seen `expected` (a real service runs until its shutdown signal) or Ctrl-C.
async fn service(
    name: &'static str,
    queue: Queue,
    expected: u64,
) -> Result<u64, weir::worker::BuildError> {
    let handled = Arc::new(AtomicU64::new(0));
    let counter = handled.clone();
    let worker = Worker::builder(queue)
        .envelope(Envelope::Sns)
        .handler(handler_fn(move |msg: Message<OrderPlaced>| {
            let counter = counter.clone();
            async move {
                let order = msg
                    .body()
                    .map_err(|e| HandlerError::reject(e.to_string()))?;
                if let Some(EnvelopeInfo::Sns(n)) = msg.envelope() {
                    let topic = n.topic_arn.rsplit(':').next().unwrap_or_default();
                    println!("{name}: order {} (from topic {topic})", order.id);
                }
                counter.fetch_add(1, Ordering::Relaxed);
                Ok::<_, HandlerError>(())
            }
        }))
        .wait_time(Duration::from_secs(1))
        .build()?;
    let done = async {
        while handled.load(Ordering::Relaxed) < expected {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    worker
        .run_until(async {
            tokio::select! { () = done => {}, () = ctrl_c() => {} }
        })
        .await;
    Ok(handled.load(Ordering::Relaxed))
}

async fn run(sqs: &Sqs, sns: &Sns, orders: u64) -> Result<(u64, u64), Box<dyn std::error::Error>> {
    // 1. Each service's queue, and the topic both subscribe to.
    let billing = QueueSpec::standard(unique_name("billing"))
        .ensure(sqs)
        .await?
        .queue;
    let shipping = QueueSpec::standard(unique_name("shipping"))
        .ensure(sqs)
        .await?
        .queue;
    let topology = TopicSpec::standard(unique_name("orders"))
        .subscribe(SubscriptionSpec::queue(billing.url()))
        .subscribe(
            SubscriptionSpec::queue(shipping.url()).filter_policy(r#"{"kind": ["physical"]}"#),
        )
        .ensure(sns, sqs)
        .await?;

    // 2. The order service publishes each event once; every 4th order is a download.
    let publisher: Publisher<OrderPlaced> = Publisher::new(topology.topic.clone());
    let events: Vec<(OrderPlaced, PublishOptions)> = (0..orders)
        .map(|id| {
            let physical = id % 4 != 3;
            let kind = if physical { "physical" } else { "digital" };
            let options =
                PublishOptions::default().with_attribute("kind", AttributeValue::string(kind));
            (OrderPlaced { id, physical }, options)
        })
        .collect();
    for published in publisher
        .publish_batch_with(events.iter().map(|(e, o)| (e, o.clone())))
        .await
    {
        published?;
    }
    let physical = events.iter().filter(|(e, _)| e.physical).count() as u64;
    println!("published {orders} orders once each ({physical} to ship)");

    // 3. The two services, side by side.
    let (billed, shipped) = tokio::join!(
        service("billing", billing.clone(), orders),
        service("shipping", shipping.clone(), physical)
    );
    let handled = (billed?, shipped?);
    sns.delete_topic()
        .topic_arn(topology.topic.arn())
        .send()
        .await?;
    delete_queues(&[&billing, &shipping]).await;
    Ok(handled)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (sqs, sns) = weir_examples::clients_with_sns().await;
    let (billed, shipped) = run(&sqs, &sns, 20).await?;
    println!("billing handled {billed}, shipping {shipped}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn each_service_gets_what_it_subscribed_to() {
        let local = weir::local::LocalSqs::new();
        let handled = run(&local.client(), &local.sns_client(), 40).await.unwrap();
        // Billing gets every order, shipping the 30 physical ones; the 10 downloads
        // never reach its queue.
        assert_eq!(handled, (40, 30));
    }
}
