//! The extension task: keeps held messages invisible with
//! `ChangeMessageVisibilityBatch` (chunks of 10) before their visibility runs out, and
//! ends a lease (firing its token) when an extension is refused or the lease reaches its
//! maximum length. A failed call is tried again a second later, for as long as the
//! message's visibility lasts: one transient failure does not cancel a healthy handler.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use super::{Entry, LeaseKey, State};
use crate::context::Ctx;

/// How soon a failed extension is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// One extension to make: the message, its receipt handle, and the visibility to ask for.
struct Due {
    key: LeaseKey,
    receipt: Arc<str>,
    grant: Duration,
}

/// What one pass over the table found.
struct Pass {
    due: Vec<Due>,
    /// Leases at their maximum length that ran out.
    expired: Vec<LeaseKey>,
    /// When the next pass is needed.
    next: Instant,
}

/// Runs until the worker's tasks stop (the caller selects on its tokens).
pub(crate) async fn run(ctx: Arc<Ctx>) {
    let leases = &ctx.leases;
    loop {
        let pass = scan(&ctx);
        for key in &pass.expired {
            lose(&ctx, *key, "the lease reached its maximum length");
        }
        let mut next = pass.next;
        for chunk in pass.due.chunks(10) {
            if let Some(retry_at) = extend(&ctx, chunk).await {
                next = next.min(retry_at);
            }
        }
        if !pass.due.is_empty() {
            leases.landed();
            continue;
        }
        tokio::select! {
            () = sleep_until(next) => {}
            () = leases.wake.notified() => {}
        }
    }
}

/// Finds the leases due for an extension (marking them as extending) and those that
/// ran out at their maximum length.
fn scan(ctx: &Ctx) -> Pass {
    let s = &ctx.settings;
    let now = Instant::now();
    let mut pass = Pass {
        due: Vec::new(),
        expired: Vec::new(),
        next: now + s.lease_threshold.max(Duration::from_secs(1)),
    };
    if !s.lease_enabled {
        pass.next = now + Duration::from_secs(3600);
        return pass;
    }
    let mut map = ctx.leases.lock();
    for (key, e) in map.iter_mut() {
        if e.state == State::Changing || e.lost || e.extending {
            continue;
        }
        let extend_at = e
            .visible_until
            .checked_sub(s.lease_threshold)
            .unwrap_or(now);
        if extend_at > now {
            pass.next = pass.next.min(extend_at);
            continue;
        }
        let used = now.saturating_duration_since(e.returned_at);
        let grant = s.visibility.min(s.lease_max_total.saturating_sub(used));
        // Extend only when it moves the deadline by a second or more; otherwise the
        // lease is at its maximum and ends when it runs out.
        if now + grant >= e.visible_until + Duration::from_secs(1) {
            e.extending = true;
            pass.due.push(Due {
                key: *key,
                receipt: e.receipt.clone(),
                grant: Duration::from_secs(grant.as_secs()),
            });
        } else if e.visible_until <= now {
            pass.expired.push(*key);
        } else {
            pass.next = pass.next.min(e.visible_until);
        }
    }
    pass
}

/// Extends one chunk; returns when to try again if the call failed as a whole.
async fn extend(ctx: &Ctx, chunk: &[Due]) -> Option<Instant> {
    let entries: Vec<(&str, Duration)> = chunk.iter().map(|d| (&*d.receipt, d.grant)).collect();
    let sent = Instant::now();
    let results = ctx.calls.change_visibility_batch(&entries).await;
    let retry_at = Instant::now() + RETRY_AFTER;
    let mut lost = Vec::new();
    let mut extended = 0u64;
    {
        let mut map = ctx.leases.lock();
        for (i, due) in chunk.iter().enumerate() {
            let Some(e) = map.get_mut(&due.key) else {
                continue;
            };
            e.extending = false;
            let outcome = match &results {
                Ok(per_entry) => per_entry.get(i).cloned().unwrap_or(Ok(())),
                Err(err) => Err(err.clone()),
            };
            match outcome {
                Ok(()) => {
                    if e.state != State::Changing {
                        e.visible_until = sent + due.grant;
                        extended += 1;
                    }
                }
                Err(err) if err.is_retryable() && e.visible_until > retry_at => {
                    tracing::debug!(error = %err, "lease extension failed; trying again");
                }
                Err(err) => lost.push((due.key, err)),
            }
        }
    }
    ctx.stats.lease_extensions.add(extended);
    for (key, err) in lost {
        tracing::warn!(error = %err, "lease extension refused; the message will be delivered again");
        lose(ctx, key, "an extension was refused");
    }
    results.is_err().then_some(retry_at)
}

/// Ends `key`'s lease: no more extensions, and its token fires so a running handler
/// stops. The entry stays until its owner settles it.
fn lose(ctx: &Ctx, key: LeaseKey, why: &'static str) {
    let mut map = ctx.leases.lock();
    if let Some(Entry {
        lost, token, state, ..
    }) = map.get_mut(&key)
        && !*lost
    {
        *lost = true;
        // A message whose delete is under way has no handler left to stop.
        if *state != State::Acking {
            token.cancel();
        }
        tracing::debug!(why, "lease lost");
    }
}
