use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// One reading of a queue's approximate depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthSample {
    /// `ApproximateNumberOfMessages`: messages available to receive.
    pub visible: u64,
    /// `ApproximateNumberOfMessagesNotVisible` (in flight), if the monitor samples it.
    pub not_visible: Option<u64>,
    /// `ApproximateNumberOfMessagesDelayed`, if the monitor samples it.
    pub delayed: Option<u64>,
    /// When the sample was taken (tokio's clock).
    pub at: Instant,
}

impl DepthSample {
    /// A sample of `visible` messages taken now, with nothing else sampled.
    #[must_use]
    pub fn visible(visible: u64) -> Self {
        Self {
            visible,
            not_visible: None,
            delayed: None,
            at: Instant::now(),
        }
    }

    /// The depth compared with the watermarks: the sum of the counts sampled.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.visible
            .saturating_add(self.not_visible.unwrap_or(0))
            .saturating_add(self.delayed.unwrap_or(0))
    }
}

/// A process-wide monitor of one queue's depth.
///
/// One background task calls `GetQueueAttributes` every interval and publishes the sample
/// on a [`tokio::sync::watch`] channel; producers read the latest sample, so sending adds no
/// SQS call. SQS's counts are approximate and may lag by a minute or so; an interval of a
/// few seconds is plenty.
///
/// # Clone
///
/// Clones share the task and the latest sample. The task stops when the last clone is
/// dropped. A failed `GetQueueAttributes` keeps the previous sample and is counted in
/// [`errors`](Self::errors).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use weir_middleware::backpressure::DepthMonitor;
///
/// # async fn run(client: aws_sdk_sqs::Client, queue_url: String) -> Result<(), Box<dyn std::error::Error>> {
/// let depth = DepthMonitor::builder(client, queue_url)
///     .interval(Duration::from_secs(5))
///     .include_delayed(true)
///     .spawn()?;
/// if let Some(sample) = depth.latest() {
///     println!("{} messages waiting", sample.total());
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DepthMonitor {
    rx: watch::Receiver<Option<DepthSample>>,
    shared: Arc<Shared>,
}

struct Shared {
    source: String,
    errors: Arc<AtomicU64>,
    task: Option<AbortHandle>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl DepthMonitor {
    /// A builder for a monitor of the queue at `queue_url`, through `client`.
    pub fn builder(client: Client, queue_url: impl Into<String>) -> DepthMonitorBuilder {
        DepthMonitorBuilder {
            client,
            queue_url: queue_url.into(),
            interval: None,
            not_visible: false,
            delayed: false,
        }
    }

    /// A monitor fed by hand (or by your own source): the returned [`DepthSender`] publishes
    /// samples. Useful in tests and for depths that come from elsewhere (CloudWatch, a
    /// worker's own counts).
    #[must_use]
    pub fn manual() -> (Self, DepthSender) {
        let (tx, rx) = watch::channel(None);
        let monitor = Self {
            rx,
            shared: Arc::new(Shared {
                source: "manual".to_owned(),
                errors: Arc::new(AtomicU64::new(0)),
                task: None,
            }),
        };
        (monitor, DepthSender { tx })
    }

    /// The latest sample, or `None` before the first one arrives.
    #[must_use]
    pub fn latest(&self) -> Option<DepthSample> {
        *self.rx.borrow()
    }

    /// A receiver whose [`changed`](watch::Receiver::changed) resolves at the next sample
    /// (the current one counts as seen).
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<Option<DepthSample>> {
        let mut rx = self.rx.clone();
        rx.mark_unchanged();
        rx
    }

    /// How many samples failed (and were skipped) so far.
    #[must_use]
    pub fn errors(&self) -> u64 {
        self.shared.errors.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for DepthMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DepthMonitor")
            .field("source", &self.shared.source)
            .field("latest", &self.latest())
            .field("errors", &self.errors())
            .finish()
    }
}

/// Publishes samples to a [`DepthMonitor::manual`] monitor.
#[derive(Debug, Clone)]
pub struct DepthSender {
    tx: watch::Sender<Option<DepthSample>>,
}

impl DepthSender {
    /// Publishes `sample` as the latest.
    pub fn send(&self, sample: DepthSample) {
        self.tx.send_replace(Some(sample));
    }
}

/// Builds a [`DepthMonitor`] monitor; [`spawn`](Self::spawn) validates and starts it.
#[derive(Debug, Clone)]
#[must_use]
pub struct DepthMonitorBuilder {
    client: Client,
    queue_url: String,
    interval: Option<Duration>,
    not_visible: bool,
    delayed: bool,
}

/// The default sampling interval.
pub const DEFAULT_DEPTH_INTERVAL: Duration = Duration::from_secs(5);

impl DepthMonitorBuilder {
    /// How often to sample. Default: [`DEFAULT_DEPTH_INTERVAL`] (5 s).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// Also sample `ApproximateNumberOfMessagesNotVisible` (in flight) and count it in
    /// [`DepthSample::total`]. Default: no.
    pub fn include_not_visible(mut self, yes: bool) -> Self {
        self.not_visible = yes;
        self
    }

    /// Also sample `ApproximateNumberOfMessagesDelayed` and count it in
    /// [`DepthSample::total`]. Default: no.
    pub fn include_delayed(mut self, yes: bool) -> Self {
        self.delayed = yes;
        self
    }

    /// Starts the background task on the current tokio runtime. The first sample is taken
    /// at once.
    ///
    /// # Errors
    ///
    /// [`DepthBuildError`] if the interval is zero, the queue URL is empty, or there is no
    /// tokio runtime.
    pub fn spawn(self) -> Result<DepthMonitor, DepthBuildError> {
        let interval = self.interval.unwrap_or(DEFAULT_DEPTH_INTERVAL);
        if interval.is_zero() {
            return Err(DepthBuildError::ZeroInterval);
        }
        if self.queue_url.is_empty() {
            return Err(DepthBuildError::EmptyQueueUrl);
        }
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| DepthBuildError::NoRuntime)?;
        let (tx, rx) = watch::channel(None);
        let errors = Arc::new(AtomicU64::new(0));
        let source = self.queue_url.clone();
        let task = runtime.spawn(sample_loop(self, interval, tx, Arc::clone(&errors)));
        Ok(DepthMonitor {
            rx,
            shared: Arc::new(Shared {
                source,
                errors,
                task: Some(task.abort_handle()),
            }),
        })
    }
}

async fn sample_loop(
    config: DepthMonitorBuilder,
    interval: Duration,
    tx: watch::Sender<Option<DepthSample>>,
    errors: Arc<AtomicU64>,
) {
    let mut names = vec![QueueAttributeName::ApproximateNumberOfMessages];
    if config.not_visible {
        names.push(QueueAttributeName::ApproximateNumberOfMessagesNotVisible);
    }
    if config.delayed {
        names.push(QueueAttributeName::ApproximateNumberOfMessagesDelayed);
    }
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let response = config
            .client
            .get_queue_attributes()
            .queue_url(&config.queue_url)
            .set_attribute_names(Some(names.clone()))
            .send()
            .await;
        let attributes = match response {
            Ok(out) => out.attributes,
            Err(err) => {
                errors.fetch_add(1, Ordering::Relaxed);
                let err = weir_sqs::Error::from_sdk("GetQueueAttributes", err);
                tracing::warn!(queue_url = %config.queue_url, error = %err, "queue depth sample failed");
                continue;
            }
        };
        let count = |name: &QueueAttributeName| {
            attributes
                .as_ref()
                .and_then(|a| a.get(name))
                .and_then(|v| v.parse::<u64>().ok())
        };
        let sample = DepthSample {
            visible: count(&QueueAttributeName::ApproximateNumberOfMessages).unwrap_or(0),
            not_visible: config.not_visible.then(|| {
                count(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible).unwrap_or(0)
            }),
            delayed: config.delayed.then(|| {
                count(&QueueAttributeName::ApproximateNumberOfMessagesDelayed).unwrap_or(0)
            }),
            at: Instant::now(),
        };
        tracing::trace!(queue_url = %config.queue_url, depth = sample.total(), "queue depth sampled");
        tx.send_replace(Some(sample));
    }
}

/// A [`DepthMonitor`] monitor could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DepthBuildError {
    /// The sampling interval is zero.
    #[error("queue depth sampling interval must be above zero")]
    ZeroInterval,
    /// The queue URL is empty.
    #[error("queue depth monitor needs a queue URL")]
    EmptyQueueUrl,
    /// `spawn` was called outside a tokio runtime.
    #[error("queue depth monitor must be spawned inside a tokio runtime")]
    NoRuntime,
}
