//! Ack batching: deletes go out as `DeleteMessageBatch` of at most `max` entries, at
//! most `interval` after the first entry of a batch arrived (FIFO: at once).
//!
//! A message keeps its lease until its delete completes, so failed deletes are retried
//! with capped exponential backoff for as long as the lease holds (bounded by its
//! maximum length); once shutdown begins, a batch gets at most [`ATTEMPTS`] more tries.
//! `ReceiptHandleIsInvalid`, and a delete that completes after the message's visibility
//! deadline (SQS answers a stale receipt handle with success without deleting), count
//! as possible duplicates. Failing deletes clear the worker's readiness until one
//! succeeds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Slot;
use super::lease::Leases;
use super::ops::{EntryResult, Sqs, is_receipt_invalid};
use crate::health::HealthState;

/// Attempts per batch (the first one included) once shutdown began.
const ATTEMPTS: u32 = 4;
/// Concurrent `DeleteMessageBatch` calls.
const FLUSHES_IN_FLIGHT: usize = 64;
/// Retry backoff: from this, doubling...
const RETRY_MIN: Duration = Duration::from_millis(100);
/// ...up to this.
const RETRY_MAX: Duration = Duration::from_secs(5);
/// A retry is sent only while the message stays invisible this much longer.
const RETRY_MARGIN: Duration = Duration::from_secs(1);

pub(crate) struct AckItem {
    pub(crate) receipt: super::Receipt,
    pub(crate) received_at: Instant,
    /// Its key in the lease table, when the lease task keeps it invisible.
    pub(crate) lease: Option<u64>,
    /// Its handler finished before it needed a lease: the flush registers it (with
    /// the rest of its batch, under one lock) before the delete is sent.
    pub(crate) unleased: bool,
    /// Its visibility deadline without extensions, counted from when the receive
    /// returned it.
    pub(crate) deadline: Instant,
    /// The message's slot: freed once the delete is done, so messages waiting for their
    /// ack still count against the concurrency.
    pub(crate) _permit: Option<Slot>,
}

/// What a flush needs: the queue, the leases, the health to report to, and whether
/// shutdown began.
#[derive(Clone)]
pub(crate) struct Deleter {
    pub(crate) sqs: Arc<Sqs>,
    pub(crate) leases: Arc<Leases>,
    pub(crate) health: Arc<HealthState>,
    /// Set when shutdown begins: deletes from then on are counted as flushed in shutdown.
    pub(crate) shutting_down: Arc<AtomicBool>,
    /// Cancelled when shutdown begins, to cut a retry's backoff short.
    pub(crate) stopping: CancellationToken,
    /// The visibility timeout messages are received with.
    pub(crate) visibility: Duration,
}

pub(crate) enum AckMsg {
    Ack(AckItem),
    /// Shutdown began: flush what is buffered now, and stop waiting for the interval.
    Flush,
    /// Flush everything, wait for the deletes, then answer.
    Close(oneshot::Sender<()>),
}

/// Runs flushes as tasks of their own, at most [`FLUSHES_IN_FLIGHT`] at once, for the
/// acker and for pollers that ack full batches themselves.
pub(crate) struct Flusher {
    pub(crate) deleter: Arc<Deleter>,
    limit: Arc<Semaphore>,
    flushes: TaskTracker,
}

impl Flusher {
    pub(crate) fn new(deleter: Deleter) -> Self {
        Self {
            deleter: Arc::new(deleter),
            limit: Arc::new(Semaphore::new(FLUSHES_IN_FLIGHT)),
            flushes: TaskTracker::new(),
        }
    }

    /// Spawns a flush of `batch`, waiting for room.
    async fn spawn(&self, batch: Vec<AckItem>) {
        let Ok(permit) = self.limit.clone().acquire_owned().await else {
            return;
        };
        let deleter = self.deleter.clone();
        self.flushes.spawn(async move {
            deleter.flush(batch).await;
            drop(permit);
        });
    }

    /// Flushes `batch` if there is room now: in the calling task when the delete
    /// completes at once (an in-process SQS answers without waiting, so no task, no
    /// wake-up, no other thread is involved), in a task of its own otherwise. Gives the
    /// batch back when there is no room.
    ///
    /// `deleter` is the caller's own handle on the [`Deleter`] (see `Ctx::own`): the
    /// flush holds it, and a handle shared by every thread would have its count
    /// written by each batch.
    pub(crate) fn try_run(
        &self,
        deleter: &Arc<Deleter>,
        batch: Vec<AckItem>,
    ) -> Result<(), Vec<AckItem>> {
        let Ok(permit) = self.limit.try_acquire() else {
            return Err(batch);
        };
        let deleter = deleter.clone();
        let mut flush = Box::pin(async move { deleter.flush(batch).await });
        // Polled with a no-op waker: if it must wait, the spawned task polls it again
        // at once, registering the real waker.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if flush.as_mut().poll(&mut cx).is_pending() {
            // The spawned flush gives the room back when it ends.
            permit.forget();
            let limit = self.limit.clone();
            self.flushes.spawn(async move {
                flush.await;
                limit.add_permits(1);
            });
        }
        Ok(())
    }

    /// Waits for every flush spawned so far.
    async fn wait(&self) {
        self.flushes.close();
        self.flushes.wait().await;
    }
}

pub(crate) struct Acker {
    pub(crate) flusher: Arc<Flusher>,
    pub(crate) max: usize,
    pub(crate) interval: Duration,
    pub(crate) immediate: bool,
}

impl Acker {
    pub(crate) async fn run(self, mut rx: mpsc::UnboundedReceiver<AckMsg>) {
        let mut buf: Vec<AckItem> = Vec::with_capacity(self.max);
        let mut deadline = Instant::now();
        let mut immediate = self.immediate || self.interval.is_zero();
        let mut close: Option<oneshot::Sender<()>> = None;
        let mut disconnected = false;
        loop {
            // `None` means: flush what is buffered now.
            let msg = if buf.is_empty() {
                if close.is_some() {
                    match rx.try_recv() {
                        Ok(m) => Some(m),
                        Err(_) => break,
                    }
                } else {
                    match rx.recv().await {
                        Some(m) => Some(m),
                        None => break,
                    }
                }
            } else if immediate {
                match rx.try_recv() {
                    Ok(m) => Some(m),
                    Err(mpsc::error::TryRecvError::Empty) => None,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        disconnected = true;
                        None
                    }
                }
            } else {
                tokio::select! {
                    m = rx.recv() => {
                        disconnected = m.is_none();
                        m
                    }
                    () = sleep_until(deadline) => None,
                }
            };
            let flush_now = match msg {
                Some(AckMsg::Ack(item)) => {
                    if buf.is_empty() {
                        deadline = Instant::now() + self.interval;
                    }
                    buf.push(item);
                    buf.len() >= self.max
                }
                Some(AckMsg::Flush) => {
                    immediate = true;
                    true
                }
                Some(AckMsg::Close(tx)) => {
                    close = Some(tx);
                    immediate = true;
                    true
                }
                None => true,
            };
            if flush_now && !buf.is_empty() {
                let batch = std::mem::replace(&mut buf, Vec::with_capacity(self.max));
                self.flusher.spawn(batch).await;
            }
            if disconnected && buf.is_empty() {
                break;
            }
        }
        if !buf.is_empty() {
            self.flusher.deleter.flush(std::mem::take(&mut buf)).await;
        }
        self.flusher.wait().await;
        if let Some(tx) = close {
            let _ = tx.send(());
        }
    }
}

/// `item`'s key in the lease table, if the table holds it (`leased`: its batch's
/// unleased messages were registered).
fn key(item: &AckItem, leased: bool) -> Option<u64> {
    if item.unleased && !leased {
        None
    } else {
        item.lease
    }
}

impl Deleter {
    /// Deletes `batch` (at most 10 entries), retrying failed entries while their
    /// leases hold.
    pub(crate) async fn flush(&self, mut batch: Vec<AckItem>) {
        let stats = &self.sqs.stats;
        let mut backoff = ExponentialBuilder::new()
            .with_min_delay(RETRY_MIN)
            .with_max_delay(RETRY_MAX)
            .with_jitter()
            .with_jitter_seed(fastrand::u64(..))
            .without_max_times()
            .build();
        // Messages whose handler finished at once are not in the lease table yet. A
        // delete that completes without waiting (an in-process SQS) needs no lease, so
        // they are registered (in one go) only once the delete has to wait, or before
        // a retry's backoff.
        let mut leased = !batch.iter().any(|i| i.unleased);
        // Attempts made since shutdown began.
        let mut in_shutdown = 0;
        while !batch.is_empty() {
            if self.shutting_down.load(Ordering::Relaxed) {
                in_shutdown += 1;
            }
            let last = in_shutdown >= ATTEMPTS;
            let mut retry = Vec::new();
            let answer = {
                let receipts: Vec<&str> = batch.iter().map(|i| &*i.receipt).collect();
                let mut delete = std::pin::pin!(self.sqs.delete_batch(&receipts));
                std::future::poll_fn(|cx| {
                    let poll = delete.as_mut().poll(cx);
                    if poll.is_pending() && !leased {
                        self.register(&batch);
                        leased = true;
                    }
                    poll
                })
                .await
            };
            match answer {
                Ok(results) => {
                    // One clock read, one health update, one counter update and one
                    // release of slots for the batch: these are shared by every
                    // thread, so per-message updates would contend.
                    let now = Instant::now();
                    let (mut acked, mut answered) = (0, false);
                    let mut freed: Option<Slot> = None;
                    let mut free = |item: &mut AckItem| {
                        if let Some(slot) = item._permit.take() {
                            match &mut freed {
                                Some(f) => f.merge(slot),
                                None => freed = Some(slot),
                            }
                        }
                    };
                    for (mut item, result) in batch.into_iter().zip(results) {
                        match result {
                            EntryResult::Ok => {
                                answered = true;
                                acked += u64::from(self.deleted(&item, now, leased));
                                free(&mut item);
                            }
                            EntryResult::Failed { code, .. } if is_receipt_invalid(&code) => {
                                answered = true;
                                self.leases.finish(key(&item, leased), item.deadline);
                                free(&mut item);
                                stats.possible_duplicates.add(1);
                                tracing::warn!(
                                    code,
                                    "delete refused: the receipt handle expired, so this message may be delivered again (possible duplicate)"
                                );
                            }
                            EntryResult::Failed { code, sender_fault } => {
                                self.health.ack_failed(&code);
                                if !last && !sender_fault && self.may_retry(&item, leased) {
                                    retry.push(item);
                                } else {
                                    self.give_up(&item, leased);
                                    free(&mut item);
                                    tracing::warn!(
                                        code,
                                        sender_fault,
                                        "delete failed; the message will be delivered again"
                                    );
                                }
                            }
                        }
                    }
                    if answered {
                        self.health.ack_ok();
                    }
                    stats.acked.add(acked);
                    drop(freed);
                }
                Err(e) => {
                    self.health.ack_failed(&e);
                    let mut given_up = 0;
                    for item in batch {
                        if !last && self.may_retry(&item, leased) {
                            retry.push(item);
                        } else {
                            self.give_up(&item, leased);
                            given_up += 1;
                        }
                    }
                    if given_up > 0 {
                        tracing::warn!(error = %e, count = given_up, "delete batch failed; the messages will be delivered again");
                    }
                    if !retry.is_empty() {
                        tracing::debug!(error = %e, count = retry.len(), "delete batch failed; retrying");
                    }
                }
            }
            batch = retry;
            if batch.is_empty() {
                break;
            }
            // Waiting for a retry: the lease task keeps them invisible meanwhile.
            if !leased {
                self.register(&batch);
                leased = true;
            }
            let delay = backoff.next().unwrap_or(RETRY_MAX);
            if self.shutting_down.load(Ordering::Relaxed) {
                sleep(delay.min(RETRY_MIN * 2u32.pow(in_shutdown.min(3)))).await;
            } else {
                tokio::select! {
                    () = sleep(delay) => {}
                    () = self.stopping.cancelled() => {}
                }
            }
        }
    }

    /// Puts the batch's messages that are not in the lease table yet into it.
    fn register(&self, batch: &[AckItem]) {
        self.leases.register_acking(
            batch
                .iter()
                .filter(|i| i.unleased)
                .filter_map(|i| i.lease.map(|key| (key, &i.receipt, i.received_at))),
            self.visibility,
        );
    }

    /// Whether the message stays invisible long enough for another try.
    fn may_retry(&self, item: &AckItem, leased: bool) -> bool {
        self.leases
            .holds(key(item, leased), item.deadline, RETRY_MARGIN)
    }

    /// The delete succeeded; it deleted only if it landed before the visibility ran out.
    /// Returns whether it counts as acked (the caller counts the batch at once).
    fn deleted(&self, item: &AckItem, now: Instant, leased: bool) -> bool {
        let stats = &self.sqs.stats;
        // The lease counts from when the receive was sent (to extend in time), which a
        // long poll puts well before the message was handed out.
        let deadline = self
            .leases
            .finish(key(item, leased), item.deadline)
            .max(item.deadline);
        if now >= deadline {
            stats.possible_duplicates.add(1);
            tracing::warn!(
                "delete completed after the message's visibility timeout: it may have been delivered again (possible duplicate)"
            );
            return false;
        }
        if self.shutting_down.load(Ordering::Relaxed) {
            stats.acks_flushed_in_shutdown.add(1);
        }
        stats.receive_to_ack.record(
            now.saturating_duration_since(item.received_at)
                .as_secs_f64(),
        );
        true
    }

    fn give_up(&self, item: &AckItem, leased: bool) {
        self.leases.finish(key(item, leased), item.deadline);
        self.sqs.stats.ack_failures.add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Stats;

    #[tokio::test(start_paused = true)]
    async fn invalid_receipts_count_as_possible_duplicates() {
        let local = weir_local::LocalSqs::new();
        let client = local.client();
        let url = client
            .create_queue()
            .queue_name("acker")
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        client
            .send_message()
            .queue_url(&url)
            .message_body("x")
            .send()
            .await
            .unwrap();
        let got = client
            .receive_message()
            .queue_url(&url)
            .send()
            .await
            .unwrap();
        let receipt = got.messages.unwrap()[0].receipt_handle.clone().unwrap();
        let sqs = Sqs {
            client,
            url,
            stats: Arc::new(Stats::new("acker")),
        };
        let item = |r: &str| AckItem {
            receipt: super::super::Receipt::from(r),
            received_at: Instant::now(),
            lease: None,
            unleased: false,
            deadline: Instant::now() + Duration::from_secs(30),
            _permit: None,
        };
        let sqs = Arc::new(sqs);
        let deleter = Deleter {
            sqs: sqs.clone(),
            leases: Arc::new(Leases::new(true)),
            health: Arc::new(HealthState::new()),
            shutting_down: Arc::new(AtomicBool::new(false)),
            stopping: CancellationToken::new(),
            visibility: Duration::from_secs(30),
        };
        deleter
            .flush(vec![item(&receipt), item("not-a-receipt-handle")])
            .await;
        assert_eq!(sqs.stats.acked.get(), 1);
        assert_eq!(sqs.stats.possible_duplicates.get(), 1);
        assert_eq!(sqs.stats.ack_failures.get(), 0);
    }
}
