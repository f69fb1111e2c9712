//! Run with: cargo run --example typed_messages
//!
//! Messages are Rust types on both ends, and plain JSON on the wire, so any other SQS
//! client can read and write them.
//!
//! 1. **The JSON codec.** A `Producer<OrderPlaced>` sends a serde type; a
//!    `Consumer<OrderPlaced>` gets it back typed.
//! 2. **A raw-string reader.** A `Consumer<String, RawString>` reads bodies verbatim: it
//!    shows what the JSON codec put on the wire, and it reads a message that another
//!    program (here: the bare AWS SDK) sent as plain text.
//! 3. **Type-tag routing.** One queue carries several event types. A producer with the
//!    `TaggedJson` codec puts the enum variant in the `weir.type` message attribute and
//!    the variant's fields in the body; a worker with a `Router` sends each message to
//!    the handler for its type. An unknown tag, or a body that is not JSON, ends in the
//!    dead-letter queue with the reason attached.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use weir::aws_sdk_sqs::Client;
use weir::aws_sdk_sqs::types::MessageAttributeValue;
use weir::sqs::codec::TYPE_TAG_ATTRIBUTE;
use weir::sqs::{Consumer, Producer, QueueSpec, RawString, ReceiveOptions, TaggedJson};
use weir::worker::{HandlerError, Message, Router, Worker, WorkerReport, handler_fn};
use weir_examples::{DeadLetterView, delete_queues, drained, peek_dead_letters, unique_name};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OrderPlaced {
    id: u64,
    customer: String,
    items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Item {
    sku: String,
    quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OrderCancelled {
    id: u64,
    reason: String,
}

/// The events of the `order-events` queue. With `TaggedJson` the variant name travels in
/// the `weir.type` attribute and the body is the variant's own JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum OrderEvent {
    OrderPlaced(OrderPlaced),
    OrderCancelled(OrderCancelled),
}

#[derive(Debug)]
struct Summary {
    /// The body the JSON codec sent, as the raw reader saw it.
    wire_body: String,
    /// The same message, decoded by the typed consumer.
    typed: Option<OrderPlaced>,
    /// The plain-text message from the bare SDK, as the raw reader saw it.
    foreign_body: String,
    /// A `TaggedJson` message as the raw reader saw it: body and `weir.type` attribute.
    tagged_wire: (String, String),
    placed: u64,
    cancelled: u64,
    dead_letters: Vec<DeadLetterView>,
    report: WorkerReport,
}

fn order(id: u64) -> OrderPlaced {
    OrderPlaced {
        id,
        customer: format!("customer-{id}"),
        items: vec![Item {
            sku: format!("sku-{}", id * 7 % 13),
            quantity: 1 + (id % 3) as u32,
        }],
    }
}

async fn run(client: &Client, events: u64) -> Result<Summary, Box<dyn Error>> {
    // --- 1 and 2: the JSON codec, read typed and raw ---------------------------------
    let orders = QueueSpec::standard(unique_name("typed-orders"))
        .ensure(client)
        .await?
        .queue;
    let producer: Producer<OrderPlaced> = Producer::new(orders.clone());
    producer.send(&order(1)).await?;

    // Another program, with no weir and no serde, sends plain text to the same queue.
    client
        .send_message()
        .queue_url(orders.url())
        .message_body("PING from a shell script")
        .send()
        .await?;

    let raw: Consumer<String, RawString> = Consumer::with_codec(orders.clone(), RawString);
    let now = ReceiveOptions::default().with_wait(Duration::from_secs(1));
    let mut seen = Vec::new();
    for _ in 0..10 {
        if seen.len() == 2 {
            break;
        }
        seen.extend(raw.receive(&now).await?);
    }
    if seen.len() != 2 {
        return Err(format!("expected the 2 messages just sent, received {}", seen.len()).into());
    }
    // SQS does not promise an order on standard queues: tell them apart by content.
    seen.sort_by_key(|m| !m.raw_body().starts_with('{'));
    let (json, text) = (&seen[0], &seen[1]);
    let wire_body = json.raw_body().to_owned();
    let foreign_body = text.raw_body().to_owned();
    // The order goes back (visible again now), for the typed consumer; the text is done.
    raw.nack(json, Duration::ZERO).await?;
    raw.ack(text).await?;

    let typed: Consumer<OrderPlaced> = Consumer::new(orders.clone());
    let mut got = Vec::new();
    for _ in 0..10 {
        if !got.is_empty() {
            break;
        }
        got = typed.receive(&now).await?;
    }
    let decoded = got.first().and_then(|m| m.body().ok()).cloned();
    for r in typed.ack_batch(&got).await {
        r?;
    }

    // --- 3: several types on one queue, routed by tag -------------------------------
    let topology = QueueSpec::standard(unique_name("order-events"))
        .dead_letter(3)
        .ensure(client)
        .await?;
    let events_queue = topology.queue;
    let dlq = topology
        .dlq
        .ok_or("the spec declares a dead-letter queue")?;

    let tagged: Producer<OrderEvent, TaggedJson> = Producer::builder(events_queue.clone())
        .codec(TaggedJson)
        .build()?;
    let batch: Vec<OrderEvent> = (0..events)
        .map(|i| {
            if i % 4 == 3 {
                OrderEvent::OrderCancelled(OrderCancelled {
                    id: i - 1,
                    reason: "changed my mind".into(),
                })
            } else {
                OrderEvent::OrderPlaced(order(i))
            }
        })
        .collect();
    for r in tagged.send_batch(&batch).await {
        r?;
    }
    // On the wire: the variant's fields as plain JSON, the variant's name in an attribute.
    let raw_events: Consumer<String, RawString> =
        Consumer::with_codec(events_queue.clone(), RawString);
    let mut peek = Vec::new();
    while peek.is_empty() {
        peek = raw_events
            .receive(&now.clone().with_max_messages(1))
            .await?;
    }
    let tagged_wire = (
        peek[0].raw_body().to_owned(),
        peek[0].type_tag().unwrap_or_default().to_owned(),
    );
    raw_events.nack(&peek[0], Duration::ZERO).await?;

    // Two messages no handler can take: a tag nobody routes, and a body that is not JSON.
    let tag = |t: &str| {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(t)
            .build()
    };
    client
        .send_message()
        .queue_url(events_queue.url())
        .message_body(r#"{"id":7,"amount_cents":1200}"#)
        .message_attributes(TYPE_TAG_ATTRIBUTE, tag("OrderRefunded")?)
        .send()
        .await?;
    client
        .send_message()
        .queue_url(events_queue.url())
        .message_body("<order id=8/>")
        .message_attributes(TYPE_TAG_ATTRIBUTE, tag("OrderPlaced")?)
        .send()
        .await?;

    let placed = Arc::new(AtomicU64::new(0));
    let cancelled = Arc::new(AtomicU64::new(0));
    let router = Router::new()
        .route(
            "OrderPlaced",
            handler_fn({
                let placed = placed.clone();
                move |msg: Message<OrderPlaced>| {
                    let placed = placed.clone();
                    async move {
                        let order = msg
                            .body()
                            .map_err(|e| HandlerError::reject(e.to_string()))?;
                        let _units: u32 = order.items.iter().map(|i| i.quantity).sum();
                        placed.fetch_add(1, Ordering::Relaxed);
                        Ok::<_, HandlerError>(())
                    }
                }
            }),
        )
        .route(
            "OrderCancelled",
            handler_fn({
                let cancelled = cancelled.clone();
                move |msg: Message<OrderCancelled>| {
                    let cancelled = cancelled.clone();
                    async move {
                        let c = msg
                            .body()
                            .map_err(|e| HandlerError::reject(e.to_string()))?;
                        let _ = &c.reason;
                        cancelled.fetch_add(1, Ordering::Relaxed);
                        Ok::<_, HandlerError>(())
                    }
                }
            }),
        );
    // The worker decodes bodies as JSON values; the router decodes each into its type.
    let worker = Worker::<serde_json::Value>::builder(events_queue.clone())
        .handler(router)
        .dead_letter(&dlq)
        .wait_time(Duration::from_secs(1))
        .build()?;
    let report = worker
        .run_until(drained(&events_queue, Duration::from_millis(100)))
        .await;

    let dead_letters = peek_dead_letters(&dlq).await?;
    delete_queues(&[&orders, &events_queue, &dlq]).await;
    Ok(Summary {
        wire_body,
        typed: decoded,
        foreign_body,
        tagged_wire,
        placed: placed.load(Ordering::Relaxed),
        cancelled: cancelled.load(Ordering::Relaxed),
        dead_letters,
        report,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let client = weir_examples::client().await;
    let events = 20;
    let s = run(&client, events).await?;
    println!("1. JSON codec: Producer<OrderPlaced> sent this body (read back raw):");
    println!("     {}", s.wire_body);
    println!("   and Consumer<OrderPlaced> decoded it:");
    println!("     {:?}", s.typed);
    println!("2. raw-string reader: a message the bare AWS SDK sent as text:");
    println!("     {}", s.foreign_body);
    println!(
        "3. type tags: {events} OrderEvents sent with TaggedJson, plus an unknown tag and a non-JSON body;"
    );
    println!(
        "   on the wire: body {} with attribute {TYPE_TAG_ATTRIBUTE}={}",
        s.tagged_wire.0, s.tagged_wire.1
    );
    println!(
        "   the Router handled {} OrderPlaced and {} OrderCancelled; {} went to the dead-letter queue:",
        s.placed, s.cancelled, s.report.dead_lettered
    );
    for d in &s.dead_letters {
        println!("     - {:<13} {}   body: {}", d.reason, d.error, d.body);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn codecs_and_routing() {
        let client = weir::local::LocalSqs::new().client();
        let s = weir_examples::within(Duration::from_secs(600), run(&client, 8))
            .await
            .unwrap();
        // Plain JSON on the wire, the same value back.
        let wire: serde_json::Value = serde_json::from_str(&s.wire_body).unwrap();
        assert_eq!(wire["id"], 1);
        assert_eq!(s.typed, Some(order(1)));
        assert_eq!(s.foreign_body, "PING from a shell script");
        let tagged: OrderPlaced = serde_json::from_str(&s.tagged_wire.0).unwrap();
        assert_eq!(tagged, order(0));
        assert_eq!(s.tagged_wire.1, "OrderPlaced");
        // 8 events: ids 3 and 7 are cancellations.
        assert_eq!((s.placed, s.cancelled), (6, 2));
        let mut reasons: Vec<&str> = s.dead_letters.iter().map(|d| d.reason.as_str()).collect();
        reasons.sort_unstable();
        assert_eq!(reasons, ["decode_failed", "rejected"]);
        assert!(
            s.dead_letters
                .iter()
                .any(|d| d.error.contains("OrderRefunded"))
        );
        assert_eq!(s.report.dead_lettered, 2);
    }
}
