//! Leases: every message the worker holds stays invisible until it is settled.
//!
//! A receive batch is registered in one go, under one lock, the moment the receive
//! returns. Each message then has one entry, whose state says who may change its
//! visibility:
//!
//! ```text
//!  Held ──(handler done, delete queued)──► Acking ──(delete done)──► removed
//!   │                                        │
//!   └──(retry, release: begin_change)──► Changing ──(call done)──► removed
//! ```
//!
//! The [extension task](extend) extends `Held` and `Acking` entries before their
//! visibility runs out; a `Changing` entry is never extended again, and
//! [`Leases::begin_change`] waits for an extension already in flight to land first, so
//! an extension computed before a retry or a release can never undo it.
//!
//! A message's visibility deadline is estimated from when its receive *returned*, less
//! a margin ([`deadline_margin`]): SQS starts the timeout when it hands the message out,
//! which is after the request was sent (a long poll may wait up to 20 s) and shortly
//! before the answer arrives.

pub(crate) mod extend;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A message's key in the lease table.
pub(crate) type LeaseKey = u64;

/// Who may change a leased message's visibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Received: waiting to start, or its handler runs. Extended.
    Held,
    /// Its handler is done and its delete (or dead-letter send, then delete) is under
    /// way. Extended, so a delete that waits in its batch does not let it reappear.
    Acking,
    /// A retry or a release is changing its visibility. Never extended again.
    Changing,
}

pub(crate) struct Entry {
    pub(crate) receipt: Arc<str>,
    /// When the receive that brought it returned.
    pub(crate) returned_at: Instant,
    /// The latest it is surely invisible until.
    pub(crate) visible_until: Instant,
    pub(crate) state: State,
    /// An extension of it is in flight.
    pub(crate) extending: bool,
    /// Its lease ended (an extension was refused, or it reached its maximum length): no
    /// more extensions; its token fired.
    pub(crate) lost: bool,
    /// Fired when the lease is lost, so a running handler stops.
    pub(crate) token: CancellationToken,
}

/// How long before the estimated end of a message's visibility the worker stops
/// counting on it: 1 s, or a quarter of a short visibility timeout.
pub(crate) fn deadline_margin(visibility: Duration) -> Duration {
    Duration::from_secs(1).min(visibility / 4)
}

/// The lease table, shared by the pollers (register), the handlers' settling (state
/// changes, removal) and the extension task.
pub(crate) struct Leases {
    entries: Mutex<HashMap<LeaseKey, Entry>>,
    next_key: AtomicU64,
    /// Wakes the extension task when the table gets its first entry.
    pub(crate) wake: Notify,
    /// Fired after every extension call, for settlers waiting in `begin_change`.
    landed: Notify,
    /// The visibility timeout messages are received with.
    pub(crate) visibility: Duration,
}

impl Leases {
    pub(crate) fn new(visibility: Duration) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            next_key: AtomicU64::new(1),
            wake: Notify::new(),
            landed: Notify::new(),
            visibility,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, HashMap<LeaseKey, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers one receive batch under one lock: each receipt handle gets a key and a
    /// token (a child of `parent`), in order.
    pub(crate) fn register<'a>(
        &self,
        receipts: impl ExactSizeIterator<Item = &'a str>,
        returned_at: Instant,
        parent: &CancellationToken,
    ) -> Vec<(LeaseKey, CancellationToken)> {
        let n = receipts.len() as u64;
        let first = self.next_key.fetch_add(n, Ordering::Relaxed);
        let visible_until = returned_at + self.visibility - deadline_margin(self.visibility);
        let mut out = Vec::with_capacity(receipts.len());
        let was_empty = {
            let mut map = self.lock();
            let was_empty = map.is_empty();
            for (i, receipt) in (first..).zip(receipts) {
                let token = parent.child_token();
                map.insert(
                    i,
                    Entry {
                        receipt: Arc::from(receipt),
                        returned_at,
                        visible_until,
                        state: State::Held,
                        extending: false,
                        lost: false,
                        token: token.clone(),
                    },
                );
                out.push((i, token));
            }
            was_empty
        };
        if was_empty && n > 0 {
            self.wake.notify_one();
        }
        out
    }

    /// The handler of `key` is done and its delete is under way.
    pub(crate) fn mark_acking(&self, key: LeaseKey) {
        if let Some(e) = self.lock().get_mut(&key) {
            e.state = State::Acking;
        }
    }

    /// Takes `key` out of the extension's hands before its visibility is changed: waits
    /// until no extension of it is in flight, then marks it `Changing`. Returns whether
    /// the lease still holds (not lost, not past its deadline), so the change is worth
    /// making.
    pub(crate) async fn begin_change(&self, key: LeaseKey) -> bool {
        loop {
            let landed = self.landed.notified();
            tokio::pin!(landed);
            landed.as_mut().enable();
            {
                let mut map = self.lock();
                let Some(e) = map.get_mut(&key) else {
                    return false;
                };
                if !e.extending {
                    e.state = State::Changing;
                    return !e.lost && Instant::now() < e.visible_until;
                }
            }
            landed.await;
        }
    }

    /// Whether `key` is still surely invisible for `margin` more.
    pub(crate) fn holds(&self, key: LeaseKey, margin: Duration) -> bool {
        self.lock()
            .get(&key)
            .is_some_and(|e| !e.lost && Instant::now() + margin < e.visible_until)
    }

    /// Whether `key`'s lease was lost.
    pub(crate) fn is_lost(&self, key: LeaseKey) -> bool {
        self.lock().get(&key).is_some_and(|e| e.lost)
    }

    /// Ends `key`'s lease; returns the visibility deadline it had, if it was there.
    pub(crate) fn finish(&self, key: LeaseKey) -> Option<Instant> {
        self.lock().remove(&key).map(|e| e.visible_until)
    }

    /// Ends the leases of `keys` under one lock.
    pub(crate) fn finish_all(&self, keys: impl IntoIterator<Item = LeaseKey>) {
        let mut map = self.lock();
        for key in keys {
            map.remove(&key);
        }
    }

    /// Called by the extension task after each extension call landed.
    pub(crate) fn landed(&self) {
        self.landed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> (Leases, LeaseKey, CancellationToken) {
        let leases = Leases::new(Duration::from_secs(30));
        let parent = CancellationToken::new();
        let keys = leases.register(["r1"].into_iter(), Instant::now(), &parent);
        (leases, keys[0].0, keys[0].1.clone())
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_counts_from_the_return_less_a_margin() {
        let (leases, key, _) = table();
        assert!(leases.holds(key, Duration::from_secs(28)));
        assert!(!leases.holds(key, Duration::from_secs(29)));
        let until = leases.finish(key).unwrap();
        assert_eq!(until, Instant::now() + Duration::from_secs(29));
        assert_eq!(leases.finish(key), None);
    }

    #[tokio::test(start_paused = true)]
    async fn begin_change_waits_for_an_extension_in_flight() {
        let (leases, key, _) = table();
        leases.lock().get_mut(&key).unwrap().extending = true;
        let leases = Arc::new(leases);
        let l = leases.clone();
        let change = tokio::spawn(async move { l.begin_change(key).await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(
            !change.is_finished(),
            "waits while the extension is in flight"
        );
        leases.lock().get_mut(&key).unwrap().extending = false;
        leases.landed();
        assert!(change.await.unwrap());
        assert_eq!(leases.lock()[&key].state, State::Changing);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lost_lease_is_not_worth_changing() {
        let (leases, key, token) = table();
        {
            let mut map = leases.lock();
            let e = map.get_mut(&key).unwrap();
            e.lost = true;
            e.token.cancel();
        }
        assert!(token.is_cancelled());
        assert!(leases.is_lost(key));
        assert!(!leases.begin_change(key).await);
        assert!(!leases.holds(key, Duration::ZERO));
    }
}
