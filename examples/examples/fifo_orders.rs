//! Run with: cargo run --example fifo_orders
//!
//! Each customer's orders are handled in the order they were placed, even with many
//! customers at once and handlers that fail.
//!
//! On a FIFO queue the message group id (here: the customer) is the unit of order.
//! The worker runs different groups in parallel, but only one message of a group at a
//! time; when a message fails, the rest of its group that the worker holds is released
//! (visibility 0), so the failed message is retried before anything after it. The
//! example sends `--customers` × `--orders` orders (20 × 10), interleaved; every 4th
//! order fails once; then it checks, for each customer, that the orders were completed
//! exactly in sequence.

#![allow(clippy::print_stdout)] // an example prints what it shows

use clap::Parser as _;
use std::collections::{BTreeMap, HashSet};
use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use weir::aws_sdk_sqs::Client;
use weir::sqs::{Producer, QueueSpec, SendOptions};
use weir::worker::{HandlerError, Message, RetryPolicy, Worker, WorkerReport, handler_fn};
use weir_examples::{Either, ctrl_c, delete_queues, drained, either, human, unique_name};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Order {
    customer: String,
    /// The customer's order number: 0, 1, 2, …
    seq: u32,
}

#[derive(Debug, Clone)]
struct Options {
    customers: u32,
    orders: u32,
}

#[derive(Debug, Default)]
struct Observed {
    /// Per customer, the order numbers in the order their handlers succeeded.
    completed: BTreeMap<String, Vec<u32>>,
    /// Groups that had two handlers running at once (must stay empty).
    overlaps: Vec<String>,
    /// Failures injected (each order fails at most once).
    failed_once: HashSet<(String, u32)>,
}

#[derive(Debug)]
struct Summary {
    sent: u64,
    completed: BTreeMap<String, Vec<u32>>,
    /// Customers whose orders did not complete exactly as 0, 1, 2, …
    out_of_order: Vec<String>,
    overlaps: Vec<String>,
    max_parallel: usize,
    left: u64,
    elapsed: Duration,
    report: WorkerReport,
}

async fn run(client: &Client, options: &Options) -> Result<Summary, Box<dyn Error>> {
    let topology = QueueSpec::fifo(unique_name("fifo-orders.fifo"))
        .dead_letter(10)
        .ensure(client)
        .await?;
    let queue = topology.queue;
    let dlq = topology
        .dlq
        .ok_or("the spec declares a dead-letter queue")?;

    // Interleave the customers: c0#0, c1#0, …, c0#1, c1#1, …
    let orders: Vec<Order> = (0..options.orders)
        .flat_map(|seq| {
            (0..options.customers).map(move |c| Order {
                customer: format!("customer-{c:02}"),
                seq,
            })
        })
        .collect();
    let producer: Producer<Order> = Producer::new(queue.clone());
    let with_ids = orders.iter().map(|o| {
        let options = SendOptions::default()
            .with_group_id(&o.customer)
            .with_dedup_id(format!("{}-{}", o.customer, o.seq));
        (o, options)
    });
    let mut sent = 0;
    for r in producer.send_batch_with(with_ids).await {
        r?;
        sent += 1;
    }
    println!(
        "sent {sent} orders from {} customers to {}",
        options.customers,
        queue.name()
    );

    let started = Instant::now();
    let observed = Arc::new(Mutex::new(Observed::default()));
    let running = Arc::new(Mutex::new(HashSet::<String>::new()));
    let (now, max_parallel) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let handler = handler_fn({
        let (observed, max_parallel) = (observed.clone(), max_parallel.clone());
        move |msg: Message<Order>| {
            let (observed, running) = (observed.clone(), running.clone());
            let (now, max_parallel) = (now.clone(), max_parallel.clone());
            async move {
                let order = msg
                    .body()
                    .map_err(|e| HandlerError::reject(e.to_string()))?
                    .clone();
                if let Ok(mut r) = running.lock()
                    && !r.insert(order.customer.clone())
                    && let Ok(mut o) = observed.lock()
                {
                    o.overlaps.push(order.customer.clone());
                }
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                max_parallel.fetch_max(n, Ordering::SeqCst);

                // The work, and every 4th order fails the first time.
                tokio::time::sleep(Duration::from_millis(5)).await;
                let fail = order.seq % 4 == 1
                    && observed.lock().is_ok_and(|mut o| {
                        o.failed_once.insert((order.customer.clone(), order.seq))
                    });

                now.fetch_sub(1, Ordering::SeqCst);
                if let Ok(mut r) = running.lock() {
                    r.remove(&order.customer);
                }
                if fail {
                    return Err(HandlerError::retry("warehouse busy"));
                }
                if let Ok(mut o) = observed.lock() {
                    o.completed
                        .entry(order.customer)
                        .or_default()
                        .push(order.seq);
                }
                Ok(())
            }
        }
    });
    let worker = Worker::builder(queue.clone())
        .handler(handler)
        .concurrency(20)
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(1)))
        .dead_letter(&dlq)
        .wait_time(Duration::from_secs(1))
        .build()?;
    let report = worker
        .run_until(async {
            if let Either::First(()) =
                either(ctrl_c(), drained(&queue, Duration::from_millis(100))).await
            {
                println!("Ctrl-C: stopping");
            }
        })
        .await;
    let elapsed = started.elapsed();
    let left = weir_examples::count(&queue).await?;
    delete_queues(&[&queue, &dlq]).await;

    let observed = std::mem::take(&mut *observed.lock().map_err(|_| "poisoned")?);
    let expected: Vec<u32> = (0..options.orders).collect();
    let out_of_order = observed
        .completed
        .iter()
        .filter(|(_, seqs)| **seqs != expected)
        .map(|(c, _)| c.clone())
        .collect();
    Ok(Summary {
        sent,
        completed: observed.completed,
        out_of_order,
        overlaps: observed.overlaps,
        max_parallel: max_parallel.load(Ordering::SeqCst),
        left,
        elapsed,
        report,
    })
}

/// Options: each can also be set by its environment variable (`--help` lists them).
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
    let options = Options {
        customers: args.customers,
        orders: args.orders,
    };
    let client = weir_examples::client().await;
    let s = run(&client, &options).await?;
    println!();
    for (customer, seqs) in s.completed.iter().take(5) {
        let seqs: Vec<String> = seqs.iter().map(u32::to_string).collect();
        println!("  {customer}: {}", seqs.join(" "));
    }
    if s.completed.len() > 5 {
        println!("  … and {} more customers", s.completed.len() - 5);
    }
    println!(
        "\n{} orders in {}: {} retried after a failure, up to {} customers handled in parallel",
        s.sent,
        human(s.elapsed),
        s.report.retried,
        s.max_parallel
    );
    println!(
        "  released behind a failure: {}; two at once in one group: {}; left in queue: {}",
        s.report.released_on_failure,
        s.overlaps.len(),
        s.left
    );
    if s.out_of_order.is_empty() && s.overlaps.is_empty() {
        println!("  order kept for all {} customers", s.completed.len());
        Ok(())
    } else {
        Err(format!("out of order: {:?}", s.out_of_order).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn each_customer_in_order() {
        let client = weir::local::LocalSqs::new().client();
        let options = Options {
            customers: 6,
            orders: 9,
        };
        let s = weir_examples::within(Duration::from_secs(600), run(&client, &options))
            .await
            .unwrap();
        assert_eq!(s.sent, 54);
        assert_eq!(s.completed.len(), 6);
        assert!(s.out_of_order.is_empty(), "{:?}", s.completed);
        assert!(s.overlaps.is_empty());
        // Orders 1 and 5 of each customer failed once.
        assert_eq!(s.report.retried, 12);
        assert!(s.max_parallel > 1, "groups run in parallel");
        assert_eq!(s.left, 0);
    }
}
