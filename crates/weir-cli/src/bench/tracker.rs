//! Which ids were sent, which were processed and how often, and the latencies.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use hdrhistogram::Histogram;
use indicatif::ProgressBar;

use super::body::{BenchMsg, now_us};
use super::report::Latency;
use crate::error::{CliError, Result};

/// One phase's bookkeeping, shared by its producers and consumers.
pub(super) struct Tracker {
    sent: Vec<AtomicBool>,
    seen: Vec<AtomicU32>,
    pub(super) sent_ok: AtomicU64,
    pub(super) send_errors: AtomicU64,
    pub(super) unique: AtomicU64,
    pub(super) duplicates: AtomicU64,
    foreign: AtomicU64,
    latency_us: Mutex<Histogram<u64>>,
    processed_bar: ProgressBar,
    sent_bar: ProgressBar,
}

impl Tracker {
    pub(super) fn new(n: u64, sent_bar: ProgressBar, processed_bar: ProgressBar) -> Result<Self> {
        let len = usize::try_from(n).map_err(CliError::other)?;
        Ok(Self {
            sent: (0..len).map(|_| AtomicBool::new(false)).collect(),
            seen: (0..len).map(|_| AtomicU32::new(0)).collect(),
            sent_ok: AtomicU64::new(0),
            send_errors: AtomicU64::new(0),
            unique: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            foreign: AtomicU64::new(0),
            latency_us: Mutex::new(histogram()?),
            processed_bar,
            sent_bar,
        })
    }

    pub(super) fn sent(&self, id: u64, ok: bool) {
        if ok {
            if let Some(s) = usize::try_from(id).ok().and_then(|i| self.sent.get(i)) {
                s.store(true, Ordering::Relaxed);
            }
            self.sent_ok.fetch_add(1, Ordering::Relaxed);
            self.sent_bar.inc(1);
        } else {
            self.send_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records one processed message (its body's id and send time).
    pub(super) fn processed(&self, id: u64, sent_us: u64) {
        record(&self.latency_us, now_us().saturating_sub(sent_us));
        let Some(seen) = usize::try_from(id).ok().and_then(|i| self.seen.get(i)) else {
            self.foreign();
            return;
        };
        if seen.fetch_add(1, Ordering::Relaxed) == 0 {
            self.unique.fetch_add(1, Ordering::Relaxed);
            self.processed_bar.inc(1);
        } else {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records one processed message from its raw body.
    pub(super) fn processed_raw(&self, body: &str) {
        match serde_json::from_str::<BenchMsg>(body) {
            Ok(m) => self.processed(m.id, m.t),
            Err(_) => self.foreign(),
        }
    }

    /// A message that is not one of this phase's.
    pub(super) fn foreign(&self) {
        self.foreign.fetch_add(1, Ordering::Relaxed);
    }

    /// Ids sent successfully and never processed.
    pub(super) fn lost(&self) -> u64 {
        self.sent
            .iter()
            .zip(&self.seen)
            .filter(|(s, n)| s.load(Ordering::Relaxed) && n.load(Ordering::Relaxed) == 0)
            .count() as u64
    }

    pub(super) fn latency(&self) -> Result<Latency> {
        latency(&self.latency_us)
    }

    pub(super) fn finish_bars(&self) {
        self.sent_bar.finish_and_clear();
        self.processed_bar.finish_and_clear();
    }
}

/// A latency histogram, 1 µs to an hour, three significant digits.
pub(super) fn histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).map_err(CliError::other)
}

/// Records `us` microseconds (at least 1).
pub(super) fn record(h: &Mutex<Histogram<u64>>, us: u64) {
    if let Ok(mut h) = h.lock() {
        h.saturating_record(us.max(1));
    }
}

/// The percentiles of `h`, in milliseconds.
pub(super) fn latency(h: &Mutex<Histogram<u64>>) -> Result<Latency> {
    let h = h
        .lock()
        .map_err(|_| CliError::Other("latency histogram poisoned".into()))?;
    let ms = |v: u64| v as f64 / 1000.0;
    Ok(Latency {
        p50_ms: ms(h.value_at_quantile(0.50)),
        p90_ms: ms(h.value_at_quantile(0.90)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        max_ms: ms(h.max()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_losses_are_counted() {
        let t = Tracker::new(3, ProgressBar::hidden(), ProgressBar::hidden()).unwrap();
        for id in 0..3 {
            t.sent(id, true);
        }
        t.processed(0, now_us());
        t.processed(0, now_us());
        t.processed(2, now_us());
        t.processed(7, now_us());
        t.processed_raw("not a bench body");
        assert_eq!(t.unique.load(Ordering::Relaxed), 2);
        assert_eq!(t.duplicates.load(Ordering::Relaxed), 1);
        assert_eq!(t.foreign.load(Ordering::Relaxed), 2);
        assert_eq!(t.lost(), 1);
        assert!(t.latency().unwrap().max_ms >= 0.001);
    }
}
