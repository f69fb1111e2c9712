//! The dispatcher: holds received messages until the handler service is ready, keeps
//! FIFO groups in sequence, and spawns one task per message.

use std::collections::{HashMap, VecDeque};
use std::future::{Future, poll_fn};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Service;
use tower::util::BoxService;

use super::acker::{AckItem, Deleter};
use super::outcome::{Work, process};
use super::{Held, Job, Shared, Slot};
use crate::handler::BoxError;

/// A handler finished (FIFO only): its group may go on, or, when it failed, the rest
/// of the group in hand is released.
pub(crate) struct Done {
    pub(crate) group: String,
    pub(crate) failed: bool,
}

struct Group<Req> {
    busy: bool,
    queue: VecDeque<Job<Req>>,
}

/// Messages received and not started yet.
pub(crate) struct Pending<Req> {
    fifo: bool,
    plain: VecDeque<Job<Req>>,
    groups: HashMap<String, Group<Req>>,
    ready: VecDeque<String>,
}

impl<Req> Pending<Req> {
    fn new(fifo: bool) -> Self {
        Self {
            fifo,
            plain: VecDeque::new(),
            groups: HashMap::new(),
            ready: VecDeque::new(),
        }
    }

    fn push(&mut self, job: Job<Req>) {
        match job.meta.group.clone().filter(|_| self.fifo) {
            None => self.plain.push_back(job),
            Some(g) => {
                let group = self.groups.entry(g.clone()).or_insert_with(|| Group {
                    busy: false,
                    queue: VecDeque::new(),
                });
                group.queue.push_back(job);
                if !group.busy && group.queue.len() == 1 {
                    self.ready.push_back(g);
                }
            }
        }
    }

    fn has_startable(&self) -> bool {
        !self.plain.is_empty() || !self.ready.is_empty()
    }

    fn pop(&mut self) -> Option<Job<Req>> {
        if let Some(job) = self.plain.pop_front() {
            return Some(job);
        }
        let g = self.ready.pop_front()?;
        let group = self.groups.get_mut(&g)?;
        group.busy = true;
        group.queue.pop_front()
    }

    /// A group's handler finished: the group may start its next message, or, after a
    /// failure, give back the rest (returned).
    fn done(&mut self, d: &Done) -> Vec<Job<Req>> {
        let Some(group) = self.groups.get_mut(&d.group) else {
            return Vec::new();
        };
        group.busy = false;
        let released = if d.failed {
            group.queue.drain(..).collect()
        } else {
            Vec::new()
        };
        if group.queue.is_empty() {
            self.groups.remove(&d.group);
        } else {
            self.ready.push_back(d.group.clone());
        }
        released
    }

    pub(crate) fn for_each_mut(&mut self, mut f: impl FnMut(&mut Job<Req>)) {
        self.plain.iter_mut().for_each(&mut f);
        for g in self.groups.values_mut() {
            g.queue.iter_mut().for_each(&mut f);
        }
    }

    pub(crate) fn drain(&mut self) -> Vec<Job<Req>> {
        let mut all: Vec<Job<Req>> = self.plain.drain(..).collect();
        for (_, g) in self.groups.drain() {
            all.extend(g.queue);
        }
        self.ready.clear();
        all
    }
}

/// The handler service, shared by the dispatcher and (standard queues) the pollers.
pub(crate) struct Handler<Req> {
    pub(crate) service: BoxService<Req, (), BoxError>,
    /// The dispatcher waits for the service to be ready (its waker is registered):
    /// pollers then leave the service alone, so as not to overwrite that waker.
    pub(crate) waiting: bool,
}

pub(crate) type SharedHandler<Req> = Arc<Mutex<Handler<Req>>>;

pub(crate) fn lock<Req>(handler: &SharedHandler<Req>) -> MutexGuard<'_, Handler<Req>> {
    handler.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) struct Dispatcher<Req> {
    pub(crate) ctx: Ctx,
    pub(crate) handler: SharedHandler<Req>,
    pub(crate) jobs: mpsc::UnboundedReceiver<Vec<Job<Req>>>,
}

impl<Req: Send + 'static> Dispatcher<Req> {
    /// Runs until `stop` fires (or the pollers are gone), then returns every message
    /// received and not started, for release.
    pub(crate) async fn run(self, stop: CancellationToken) -> Vec<Job<Req>> {
        let Self {
            ctx,
            handler,
            mut jobs,
        } = self;
        let fifo = ctx.shared.settings.fifo;
        let mut pending = Pending::new(fifo);
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
        loop {
            let startable = pending.has_startable();
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                Some(done) = done_rx.recv() => {
                    let released = pending.done(&done);
                    if !released.is_empty() {
                        ctx.release_group(released);
                    }
                }
                ready = poll_fn(|cx| {
                    let mut h = lock(&handler);
                    let ready = h.service.poll_ready(cx);
                    h.waiting = ready.is_pending();
                    ready
                }), if startable => {
                    let Some(job) = pending.pop() else { continue };
                    match ready {
                        Ok(()) => {
                            let task = ctx.prepare(&mut lock(&handler).service, job, fifo.then(|| done_tx.clone()));
                            ctx.run(task);
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "the handler service failed and cannot be used; shutting the worker down");
                            pending.push(job);
                            ctx.shared.health.shutdown.cancel();
                            break;
                        }
                    }
                }
                batch = jobs.recv() => match batch {
                    Some(batch) => {
                        // What starts now runs in one task per batch, off this task, so
                        // the per-message work spreads over the runtime's threads.
                        let mut started = Vec::with_capacity(batch.len());
                        let parent = ctx.force.child_token();
                        let mut key = ctx.keys(batch.len());
                        let mut h = lock(&handler);
                        for mut job in batch {
                            key += 1;
                            ctx.admit(&mut job, key, &parent);
                            if job.req.is_err() {
                                // Undecodable: no handler to wait for.
                                started.push(ctx.prepare(&mut h.service, job, fifo.then(|| done_tx.clone())));
                            } else {
                                pending.push(job);
                            }
                        }
                        // Start what the service takes now; what must wait gets its lease.
                        let mut cx = Context::from_waker(Waker::noop());
                        while pending.has_startable() {
                            if !matches!(h.service.poll_ready(&mut cx), Poll::Ready(Ok(()))) {
                                break;
                            }
                            if let Some(job) = pending.pop() {
                                started.push(ctx.prepare(&mut h.service, job, fifo.then(|| done_tx.clone())));
                            }
                        }
                        drop(h);
                        pending.for_each_mut(|job| ctx.register(job));
                        if started.len() > 1 {
                            let shared = ctx.shared.clone();
                            shared.running.fetch_add(started.len(), Ordering::Relaxed);
                            ctx.tracker.spawn(futures_util::future::join_all(started.into_iter().map(
                                move |task| {
                                    let shared = shared.clone();
                                    async move {
                                        task.await;
                                        shared.running.fetch_sub(1, Ordering::Relaxed);
                                    }
                                },
                            )));
                        } else if let Some(task) = started.pop() {
                            ctx.run(task);
                        }
                    }
                    None => break,
                },
            }
        }
        jobs.close();
        let mut left = pending.drain();
        while let Ok(batch) = jobs.try_recv() {
            left.extend(batch);
        }
        left
    }
}

/// What starting a message needs; the dispatcher and the pollers each hold one.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) shared: Arc<Shared>,
    pub(crate) tracker: TaskTracker,
    pub(crate) force: CancellationToken,
    /// What each message's task holds on to: a handle of this holder's own, so that
    /// taking and dropping one per message does not write a count every thread uses
    /// (the extra allocation is the point).
    #[allow(clippy::redundant_allocation)]
    local: Arc<Arc<Shared>>,
    /// The same, for the deletes of the batches this holder acks itself.
    deleter: Arc<Deleter>,
}

impl Ctx {
    pub(crate) fn new(shared: Arc<Shared>, tracker: TaskTracker, force: CancellationToken) -> Self {
        Self {
            local: Arc::new(shared.clone()),
            deleter: Arc::new(Deleter::clone(&shared.flusher.deleter)),
            shared,
            tracker,
            force,
        }
    }

    /// The same context with handles of its own (one per poller): for its messages'
    /// shared state and deletes, and, as their tokens' parent, a child of the
    /// worker-wide token (creating and dropping a child token locks its parent).
    pub(crate) fn own(&self) -> Self {
        Self {
            local: Arc::new(self.shared.clone()),
            deleter: Arc::new(Deleter::clone(&self.shared.flusher.deleter)),
            force: self.force.child_token(),
            ..self.clone()
        }
    }

    /// Starts what it can of a received batch at once, in the calling task, and
    /// returns the rest for the dispatcher (standard queues only): messages start here
    /// while the handler service is ready and the dispatcher is not waiting for it.
    ///
    /// Handlers that finish at once are acked straight from here: their acks gather
    /// in [`AckSink`], and full batches go to the deleter without the acker task.
    pub(crate) fn start_now<Req: Send + 'static>(
        &self,
        handler: &SharedHandler<Req>,
        batch: Vec<Job<Req>>,
    ) -> Vec<Job<Req>> {
        let mut started = Vec::with_capacity(batch.len());
        let mut rest = Vec::new();
        {
            let mut h = lock(handler);
            let mut cx = Context::from_waker(Waker::noop());
            let mut key = self.keys(batch.len());
            for mut job in batch {
                let can_start = rest.is_empty()
                    && !h.waiting
                    && (job.req.is_err()
                        || matches!(h.service.poll_ready(&mut cx), Poll::Ready(Ok(()))));
                if can_start {
                    key += 1;
                    self.admit(&mut job, key, &self.force);
                    started.push(self.prepare(&mut h.service, job, None));
                } else {
                    rest.push(job);
                }
            }
        }
        if !started.is_empty() {
            let sink = AckSink::open(self.shared.settings.ack_max);
            for task in started {
                self.run(task);
            }
            sink.close(&self.shared, &self.deleter);
        }
        rest
    }

    fn release_group<Req: Send + 'static>(&self, jobs: Vec<Job<Req>>) {
        let shared = self.shared.clone();
        for job in &jobs {
            if let Some(h) = &job.held {
                self.shared.leases.unregister(h.key);
            }
        }
        self.tracker.spawn(async move {
            let (receipts, permits): (Vec<super::Receipt>, Vec<Slot>) =
                jobs.into_iter().map(|j| (j.meta.receipt, j.permit)).unzip();
            let stats = &shared.sqs.stats;
            stats.released_on_failure.add(receipts.len() as u64);
            let _gate = shared.leases.gate.read().await;
            stats.released.add(shared.sqs.release(&receipts).await);
            drop(permits);
        });
    }

    /// Reserves `n` lease keys: they follow the one returned.
    fn keys(&self, n: usize) -> u64 {
        self.shared
            .next_key
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed)
    }

    /// Takes a received message in: from now on its lease is extended. Its token hangs
    /// off its batch's `parent`: creating and dropping a child locks its parent, and
    /// every message locking the worker-wide token would contend across threads.
    fn admit<Req>(&self, job: &mut Job<Req>, key: u64, parent: &CancellationToken) {
        let token = parent.child_token();
        let lost = Arc::new(AtomicBool::new(false));
        job.held = Some(Held {
            key,
            token,
            lost,
            registered: false,
        });
    }

    /// Lets the lease task keep a waiting message invisible.
    fn register<Req>(&self, job: &mut Job<Req>) {
        if let Some(h) = &mut job.held
            && !h.registered
        {
            self.shared.leases.register(
                h.key,
                &job.meta.receipt,
                job.meta.received_at,
                self.shared.settings.visibility,
                h.token.clone(),
                h.lost.clone(),
            );
            h.registered = true;
        }
    }

    /// Calls the service for `job` and returns the future that runs it to its end.
    fn prepare<Req: Send + 'static>(
        &self,
        service: &mut BoxService<Req, (), BoxError>,
        job: Job<Req>,
        done: Option<mpsc::UnboundedSender<Done>>,
    ) -> Started {
        let Job {
            meta,
            req,
            permit,
            held,
        } = job;
        let held = held.unwrap_or_else(|| Held {
            key: 0,
            token: self.force.child_token(),
            lost: Arc::new(AtomicBool::new(false)),
            registered: false,
        });
        let work = match req {
            // Its lease was lost while it waited: do not start it.
            _ if held.token.is_cancelled() => Work::Skipped,
            Err(error) => Work::Undecodable(error),
            Ok(req) => match std::panic::catch_unwind(AssertUnwindSafe(|| service.call(req))) {
                Ok(fut) => Work::Handler(fut),
                Err(panic) => Work::Panicked(super::outcome::panic_message(&*panic)),
            },
        };
        let shared = self.local.clone();
        let span = tracing::info_span!(
            "weir.process",
            messaging.system = "aws_sqs",
            messaging.operation.type = "process",
            messaging.message.id = %meta.id,
            messaging.sqs.receive_count = meta.receive_count,
        );
        let fut = tracing::Instrument::instrument(
            async move {
                let group = meta.group.clone();
                let failed = process(&shared, meta, permit, work, held).await;
                if let (Some(tx), Some(group)) = (done, group) {
                    let _ = tx.send(Done { group, failed });
                }
            },
            span,
        );
        Box::pin(fut)
    }

    /// Runs one message: a handler that finishes at once (and is acked through the
    /// channel) needs no task of its own, so it is polled here first; otherwise it is
    /// spawned, and the spawned task polls it again at once, registering the real waker
    /// (the no-op one is never woken).
    ///
    /// Only spawned runs count as running (for the shutdown's report): one that ends
    /// here ends before the shutdown can look.
    fn run(&self, mut task: Started) {
        let mut cx = Context::from_waker(Waker::noop());
        if task.as_mut().poll(&mut cx).is_pending() {
            self.spawn(task);
        }
    }

    /// Spawns a message's run, counted as running until it ends.
    fn spawn(&self, task: Started) {
        let shared = self.shared.clone();
        shared.running.fetch_add(1, Ordering::Relaxed);
        self.tracker.spawn(async move {
            task.await;
            shared.running.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// What the handlers that finished while [`Ctx::start_now`] polled them left.
struct Sink {
    acks: Vec<AckItem>,
    /// Handlers that succeeded: counted once for the batch (the counter is shared by
    /// every thread).
    succeeded: u64,
}

thread_local! {
    static SINK: std::cell::RefCell<Option<Sink>> = const { std::cell::RefCell::new(None) };
}

/// Gathers, on this thread, the acks of handlers polled by [`Ctx::start_now`]: the
/// handlers run synchronously inside it, so nothing else can push here meanwhile.
pub(crate) struct AckSink(());

impl AckSink {
    fn open(capacity: usize) -> Self {
        SINK.with(|s| {
            *s.borrow_mut() = Some(Sink {
                acks: Vec::with_capacity(capacity),
                succeeded: 0,
            });
        });
        Self(())
    }

    /// Counts a successful handler if a sink is open on this thread; returns whether
    /// it did (otherwise the caller counts it).
    pub(crate) fn count_success() -> bool {
        SINK.with(|s| match s.borrow_mut().as_mut() {
            Some(sink) => {
                sink.succeeded += 1;
                true
            }
            None => false,
        })
    }

    /// Takes `item` if a sink is open on this thread; gives it back otherwise.
    pub(crate) fn offer(item: AckItem) -> Option<AckItem> {
        SINK.with(|s| match s.borrow_mut().as_mut() {
            Some(sink) => {
                sink.acks.push(item);
                None
            }
            None => Some(item),
        })
    }

    /// Full batches go to the deleter; the rest to the acker, to join others.
    fn close(self, shared: &Shared, deleter: &Arc<Deleter>) {
        let Some(Sink { acks, succeeded }) = SINK.with(|s| s.borrow_mut().take()) else {
            return;
        };
        shared.sqs.stats.succeeded.add(succeeded);
        let max = shared.settings.ack_max.max(1);
        let mut acks = acks.into_iter().peekable();
        while acks.peek().is_some() {
            let chunk: Vec<AckItem> = acks.by_ref().take(max).collect();
            let chunk = if chunk.len() == max {
                match shared.flusher.try_run(deleter, chunk) {
                    Ok(()) => continue,
                    Err(chunk) => chunk,
                }
            } else {
                chunk
            };
            for item in chunk {
                super::outcome::send_ack(shared, item);
            }
        }
    }
}

impl Drop for AckSink {
    fn drop(&mut self) {
        // Closed without `close` (a panic unwinding through `start_now`): leave no
        // sink open on this thread. Its acks are dropped with it; their messages
        // reappear after their visibility timeout.
        SINK.with(|s| s.borrow_mut().take());
    }
}

/// A message's whole run, ready to be polled.
type Started = std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
