//! Property: whatever the sizes and timing of requests, a limiter never grants more than
//! `rate × w + burst` permits in any window of length `w`.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use proptest::prelude::*;
use weir_middleware::{AcquireError, RateLimiter};

const RATE: f64 = 100.0;
const BURST: u32 = 10;

fn grants(ops: &[(u64, u32)]) -> Vec<(Duration, u32)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let limiter = RateLimiter::new(RATE, BURST).unwrap();
        let start = tokio::time::Instant::now();
        let mut out = Vec::new();
        for &(gap_ms, n) in ops {
            tokio::time::advance(Duration::from_millis(gap_ms)).await;
            match limiter.try_acquire(n) {
                Ok(()) => out.push((start.elapsed(), n)),
                Err(AcquireError::Wait { wait }) => assert!(!wait.is_zero()),
                Err(other) => panic!("{other}"),
            }
        }
        out
    })
}

proptest! {
    #[test]
    fn never_more_than_rate_times_window_plus_burst(
        ops in prop::collection::vec((0u64..40, 1u32..=BURST), 1..400),
        window_ms in prop::sample::select(vec![10u64, 100, 250, 1000, 3000]),
    ) {
        let grants = grants(&ops);
        let window = Duration::from_millis(window_ms);
        let limit = RATE * window.as_secs_f64() + f64::from(BURST);
        for (i, (at, _)) in grants.iter().enumerate() {
            let in_window: u32 = grants[i..]
                .iter()
                .take_while(|(later, _)| *later - *at < window)
                .map(|(_, n)| n)
                .sum();
            prop_assert!(f64::from(in_window) <= limit, "{in_window} permits in {window:?} from {at:?}");
        }
    }
}
