//! The body of a bench message: its id, its send time, and padding to the payload size.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// What every bench message carries, as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct BenchMsg {
    pub(super) id: u64,
    /// Send time, microseconds since the Unix epoch.
    pub(super) t: u64,
    pub(super) pad: String,
}

/// Microseconds since the Unix epoch.
pub(super) fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Message `id`, stamped now.
pub(super) fn body_of(id: u64, pad: &str) -> BenchMsg {
    BenchMsg {
        id,
        t: now_us(),
        pad: pad.to_owned(),
    }
}

/// Padding that brings the JSON body of ids up to `n` to about `payload` bytes.
pub(super) fn padding(payload: u32, n: u64) -> String {
    let overhead = serde_json::to_string(&BenchMsg {
        id: n,
        t: now_us(),
        pad: String::new(),
    })
    .map_or(40, |s| s.len());
    "x".repeat(
        usize::try_from(payload)
            .unwrap_or(0)
            .saturating_sub(overhead),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_brings_the_body_to_the_payload_size() {
        let pad = padding(256, 100_000);
        let body = serde_json::to_string(&body_of(99_999, &pad)).unwrap();
        assert!((250..=262).contains(&body.len()), "{}", body.len());
    }
}
