//! Run with: cargo run --example fifo_orders [-- --customers 20 --orders 10]
//!
//! Each customer's orders are handled in the order they were placed, even with many
//! customers at once and handlers that fail.
//!
//! On a FIFO queue the message group id (here: the customer) is the unit of order.
//! The worker runs different groups in parallel, but only one message of a group at a
//! time; when a message fails, the rest of its group that the worker holds is released
//! (visibility 0), so the failed message is retried before anything after it. The
//! example sends `--customers` × `--orders` orders, interleaved; every 4th order fails
//! once; then it checks, for each customer, that the orders completed in sequence.
//! (On LocalStack the order can break: see examples/README.md.)

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::collections::{BTreeMap, HashSet};
use std::error::Error;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser as _;
use serde::{Deserialize, Serialize};
use weir::aws_sdk_sqs::Client;
use weir::prelude::*;
use weir::test::unique_name;
use weir_examples::{delete_queues, until_drained};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Order {
    customer: u32,
    /// The customer's order number: 0, 1, 2, …
    seq: u32,
}

/// Per customer, the order numbers in the order their handlers succeeded; and the
/// orders that failed once already (not a delivery count: a message released behind a
/// failure is delivered again without having been tried).
#[derive(Debug, Default)]
struct Observed {
    completed: BTreeMap<u32, Vec<u32>>,
    failed: HashSet<(u32, u32)>,
}

async fn handle(msg: Message<Order>, seen: Arc<Mutex<Observed>>) -> Result<(), HandlerError> {
    let order = msg
        .body()
        .map_err(|e| HandlerError::reject(e.to_string()))?;
    tokio::time::sleep(Duration::from_millis(5)).await; // the work
    let mut seen = seen.lock().map_err(|_| HandlerError::retry("poisoned"))?;
    if order.seq % 4 == 1 && seen.failed.insert((order.customer, order.seq)) {
        return Err(HandlerError::retry("warehouse busy"));
    }
    seen.completed
        .entry(order.customer)
        .or_default()
        .push(order.seq);
    Ok(())
}

#[derive(Debug)]
struct Summary {
    completed: BTreeMap<u32, Vec<u32>>,
    report: WorkerReport,
}

async fn run(client: &Client, customers: u32, orders: u32) -> Result<Summary, Box<dyn Error>> {
    let topology = QueueSpec::fifo(unique_name("fifo-orders.fifo"))
        .dead_letter(10)
        .ensure(client)
        .await?;
    let (queue, dlq) = (topology.queue, topology.dlq.ok_or("no dead-letter queue")?);

    // Interleave the customers: c0#0, c1#0, …, c0#1, c1#1, …
    let all: Vec<Order> = (0..orders)
        .flat_map(|seq| (0..customers).map(move |customer| Order { customer, seq }))
        .collect();
    let with_ids = all.iter().map(|o| {
        let options = SendOptions::default()
            .with_group_id(format!("customer-{}", o.customer))
            .with_dedup_id(format!("{}-{}", o.customer, o.seq));
        (o, options)
    });
    for r in Producer::new(queue.clone()).send_batch_with(with_ids).await {
        r?;
    }
    println!("sent {} orders from {customers} customers", all.len());

    let seen = Arc::new(Mutex::new(Observed::default()));
    let handler = handler_fn({
        let seen = seen.clone();
        move |msg| handle(msg, seen.clone())
    });
    let worker = Worker::builder(queue.clone())
        .handler(handler)
        .concurrency(20)
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(1)))
        .dead_letter(&dlq)
        .wait_time(Duration::from_secs(1))
        .build()?;
    let report = worker.run_until(until_drained(&queue)).await;
    delete_queues(&[&queue, &dlq]).await;
    let completed = std::mem::take(&mut seen.lock().map_err(|_| "poisoned")?.completed);
    Ok(Summary { completed, report })
}

/// Options, also from the environment (`--help` lists them).
#[derive(Debug, clap::Parser)]
struct Args {
    /// Customers, each with its own message group.
    #[arg(long, env = "WEIR_CUSTOMERS", default_value_t = 20)]
    customers: u32,
    /// Orders per customer.
    #[arg(long, env = "WEIR_ORDERS", default_value_t = 10)]
    orders: u32,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let client = weir_examples::client().await;
    let s = run(&client, args.customers, args.orders).await?;
    let in_order = |seqs: &Vec<u32>| seqs.iter().copied().eq(0..args.orders);
    println!(
        "{} orders handled: {} retried after a failure, {} released behind one",
        s.report.succeeded, s.report.retried, s.report.released_on_failure
    );
    if !s.completed.values().all(in_order) {
        return Err("a customer's orders completed out of sequence".into());
    }
    println!("order kept for all {} customers", s.completed.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn each_customer_in_order() {
        let client = weir::local::LocalSqs::new().client();
        let s = tokio::time::timeout(Duration::from_secs(600), run(&client, 6, 9))
            .await
            .expect("the queue drains")
            .unwrap();
        assert_eq!(s.completed.len(), 6);
        for (customer, seqs) in &s.completed {
            assert_eq!(*seqs, (0..9).collect::<Vec<_>>(), "{customer}");
        }
        // Orders 1 and 5 of each customer failed once; nothing else was lost or redone.
        assert_eq!(s.report.retried, 12);
        assert_eq!((s.report.succeeded, s.report.dead_lettered), (54, 0));
    }
}
