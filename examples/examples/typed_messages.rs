//! Run with: cargo run --example typed_messages
//!
//! Messages are Rust types on both ends, and plain JSON on the wire, so any other SQS
//! client can read and write them.
//!
//! - A `Producer<OrderPlaced>` sends a serde type with the JSON codec (the default).
//! - Another program (here: the bare AWS SDK, no weir, no serde) sends an order as a
//!   JSON string it wrote by hand.
//! - A raw-string reader, `Consumer<String, RawString>`, shows both bodies as they are
//!   on the wire: the same plain JSON.
//! - A `Consumer<OrderPlaced>` decodes both back into the type.
//!
//! Several types on one queue, each with its own handler, is the `routing` example.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::error::Error;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use weir::aws_sdk_sqs::Client;
use weir::prelude::*;
use weir::sqs::{Decode, ReceiveOptions};
use weir::test::unique_name;
use weir_examples::delete_queues;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OrderPlaced {
    id: u64,
    customer: String,
    skus: Vec<String>,
}

/// Receives until `n` messages are in hand (SQS may return fewer per call).
async fn receive<T, C: Decode<T>>(
    consumer: &Consumer<T, C>,
    n: usize,
) -> Result<Vec<Message<T>>, Box<dyn Error>> {
    let options = ReceiveOptions::default().with_wait(Duration::from_secs(1));
    let mut got = Vec::new();
    for _ in 0..10 {
        if got.len() >= n {
            return Ok(got);
        }
        got.extend(consumer.receive(&options).await?);
    }
    Err(format!("expected {n} messages, received {}", got.len()).into())
}

#[derive(Debug)]
struct Summary {
    /// The two bodies as the raw reader saw them, sorted.
    wire: Vec<String>,
    /// The two orders as the typed consumer decoded them, by id.
    decoded: Vec<OrderPlaced>,
}

async fn run(client: &Client) -> Result<Summary, Box<dyn Error>> {
    let queue = QueueSpec::standard(unique_name("typed-orders"))
        .ensure(client)
        .await?
        .queue;
    let order = OrderPlaced {
        id: 1,
        customer: "ada".into(),
        skus: vec!["sku-7".into()],
    };
    Producer::<OrderPlaced>::new(queue.clone())
        .send(&order)
        .await?;
    client
        .send_message()
        .queue_url(queue.url())
        .message_body(r#"{"id":2,"customer":"grace","skus":[]}"#)
        .send()
        .await?;

    // What is on the wire. Then back they go (visible again at once).
    let raw = Consumer::with_codec(queue.clone(), RawString);
    let seen = receive(&raw, 2).await?;
    let mut wire: Vec<String> = seen.iter().map(|m| m.raw_body().to_owned()).collect();
    wire.sort();
    for r in raw.change_visibility_batch(&seen, Duration::ZERO).await {
        r?;
    }

    // The typed end: both decode, whoever sent them.
    let typed: Consumer<OrderPlaced> = Consumer::new(queue.clone());
    let got = receive(&typed, 2).await?;
    let mut decoded = got
        .iter()
        .map(|m| m.body().cloned().map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    decoded.sort_by_key(|o| o.id);
    for r in typed.ack_batch(&got).await {
        r?;
    }
    delete_queues(&[&queue]).await;
    Ok(Summary { wire, decoded })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let client = weir_examples::client().await;
    let s = run(&client).await?;
    println!("on the wire (read raw), from weir and from the bare SDK:");
    for body in &s.wire {
        println!("  {body}");
    }
    println!("decoded by Consumer<OrderPlaced>:");
    for order in &s.decoded {
        println!("  {order:?}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn plain_json_on_the_wire_and_types_on_both_ends() {
        let client = weir::local::LocalSqs::new().client();
        let s = run(&client).await.unwrap();
        // The JSON codec's body is the same plain JSON another program would write.
        let wire: Vec<serde_json::Value> = s
            .wire
            .iter()
            .map(|b| serde_json::from_str(b).unwrap())
            .collect();
        assert_eq!(wire[0]["id"], 1);
        assert_eq!(wire[0]["skus"][0], "sku-7");
        assert_eq!(wire[1]["customer"], "grace");
        let ids: Vec<u64> = s.decoded.iter().map(|o| o.id).collect();
        assert_eq!(ids, [1, 2]);
        assert_eq!(s.decoded[0].skus, ["sku-7"]);
    }
}
