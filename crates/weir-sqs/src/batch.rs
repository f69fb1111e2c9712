//! Batch plumbing: the pure batch splitter, and the engine that runs batch calls
//! concurrently and retries only the entries that failed retryably.

use std::future::Future;
use std::ops::Range;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::StreamExt;

use crate::error::{BatchEntryFailure, Error, Result};
use crate::validate::MAX_BATCH_ENTRIES;

/// Splits messages of the given `sizes` (in order) into consecutive batches of at most
/// `max_entries` entries and at most `max_bytes` bytes in total.
///
/// Order is kept and every message lands in exactly one batch. A single message larger
/// than `max_bytes` gets a batch of its own (callers refuse such messages before).
///
/// # Examples
///
/// ```
/// use weir_sqs::batch::split_batches;
///
/// let batches = split_batches(&[4, 4, 4, 4], 10, 10);
/// assert_eq!(batches, vec![0..2, 2..4]);
/// assert_eq!(split_batches(&[1; 25], 10, 1000), vec![0..10, 10..20, 20..25]);
/// ```
#[must_use]
pub fn split_batches(sizes: &[usize], max_entries: usize, max_bytes: usize) -> Vec<Range<usize>> {
    let max_entries = max_entries.max(1);
    let mut out = Vec::with_capacity(sizes.len() / max_entries + 1);
    let mut start = 0;
    let mut bytes = 0usize;
    for (i, &size) in sizes.iter().enumerate() {
        let full =
            i - start >= max_entries || (i > start && bytes.saturating_add(size) > max_bytes);
        if full {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes = bytes.saturating_add(size);
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

/// How failed entries are retried: exponential backoff with jitter (backon).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Retries after the first attempt (0 disables retries).
    pub max_retries: usize,
    /// First backoff delay.
    pub min_delay: Duration,
    /// Largest backoff delay.
    pub max_delay: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 3,
            min_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryConfig {
    /// No retries: failures are returned as they are.
    #[must_use]
    pub fn disabled() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    fn backoff(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .with_jitter()
            .build()
    }
}

/// What one batch call returned for one entry: its output, or SQS's failure.
pub(crate) type EntryResult<O> = std::result::Result<O, BatchEntryFailure>;

/// Runs `call` over `items` split into `chunks` (index ranges), at most `concurrency`
/// calls at once. `call` gets `(index, item)` pairs and must use the index as the batch
/// entry id (`index.to_string()`), returning one result per index it heard back about.
/// Entries that failed retryably (or whose whole call failed retryably) are retried
/// with backoff; the result has one entry per item, in order.
pub(crate) async fn run<E, O, F, Fut>(
    items: Vec<E>,
    chunks: Vec<Range<usize>>,
    concurrency: usize,
    retry: RetryConfig,
    call: F,
) -> Vec<Result<O>>
where
    E: Clone,
    F: Fn(Vec<(usize, E)>) -> Fut,
    Fut: Future<Output = Result<Vec<(usize, EntryResult<O>)>>>,
{
    let n = items.len();
    let call = &call;
    let items = &items;
    let per_chunk = futures_util::stream::iter(chunks)
        .map(|range| async move {
            let mut pending: Vec<usize> = range.collect();
            let mut done: Vec<(usize, Result<O>)> = Vec::with_capacity(pending.len());
            let mut backoff = retry.backoff();
            loop {
                let batch = pending.iter().map(|&i| (i, items[i].clone())).collect();
                let outcome = call(batch).await;
                let mut retry_now = Vec::new();
                let mut last_err: Option<Error> = None;
                match outcome {
                    Err(e) if e.is_retryable() => {
                        retry_now = std::mem::take(&mut pending);
                        last_err = Some(e);
                    }
                    Err(e) => {
                        done.extend(pending.drain(..).map(|i| (i, Err(e.clone()))));
                    }
                    Ok(results) => {
                        let mut seen = vec![false; n];
                        for (i, r) in results {
                            if i >= n || seen[i] || !pending.contains(&i) {
                                continue;
                            }
                            seen[i] = true;
                            match r {
                                Ok(o) => done.push((i, Ok(o))),
                                Err(f) if f.is_retryable() => {
                                    retry_now.push(i);
                                    last_err = Some(Error::BatchEntry(f));
                                }
                                Err(f) => done.push((i, Err(Error::BatchEntry(f)))),
                            }
                        }
                        for &i in &pending {
                            if !seen[i] {
                                retry_now.push(i);
                                last_err = Some(Error::BatchEntry(BatchEntryFailure::new(
                                    i,
                                    i.to_string(),
                                    "MissingFromResponse",
                                    Some("the batch response did not mention this entry".into()),
                                    false,
                                )));
                            }
                        }
                        pending.clear();
                    }
                }
                if retry_now.is_empty() {
                    break;
                }
                match backoff.next() {
                    Some(d) => {
                        tracing::debug!(
                            entries = retry_now.len(),
                            delay_ms = d.as_millis() as u64,
                            "retrying failed batch entries"
                        );
                        tokio::time::sleep(d).await;
                        pending = retry_now;
                    }
                    None => {
                        let err = last_err
                            .unwrap_or_else(|| Error::invalid("batch", "retries exhausted"));
                        done.extend(retry_now.into_iter().map(|i| (i, Err(err.clone()))));
                        break;
                    }
                }
            }
            done
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;

    let mut slots: Vec<Option<Result<O>>> = (0..n).map(|_| None).collect();
    for (i, r) in per_chunk.into_iter().flatten() {
        slots[i] = Some(r);
    }
    slots
        .into_iter()
        .map(|s| s.unwrap_or_else(|| Err(Error::invalid("batch", "entry was not sent"))))
        .collect()
}

/// Turns per-entry results into every output, or into one [`Error::PartialBatch`] that
/// lists each failed entry (its index, code and message).
///
/// # Errors
///
/// [`Error::PartialBatch`] when any entry failed.
///
/// # Examples
///
/// ```
/// use weir_sqs::batch::require_all;
/// use weir_sqs::Error;
///
/// let ok: Vec<weir_sqs::Result<u8>> = vec![Ok(1), Ok(2)];
/// assert_eq!(require_all("SendMessageBatch", ok).unwrap(), vec![1, 2]);
///
/// let mixed = vec![Ok(1), Err(Error::InvalidInput(weir_sqs::error::InvalidInput::new("body", "empty")))];
/// match require_all("SendMessageBatch", mixed).unwrap_err() {
///     Error::PartialBatch(f) => {
///         assert_eq!(f.total(), 2);
///         assert_eq!(f.entries()[0].index(), 1);
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn require_all<O>(operation: &'static str, results: Vec<Result<O>>) -> Result<Vec<O>> {
    let total = results.len();
    let mut out = Vec::with_capacity(total);
    let mut failed = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(o) => out.push(o),
            Err(Error::BatchEntry(f)) => failed.push(BatchEntryFailure::new(
                i,
                f.id(),
                f.code(),
                f.message().map(str::to_owned),
                f.is_sender_fault(),
            )),
            Err(e) => failed.push(BatchEntryFailure::new(
                i,
                i.to_string(),
                e.code().unwrap_or(match &e {
                    Error::PayloadTooLarge(_) => "PayloadTooLarge",
                    Error::InvalidInput(_) => "InvalidInput",
                    Error::Codec(_) => "CodecError",
                    _ => "Error",
                }),
                Some(e.to_string()),
                !e.is_retryable(),
            )),
        }
    }
    if failed.is_empty() {
        Ok(out)
    } else {
        Err(Error::PartialBatch(crate::error::BatchFailure::new(
            operation, total, failed,
        )))
    }
}

/// Chunks of at most 10 for calls whose entries have no size (delete, change visibility).
pub(crate) fn chunks_of_ten(n: usize) -> Vec<Range<usize>> {
    (0..n)
        .step_by(MAX_BATCH_ENTRIES)
        .map(|s| s..(s + MAX_BATCH_ENTRIES).min(n))
        .collect()
}

/// Reads the index back from a batch entry id written as `index.to_string()`.
pub(crate) fn index_of(id: &str) -> Option<usize> {
    id.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::Mutex;

    #[test]
    fn splits_by_count_and_bytes() {
        assert_eq!(split_batches(&[], 10, 100), Vec::<Range<usize>>::new());
        assert_eq!(split_batches(&[5; 3], 10, 10), vec![0..2, 2..3]);
        assert_eq!(split_batches(&[20, 1], 10, 10), vec![0..1, 1..2]);
        assert_eq!(chunks_of_ten(21), vec![0..10, 10..20, 20..21]);
    }

    proptest! {
        #[test]
        fn split_invariants(
            sizes in proptest::collection::vec(1usize..=1000, 0..200),
            max_entries in 1usize..=10,
            max_bytes in 1000usize..=5000,
        ) {
            let batches = split_batches(&sizes, max_entries, max_bytes);
            let mut next = 0;
            for b in &batches {
                // consecutive, in order, non-empty: every message in exactly one batch
                prop_assert_eq!(b.start, next);
                prop_assert!(b.end > b.start);
                next = b.end;
                prop_assert!(b.len() <= max_entries);
                prop_assert!(sizes[b.clone()].iter().sum::<usize>() <= max_bytes);
            }
            prop_assert_eq!(next, sizes.len());
        }

        #[test]
        fn split_is_greedy(sizes in proptest::collection::vec(1usize..=500, 1..100)) {
            // every batch but the last is full: adding the next message would break a limit
            let batches = split_batches(&sizes, 10, 1000);
            for b in &batches[..batches.len() - 1] {
                let with_next: usize = sizes[b.start..=b.end].iter().sum();
                prop_assert!(b.len() == 10 || with_next > 1000);
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_only_failed_retryable_entries() {
        let calls = Mutex::new(Vec::<Vec<usize>>::new());
        let out = run(
            (0..12).collect::<Vec<u32>>(),
            chunks_of_ten(12),
            2,
            RetryConfig::default(),
            |batch: Vec<(usize, u32)>| {
                let idx: Vec<usize> = batch.iter().map(|(i, _)| *i).collect();
                let first = {
                    let mut c = calls.lock().unwrap();
                    c.push(idx.clone());
                    c.len() <= 2
                };
                async move {
                    Ok(idx
                        .into_iter()
                        .map(|i| {
                            let r = match i {
                                3 if first => Err(BatchEntryFailure::new(
                                    i,
                                    i.to_string(),
                                    "InternalError",
                                    None,
                                    false,
                                )),
                                5 => Err(BatchEntryFailure::new(
                                    i,
                                    i.to_string(),
                                    "InvalidParameterValue",
                                    None,
                                    true,
                                )),
                                _ => Ok(i * 10),
                            };
                            (i, r)
                        })
                        .collect())
                }
            },
        )
        .await;
        assert_eq!(out.len(), 12);
        assert_eq!(*out[3].as_ref().unwrap(), 30);
        assert!(
            matches!(out[5], Err(Error::BatchEntry(ref f)) if f.code() == "InvalidParameterValue")
        );
        assert_eq!(*out[11].as_ref().unwrap(), 110);
        let calls = calls.into_inner().unwrap();
        assert_eq!(calls.len(), 3, "two chunks, then one retry");
        assert_eq!(calls[2], vec![3], "only the retryable failure is retried");
    }

    #[tokio::test(start_paused = true)]
    async fn whole_call_failure_gives_up_after_retries() {
        let count = Mutex::new(0);
        let out: Vec<Result<()>> = run(
            vec![(); 3],
            chunks_of_ten(3),
            1,
            RetryConfig::default(),
            |_b| {
                *count.lock().unwrap() += 1;
                async {
                    Err(Error::Sqs(crate::error::SqsError::new(
                        "DeleteMessageBatch",
                        crate::error::SqsErrorKind::Timeout,
                        None,
                        None,
                        None,
                    )))
                }
            },
        )
        .await;
        assert_eq!(*count.lock().unwrap(), 4, "1 try + 3 retries");
        assert!(
            out.iter()
                .all(|r| r.as_ref().is_err_and(Error::is_retryable))
        );
    }
}
