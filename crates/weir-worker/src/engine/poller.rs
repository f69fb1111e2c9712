//! Pollers: each takes free slots (at most 10), then rate-limit permits for them, then
//! long-polls for at most that many messages.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, Semaphore, mpsc, watch};
use tokio::time::{Instant, sleep, timeout};
use tokio_util::sync::CancellationToken;
use weir_sqs::ReceiveOptions;

use super::dispatch::{Ctx, SharedHandler};
use super::{Job, Shared, Source};
use crate::report::Op;

/// Starting delay after a failed receive; doubled per consecutive failure.
const POLL_BACKOFF_BASE: Duration = Duration::from_millis(200);

pub(crate) struct Poller<Req> {
    pub(crate) shared: Arc<Shared>,
    pub(crate) source: Arc<dyn Source<Req>>,
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) jobs: mpsc::UnboundedSender<Vec<Job<Req>>>,
    pub(crate) paused: watch::Receiver<bool>,
    /// Pollers take turns waiting for slots, so freed slots gather into one full
    /// receive instead of being spread one by one over all waiting pollers. A poller
    /// that finds ten free slots takes them without waiting for its turn.
    pub(crate) turn: Arc<Mutex<()>>,
    /// Standard queues: start messages here, in the task that received them, while the
    /// handler service is ready (see [`Ctx::start_now`]); the dispatcher takes the rest.
    pub(crate) start: Option<(Ctx, SharedHandler<Req>)>,
}

fn attempt_id() -> String {
    format!("{:032x}", fastrand::u128(..))
}

impl<Req: Send + 'static> Poller<Req> {
    pub(crate) async fn run(mut self, stop: CancellationToken) {
        let shared = self.shared.clone();
        let settings = &shared.settings;
        let stats = &shared.sqs.stats;
        let mut failures: u32 = 0;
        let mut attempt: Option<String> = None;
        let home = Arc::new(super::SlotHome {
            slots: self.slots.clone(),
            held: shared.health.held.clone(),
            gauge: stats.in_flight.clone(),
        });
        loop {
            while *self.paused.borrow_and_update() {
                tokio::select! {
                    () = stop.cancelled() => return,
                    changed = self.paused.changed() => if changed.is_err() { return },
                }
            }
            // A full receive's worth of free slots is taken at once, without a turn;
            // otherwise pollers take turns waiting for slots (see `turn`).
            let (turn, mut permit) = match self.slots.clone().try_acquire_many_owned(10) {
                Ok(permit) => (None, permit),
                Err(_) => {
                    let turn = tokio::select! {
                        t = self.turn.clone().lock_owned() => t,
                        () = stop.cancelled() => return,
                    };
                    let mut permit = tokio::select! {
                        p = self.slots.clone().acquire_owned() => match p {
                            Ok(p) => p,
                            Err(_) => return,
                        },
                        () = stop.cancelled() => return,
                    };
                    while permit.num_permits() < 10 {
                        match self.slots.clone().try_acquire_owned() {
                            Ok(p) => permit.merge(p),
                            Err(_) => break,
                        }
                    }
                    (Some(turn), permit)
                }
            };
            if let Some(limit) = &settings.limiter {
                let cap = usize::try_from(limit.max_batch()).unwrap_or(10).max(1);
                if permit.num_permits() > cap {
                    drop(permit.split(permit.num_permits() - cap));
                }
            }
            let n = permit.num_permits();
            if let Some(limit) = &settings.limiter {
                tokio::select! {
                    () = limit.acquire(u32::try_from(n).unwrap_or(10)) => {}
                    () = stop.cancelled() => return,
                }
            }
            drop(turn);
            let started = Instant::now();
            let mut options = ReceiveOptions::default()
                .with_max_messages(n)
                .with_wait(settings.wait_time)
                .with_system_attributes(settings.system_attributes.iter().cloned());
            if let Some(v) = settings.visibility_param {
                options = options.with_visibility(v);
            }
            if settings.fifo {
                options = options.with_attempt_id(attempt.get_or_insert_with(attempt_id).clone());
            }
            stats.request(Op::Receive);
            let fut = self
                .source
                .receive(options, started, settings.dead_letter.is_some());
            tokio::pin!(fut);
            let (result, stopping) = tokio::select! {
                r = &mut fut => (r, false),
                () = stop.cancelled() => match timeout(settings.poll_grace, &mut fut).await {
                    Ok(r) => (r, true),
                    Err(_) => {
                        stats.polls_cancelled.add(1);
                        tracing::debug!("long poll cancelled at shutdown");
                        return;
                    }
                },
            };
            match result {
                Ok(out) => {
                    attempt = None;
                    failures = 0;
                    shared.health.poll_ok();
                    let messages = out;
                    if stopping {
                        stats.polls_drained.add(1);
                    }
                    if messages.is_empty() {
                        stats.empty_polls.add(1);
                        if stopping {
                            return;
                        }
                        continue;
                    }
                    stats.received.add(messages.len() as u64);
                    if stopping {
                        let receipts: Vec<super::Receipt> =
                            messages.into_iter().map(|(meta, _)| meta.receipt).collect();
                        let released = shared.sqs.release(&receipts).await;
                        stats.released_prefetched.add(receipts.len() as u64);
                        stats.released.add(released);
                        return;
                    }
                    let mut slots = home.slots(permit, messages.len()).into_iter();
                    let mut batch = Vec::with_capacity(messages.len());
                    for (meta, req) in messages {
                        let Some(slot) = slots.next() else {
                            // More messages than asked for: cannot happen; give it back.
                            stats.released_prefetched.add(1);
                            stats
                                .released
                                .add(shared.sqs.release(&[meta.receipt]).await);
                            continue;
                        };
                        batch.push(Job {
                            meta,
                            req,
                            permit: slot,
                            held: None,
                        });
                    }
                    let batch = match &self.start {
                        Some((ctx, handler)) => ctx.start_now(handler, batch),
                        None => batch,
                    };
                    if batch.is_empty() {
                        continue;
                    }
                    if let Err(mpsc::error::SendError(batch)) = self.jobs.send(batch) {
                        let receipts: Vec<super::Receipt> =
                            batch.into_iter().map(|j| j.meta.receipt).collect();
                        stats.released_prefetched.add(receipts.len() as u64);
                        stats.released.add(shared.sqs.release(&receipts).await);
                        return;
                    }
                    // Let the dispatcher start this batch before receiving the next. A
                    // receive that completes without waiting (an in-process SQS, or a
                    // full buffer) would otherwise run this loop on while the woken
                    // dispatcher sits in this thread's LIFO slot, which other threads
                    // cannot steal from: the pipeline would run in bursts on one core.
                    tokio::task::yield_now().await;
                }
                Err(err) => {
                    if stopping {
                        return;
                    }
                    drop(permit);
                    stats.poll_errors.add(1);
                    failures = failures.saturating_add(1);
                    shared.health.poll_failed(&err);
                    let exp = POLL_BACKOFF_BASE
                        .saturating_mul(1 << failures.saturating_sub(1).min(16))
                        .min(settings.poll_backoff_max);
                    let jittered = exp / 2
                        + Duration::from_millis(fastrand::u64(
                            0..=u64::try_from((exp / 2).as_millis()).unwrap_or(0),
                        ));
                    let delay = err.retry_after().map_or(jittered, |d| d.max(jittered));
                    tracing::debug!(error = %err, ?delay, failures, "receive failed; backing off");
                    tokio::select! {
                        () = sleep(delay) => {}
                        () = stop.cancelled() => return,
                    }
                }
            }
        }
    }
}
