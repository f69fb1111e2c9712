//! Leases: one task keeps the messages whose handlers are running invisible, extending
//! them with `ChangeMessageVisibilityBatch` (chunks of 10) before they expire. When an
//! extension fails, or a lease reaches its maximum length, the handler's token fires.
//!
//! A message whose handler succeeded keeps its lease until its delete completes (or is
//! given up): the acker asks [`Leases::holds`] before each retry and ends the lease with
//! [`Leases::finish`], which tells it the message's visibility deadline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, RwLock};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::Receipt;
use super::ops::{EntryResult, Sqs};

pub(crate) struct Entry {
    receipt: Receipt,
    received_at: Instant,
    visible_until: Instant,
    /// The running handler's token and lost flag; `None` for a message registered when
    /// its delete began (its handler finished at once: nothing to cancel).
    handler: Option<(CancellationToken, Arc<AtomicBool>)>,
    /// The handler is done and the message waits for its delete.
    acking: bool,
    /// The lease of an acking message ended (extension refused, or maximum length): it
    /// is no longer extended, and stays here until the acker finishes it.
    ended: bool,
}

/// The lease table, shared by the handler tasks (register/unregister) and the lease task.
pub(crate) struct Leases {
    entries: Mutex<HashMap<u64, Entry>>,
    wake: Notify,
    /// Held (write) while an extension batch is in flight; a handler that is about to
    /// change its message's visibility itself takes it (read) first, so an extension
    /// never overwrites a retry backoff or a release.
    pub(crate) gate: RwLock<()>,
    pub(crate) enabled: bool,
}

impl Leases {
    pub(crate) fn new(enabled: bool) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            gate: RwLock::new(()),
            enabled,
        }
    }

    pub(crate) fn register(
        &self,
        key: u64,
        receipt: &Receipt,
        received_at: Instant,
        visibility: Duration,
        token: CancellationToken,
        lost: Arc<AtomicBool>,
    ) {
        if !self.enabled {
            return;
        }
        let entry = Entry {
            receipt: receipt.clone(),
            received_at,
            visible_until: received_at + visibility,
            handler: Some((token, lost)),
            acking: false,
            ended: false,
        };
        let was_empty = {
            let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            let was_empty = map.is_empty();
            map.insert(key, entry);
            was_empty
        };
        if was_empty {
            self.wake.notify_one();
        }
    }

    /// Registers, in one go, messages whose handlers finished before they needed a
    /// lease, as their delete begins: `(key, receipt, received_at)`, each visible
    /// `visibility` after its receive unless extended.
    pub(crate) fn register_acking<'a>(
        &self,
        items: impl Iterator<Item = (u64, &'a Receipt, Instant)>,
        visibility: Duration,
    ) {
        if !self.enabled {
            return;
        }
        let was_empty = {
            let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            let was_empty = map.is_empty();
            for (key, receipt, received_at) in items {
                map.insert(
                    key,
                    Entry {
                        receipt: receipt.clone(),
                        received_at,
                        visible_until: received_at + visibility,
                        handler: None,
                        acking: true,
                        ended: false,
                    },
                );
            }
            was_empty && !map.is_empty()
        };
        if was_empty {
            self.wake.notify_one();
        }
    }

    /// The handler of `key` is done: its lease now lasts until [`finish`](Self::finish).
    pub(crate) fn mark_acking(&self, key: u64) {
        if self.enabled
            && let Some(e) = self
                .entries
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_mut(&key)
        {
            e.acking = true;
        }
    }

    /// Whether `key`'s message is still invisible (by its lease, or, without one, by
    /// `fallback`, its first visibility deadline), with `margin` to spare.
    pub(crate) fn holds(&self, key: Option<u64>, fallback: Instant, margin: Duration) -> bool {
        let now = Instant::now();
        let until = match key {
            Some(key) if self.enabled => {
                let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
                match map.get(&key) {
                    Some(e) if !e.ended => e.visible_until,
                    _ => return false,
                }
            }
            _ => fallback,
        };
        now + margin < until
    }

    /// Ends `key`'s lease; returns the message's visibility deadline as the lease knew
    /// it (`fallback` without a lease).
    pub(crate) fn finish(&self, key: Option<u64>, fallback: Instant) -> Instant {
        match key {
            Some(key) if self.enabled => self
                .entries
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key)
                .map_or(fallback, |e| e.visible_until),
            _ => fallback,
        }
    }

    pub(crate) fn unregister(&self, key: u64) {
        if self.enabled {
            self.entries
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
        }
    }
}

pub(crate) struct LeaseTask {
    pub(crate) sqs: Arc<Sqs>,
    pub(crate) leases: Arc<Leases>,
    /// Visibility given by each extension.
    pub(crate) visibility: Duration,
    /// Extend when a message has this long (or less) left.
    pub(crate) threshold: Duration,
    /// A lease never lasts longer than this from the receive.
    pub(crate) max_total: Duration,
}

fn secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

impl LeaseTask {
    pub(crate) async fn run(self, stop: CancellationToken) {
        loop {
            let now = Instant::now();
            let mut due: Vec<(u64, Receipt, i32)> = Vec::new();
            let mut expired: Vec<u64> = Vec::new();
            let mut next = now + self.threshold.max(Duration::from_secs(1));
            {
                let map = self
                    .leases
                    .entries
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                for (key, e) in map.iter() {
                    if e.ended {
                        continue;
                    }
                    let extend_at = e.visible_until.checked_sub(self.threshold).unwrap_or(now);
                    if extend_at <= now {
                        let used = now.saturating_duration_since(e.received_at);
                        let grant = self.visibility.min(self.max_total.saturating_sub(used));
                        // Extend only when it moves the deadline (by a second or more);
                        // otherwise the lease is at its maximum and ends when it runs out.
                        if now + grant >= e.visible_until + Duration::from_secs(1) {
                            due.push((*key, e.receipt.clone(), secs(grant)));
                        } else if e.visible_until <= now {
                            expired.push(*key);
                        } else {
                            next = next.min(e.visible_until);
                        }
                    } else {
                        next = next.min(extend_at);
                    }
                }
            }
            for key in expired {
                tracing::warn!("lease reached its maximum length; cancelling the handler");
                self.lose(key);
            }
            let mut failed = false;
            if !due.is_empty() {
                let _gate = self.leases.gate.write().await;
                for chunk in due.chunks(10) {
                    let entries: Vec<(&str, i32)> =
                        chunk.iter().map(|(_, r, s)| (&**r, *s)).collect();
                    let sent = Instant::now();
                    match self.sqs.change_visibility_batch(&entries).await {
                        Ok(results) => {
                            for ((key, _, grant), result) in chunk.iter().zip(results) {
                                match result {
                                    EntryResult::Ok => self.extended(*key, sent, *grant),
                                    EntryResult::Failed { code, .. } => {
                                        tracing::warn!(
                                            code,
                                            "lease extension refused; cancelling the handler"
                                        );
                                        self.lose(*key);
                                    }
                                }
                            }
                        }
                        Err(e) => {
                            // Try again soon; a message whose visibility runs out meanwhile
                            // is lost at the next pass.
                            tracing::warn!(error = %e, "lease extension failed; retrying");
                            let retry_at = Instant::now() + Duration::from_secs(1);
                            for (key, _, _) in chunk {
                                self.retry_or_lose(*key, retry_at);
                            }
                            next = next.min(retry_at);
                            failed = true;
                        }
                    }
                }
                if !failed {
                    continue;
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = sleep_until(next) => {}
                () = self.leases.wake.notified() => {}
            }
        }
    }

    fn extended(&self, key: u64, sent: Instant, grant: i32) {
        let mut map = self
            .leases
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(e) = map.get_mut(&key) {
            e.visible_until = sent + Duration::from_secs(u64::try_from(grant).unwrap_or(0));
            self.sqs.stats.lease_extensions.add(1);
        }
    }

    fn retry_or_lose(&self, key: u64, retry_at: Instant) {
        let expired = {
            let map = self
                .leases
                .entries
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            map.get(&key).is_some_and(|e| e.visible_until <= retry_at)
        };
        if expired {
            self.lose(key);
        }
    }

    fn lose(&self, key: u64) {
        let entry = {
            let mut map = self
                .leases
                .entries
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            match map.get_mut(&key) {
                // Its handler is done: keep its deadline for the acker.
                Some(e) if e.acking => {
                    e.ended = true;
                    None
                }
                _ => map.remove(&key),
            }
        };
        if let Some((token, lost)) = entry.and_then(|e| e.handler) {
            lost.store(true, Ordering::SeqCst);
            token.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Stats;

    fn table() -> (Arc<Leases>, CancellationToken, Arc<AtomicBool>) {
        let leases = Arc::new(Leases::new(true));
        let token = CancellationToken::new();
        let lost = Arc::new(AtomicBool::new(false));
        leases.register(
            1,
            &Receipt::from("r"),
            Instant::now(),
            Duration::from_secs(30),
            token.clone(),
            lost.clone(),
        );
        (leases, token, lost)
    }

    fn task(leases: &Arc<Leases>) -> LeaseTask {
        LeaseTask {
            sqs: Arc::new(Sqs {
                client: weir_local::LocalSqs::new().client(),
                url: "http://localhost/000000000000/q".to_owned(),
                stats: Arc::new(Stats::new("lease")),
            }),
            leases: leases.clone(),
            visibility: Duration::from_secs(30),
            threshold: Duration::from_secs(15),
            max_total: Duration::from_secs(60),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_acking_lease_that_ends_keeps_its_deadline_for_the_acker() {
        let (leases, token, _) = table();
        let fallback = Instant::now() + Duration::from_secs(1);
        assert!(leases.holds(Some(1), fallback, Duration::from_secs(1)));
        leases.mark_acking(1);
        task(&leases).lose(1);
        // Ended: no more retries, but the deadline is kept until the acker finishes it.
        assert!(!leases.holds(Some(1), fallback, Duration::ZERO));
        let until = leases.finish(Some(1), fallback);
        assert_eq!(until, Instant::now() + Duration::from_secs(30));
        // Finished: gone from the table.
        assert_eq!(leases.finish(Some(1), fallback), fallback);
        // Its handler is done: nothing to cancel, and it is not a lost lease.
        assert!(!token.is_cancelled());
    }

    #[tokio::test(start_paused = true)]
    async fn a_running_lease_that_ends_is_removed_and_marked_lost() {
        let (leases, token, lost) = table();
        task(&leases).lose(1);
        assert!(token.is_cancelled() && lost.load(Ordering::SeqCst));
        let fallback = Instant::now();
        assert_eq!(leases.finish(Some(1), fallback), fallback);
    }

    #[tokio::test(start_paused = true)]
    async fn without_leases_the_fallback_deadline_decides() {
        let leases = Leases::new(false);
        let until = Instant::now() + Duration::from_secs(5);
        assert!(leases.holds(Some(1), until, Duration::from_secs(1)));
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(!leases.holds(Some(1), until, Duration::from_secs(1)));
        assert_eq!(leases.finish(Some(1), until), until);
    }
}
