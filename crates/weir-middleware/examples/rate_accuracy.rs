//! Measures the shared rate limiter in real time: 8 tasks share a 200/s limiter (burst 10)
//! for 20 s. Prints the rate achieved (it should be within ±2 % of 200/s once the initial
//! burst is set aside) and the largest count in any 1 s window (at most rate + burst = 210).
//!
//! Run with `cargo run -p weir-middleware --example rate_accuracy` (takes 20 s).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use weir_middleware::RateLimiter;

const RATE: f64 = 200.0;
const BURST: u32 = 10;
const RUN: Duration = Duration::from_secs(20);
const TASKS: usize = 8;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let limiter = RateLimiter::new(RATE, BURST).unwrap();
    let grants = Arc::new(Mutex::new(Vec::with_capacity(5000)));
    let start = Instant::now();
    let end = start + RUN;
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let limiter = limiter.clone();
        let grants = Arc::clone(&grants);
        tasks.push(tokio::spawn(async move {
            loop {
                limiter.acquire(1).await.unwrap();
                let now = Instant::now();
                if now >= end {
                    return;
                }
                grants.lock().unwrap().push(now - start);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut grants = grants.lock().unwrap().clone();
    grants.sort();

    let total = grants.len();
    let steady = total as f64 - f64::from(BURST);
    let achieved = steady / RUN.as_secs_f64();
    let error_pct = (achieved - RATE) / RATE * 100.0;

    let mut max_window = 0;
    let mut j = 0;
    for i in 0..grants.len() {
        while j < grants.len() && grants[j] - grants[i] < Duration::from_secs(1) {
            j += 1;
        }
        max_window = max_window.max(j - i);
    }

    println!("tasks: {TASKS}, rate: {RATE}/s, burst: {BURST}, run: {RUN:?}");
    println!(
        "granted: {total} (ideal {} = rate x t + burst)",
        RATE * RUN.as_secs_f64() + f64::from(BURST)
    );
    println!("steady rate: {achieved:.2}/s ({error_pct:+.3} %)");
    println!(
        "max in any 1 s window: {max_window} (limit {})",
        RATE as u32 + BURST
    );
    let ok = error_pct.abs() <= 2.0 && max_window <= RATE as usize + BURST as usize;
    println!("{}", if ok { "PASS" } else { "FAIL" });
}
