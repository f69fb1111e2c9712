//! One phase: N messages through one producer and one consumer (weir's, or the raw
//! loop), on a queue of the phase's own, measured from the first send (or, with
//! --prefill, from the consumers' start) to the last message processed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::MultiProgress;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use weir::sqs::Queue;
use weir::worker::WorkerReport;

use super::produce::{self, Feed};
use super::report::{Costs, Phase, worker_summary};
use super::tracker::Tracker;
use super::{Kind, Setup, consume, cpu};
use crate::error::Result;

/// The phase's clock: wall time and process CPU from its start.
struct Clock {
    start: Instant,
    cpu: Option<Duration>,
}

impl Clock {
    fn start() -> Self {
        Self {
            start: Instant::now(),
            cpu: cpu::cpu_time(),
        }
    }

    fn cpu(&self) -> Option<Duration> {
        Some(cpu::cpu_time()?.saturating_sub(self.cpu?))
    }
}

/// How the wait for the last message ended.
struct Waited {
    interrupted: bool,
    /// When the last producer finished, from the clock's start.
    sent_at: Option<Duration>,
}

/// Runs phase `kind` of round `round` on a fresh queue, deleted afterwards unless
/// --keep-queue.
pub(super) async fn run(s: &Setup, kind: Kind, round: u32) -> Result<Phase> {
    let queue = s.create_queue(kind, round).await?;
    let phase = measure(s, kind, &queue).await;
    if !s.args.keep_queue {
        let _ = queue
            .client()
            .delete_queue()
            .queue_url(queue.url())
            .send()
            .await;
    }
    phase
}

async fn measure(s: &Setup, kind: Kind, queue: &Queue) -> Result<Phase> {
    let n = s.messages;
    let multi = MultiProgress::with_draw_target(s.out.draw_target());
    let label = kind.label();
    let sent_bar = multi.add(s.out.progress(Some(n), &format!("{label} sent")));
    let processed_bar = multi.add(s.out.progress(Some(n), &format!("{label} done")));
    let tracker = Arc::new(Tracker::new(n, sent_bar, processed_bar)?);
    let feed = Feed {
        tracker: tracker.clone(),
        next: Arc::new(AtomicU64::new(0)),
        n,
        pad: s.pad.clone(),
        groups: s.args.fifo.then_some(u64::from(s.args.groups)),
        stop: s.stop.clone(),
    };
    let (done_tx, done_rx) = watch::channel(false);

    s.counter.reset();
    let mut clock = Clock::start();
    let mut producers = produce::spawn(kind, queue, &feed, s.args.producers);
    // --prefill: every message is in the queue before the consumers start, and the
    // phase's time, CPU and requests count the consumers alone.
    let mut prefilled_in = None;
    if s.args.prefill {
        while producers.join_next().await.is_some() {}
        prefilled_in = Some(clock.start.elapsed());
        s.counter.reset();
        clock = Clock::start();
    }
    let handler = Duration::from_millis(s.args.handler_ms);
    let (consumers, worker) = match kind {
        Kind::Weir => (
            JoinSet::new(),
            Some(consume::spawn_worker(queue, &s.args, &tracker, done_rx)?),
        ),
        Kind::Raw => (consume::spawn_raw(queue, handler, &tracker, &done_rx), None),
    };

    let waited = wait(s, kind, &tracker, &mut producers, &clock, prefilled_in).await;
    let elapsed = clock.start.elapsed();
    let cpu = clock.cpu();
    let _ = done_tx.send(true);
    producers.abort_all();
    let report = stop(consumers, worker).await;
    tracker.finish_bars();
    let _ = multi.clear();
    let processed = tracker.unique.load(Ordering::Relaxed);
    let sent = tracker.sent_ok.load(Ordering::Relaxed);
    let secs = elapsed.as_secs_f64();
    let send_secs = waited.sent_at.map(|d| d.as_secs_f64());
    Ok(Phase {
        name: label.to_owned(),
        consumer: kind.consumer().to_owned(),
        queue: queue.name().to_owned(),
        messages: n,
        sent,
        send_errors: tracker.send_errors.load(Ordering::Relaxed),
        processed,
        duplicates: tracker.duplicates.load(Ordering::Relaxed),
        lost: if waited.interrupted {
            0
        } else {
            tracker.lost()
        },
        unprocessed: tracker.lost(),
        interrupted: waited.interrupted,
        elapsed_seconds: secs,
        send_seconds: send_secs,
        send_throughput_msg_per_s: send_secs.filter(|s| *s > 0.0).map(|s| sent as f64 / s),
        throughput_msg_per_s: if secs > 0.0 {
            processed as f64 / secs
        } else {
            0.0
        },
        latency: tracker.latency()?,
        costs: Costs::measure(&s.counter, processed, cpu),
        worker: report.as_ref().map(worker_summary),
    })
}

/// Waits until every message sent is processed, or a stall, or Ctrl-C.
async fn wait(
    s: &Setup,
    kind: Kind,
    tracker: &Tracker,
    producers: &mut JoinSet<()>,
    clock: &Clock,
    prefilled_in: Option<Duration>,
) -> Waited {
    let mut stop = s.stop.clone();
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    let mut last = (0u64, Instant::now());
    let mut sent_at = prefilled_in;
    loop {
        tokio::select! {
            _ = stop.changed() => return Waited { interrupted: true, sent_at },
            _ = tick.tick() => {}
        }
        while producers.try_join_next().is_some() {}
        let producers_done = producers.is_empty();
        if producers_done && sent_at.is_none() {
            sent_at = Some(clock.start.elapsed());
        }
        let unique = tracker.unique.load(Ordering::Relaxed);
        let sent = tracker.sent_ok.load(Ordering::Relaxed);
        let errors = tracker.send_errors.load(Ordering::Relaxed);
        if producers_done && unique >= sent && sent + errors >= s.messages {
            return Waited {
                interrupted: false,
                sent_at,
            };
        }
        if unique != last.0 {
            last = (unique, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(s.args.stall_secs) {
            s.out.warn(format!(
                "{}: nothing processed for {} s; giving up",
                kind.label(),
                s.args.stall_secs
            ));
            return Waited {
                interrupted: false,
                sent_at,
            };
        }
    }
}

/// Stops the consumers: the raw loop's tasks finish their current delete (a long
/// poll is dropped); the worker flushes its acks, releases what it holds and reports.
async fn stop(
    mut consumers: JoinSet<()>,
    worker: Option<JoinHandle<WorkerReport>>,
) -> Option<WorkerReport> {
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while consumers.join_next().await.is_some() {}
    })
    .await;
    consumers.abort_all();
    match tokio::time::timeout(Duration::from_secs(60), worker?).await {
        Ok(Ok(report)) => Some(report),
        _ => None,
    }
}
