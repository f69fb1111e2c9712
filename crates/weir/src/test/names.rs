//! Queue names that no other test, process or earlier run has used.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// `prefix-<pid>-<nanoseconds>-<n>`, unique within the process (a counter), across
/// processes (the pid) and across runs against the same LocalStack or AWS account (the
/// clock). A prefix ending in `.fifo` keeps that ending, as a FIFO queue's name must.
///
/// ```
/// let a = weir::test::unique_name("orders");
/// let b = weir::test::unique_name("orders");
/// assert_ne!(a, b);
/// assert!(a.starts_with("orders-"));
/// assert!(weir::test::unique_name("orders.fifo").ends_with(".fifo"));
/// ```
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let pid = std::process::id();
    match prefix.strip_suffix(".fifo") {
        Some(stem) => format!("{stem}-{pid}-{nanos}-{n}.fifo"),
        None => format!("{prefix}-{pid}-{nanos}-{n}"),
    }
}
