//! [`Worker`]: builds its tasks when it runs, waits for its signal, then shuts down.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use weir_sqs::Queue;

use crate::builder::WorkerBuilder;
use crate::calls::Calls;
use crate::context::{Ctx, Tokens};
use crate::fifo::Scheduler;
use crate::health::{HealthState, ShutdownHandle, WorkerHandle};
use crate::lease::{Leases, extend};
use crate::receive::{Poller, Sink, Source};
use crate::report::{Stats, StopReason, WorkerReport};
use crate::settings::Settings;
use crate::settle::ack;
use crate::shutdown::{self, Running};
use crate::slots::Slots;
use crate::start::{Handler, HandlerBox};

/// A worker: polls one queue, runs a handler on each message, and acks, retries,
/// dead-letters or releases every message it received.
///
/// Build it with [`Worker::builder`], run it with [`run`](Self::run) or
/// [`run_until`](Self::run_until). See the [crate docs](crate) for the message path.
pub struct Worker<T> {
    pub(crate) queue: Queue,
    pub(crate) source: Arc<dyn Source<T>>,
    pub(crate) service: HandlerBox<T>,
    pub(crate) settings: Settings,
    pub(crate) stats: Arc<Stats>,
    pub(crate) health: Arc<HealthState>,
}

impl<T> fmt::Debug for Worker<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("queue", &self.queue)
            .field("type", &std::any::type_name::<T>())
            .field("concurrency", &self.settings.concurrency)
            .field("pollers", &self.settings.pollers)
            .finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static> Worker<T> {
    /// Starts building a worker for `queue`. Its cached attributes (FIFO, visibility
    /// timeout, redrive policy, ARN) are read by `build()`; messages are decoded with
    /// [`Json`](weir_sqs::Json) unless [`codec`](WorkerBuilder::codec) says otherwise.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo(client: aws_sdk_sqs::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use weir_worker::{handler_fn, HandlerError, Message, Worker};
    ///
    /// let queue = weir_sqs::Queue::open(&client, "orders").await?;
    /// let worker = Worker::builder(queue)
    ///     .handler(handler_fn(|msg: Message<u64>| async move {
    ///         let _order = msg.body().map_err(|e| HandlerError::reject(e.to_string()))?;
    ///         Ok::<_, HandlerError>(())
    ///     }))
    ///     .concurrency(32)
    ///     .build()?;
    /// let report = worker.run_until(async { /* a shutdown signal */ }).await;
    /// println!("{} acked", report.acked);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn builder(queue: Queue) -> WorkerBuilder<T> {
        WorkerBuilder::new(queue)
    }

    /// A handle for health checks, pause/resume and shutdown; take it before running.
    #[must_use]
    pub fn handle(&self) -> WorkerHandle {
        WorkerHandle {
            state: self.health.clone(),
        }
    }

    /// A handle that starts the shutdown.
    #[must_use]
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle().shutdown_handle()
    }

    /// The queue this worker polls.
    #[must_use]
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Runs until [`ShutdownHandle::shutdown`] (or [`WorkerHandle::shutdown`]) is called,
    /// then shuts down as [`run_until`](Self::run_until) describes.
    pub async fn run(self) -> WorkerReport {
        self.run_until(std::future::pending()).await
    }

    /// Runs until `signal` completes (or a [`ShutdownHandle`] fires, or one of the
    /// worker's own tasks fails), then shuts down without losing a message, in this
    /// order:
    ///
    /// 1. **Stop polling.** A long poll already in flight gets a grace period
    ///    ([`poll_grace`](WorkerBuilder::poll_grace), 2 s by default) to complete; the
    ///    messages it brings are released at once. A poll still waiting after the grace
    ///    period is dropped: if SQS had already answered it, those messages stay
    ///    invisible until their visibility timeout ends, then are delivered again
    ///    (delayed, not lost). The report counts both cases.
    /// 2. **Release** the messages received and not started (visibility 0, in batches).
    /// 3. **Wait** for running handlers, up to the [shutdown
    ///    timeout](WorkerBuilder::shutdown_timeout). Leases are still extended meanwhile.
    /// 4. **Flush** the acks.
    /// 5. **Cancel** the handlers still running (their cancellation token fires and their
    ///    futures are dropped) and release their messages.
    ///
    /// Phases 1 to 3 end within the shutdown timeout, 4 and 5 within one [request
    /// timeout](WorkerBuilder::request_timeout) more, even against an SQS that stopped
    /// answering. The returned [`WorkerReport`] counts each phase and says why the
    /// worker stopped.
    ///
    /// # Dropping the future
    ///
    /// Dropping (or aborting) the future stops every task of the worker at once: no
    /// handler runs on, no lease is extended, nothing more is sent. The messages it held
    /// are not released: SQS delivers them again when their visibility timeout ends.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> WorkerReport {
        let span = tracing::info_span!(
            "weir.worker",
            messaging.system = "aws_sqs",
            messaging.destination.name = self.queue.name(),
        );
        span.in_scope(|| log_start(&self.queue, &self.settings));
        tracing::Instrument::instrument(self.run_inner(signal), span).await
    }

    async fn run_inner(self, signal: impl Future<Output = ()>) -> WorkerReport {
        let Self {
            queue,
            source,
            service,
            settings,
            stats,
            health,
        } = self;
        let tokens = Tokens::new();
        // Fires when this future is dropped: every task stops.
        let _kill = tokens.kill.clone().drop_guard();
        let (acks, acks_rx) = mpsc::unbounded_channel();
        let ctx = Arc::new(Ctx {
            calls: Calls {
                queue,
                stats: stats.clone(),
                timeout: settings.request_timeout,
            },
            leases: Leases::new(settings.visibility),
            settings,
            stats,
            health,
            tokens: tokens.clone(),
            handlers: TaskTracker::new(),
            running: AtomicUsize::new(0),
            acks,
            abandoned: Mutex::new(Vec::new()),
            shutting_down: AtomicBool::new(false),
            failure: Mutex::new(None),
        });
        let running = launch(&ctx, &source, &service, acks_rx);
        ctx.health.live.store(true, Ordering::SeqCst);
        let stopped = tokio::select! {
            () = signal => StopReason::Requested,
            () = ctx.health.shutdown.cancelled() => StopReason::Requested,
            () = tokens.failed.cancelled() => StopReason::Failed(failure(&ctx)),
        };
        shutdown::run(&ctx, running).await;
        ctx.health.live.store(false, Ordering::SeqCst);
        let stopped = match stopped {
            // A task that failed during the shutdown still says so.
            StopReason::Requested if tokens.failed.is_cancelled() => {
                StopReason::Failed(failure(&ctx))
            }
            other => other,
        };
        let report = ctx.stats.report(stopped);
        tracing::info!(?report, "worker stopped");
        report
    }
}

fn failure(ctx: &Ctx) -> String {
    ctx.failure
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
        .unwrap_or_default()
}

/// Starts the worker's tasks: the extension task, the acker, the pollers, and on FIFO
/// queues the group scheduler.
fn launch<T: Send + Sync + 'static>(
    ctx: &Arc<Ctx>,
    source: &Arc<dyn Source<T>>,
    service: &HandlerBox<T>,
    acks: mpsc::UnboundedReceiver<ack::AckItem>,
) -> Running {
    let s = &ctx.settings;
    let lease = ctx.spawn_internal("lease", extend::run(ctx.clone()));
    let acks_done = CancellationToken::new();
    let acker = ctx.spawn_internal("acker", ack::run(ctx.clone(), acks, acks_done.clone()));
    let slots = Arc::new(Slots::new(
        s.concurrency,
        ctx.health.held.clone(),
        ctx.stats.in_flight.clone(),
    ));
    let mut scheduler = None;
    let fifo_tx = s.fifo.then(|| {
        let (tx, rx) = mpsc::unbounded_channel();
        let sched = Scheduler::new(ctx, Handler::new(service), rx);
        scheduler = Some(ctx.spawn_internal("FIFO scheduler", sched.run()));
        tx
    });
    let pollers = (0..s.pollers)
        .map(|_| {
            let sink = match &fifo_tx {
                Some(tx) => Sink::Fifo(tx.clone()),
                None => Sink::Start(Handler::new(service)),
            };
            let poller = Poller::new(ctx, source, &slots);
            ctx.spawn_internal("poller", poller.run(sink))
        })
        .collect();
    Running {
        pollers,
        scheduler,
        acker,
        acks_done,
        lease,
    }
}

fn log_start(queue: &Queue, settings: &Settings) {
    match (&settings.dead_letter, queue.attributes().redrive_policy()) {
        (Some(dlq), _) => tracing::info!(
            dead_letter = %dlq.url(),
            max_attempts = settings.max_attempts,
            "worker starting; rejected, undecodable and exhausted messages go to the dead-letter queue"
        ),
        (None, Some(policy)) => tracing::info!(
            redrive_policy = %policy,
            "worker starting without a dead-letter queue: rejected and undecodable messages are retried, and the queue's redrive policy is the safety net"
        ),
        (None, None) => tracing::warn!(
            "worker starting without a dead-letter queue, and the queue has no redrive policy: a message that always fails will be retried until it expires"
        ),
    }
    tracing::info!(
        fifo = settings.fifo,
        concurrency = settings.concurrency,
        pollers = settings.pollers,
        visibility_secs = settings.visibility.as_secs(),
        "worker started"
    );
}
