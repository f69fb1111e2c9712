//! The runtime: pollers → dispatcher → one task per message → acker / retry / DLQ,
//! with the lease task beside them, and the shutdown sequence that stops them in order.
//!
//! On standard queues a poller starts the messages it received itself while the
//! handler service is ready (the dispatcher takes the rest, and keeps FIFO groups in
//! order), and a batch whose handlers all finish at once goes straight to a delete: a
//! message then stays on one thread from its receive to its delete, as in a plain
//! receive/delete loop, instead of crossing four tasks.

pub(crate) mod acker;
pub(crate) mod dispatch;
pub(crate) mod lease;
pub(crate) mod ops;
pub(crate) mod outcome;
pub(crate) mod poller;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::util::BoxService;
use weir_sqs::ReceiveOptions;

use crate::handler::BoxError;
use crate::health::HealthState;
use crate::report::WorkerReport;
use crate::retry::RetryPolicy;
use acker::{AckMsg, Acker, Deleter, Flusher};
use dispatch::{Ctx, Dispatcher, Handler};
use lease::{LeaseTask, Leases};
use ops::Sqs;
use poller::Poller;

/// A receipt handle, shared by the message's lease, ack and release without copies.
pub(crate) type Receipt = Arc<str>;

/// A received message: what the worker keeps, and the handler's request (or why the
/// body did not decode).
pub(crate) type Received<Req> = (Meta, Result<Req, String>);

/// Where messages come from: a `ReceiveMessage` call, decoded.
pub(crate) trait Source<Req>: Send + Sync + 'static {
    /// Receives with `options`; `started` is when the request was sent (visibility is
    /// counted from there); `keep_body` keeps body and attributes for the DLQ.
    fn receive(
        &self,
        options: ReceiveOptions,
        started: Instant,
        keep_body: bool,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Received<Req>>, weir_sqs::Error>> + Send + '_>>;
}

/// A shared limit on messages per second, taken before each receive.
pub(crate) trait Limit: Send + Sync + 'static {
    /// The most permits one call may take.
    fn max_batch(&self) -> u32;
    fn acquire(&self, n: u32) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

impl Limit for weir_middleware::RateLimiter {
    fn max_batch(&self) -> u32 {
        self.burst()
    }

    fn acquire(&self, n: u32) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            if let Err(e) = Self::acquire(self, n).await {
                tracing::warn!(error = %e, "rate limiter refused; receiving anyway");
            }
        })
    }
}

/// Settings, resolved against the queue's attributes at start.
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
    pub(crate) dead_letter: Option<String>,
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
    pub(crate) limiter: Option<Arc<dyn Limit>>,
    /// Asked for with every receive.
    pub(crate) system_attributes: Vec<aws_sdk_sqs::types::MessageSystemAttributeName>,
}

/// What the worker keeps about a received message, apart from the handler's request.
pub(crate) struct Meta {
    pub(crate) id: String,
    pub(crate) receipt: Receipt,
    pub(crate) receive_count: u32,
    pub(crate) group: Option<String>,
    /// Body and attributes, kept only when a DLQ is configured.
    pub(crate) body: Option<String>,
    pub(crate) attributes: Option<weir_sqs::Attributes>,
    /// When the receive that brought it was sent: its visibility is counted from here
    /// (the earliest it can have started), to extend it in time.
    pub(crate) received_at: Instant,
    /// When the receive's answer arrived: about when SQS handed it out (a long poll
    /// can wait long before that), to judge whether a delete came too late.
    pub(crate) returned_at: Instant,
}

impl Meta {
    pub(crate) fn from_message<T>(
        m: &weir_sqs::Message<T>,
        received_at: Instant,
        keep_body: bool,
    ) -> Self {
        Self {
            id: m.message_id().to_owned(),
            receipt: Receipt::from(m.receipt_handle()),
            receive_count: m.receive_count(),
            group: m.group_id().map(str::to_owned),
            body: keep_body.then(|| m.raw_body().to_owned()),
            attributes: keep_body.then(|| m.attributes().clone()),
            received_at,
            // Read once per receive, when its answer arrived.
            returned_at: m.received_at(),
        }
    }
}

pub(crate) struct Job<Req> {
    pub(crate) meta: Meta,
    pub(crate) req: Result<Req, String>,
    pub(crate) permit: Slot,
    /// Its lease, from the moment the dispatcher takes it in (prefetched messages are
    /// kept invisible too).
    pub(crate) held: Option<Held>,
}

/// A message's lease key, and the token that fires when its lease is lost (or
/// shutdown gives up on it).
pub(crate) struct Held {
    pub(crate) key: u64,
    pub(crate) token: CancellationToken,
    pub(crate) lost: Arc<AtomicBool>,
    /// Whether the lease task knows it yet: a message is registered when it has to wait
    /// (prefetched), or when its handler does not finish at once.
    pub(crate) registered: bool,
}

/// Where a poller's slots go back to: the concurrency semaphore and the counters of
/// held messages. Each poller has its own handle, so that every slot taking and
/// dropping one writes a count that only that poller's messages use.
pub(crate) struct SlotHome {
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) held: Arc<AtomicUsize>,
    pub(crate) gauge: metrics::Gauge,
}

impl SlotHome {
    /// Turns `permit` into one slot per message, for `n` messages (at most its
    /// permits; the rest go back now).
    pub(crate) fn slots(self: &Arc<Self>, mut permit: OwnedSemaphorePermit, n: usize) -> Vec<Slot> {
        let n = n.min(permit.num_permits());
        drop(permit.split(permit.num_permits() - n));
        // Given back by each slot's drop, below.
        permit.forget();
        if n > 0 {
            self.held.fetch_add(n, Ordering::Relaxed);
            #[allow(clippy::cast_precision_loss)] // at most MAX_CONCURRENCY
            self.gauge.increment(n as f64);
        }
        (0..n)
            .map(|_| Slot {
                home: self.clone(),
                count: 1,
            })
            .collect()
    }
}

/// One message's slot of the concurrency, held until the message is finished (acked,
/// given back, or lost); counts the messages held for [`Health::in_flight`].
///
/// [`Health::in_flight`]: crate::Health::in_flight
pub(crate) struct Slot {
    home: Arc<SlotHome>,
    /// Slots held: 1, or more once merged.
    count: usize,
}

impl Slot {
    /// Takes `other` in, to free both at once: a batch's slots go back to the
    /// semaphore (a lock) and the counters (shared across threads) in one step.
    pub(crate) fn merge(&mut self, mut other: Self) {
        self.count += std::mem::take(&mut other.count);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.count > 0 {
            self.home.slots.add_permits(self.count);
            self.home.held.fetch_sub(self.count, Ordering::Relaxed);
            #[allow(clippy::cast_precision_loss)] // at most MAX_CONCURRENCY
            self.home.gauge.decrement(self.count as f64);
        }
    }
}

/// What every task of a running worker shares.
pub(crate) struct Shared {
    pub(crate) sqs: Arc<Sqs>,
    pub(crate) settings: Settings,
    pub(crate) leases: Arc<Leases>,
    pub(crate) ack_tx: mpsc::UnboundedSender<AckMsg>,
    /// Messages whose handler was cancelled at shutdown, to release in batches.
    pub(crate) release_tx: mpsc::UnboundedSender<Receipt>,
    pub(crate) health: Arc<HealthState>,
    /// Messages whose run (handler, then its outcome) has started and not ended.
    pub(crate) running: AtomicUsize,
    /// The last lease key handed out.
    pub(crate) next_key: AtomicU64,
    /// Spawns deletes, for the acker and for pollers acking full batches themselves.
    pub(crate) flusher: Arc<Flusher>,
}

/// Runs a worker until `signal` (or the health state's shutdown token), then shuts it
/// down in order.
pub(crate) async fn run<Req: Send + 'static>(
    sqs: Arc<Sqs>,
    settings: Settings,
    health: Arc<HealthState>,
    slots: Arc<Semaphore>,
    service: BoxService<Req, (), BoxError>,
    source: &Arc<dyn Source<Req>>,
    signal: impl Future<Output = ()>,
) -> WorkerReport {
    let stats = sqs.stats.clone();
    let (ack_tx, ack_rx) = mpsc::unbounded_channel();
    let shutting_down = Arc::new(AtomicBool::new(false));
    let (release_tx, mut release_rx) = mpsc::unbounded_channel();
    let leases = Arc::new(Leases::new(settings.lease_enabled));
    let stopping = CancellationToken::new();
    let flusher = Arc::new(Flusher::new(Deleter {
        sqs: sqs.clone(),
        leases: leases.clone(),
        health: health.clone(),
        shutting_down: shutting_down.clone(),
        stopping: stopping.clone(),
        visibility: settings.visibility,
    }));
    let acker = Acker {
        flusher: flusher.clone(),
        max: settings.ack_max,
        interval: settings.ack_interval,
        immediate: settings.fifo,
    };
    let acker = tokio::spawn(acker.run(ack_rx));
    let lease_stop = CancellationToken::new();
    let lease_task = LeaseTask {
        sqs: sqs.clone(),
        leases: leases.clone(),
        visibility: settings.visibility,
        threshold: settings.lease_threshold,
        max_total: settings.lease_max_total,
    };
    let lease_task = tokio::spawn(lease_task.run(lease_stop.clone()));
    let pollers_n = settings.pollers;
    let shared = Arc::new(Shared {
        sqs: sqs.clone(),
        settings,
        leases,
        ack_tx: ack_tx.clone(),
        release_tx,
        health: health.clone(),
        running: AtomicUsize::new(0),
        next_key: AtomicU64::new(0),
        flusher,
    });
    health.live.store(true, Ordering::SeqCst);

    let (jobs_tx, jobs_rx) = mpsc::unbounded_channel();
    let tracker = TaskTracker::new();
    let force = CancellationToken::new();
    let ctx = Ctx::new(shared.clone(), tracker.clone(), force.clone());
    let handler = Arc::new(std::sync::Mutex::new(Handler {
        service,
        waiting: false,
    }));
    let poll_stop = CancellationToken::new();
    let mut pollers = tokio::task::JoinSet::new();
    let turn = Arc::new(tokio::sync::Mutex::new(()));
    for _ in 0..pollers_n {
        let p = Poller {
            shared: shared.clone(),
            source: source.clone(),
            slots: slots.clone(),
            jobs: jobs_tx.clone(),
            paused: health.paused.subscribe(),
            turn: turn.clone(),
            // FIFO groups need the dispatcher's ordering; standard queues start
            // messages in the poller that received them.
            start: (!shared.settings.fifo).then(|| (ctx.own(), handler.clone())),
        };
        pollers.spawn(p.run(poll_stop.clone()));
    }
    drop(jobs_tx);
    let dispatch_stop = CancellationToken::new();
    let dispatcher = Dispatcher {
        ctx,
        handler,
        jobs: jobs_rx,
    };
    let dispatcher = tokio::spawn(dispatcher.run(dispatch_stop.clone()));

    tokio::select! {
        () = signal => {}
        () = health.shutdown.cancelled() => {}
    }
    health.shutting_down.store(true, Ordering::SeqCst);
    shutting_down.store(true, Ordering::SeqCst);
    stopping.cancel();
    tracing::info!("shutting down: 1. stop polling");
    // 1. Stop polling. A long poll in flight gets `poll_grace` to complete; its
    //    messages are then released.
    poll_stop.cancel();
    while pollers.join_next().await.is_some() {}

    // 2. Release the messages received and not started.
    tracing::info!("shutting down: 2. release prefetched messages");
    dispatch_stop.cancel();
    let left = dispatcher.await.unwrap_or_default();
    if !left.is_empty() {
        for job in &left {
            if let Some(h) = &job.held {
                shared.leases.unregister(h.key);
            }
        }
        let (receipts, permits): (Vec<Receipt>, Vec<Slot>) =
            left.into_iter().map(|j| (j.meta.receipt, j.permit)).unzip();
        stats.released_prefetched.add(receipts.len() as u64);
        stats.released.add(sqs.release(&receipts).await);
        drop(permits);
    }

    // 3. Let running handlers finish, within the shutdown timeout.
    tracing::info!("shutting down: 3. wait for running handlers");
    tracker.close();
    let running = shared.running.load(Ordering::SeqCst);
    let timeout = shared.settings.shutdown_timeout;
    let _ = tokio::time::timeout(timeout, tracker.wait()).await;
    stats
        .finished_in_shutdown
        .add(running.saturating_sub(shared.running.load(Ordering::SeqCst)) as u64);

    // 4. Flush the acks.
    tracing::info!("shutting down: 4. flush acks");
    let _ = ack_tx.send(AckMsg::Flush);

    // 5. Cancel what is left and release it.
    if !tracker.is_empty() {
        tracing::warn!(
            handlers = shared.running.load(Ordering::SeqCst),
            "shutting down: 5. cancelling handlers still running and releasing their messages"
        );
    }
    force.cancel();
    tracker.wait().await;
    let mut receipts = Vec::new();
    while let Ok(r) = release_rx.try_recv() {
        receipts.push(r);
    }
    if !receipts.is_empty() {
        stats.released_unfinished.add(receipts.len() as u64);
        stats.released.add(sqs.release(&receipts).await);
    }
    let (tx, rx) = oneshot::channel();
    let _ = ack_tx.send(AckMsg::Close(tx));
    let _ = rx.await;
    drop(ack_tx);
    drop(shared);
    let _ = acker.await;
    lease_stop.cancel();
    let _ = lease_task.await;
    health.live.store(false, Ordering::SeqCst);
    let report = stats.report();
    tracing::info!(?report, "worker stopped");
    report
}
