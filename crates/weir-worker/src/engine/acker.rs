//! Ack batching: deletes go out as `DeleteMessageBatch` of at most `max` entries, at
//! most `interval` after the first entry of a batch arrived (FIFO: at once). Failed
//! entries are retried; `ReceiptHandleIsInvalid` is counted as a possible duplicate.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::task::TaskTracker;

use super::Slot;
use super::ops::{EntryResult, Sqs, is_receipt_invalid};

/// Attempts per entry (the first one included) before a delete is given up.
const ATTEMPTS: u32 = 4;
/// Concurrent `DeleteMessageBatch` calls.
const FLUSHES_IN_FLIGHT: usize = 64;

pub(crate) struct AckItem {
    pub(crate) receipt: String,
    pub(crate) received_at: Instant,
    /// The message's slot: freed once the delete is done, so messages waiting for their
    /// ack still count against the concurrency.
    pub(crate) _permit: Option<Slot>,
}

pub(crate) enum AckMsg {
    Ack(AckItem),
    /// Shutdown began: flush what is buffered now, and stop waiting for the interval.
    Flush,
    /// Flush everything, wait for the deletes, then answer.
    Close(oneshot::Sender<()>),
}

pub(crate) struct Acker {
    pub(crate) sqs: Arc<Sqs>,
    pub(crate) max: usize,
    pub(crate) interval: Duration,
    pub(crate) immediate: bool,
    /// Set when shutdown begins: deletes from then on are counted as flushed in shutdown.
    pub(crate) shutting_down: Arc<AtomicBool>,
}

impl Acker {
    pub(crate) async fn run(self, mut rx: mpsc::UnboundedReceiver<AckMsg>) {
        let flushes = TaskTracker::new();
        let limit = Arc::new(Semaphore::new(FLUSHES_IN_FLIGHT));
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
                let Ok(permit) = limit.clone().acquire_owned().await else {
                    break;
                };
                let sqs = self.sqs.clone();
                let shutting_down = self.shutting_down.clone();
                flushes.spawn(async move {
                    flush(&sqs, batch, &shutting_down).await;
                    drop(permit);
                });
            }
            if disconnected && buf.is_empty() {
                break;
            }
        }
        if !buf.is_empty() {
            flush(&self.sqs, std::mem::take(&mut buf), &self.shutting_down).await;
        }
        flushes.close();
        flushes.wait().await;
        if let Some(tx) = close {
            let _ = tx.send(());
        }
    }
}

/// Deletes `batch` (at most 10), retrying failed entries with a short backoff.
pub(crate) async fn flush(sqs: &Sqs, mut batch: Vec<AckItem>, shutting_down: &AtomicBool) {
    let stats = &sqs.stats;
    let mut attempt = 0;
    while !batch.is_empty() {
        attempt += 1;
        let receipts: Vec<&str> = batch.iter().map(|i| i.receipt.as_str()).collect();
        match sqs.delete_batch(&receipts).await {
            Ok(results) => {
                let mut retry = Vec::new();
                for (item, result) in batch.into_iter().zip(results) {
                    match result {
                        EntryResult::Ok => {
                            stats.acked.add(1);
                            if shutting_down.load(Ordering::Relaxed) {
                                stats.acks_flushed_in_shutdown.add(1);
                            }
                            stats
                                .receive_to_ack
                                .record(item.received_at.elapsed().as_secs_f64());
                        }
                        EntryResult::Failed { code, .. } if is_receipt_invalid(&code) => {
                            stats.possible_duplicates.add(1);
                            tracing::warn!(
                                code,
                                "delete refused: the receipt handle expired, so this message may be delivered again (possible duplicate)"
                            );
                        }
                        EntryResult::Failed { code, sender_fault } => {
                            if attempt < ATTEMPTS && !sender_fault {
                                retry.push(item);
                            } else {
                                stats.ack_failures.add(1);
                                tracing::warn!(
                                    code,
                                    sender_fault,
                                    "delete failed; the message will be delivered again"
                                );
                            }
                        }
                    }
                }
                batch = retry;
            }
            Err(e) => {
                if attempt >= ATTEMPTS {
                    stats.ack_failures.add(batch.len() as u64);
                    tracing::warn!(error = %e, count = batch.len(), "delete batch failed; the messages will be delivered again");
                    return;
                }
                tracing::debug!(error = %e, attempt, "delete batch failed; retrying");
            }
        }
        if !batch.is_empty() {
            sleep(Duration::from_millis(50) * 2u32.pow(attempt.min(6))).await;
        }
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
            receipt: r.to_owned(),
            received_at: Instant::now(),
            _permit: None,
        };
        flush(
            &sqs,
            vec![item(&receipt), item("not-a-receipt-handle")],
            &AtomicBool::new(false),
        )
        .await;
        assert_eq!(sqs.stats.acked.get(), 1);
        assert_eq!(sqs.stats.possible_duplicates.get(), 1);
        assert_eq!(sqs.stats.ack_failures.get(), 0);
    }
}
