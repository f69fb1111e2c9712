//! The builder's options, and the settings `build()` resolves them into, checked
//! against SQS's limits and the queue's attributes.

use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName as Sys;
use weir_sqs::{Queue, QueueAttributes};

use crate::config::{AckBatching, DeadLetter, Lease};
use crate::error::BuildError;
use crate::limit::ReceiveLimit;
use crate::retry::{MAX_VISIBILITY, RetryPolicy};

/// The most messages one `ReceiveMessage` returns.
pub(crate) const MAX_RECEIVE: usize = 10;
/// The largest concurrency a worker accepts.
pub const MAX_CONCURRENCY: usize = 10_000;
/// The most parallel long polls a worker runs.
pub const MAX_POLLERS: usize = 64;

/// What the builder was told; `None` is the documented default.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    pub(crate) concurrency: Option<usize>,
    pub(crate) pollers: Option<usize>,
    pub(crate) wait_time: Option<Duration>,
    pub(crate) visibility_timeout: Option<Duration>,
    pub(crate) limit: Option<ReceiveLimit>,
    pub(crate) retry_policy: Option<RetryPolicy>,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) dead_letter: Option<DeadLetter>,
    pub(crate) ack_batching: Option<AckBatching>,
    pub(crate) shutdown_timeout: Option<Duration>,
    pub(crate) lease: Option<Lease>,
    pub(crate) poll_grace: Option<Duration>,
    pub(crate) poll_backoff_max: Option<Duration>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) handler_timeout: Option<Duration>,
    pub(crate) system_attributes: Option<Vec<Sys>>,
    pub(crate) envelope: weir_sqs::Envelope,
    #[cfg(feature = "s3")]
    pub(crate) offload: Option<weir_sqs::s3::Offload>,
}

/// Settings, resolved against the queue's attributes.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) concurrency: usize,
    pub(crate) pollers: usize,
    pub(crate) wait_time: Duration,
    /// The visibility timeout messages are received with.
    pub(crate) visibility: Duration,
    /// Sent with `ReceiveMessage` when the user set one.
    pub(crate) visibility_param: Option<Duration>,
    pub(crate) fifo: bool,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_attempts: u32,
    pub(crate) dead_letter: Option<Queue>,
    /// The source queue's ARN (or URL), for dead-letter attributes.
    pub(crate) source: String,
    pub(crate) ack_max: usize,
    pub(crate) ack_interval: Duration,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) lease_enabled: bool,
    pub(crate) lease_threshold: Duration,
    pub(crate) lease_max_total: Duration,
    pub(crate) poll_grace: Duration,
    pub(crate) poll_backoff_max: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) handler_timeout: Option<Duration>,
    pub(crate) limit: Option<ReceiveLimit>,
    pub(crate) system_attributes: Vec<Sys>,
    /// Where offloaded payloads are, and whether their objects go after the ack.
    #[cfg(feature = "s3")]
    pub(crate) offload: Option<weir_sqs::s3::Offload>,
}

fn check(
    ok: bool,
    setting: &'static str,
    reason: impl FnOnce() -> String,
) -> Result<(), BuildError> {
    if ok {
        Ok(())
    } else {
        Err(BuildError::new(setting, reason()))
    }
}

impl Options {
    /// Resolves and checks every setting for `queue`.
    pub(crate) fn resolve(self, queue: &Queue) -> Result<Settings, BuildError> {
        let attrs = queue.attributes();
        let (concurrency, pollers) = self.sizes()?;
        let wait_time = self.wait_time.unwrap_or(Duration::from_secs(20));
        check(wait_time <= Duration::from_secs(20), "wait_time", || {
            format!("SQS long polls wait 0 to 20 s, got {wait_time:?}")
        })?;
        if let Some(v) = self.visibility_timeout {
            check(
                v >= Duration::from_secs(1) && v <= MAX_VISIBILITY,
                "visibility_timeout",
                || format!("must be 1 s to 12 h (43 200 s), got {v:?}"),
            )?;
        }
        let visibility = self
            .visibility_timeout
            .unwrap_or_else(|| attrs.visibility_timeout())
            .max(Duration::from_secs(1));
        let max_attempts = self.max_attempts.unwrap_or(10);
        check(max_attempts >= 1, "max_attempts", || {
            "must be at least 1".to_owned()
        })?;
        let retry = self.retry_policy.clone().unwrap_or_default();
        retry.validate()?;
        let acks = self.ack_batching.clone().unwrap_or_default();
        check_acks(&acks, visibility)?;
        let lease = self.lease.clone().unwrap_or_default();
        let lease_threshold = check_lease(&lease, visibility)?;
        let fifo = queue.is_fifo();
        let dead_letter = self.dead_letter_queue(queue, fifo)?;
        let (poll_grace, poll_backoff_max) = self.polling(wait_time)?;
        let request_timeout = self.request_timeout.unwrap_or(Duration::from_secs(10));
        check(
            request_timeout >= Duration::from_millis(100)
                && request_timeout <= Duration::from_secs(300),
            "request_timeout",
            || format!("must be 100 ms to 5 min, got {request_timeout:?}"),
        )?;
        if let Some(t) = self.handler_timeout {
            check(
                !t.is_zero() && t <= MAX_VISIBILITY,
                "handler_timeout",
                || format!("must be above zero and at most 12 h, got {t:?}"),
            )?;
        }
        Ok(Settings {
            concurrency,
            pollers,
            wait_time,
            visibility,
            visibility_param: self.visibility_timeout,
            fifo,
            retry,
            max_attempts,
            dead_letter,
            source: attrs
                .arn()
                .map_or_else(|| queue.url().to_owned(), str::to_owned),
            ack_max: acks.max_batch,
            ack_interval: acks.interval,
            shutdown_timeout: self.shutdown_timeout.unwrap_or(Duration::from_secs(30)),
            lease_enabled: lease.enabled,
            lease_threshold,
            lease_max_total: lease.max_total,
            poll_grace,
            poll_backoff_max,
            request_timeout,
            handler_timeout: self.handler_timeout,
            limit: self.limit.clone(),
            system_attributes: system_attributes(self.system_attributes, fifo),
            #[cfg(feature = "s3")]
            offload: self.offload,
        })
    }

    fn sizes(&self) -> Result<(usize, usize), BuildError> {
        let concurrency = self.concurrency.unwrap_or(10);
        check(
            (1..=MAX_CONCURRENCY).contains(&concurrency),
            "concurrency",
            || format!("must be 1 to {MAX_CONCURRENCY}, got {concurrency}"),
        )?;
        let pollers = self
            .pollers
            .unwrap_or_else(|| concurrency.div_ceil(MAX_RECEIVE).clamp(1, 8));
        check(
            (1..=MAX_POLLERS).contains(&pollers) && pollers <= concurrency,
            "pollers",
            || {
                format!(
                    "must be 1 to {MAX_POLLERS} and at most the concurrency ({concurrency}), got {pollers}"
                )
            },
        )?;
        Ok((concurrency, pollers))
    }

    fn dead_letter_queue(&self, queue: &Queue, fifo: bool) -> Result<Option<Queue>, BuildError> {
        let Some(dlq) = &self.dead_letter else {
            return Ok(None);
        };
        check(!dlq.url.is_empty(), "dead_letter", || {
            "the queue URL is empty".to_owned()
        })?;
        let dlq_queue = dlq.queue.clone().unwrap_or_else(|| {
            Queue::with_attributes(queue.client().clone(), &dlq.url, QueueAttributes::default())
        });
        check(!fifo || dlq_queue.is_fifo(), "dead_letter", || {
            format!(
                "a FIFO queue's dead-letter queue must be FIFO (its URL ends in .fifo), got {}",
                dlq.url
            )
        })?;
        Ok(Some(dlq_queue))
    }

    fn polling(&self, wait_time: Duration) -> Result<(Duration, Duration), BuildError> {
        let poll_grace = self
            .poll_grace
            .unwrap_or_else(|| Duration::from_secs(2).min(wait_time.max(Duration::from_secs(1))));
        check(
            poll_grace <= wait_time.max(Duration::from_secs(1)),
            "poll_grace",
            || format!("must be at most the wait time ({wait_time:?}), got {poll_grace:?}"),
        )?;
        let poll_backoff_max = self.poll_backoff_max.unwrap_or(Duration::from_secs(30));
        check(
            poll_backoff_max >= Duration::from_secs(1)
                && poll_backoff_max <= Duration::from_secs(300),
            "poll_backoff_max",
            || format!("must be 1 s to 5 min, got {poll_backoff_max:?}"),
        )?;
        Ok((poll_grace, poll_backoff_max))
    }
}

fn check_acks(acks: &AckBatching, visibility: Duration) -> Result<(), BuildError> {
    check((1..=10).contains(&acks.max_batch), "ack_batching", || {
        format!(
            "DeleteMessageBatch takes 1 to 10 entries, got {}",
            acks.max_batch
        )
    })?;
    check(
        acks.interval <= Duration::from_secs(10) && acks.interval < visibility,
        "ack_batching",
        || {
            format!(
                "the interval must be at most 10 s and shorter than the visibility timeout ({visibility:?}), got {:?}",
                acks.interval
            )
        },
    )
}

/// Checks the lease and returns its threshold.
fn check_lease(lease: &Lease, visibility: Duration) -> Result<Duration, BuildError> {
    let threshold = lease
        .threshold
        .unwrap_or_else(|| (visibility / 2).max(Duration::from_secs(1)));
    if lease.enabled {
        check(threshold < visibility, "lease", || {
            format!(
                "the threshold ({threshold:?}) must be shorter than the visibility timeout ({visibility:?})"
            )
        })?;
        check(
            lease.max_total >= Duration::from_secs(1) && lease.max_total <= MAX_VISIBILITY,
            "lease",
            || {
                format!(
                    "the maximum length must be 1 s to 12 h, got {:?}",
                    lease.max_total
                )
            },
        )?;
    }
    Ok(threshold)
}

/// The system attributes to receive: the user's (or the default), plus those the worker
/// needs.
fn system_attributes(asked: Option<Vec<Sys>>, fifo: bool) -> Vec<Sys> {
    let mut names = asked.unwrap_or_else(|| {
        let mut names = vec![Sys::AwsTraceHeader];
        if fifo {
            names.extend([Sys::SequenceNumber, Sys::MessageDeduplicationId]);
        }
        names
    });
    if !names.contains(&Sys::All) {
        let needed: &[Sys] = if fifo {
            &[Sys::ApproximateReceiveCount, Sys::MessageGroupId]
        } else {
            &[Sys::ApproximateReceiveCount]
        };
        for name in needed {
            if !names.contains(name) {
                names.insert(0, name.clone());
            }
        }
    }
    names
}
