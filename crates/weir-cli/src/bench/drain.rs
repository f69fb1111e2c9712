//! `weir bench --drain QUEUE`: the worker consumes a queue that already holds
//! messages (sent by anyone, in any format), until it is empty or --messages are
//! processed: what a backlog costs to work off with these settings.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::MessageSystemAttributeName as Sys;
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;
use weir::sqs::{Queue, RequestCounter};
use weir::worker::{HandlerError, Message, handler_fn};

use super::body::now_us;
use super::report::{Costs, Latency, print_latency, worker_summary};
use super::tracker::{histogram, latency, record};
use super::{consume, cpu};
use crate::BenchArgs;
use crate::error::{CliError, Result};
use crate::output::Out;

/// How long nothing may be processed before the queue's depth is asked.
const IDLE: Duration = Duration::from_secs(1);

/// What the drain measured.
#[derive(Debug, Serialize)]
struct DrainReport {
    endpoint: String,
    queue: String,
    concurrency: u32,
    pollers: Option<u32>,
    rate: Option<f64>,
    handler_ms: u64,
    processed: u64,
    /// Why it stopped: "empty", "limit", "stalled" or "interrupted".
    stopped: &'static str,
    /// From the start to the last message processed.
    elapsed_seconds: f64,
    throughput_msg_per_s: f64,
    /// From `SentTimestamp` to the handler (millisecond clock of SQS).
    queue_wait: Latency,
    #[serde(flatten)]
    costs: Costs,
    worker: std::collections::BTreeMap<&'static str, u64>,
}

/// What the handler records.
struct Progress {
    processed: AtomicU64,
    /// When the last message was processed, µs since the Unix epoch.
    last_us: AtomicU64,
    wait_us: Mutex<hdrhistogram::Histogram<u64>>,
}

pub(super) async fn run(
    client: &Client,
    counter: &RequestCounter,
    queue: &str,
    args: &BenchArgs,
    endpoint: &str,
    out: &Out,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    let queue = Queue::open(client, queue).await?;
    let progress = Arc::new(Progress {
        processed: AtomicU64::new(0),
        last_us: AtomicU64::new(0),
        wait_us: Mutex::new(histogram()?),
    });
    let p = progress.clone();
    let pause = Duration::from_millis(args.handler_ms);
    let worker = consume::builder(&queue, args)?
        .system_attributes([Sys::SentTimestamp])
        .handler(handler_fn(move |msg: Message<serde_json::Value>| {
            let p = p.clone();
            async move {
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
                let waited = msg
                    .sent_at()
                    .and_then(|t| SystemTime::now().duration_since(t).ok());
                record(
                    &p.wait_us,
                    waited.map_or(0, |w| u64::try_from(w.as_micros()).unwrap_or(u64::MAX)),
                );
                p.processed.fetch_add(1, Ordering::Relaxed);
                p.last_us.store(now_us(), Ordering::Relaxed);
                Ok::<_, HandlerError>(())
            }
        }))
        .build()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    counter.reset();
    let (start, start_us, cpu0) = (Instant::now(), now_us(), cpu::cpu_time());
    let (done_tx, mut done) = watch::channel(false);
    let task = tokio::spawn(worker.run_until(async move {
        let _ = done.wait_for(|d| *d).await;
    }));
    let stopped = watch(&queue, &progress, args, stop, out).await;
    let cpu = match (cpu0, cpu::cpu_time()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let _ = done_tx.send(true);
    let report = task.await.map_err(CliError::other)?;
    let processed = progress.processed.load(Ordering::Relaxed);
    let last = progress.last_us.load(Ordering::Relaxed);
    let elapsed = if processed == 0 {
        start.elapsed()
    } else {
        Duration::from_micros(last.saturating_sub(start_us))
    };
    let secs = elapsed.as_secs_f64();
    let report = DrainReport {
        endpoint: endpoint.to_owned(),
        queue: queue.name().to_owned(),
        concurrency: args.concurrency,
        pollers: args.pollers,
        rate: args.rate,
        handler_ms: args.handler_ms,
        processed,
        stopped,
        elapsed_seconds: secs,
        throughput_msg_per_s: if secs > 0.0 {
            processed as f64 / secs
        } else {
            0.0
        },
        queue_wait: latency(&progress.wait_us)?,
        costs: Costs::measure(counter, processed, cpu),
        worker: worker_summary(&report),
    };
    print(out, &report)?;
    if stopped == "interrupted" {
        return Err(CliError::Interrupted);
    }
    Ok(())
}

/// Watches the drain until the queue is empty, --messages are processed, nothing
/// moves for --stall-secs, or Ctrl-C. Says which.
async fn watch(
    queue: &Queue,
    progress: &Progress,
    args: &BenchArgs,
    mut stop: watch::Receiver<bool>,
    out: &Out,
) -> &'static str {
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let mut last = (0u64, Instant::now());
    loop {
        tokio::select! {
            _ = stop.changed() => return "interrupted",
            _ = tick.tick() => {}
        }
        let processed = progress.processed.load(Ordering::Relaxed);
        if args.messages.is_some_and(|n| processed >= n) {
            return "limit";
        }
        if processed != last.0 {
            last = (processed, Instant::now());
            continue;
        }
        let idle = last.1.elapsed();
        if idle < IDLE {
            continue;
        }
        // Nothing processed for a second: an empty queue ends the drain. The counts are
        // approximate on SQS (they can lag by a minute), so an empty reading is only
        // taken after the worker has gone quiet too.
        if let Ok(depth) = queue.depth().await
            && depth.visible == 0
            && depth.delayed == 0
        {
            return "empty";
        }
        if idle > Duration::from_secs(args.stall_secs) {
            out.warn(format!(
                "drain: nothing processed for {} s and the queue is not empty; giving up",
                args.stall_secs
            ));
            return "stalled";
        }
        tokio::time::sleep(IDLE).await;
    }
}

fn print(out: &Out, r: &DrainReport) -> Result<()> {
    if out.json() {
        out.value(&serde_json::to_value(r).map_err(CliError::other)?);
        return Ok(());
    }
    out.line(format!(
        "weir bench --drain {}: concurrency {}, endpoint {}",
        r.queue, r.concurrency, r.endpoint
    ));
    out.line(format!(
        "  throughput    {:.0} msg/s ({} processed in {:.2} s; stopped: {})",
        r.throughput_msg_per_s, r.processed, r.elapsed_seconds, r.stopped
    ));
    print_latency(out, "queue wait", &r.queue_wait);
    r.costs.print(out);
    out.line("note: requests include the GetQueueAttributes calls that check for an empty queue");
    Ok(())
}
