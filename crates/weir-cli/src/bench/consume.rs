//! The consumers of a phase: a `weir_worker::Worker`, or the raw loop of 8 tasks of
//! `ReceiveMessage(10)` then `DeleteMessageBatch`.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use weir::sqs::Queue;
use weir::worker::handler_fn;
use weir::worker::{HandlerError, Message, RateLimiter, Worker, WorkerBuilder, WorkerReport};

use super::body::BenchMsg;
use super::tracker::Tracker;
use crate::BenchArgs;
use crate::error::{CliError, Result};

/// What the raw loop's consumer is, in the report.
pub(super) const RAW: &str = "raw aws-sdk-sqs: 8 tasks, ReceiveMessage(10) then DeleteMessageBatch";
/// What weir's consumer is, in the report.
pub(super) const WEIR: &str = "weir_worker::Worker (handler_fn, batched acks)";

/// A worker builder for `queue` with the bench's settings: concurrency, pollers, rate.
pub(super) fn builder<T: Send + Sync + 'static>(
    queue: &Queue,
    args: &BenchArgs,
) -> Result<WorkerBuilder<T>> {
    let mut builder = Worker::<T>::builder(queue.clone())
        .concurrency(usize::try_from(args.concurrency).unwrap_or(64))
        // Each phase has a queue of its own, so a long poll left open at shutdown takes
        // nothing another phase needs: no reason to wait for it.
        .poll_grace(Duration::from_millis(100));
    if let Some(p) = args.pollers {
        builder = builder.pollers(usize::try_from(p).unwrap_or(8));
    }
    if let Some(r) = args.rate {
        let limiter =
            RateLimiter::new(r, 10).map_err(|e| CliError::Usage(format!("--rate {r}: {e}")))?;
        builder = builder.rate_limit(limiter);
    }
    Ok(builder)
}

/// Runs weir's worker on `queue` until `done` turns true; it then flushes its acks,
/// releases what it holds and returns its report.
pub(super) fn spawn_worker(
    queue: &Queue,
    args: &BenchArgs,
    tracker: &Arc<Tracker>,
    mut done: watch::Receiver<bool>,
) -> Result<JoinHandle<WorkerReport>> {
    let t = tracker.clone();
    let pause = Duration::from_millis(args.handler_ms);
    let worker = builder(queue, args)?
        .handler(handler_fn(move |msg: Message<BenchMsg>| {
            let t = t.clone();
            async move {
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
                match msg.body() {
                    Ok(b) => t.processed(b.id, b.t),
                    Err(_) => t.foreign(),
                }
                Ok::<_, HandlerError>(())
            }
        }))
        .build()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(tokio::spawn(worker.run_until(async move {
        let _ = done.wait_for(|d| *d).await;
    })))
}

/// Starts the raw loop's 8 consumer tasks on `queue`.
pub(super) fn spawn_raw(
    queue: &Queue,
    handler: Duration,
    tracker: &Arc<Tracker>,
    done: &watch::Receiver<bool>,
) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for _ in 0..8 {
        let (queue, t, done) = (queue.clone(), tracker.clone(), done.clone());
        set.spawn(async move { consume_raw(&queue, handler, &t, done).await });
    }
    set
}

async fn consume_raw(
    queue: &Queue,
    handler: Duration,
    t: &Tracker,
    mut done: watch::Receiver<bool>,
) {
    let client = queue.client();
    while !*done.borrow() {
        let receive = client
            .receive_message()
            .queue_url(queue.url())
            .max_number_of_messages(10)
            .wait_time_seconds(20)
            .send();
        let received = tokio::select! {
            _ = done.changed() => return,
            r = receive => r,
        };
        let Ok(out) = received else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            continue;
        }
        if !handler.is_zero() {
            tokio::time::sleep(handler).await;
        }
        let mut entries = Vec::with_capacity(messages.len());
        for (i, m) in messages.iter().enumerate() {
            t.processed_raw(m.body().unwrap_or_default());
            if let Ok(e) = DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .build()
            {
                entries.push(e);
            }
        }
        let _ = client
            .delete_message_batch()
            .queue_url(queue.url())
            .set_entries(Some(entries))
            .send()
            .await;
    }
}
