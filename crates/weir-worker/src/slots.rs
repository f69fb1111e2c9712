//! Back pressure: the concurrency as a semaphore of slots. A poller takes the slots for
//! a receive before sending it; each message received keeps one until it is settled
//! (acked, given back, dead-lettered or lost), so messages running, waiting to start
//! and waiting for their delete all count, and never exceed the concurrency.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The concurrency, and the count of messages held.
pub(crate) struct Slots {
    semaphore: Arc<Semaphore>,
    /// Pollers wait for slots one at a time: slots come back a batch at once (a delete
    /// batch completes), and the semaphore would hand one to each of several waiting
    /// pollers, each then receiving a single message.
    turn: tokio::sync::Mutex<()>,
    held: Arc<AtomicUsize>,
    gauge: metrics::Gauge,
}

impl Slots {
    pub(crate) fn new(concurrency: usize, held: Arc<AtomicUsize>, gauge: metrics::Gauge) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(concurrency)),
            turn: tokio::sync::Mutex::new(()),
            held,
            gauge,
        }
    }

    /// Waits for one free slot, then takes as many more as are free, up to `max`.
    /// `None` once the semaphore is closed (never, in practice).
    pub(crate) async fn take(&self, max: usize) -> Option<OwnedSemaphorePermit> {
        let _turn = self.turn.lock().await;
        let mut permit = self.semaphore.clone().acquire_owned().await.ok()?;
        while permit.num_permits() < max {
            match self.semaphore.clone().try_acquire_owned() {
                Ok(more) => permit.merge(more),
                Err(_) => break,
            }
        }
        Some(permit)
    }

    /// Turns `permit` into one slot per message, for `n` messages; the rest go back now.
    pub(crate) fn split(&self, mut permit: OwnedSemaphorePermit, n: usize) -> Vec<Slot> {
        let n = n.min(permit.num_permits());
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            if let Some(one) = permit.split(1) {
                out.push(Slot {
                    _permit: one,
                    held: self.held.clone(),
                    gauge: self.gauge.clone(),
                });
            }
        }
        if !out.is_empty() {
            self.held.fetch_add(out.len(), Ordering::Relaxed);
            #[allow(clippy::cast_precision_loss)] // at most MAX_CONCURRENCY
            self.gauge.increment(out.len() as f64);
        }
        out
    }
}

/// One message's slot, freed when the message is settled.
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
    held: Arc<AtomicUsize>,
    gauge: metrics::Gauge,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.held.fetch_sub(1, Ordering::Relaxed);
        self.gauge.decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_never_exceed_the_concurrency() {
        let held = Arc::new(AtomicUsize::new(0));
        let slots = Slots::new(12, held.clone(), metrics::Gauge::noop());
        let permit = slots.take(10).await.unwrap();
        assert_eq!(permit.num_permits(), 10);
        let a = slots.split(permit, 7);
        assert_eq!((a.len(), held.load(Ordering::Relaxed)), (7, 7));
        // 5 free: 7 held, the 3 unused went back.
        let permit = slots.take(10).await.unwrap();
        assert_eq!(permit.num_permits(), 5);
        drop(permit);
        drop(a);
        assert_eq!(held.load(Ordering::Relaxed), 0);
        assert_eq!(slots.take(10).await.unwrap().num_permits(), 10);
    }
}
