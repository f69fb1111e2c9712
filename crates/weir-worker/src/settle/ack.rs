//! Acks: deletes go out as `DeleteMessageBatch` of at most `max` entries, at most
//! `interval` after the first entry of a batch arrived (at once during shutdown), on
//! standard and FIFO queues alike.
//!
//! A message keeps its lease until its delete completes, so a failed entry (or call) is
//! retried with capped exponential backoff for as long as the lease holds; once shutdown
//! begins, an entry gets at most [`SHUTDOWN_ATTEMPTS`] tries. `ReceiptHandleIsInvalid`,
//! and a delete that completes after the message's visibility deadline (SQS answers a
//! stale receipt handle with success without deleting), count as possible duplicates.
//! Failing deletes clear the worker's readiness until one succeeds.
//!
//! A handled message whose delete succeeded (not a possible duplicate) has its payload
//! object deleted next, by [`objects`](super::objects), which runs beside the acker and
//! ends after it; a dead-lettered message's object stays.

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::objects::{self, Objects};
use crate::context::{Ctx, Ticket};

/// Tries per entry (the first included) once shutdown began.
const SHUTDOWN_ATTEMPTS: u32 = 4;
/// Concurrent `DeleteMessageBatch` calls.
const FLUSHES_IN_FLIGHT: usize = 64;
/// A retry is sent only while the lease holds and the message stays invisible this
/// much longer (the lease keeps extending it meanwhile).
const RETRY_MARGIN: Duration = Duration::from_secs(1);

/// What a delete follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// A handler success: the payload object (if any) goes once SQS deleted the message.
    Handled,
    /// A dead-letter send: the copy points at the payload object, which stays.
    DeadLettered,
}

/// A message to delete.
pub(crate) struct AckItem {
    ticket: Ticket,
    tries: u32,
    after: After,
}

/// How one entry's delete ended.
enum Done {
    Deleted,
    /// SQS refused the receipt handle, or the delete came after the deadline.
    PossibleDuplicate,
    /// Given up: the message will be delivered again.
    Failed,
}

/// Queues `ticket`'s delete; the message stays leased until it completes.
pub(crate) fn enqueue(ctx: &Ctx, ticket: Ticket, after: After) {
    ctx.leases.mark_acking(ticket.key);
    let item = AckItem {
        ticket,
        tries: 0,
        after,
    };
    if let Err(mpsc::error::SendError(item)) = ctx.acks.send(item) {
        ctx.leases.finish(item.ticket.key);
        ctx.stats.ack_failures.add(1);
        tracing::error!("the acker stopped before an ack; the message will be delivered again");
    }
}

/// The acker: batches what [`enqueue`] sends and flushes each batch in a task of its
/// own, until `done` fires and nothing is left; beside it, the payload objects'
/// deleter, which ends after the last flush.
pub(crate) async fn run(
    ctx: Arc<Ctx>,
    rx: mpsc::UnboundedReceiver<AckItem>,
    done: CancellationToken,
) {
    let (objects, deleter) = objects::start(&ctx);
    tokio::join!(acker(ctx, rx, done, objects), deleter);
}

async fn acker(
    ctx: Arc<Ctx>,
    mut rx: mpsc::UnboundedReceiver<AckItem>,
    done: CancellationToken,
    objects: Objects,
) {
    let room = Arc::new(Semaphore::new(FLUSHES_IN_FLIGHT));
    let flushes = TaskTracker::new();
    let s = &ctx.settings;
    loop {
        let first = tokio::select! {
            biased;
            item = rx.recv() => item,
            () = done.cancelled() => rx.try_recv().ok(),
        };
        let Some(first) = first else { break };
        let mut batch = vec![first];
        let deadline = Instant::now() + s.ack_interval;
        while batch.len() < s.ack_max {
            if let Ok(item) = rx.try_recv() {
                batch.push(item);
                continue;
            }
            if ctx.is_shutting_down() {
                break;
            }
            tokio::select! {
                item = rx.recv() => match item {
                    Some(item) => batch.push(item),
                    None => break,
                },
                () = sleep_until(deadline) => break,
                () = ctx.tokens.polling.cancelled() => {}
            }
        }
        let Ok(permit) = room.clone().acquire_owned().await else {
            break;
        };
        let c = ctx.clone();
        let o = objects.clone();
        flushes.spawn(ctx.guarded("ack flush", async move {
            flush(&c, &o, batch).await;
            drop(permit);
        }));
    }
    flushes.close();
    flushes.wait().await;
}

/// Deletes one batch, retrying failed entries while their leases hold.
async fn flush(ctx: &Ctx, objects: &Objects, mut batch: Vec<AckItem>) {
    let mut backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(5))
        .with_jitter()
        .without_max_times()
        .build();
    loop {
        let again = delete(ctx, objects, batch).await;
        if again.is_empty() {
            return;
        }
        let delay = backoff.next().unwrap_or(Duration::from_secs(5));
        let (keep, give_up): (Vec<AckItem>, Vec<AckItem>) = again.into_iter().partition(|i| {
            ctx.leases.holds(i.ticket.key, RETRY_MARGIN)
                && !(ctx.is_shutting_down() && i.tries >= SHUTDOWN_ATTEMPTS)
        });
        for item in give_up {
            finish(ctx, item, Done::Failed);
        }
        if keep.is_empty() {
            return;
        }
        if !ctx.is_shutting_down() {
            sleep(delay).await;
        }
        batch = keep;
    }
}

/// One `DeleteMessageBatch`; returns the entries to try again.
async fn delete(ctx: &Ctx, objects: &Objects, mut batch: Vec<AckItem>) -> Vec<AckItem> {
    for item in &mut batch {
        item.tries += 1;
    }
    let receipts: Vec<&str> = batch
        .iter()
        .map(|i| i.ticket.msg.receipt_handle())
        .collect();
    let results = ctx.calls.delete_batch(&receipts).await;
    let mut again = Vec::new();
    let mut failing = None;
    let per_entry: Vec<weir_sqs::Result<()>> = match results {
        Ok(per_entry) => per_entry,
        Err(e) => batch.iter().map(|_| Err(e.clone())).collect(),
    };
    for (item, result) in batch.into_iter().zip(per_entry) {
        match result {
            Ok(()) => {
                let msg = item.ticket.msg.clone();
                let handled = item.after == After::Handled;
                // A delete after the deadline may not have deleted anything: the
                // message (and its object) may be delivered again.
                if finish(ctx, item, Done::Deleted) && handled {
                    objects.deleted(&msg);
                }
            }
            Err(e) if e.is_receipt_handle_invalid() => {
                finish(ctx, item, Done::PossibleDuplicate);
            }
            Err(e) if e.is_retryable() => {
                failing = Some(e);
                again.push(item);
            }
            Err(e) => {
                tracing::warn!(error = %e, "delete refused; the message will be delivered again");
                failing = Some(e);
                finish(ctx, item, Done::Failed);
            }
        }
    }
    match failing {
        Some(e) => ctx.health.ack_failed(&e),
        None => ctx.health.ack_ok(),
    }
    again
}

/// Ends an entry: its lease, its slot, its count. True when the message was deleted
/// within its visibility deadline.
fn finish(ctx: &Ctx, item: AckItem, done: Done) -> bool {
    let stats = &ctx.stats;
    let msg = &item.ticket.msg;
    let deadline = ctx.leases.finish(item.ticket.key);
    let done = match done {
        Done::Deleted if deadline.is_some_and(|d| Instant::now() >= d) => Done::PossibleDuplicate,
        other => other,
    };
    let deleted = matches!(done, Done::Deleted);
    match done {
        Done::Deleted => {
            stats.acked.add(1);
            if ctx.is_shutting_down() {
                stats.acks_flushed_in_shutdown.add(1);
            }
            stats
                .receive_to_ack
                .record(msg.received_at().elapsed().as_secs_f64());
        }
        Done::PossibleDuplicate => {
            tracing::warn!(message_id = %msg.message_id(), "deleted after its visibility deadline, or its receipt handle was refused: it may be delivered again");
            stats.possible_duplicates.add(1);
        }
        Done::Failed => {
            tracing::warn!(message_id = %msg.message_id(), "delete given up; the message will be delivered again");
            stats.ack_failures.add(1);
        }
    }
    // The slot goes back with the ticket.
    drop(item);
    deleted
}
