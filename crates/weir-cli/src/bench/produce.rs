//! The producers of a phase: weir's `Producer::send_batch_with`, or raw
//! `SendMessageBatch` calls, P tasks taking chunks of 10 ids until N are taken.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use tokio::sync::watch;
use tokio::task::JoinSet;
use weir::sqs::{Producer, Queue, SendOptions};

use super::Kind;
use super::body::{BenchMsg, body_of};
use super::tracker::Tracker;

/// What every producer task of a phase shares.
#[derive(Clone)]
pub(super) struct Feed {
    pub(super) tracker: Arc<Tracker>,
    pub(super) next: Arc<AtomicU64>,
    pub(super) n: u64,
    pub(super) pad: String,
    /// FIFO: the number of message groups.
    pub(super) groups: Option<u64>,
    pub(super) stop: watch::Receiver<bool>,
}

impl Feed {
    /// Takes the next chunk of at most 10 ids, or `None` when all are taken or the
    /// run is interrupted.
    fn next_chunk(&self) -> Option<std::ops::Range<u64>> {
        if *self.stop.borrow() {
            return None;
        }
        next_chunk(&self.next, self.n)
    }
}

fn next_chunk(next: &AtomicU64, n: u64) -> Option<std::ops::Range<u64>> {
    let from = next.fetch_add(10, Ordering::Relaxed);
    (from < n).then(|| from..(from + 10).min(n))
}

/// Starts `tasks` producers of `kind` sending to `queue`.
pub(super) fn spawn(kind: Kind, queue: &Queue, feed: &Feed, tasks: u32) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for _ in 0..tasks {
        let feed = feed.clone();
        match kind {
            Kind::Weir => {
                let producer: Producer<BenchMsg> = Producer::new(queue.clone());
                set.spawn(async move { produce_weir(&producer, &feed).await });
            }
            Kind::Raw => {
                let queue = queue.clone();
                set.spawn(async move { produce_raw(&queue, &feed).await });
            }
        }
    }
    set
}

fn fifo_options(id: u64, groups: Option<u64>) -> SendOptions {
    match groups {
        Some(g) => SendOptions::default()
            .with_group_id(format!("g{}", id % g.max(1)))
            .with_dedup_id(format!("weir-{id}")),
        None => SendOptions::default(),
    }
}

async fn produce_weir(producer: &Producer<BenchMsg>, feed: &Feed) {
    while let Some(ids) = feed.next_chunk() {
        let bodies: Vec<BenchMsg> = ids.map(|id| body_of(id, &feed.pad)).collect();
        let results = producer
            .send_batch_with(bodies.iter().map(|b| (b, fifo_options(b.id, feed.groups))))
            .await;
        for (b, r) in bodies.iter().zip(&results) {
            if let Err(e) = r {
                tracing::warn!(id = b.id, error = %e, "bench: send failed");
            }
            feed.tracker.sent(b.id, r.is_ok());
        }
    }
}

fn raw_entry(id: u64, feed: &Feed) -> Option<SendMessageBatchRequestEntry> {
    let body = serde_json::to_string(&body_of(id, &feed.pad)).ok()?;
    let mut e = SendMessageBatchRequestEntry::builder()
        .id(id.to_string())
        .message_body(body);
    if let Some(g) = feed.groups {
        e = e
            .message_group_id(format!("g{}", id % g.max(1)))
            .message_deduplication_id(format!("raw-{id}"));
    }
    e.build().ok()
}

async fn produce_raw(queue: &Queue, feed: &Feed) {
    let t = &feed.tracker;
    while let Some(ids) = feed.next_chunk() {
        let entries: Vec<_> = ids.clone().filter_map(|id| raw_entry(id, feed)).collect();
        let sent = queue
            .client()
            .send_message_batch()
            .queue_url(queue.url())
            .set_entries(Some(entries))
            .send()
            .await;
        match sent {
            Ok(out) => {
                for s in out.successful() {
                    t.sent(s.id().parse().unwrap_or(u64::MAX), true);
                }
                for _ in out.failed() {
                    t.sent(0, false);
                }
            }
            Err(_) => ids.for_each(|_| t.sent(0, false)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_id_once() {
        let next = AtomicU64::new(0);
        let mut ids = Vec::new();
        while let Some(r) = next_chunk(&next, 25) {
            ids.extend(r);
        }
        assert_eq!(ids, (0..25).collect::<Vec<_>>());
    }
}
