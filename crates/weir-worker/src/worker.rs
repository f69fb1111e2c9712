//! [`Worker`] and its builder.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use aws_sdk_sqs::types::MessageSystemAttributeName as Sys;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tower::util::BoxService;
use tower::{Service, ServiceExt};
use weir_middleware::RateLimiter;
use weir_sqs::{Consumer, Decode, Json, Message, Queue, ReceiveOptions};

use crate::config::{AckBatching, DeadLetter, Lease};
use crate::engine::ops::Sqs;
use crate::engine::{self, Limit, Meta, Received, Settings, Source};
use crate::error::BuildError;
use crate::handler::BoxError;
use crate::health::{HealthState, ShutdownHandle, WorkerHandle};
use crate::report::{Stats, WorkerReport};
use crate::retry::{MAX_VISIBILITY, RetryPolicy};

/// The most messages one `ReceiveMessage` returns.
const MAX_RECEIVE: usize = 10;
/// The largest concurrency a worker accepts.
pub const MAX_CONCURRENCY: usize = 10_000;
/// The most parallel long polls a worker runs.
pub const MAX_POLLERS: usize = 64;

/// A worker: polls one queue, runs a handler on each message, and acks, retries,
/// dead-letters or releases every message it received.
///
/// Build it with [`Worker::builder`], run it with [`run`](Self::run) or
/// [`run_until`](Self::run_until). See the [crate docs](crate) for the message path.
pub struct Worker<T> {
    queue: Queue,
    source: Arc<dyn Source<Message<T>>>,
    service: BoxService<Message<T>, (), BoxError>,
    settings: Settings,
    stats: Arc<Stats>,
    health: Arc<HealthState>,
    slots: Arc<Semaphore>,
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
    /// timeout, redrive policy) are read by `build()`; messages are decoded with
    /// [`Json`] unless [`codec`](WorkerBuilder::codec) says otherwise.
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
    pub fn builder(queue: Queue) -> WorkerBuilder<T, Json> {
        WorkerBuilder {
            queue,
            codec: Json,
            service: None,
            concurrency: None,
            pollers: None,
            wait_time: None,
            visibility_timeout: None,
            limiter: None,
            retry_policy: None,
            max_attempts: None,
            dead_letter: None,
            ack_batching: None,
            shutdown_timeout: None,
            lease: None,
            poll_grace: None,
            poll_backoff_max: None,
            system_attributes: None,
            _t: PhantomData,
        }
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

    /// Runs until `signal` completes (or a [`ShutdownHandle`] fires), then shuts down
    /// without losing a message, in this order:
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
    /// The returned [`WorkerReport`] counts each phase.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> WorkerReport {
        let Self {
            queue,
            source,
            service,
            settings,
            stats,
            health,
            slots,
        } = self;
        let span = tracing::info_span!(
            "weir.worker",
            messaging.system = "aws_sqs",
            messaging.destination.name = queue.name(),
        );
        let _enter = span.enter();
        log_start(&queue, &settings);
        drop(_enter);
        let sqs = Arc::new(Sqs {
            client: queue.client().clone(),
            url: queue.url().to_owned(),
            stats,
        });
        let run = engine::run(sqs, settings, health, slots, service, &source, signal);
        tracing::Instrument::instrument(run, span).await
    }
}

fn log_start(queue: &Queue, settings: &Settings) {
    match (&settings.dead_letter, queue.attributes().redrive_policy()) {
        (Some(dlq), _) => tracing::info!(
            dead_letter = %dlq,
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

/// Builds a [`Worker`]; every setting is checked by [`build`](Self::build).
///
/// The only required setting is the [`handler`](Self::handler).
pub struct WorkerBuilder<T, C = Json> {
    queue: Queue,
    codec: C,
    service: Option<BoxService<Message<T>, (), BoxError>>,
    concurrency: Option<usize>,
    pollers: Option<usize>,
    wait_time: Option<Duration>,
    visibility_timeout: Option<Duration>,
    limiter: Option<RateLimiter>,
    retry_policy: Option<RetryPolicy>,
    max_attempts: Option<u32>,
    dead_letter: Option<DeadLetter>,
    ack_batching: Option<AckBatching>,
    shutdown_timeout: Option<Duration>,
    lease: Option<Lease>,
    poll_grace: Option<Duration>,
    poll_backoff_max: Option<Duration>,
    system_attributes: Option<Vec<MessageSystemAttributeName>>,
    _t: PhantomData<fn() -> T>,
}

impl<T, C> fmt::Debug for WorkerBuilder<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerBuilder")
            .field("queue", &self.queue)
            .field("codec", &std::any::type_name::<C>())
            .field("handler", &self.service.is_some())
            .field("concurrency", &self.concurrency)
            .field("pollers", &self.pollers)
            .field("wait_time", &self.wait_time)
            .field("visibility_timeout", &self.visibility_timeout)
            .field("rate_limit", &self.limiter)
            .field("retry_policy", &self.retry_policy)
            .field("max_attempts", &self.max_attempts)
            .field("dead_letter", &self.dead_letter)
            .field("ack_batching", &self.ack_batching)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("lease", &self.lease)
            .field("system_attributes", &self.system_attributes)
            .finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static, C> WorkerBuilder<T, C> {
    /// The handler: any `tower::Service<Message<T>>` whose error converts into a
    /// [`BoxError`], with whatever layers around it. Its response is ignored; its error
    /// decides the message's fate (see [`HandlerError`](crate::HandlerError)).
    ///
    /// Wrap a closure with [`handler_fn`](crate::handler_fn), a struct with
    /// [`handler_service`](crate::handler_service), several message types with a
    /// [`Router`](crate::Router).
    #[must_use]
    pub fn handler<S>(mut self, service: S) -> Self
    where
        S: Service<Message<T>> + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
    {
        let service = service.map_response(|_| ()).map_err(Into::into);
        self.service = Some(BoxService::new(service));
        self
    }

    /// Decodes bodies with `codec` (any [`Decode<T>`](weir_sqs::Decode)) instead of
    /// [`Json`].
    #[must_use]
    pub fn codec<C2>(self, codec: C2) -> WorkerBuilder<T, C2> {
        WorkerBuilder {
            queue: self.queue,
            codec,
            service: self.service,
            concurrency: self.concurrency,
            pollers: self.pollers,
            wait_time: self.wait_time,
            visibility_timeout: self.visibility_timeout,
            limiter: self.limiter,
            retry_policy: self.retry_policy,
            max_attempts: self.max_attempts,
            dead_letter: self.dead_letter,
            ack_batching: self.ack_batching,
            shutdown_timeout: self.shutdown_timeout,
            lease: self.lease,
            poll_grace: self.poll_grace,
            poll_backoff_max: self.poll_backoff_max,
            system_attributes: self.system_attributes,
            _t: PhantomData,
        }
    }

    /// The most messages held at once, running, waiting to start, or waiting for their
    /// ack: 1 to [`MAX_CONCURRENCY`]. Default 10. Each poll asks for at most the free
    /// slots (and at most 10).
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n);
        self
    }

    /// Parallel long polls: 1 to [`MAX_POLLERS`], and at most the concurrency. Default:
    /// one per 10 slots, at most 8.
    #[must_use]
    pub fn pollers(mut self, k: usize) -> Self {
        self.pollers = Some(k);
        self
    }

    /// The system attributes to receive, besides those the worker needs
    /// (`ApproximateReceiveCount`, and `MessageGroupId` on FIFO queues); pass
    /// [`MessageSystemAttributeName::All`] for all of them.
    ///
    /// Default: `AWSTraceHeader` (X-Ray's, sent only when set), and on FIFO queues
    /// `SequenceNumber` and `MessageDeduplicationId`. So by default
    /// [`Message::sent_at`] and [`Message::first_received_at`] are `None`: ask for
    /// `SentTimestamp` or `ApproximateFirstReceiveTimestamp` to read them. SQS sends
    /// each attribute asked for with every message and the SDK parses each into a
    /// map, about 3 000 instructions per attribute and message (callgrind): for a
    /// no-op handler, `All` costs about a tenth of its throughput.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let client = weir_local::LocalSqs::new().client();
    /// # weir_sqs::QueueSpec::standard("orders").ensure(&client).await?;
    /// # let queue = weir_sqs::Queue::open(&client, "orders").await?;
    /// use aws_sdk_sqs::types::MessageSystemAttributeName as Sys;
    /// use weir_worker::{handler_fn, HandlerError, Message, Worker};
    ///
    /// let worker = Worker::builder(queue)
    ///     .handler(handler_fn(|m: Message<String>| async move {
    ///         println!("first received at {:?}", m.first_received_at());
    ///         Ok::<_, HandlerError>(())
    ///     }))
    ///     .system_attributes([Sys::ApproximateFirstReceiveTimestamp, Sys::SentTimestamp])
    ///     .build()?;
    /// # drop(worker); Ok(()) }
    /// ```
    #[must_use]
    pub fn system_attributes(
        mut self,
        names: impl IntoIterator<Item = MessageSystemAttributeName>,
    ) -> Self {
        self.system_attributes = Some(names.into_iter().collect());
        self
    }

    /// The long-poll wait, 0 to 20 s (SQS's limit). Default 20 s.
    #[must_use]
    pub fn wait_time(mut self, wait: Duration) -> Self {
        self.wait_time = Some(wait);
        self
    }

    /// The visibility timeout to receive with, 1 s to 12 h. Default: the queue's own.
    #[must_use]
    pub fn visibility_timeout(mut self, visibility: Duration) -> Self {
        self.visibility_timeout = Some(visibility);
        self
    }

    /// A shared rate limit in messages per second: permits for a whole receive are
    /// taken before it is sent, so no message waits in memory for a permit. Clone the
    /// limiter into several workers to share the budget. A poll asks for at most the
    /// limiter's burst.
    #[must_use]
    pub fn rate_limit(mut self, limiter: RateLimiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// The backoff for retried messages. Default [`RetryPolicy::default`].
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Deliveries after which a failing message is dead-lettered instead of retried
    /// (≥ 1; default 10). Counted from SQS's `ApproximateReceiveCount`. Without a DLQ,
    /// the message keeps being retried and the queue's redrive policy decides.
    #[must_use]
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n);
        self
    }

    /// The dead-letter queue for rejected, undecodable and exhausted messages.
    #[must_use]
    pub fn dead_letter(mut self, dlq: impl Into<DeadLetter>) -> Self {
        self.dead_letter = Some(dlq.into());
        self
    }

    /// Ack batching. Default [`AckBatching::new`]: 10 entries, 50 ms.
    #[must_use]
    pub fn ack_batching(mut self, acks: AckBatching) -> Self {
        self.ack_batching = Some(acks);
        self
    }

    /// How long shutdown waits for running handlers before cancelling them. Default 30 s.
    #[must_use]
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
    }

    /// Lease extension. Default [`Lease::new`].
    #[must_use]
    pub fn lease(mut self, lease: Lease) -> Self {
        self.lease = Some(lease);
        self
    }

    /// How long a long poll in flight at shutdown may still complete (its messages are
    /// then released): at most the wait time. Default 2 s (or the wait time if shorter).
    #[must_use]
    pub fn poll_grace(mut self, grace: Duration) -> Self {
        self.poll_grace = Some(grace);
        self
    }

    /// The longest pause between receives that fail: 1 s to 5 min. Default 30 s.
    #[must_use]
    pub fn poll_backoff_max(mut self, max: Duration) -> Self {
        self.poll_backoff_max = Some(max);
        self
    }
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

impl<T: Send + Sync + 'static, C: Decode<T>> WorkerBuilder<T, C> {
    /// Checks every setting, against SQS's limits and the queue's attributes.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] naming the setting and the limit: no handler; concurrency not in
    /// 1..=10 000; pollers not in 1..=64 or above the concurrency; wait time above 20 s;
    /// visibility timeout not in 1 s..=12 h; max attempts 0; ack batch not in 1..=10 or
    /// interval above 10 s or not shorter than the visibility timeout; lease threshold not
    /// shorter than the visibility timeout, or lease maximum not in 1 s..=12 h; retry
    /// backoff above 12 h; a standard dead-letter queue for a FIFO queue; poll grace above
    /// the wait time; poll backoff cap not in 1 s..=5 min.
    pub fn build(self) -> Result<Worker<T>, BuildError> {
        let service = self
            .service
            .ok_or_else(|| BuildError::new("handler", "a handler is required"))?;
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
        let attrs = self.queue.attributes();
        let visibility = self
            .visibility_timeout
            .unwrap_or_else(|| attrs.visibility_timeout())
            .max(Duration::from_secs(1));
        let max_attempts = self.max_attempts.unwrap_or(10);
        check(max_attempts >= 1, "max_attempts", || {
            "must be at least 1".to_owned()
        })?;
        let retry = self.retry_policy.unwrap_or_default();
        retry.validate()?;
        let acks = self.ack_batching.unwrap_or_default();
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
        )?;
        let lease = self.lease.unwrap_or_default();
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
        let fifo = self.queue.is_fifo();
        if let Some(dlq) = &self.dead_letter {
            check(!dlq.url.is_empty(), "dead_letter", || {
                "the queue URL is empty".to_owned()
            })?;
            check(!fifo || dlq.url.ends_with(".fifo"), "dead_letter", || {
                format!(
                    "a FIFO queue's dead-letter queue must be FIFO (its URL ends in .fifo), got {}",
                    dlq.url
                )
            })?;
        }
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
        let mut system_attributes = self.system_attributes.unwrap_or_else(|| {
            let mut names = vec![Sys::AwsTraceHeader];
            if fifo {
                names.extend([Sys::SequenceNumber, Sys::MessageDeduplicationId]);
            }
            names
        });
        if !system_attributes.contains(&Sys::All) {
            let needed: &[Sys] = if fifo {
                &[Sys::ApproximateReceiveCount, Sys::MessageGroupId]
            } else {
                &[Sys::ApproximateReceiveCount]
            };
            for name in needed {
                if !system_attributes.contains(name) {
                    system_attributes.insert(0, name.clone());
                }
            }
        }
        let settings = Settings {
            concurrency,
            pollers,
            wait_time,
            visibility,
            visibility_param: self.visibility_timeout,
            fifo,
            retry,
            max_attempts,
            dead_letter: self.dead_letter.map(|d| d.url),
            source: attrs
                .arn()
                .map_or_else(|| self.queue.url().to_owned(), str::to_owned),
            ack_max: acks.max_batch,
            ack_interval: acks.interval,
            shutdown_timeout: self.shutdown_timeout.unwrap_or(Duration::from_secs(30)),
            lease_enabled: lease.enabled,
            lease_threshold: threshold,
            lease_max_total: lease.max_total,
            poll_grace,
            poll_backoff_max,
            limiter: self.limiter.map(|l| Arc::new(l) as Arc<dyn Limit>),
            system_attributes,
        };
        let slots = Arc::new(Semaphore::new(concurrency));
        let stats = Arc::new(Stats::new(self.queue.name()));
        let health = Arc::new(HealthState::new());
        let source = Arc::new(ConsumerSource {
            consumer: Consumer::with_codec(self.queue.clone(), self.codec),
        });
        Ok(Worker {
            queue: self.queue,
            source,
            service,
            settings,
            stats,
            health,
            slots,
        })
    }
}

struct ConsumerSource<T, C> {
    consumer: Consumer<T, C>,
}

impl<T: Send + Sync + 'static, C: Decode<T>> Source<Message<T>> for ConsumerSource<T, C> {
    fn receive(
        &self,
        options: ReceiveOptions,
        started: Instant,
        keep_body: bool,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Received<Message<T>>>, weir_sqs::Error>> + Send + '_>>
    {
        Box::pin(async move {
            let messages = self.consumer.receive(&options).await?;
            Ok(messages
                .into_iter()
                .map(|m| {
                    let meta = Meta::from_message(&m, started, keep_body);
                    let req = match m.body() {
                        Ok(_) => Ok(m),
                        Err(e) => Err(e.to_string()),
                    };
                    (meta, req)
                })
                .collect())
        })
    }
}
