//! Run with: cargo run --example routing
//!
//! One queue, several message types, a handler for each.
//!
//! A producer with the `TaggedJson` codec sends an enum: the variant's name travels in
//! the `weir.type` message attribute and the body is the variant's own plain JSON. A
//! worker's `Router` sends each message to the handler for its tag, decoded into that
//! handler's type. A tag with no route, or a body that is not JSON, ends in the
//! dead-letter queue with the reason attached.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::error::Error;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use weir::aws_sdk_sqs::Client;
use weir::prelude::*;
use weir::sqs::AttributeValue;
use weir::sqs::codec::TYPE_TAG_ATTRIBUTE;
use weir::test::unique_name;
use weir_examples::{dead_letter_reasons, delete_queues, until_drained};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OrderPlaced {
    id: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OrderCancelled {
    id: u64,
}

/// With `TaggedJson`, `weir.type` is the variant's name, the body the inner struct.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum OrderEvent {
    OrderPlaced(OrderPlaced),
    OrderCancelled(OrderCancelled),
}

/// A handler that counts the messages of type `T` it was given.
fn counting<T>(
    n: Arc<AtomicU64>,
) -> impl Fn(Message<T>) -> Ready<Result<(), HandlerError>> + Clone {
    move |msg: Message<T>| {
        let result = msg.body().map(|_| {
            n.fetch_add(1, Ordering::Relaxed);
        });
        ready(result.map_err(|e| HandlerError::reject(e.to_string())))
    }
}

#[derive(Debug)]
struct Summary {
    placed: u64,
    cancelled: u64,
    dead_letters: Vec<String>,
    report: WorkerReport,
}

async fn run(client: &Client, events: u64) -> Result<Summary, Box<dyn Error>> {
    let topology = QueueSpec::standard(unique_name("order-events"))
        .dead_letter(3)
        .ensure(client)
        .await?;
    let (queue, dlq) = (topology.queue, topology.dlq.ok_or("no dead-letter queue")?);
    let batch: Vec<OrderEvent> = (0..events)
        .map(|id| match id % 4 {
            3 => OrderEvent::OrderCancelled(OrderCancelled { id: id - 1 }),
            _ => OrderEvent::OrderPlaced(OrderPlaced { id }),
        })
        .collect();
    let producer: Producer<OrderEvent, TaggedJson> =
        Producer::builder(queue.clone()).codec(TaggedJson).build()?;
    for r in producer.send_batch(&batch).await {
        r?;
    }
    // Two messages no handler can take: a tag nobody routes, a body that is not JSON.
    let raw = Producer::builder(queue.clone()).codec(RawString).build()?;
    for (tag, body) in [
        ("OrderRefunded", r#"{"id":7}"#),
        ("OrderPlaced", "<order/>"),
    ] {
        let tagged =
            SendOptions::default().with_attribute(TYPE_TAG_ATTRIBUTE, AttributeValue::string(tag));
        raw.send_with(&body.to_owned(), tagged).await?;
    }

    let (placed, cancelled) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let router = Router::new()
        .route(
            "OrderPlaced",
            handler_fn(counting::<OrderPlaced>(placed.clone())),
        )
        .route(
            "OrderCancelled",
            handler_fn(counting::<OrderCancelled>(cancelled.clone())),
        );
    // The worker decodes bodies as JSON values; the router decodes each into its type.
    let worker = Worker::<serde_json::Value>::builder(queue.clone())
        .handler(router)
        .dead_letter(&dlq)
        .wait_time(Duration::from_secs(1))
        .build()?;
    let report = worker.run_until(until_drained(&queue)).await;
    let dead_letters = dead_letter_reasons(&dlq).await?;
    delete_queues(&[&queue, &dlq]).await;
    Ok(Summary {
        placed: placed.load(Ordering::Relaxed),
        cancelled: cancelled.load(Ordering::Relaxed),
        dead_letters,
        report,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let client = weir_examples::client().await;
    let s = run(&client, 20).await?;
    println!(
        "routed {} OrderPlaced and {} OrderCancelled; {} dead-lettered:",
        s.placed, s.cancelled, s.report.dead_lettered
    );
    println!("  {}", s.dead_letters.join("\n  "));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn each_type_reaches_its_handler_and_the_rest_is_dead_lettered() {
        let client = weir::local::LocalSqs::new().client();
        let s = tokio::time::timeout(Duration::from_secs(600), run(&client, 8))
            .await
            .expect("the queue drains")
            .unwrap();
        // 8 events: ids 3 and 7 are cancellations.
        assert_eq!((s.placed, s.cancelled), (6, 2));
        let mut reasons = s.dead_letters.clone();
        reasons.sort();
        assert_eq!(reasons.len(), 2);
        assert!(reasons[0].starts_with("decode_failed"), "{reasons:?}");
        assert!(reasons[1].starts_with("rejected") && reasons[1].contains("OrderRefunded"));
        // Every message accounted for: 8 handled + 2 dead-lettered == 10 sent.
        assert_eq!((s.report.succeeded, s.report.dead_lettered), (8, 2));
    }
}
