//! Pollers: each takes free slots, then rate permits for them, then long-polls for at
//! most that many messages, registers the batch's leases in one go, and starts the
//! messages on its own clone of the handler (standard queues) or hands the batch to the
//! FIFO scheduler. A failed receive backs off (doubling to `poll_backoff_max`) and
//! makes the worker not ready until a receive succeeds.
//!
//! At shutdown a poll in flight gets `poll_grace` to complete; what it brings, and
//! messages still waiting for the handler to be ready, are released.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use weir_sqs::{Consumer, Decode, Message, ReceiveOptions};

use crate::context::{Ctx, Ticket};
use crate::report::Op;
use crate::settings::MAX_RECEIVE;
use crate::settle::release::release;
use crate::slots::Slots;
use crate::start::Handler;

/// A received message, its ticket and its token, ready to start.
pub(crate) type Held<T> = (Message<T>, Ticket, tokio_util::sync::CancellationToken);

/// Where messages come from: `ReceiveMessage` through a weir-sqs [`Consumer`], decoded.
pub(crate) trait Source<T>: Send + Sync + 'static {
    fn receive<'a>(
        &'a self,
        options: &'a ReceiveOptions,
    ) -> Pin<Box<dyn Future<Output = weir_sqs::Result<Vec<Message<T>>>> + Send + 'a>>;
}

impl<T: Send + Sync + 'static, C: Decode<T> + Send + Sync + 'static> Source<T> for Consumer<T, C> {
    fn receive<'a>(
        &'a self,
        options: &'a ReceiveOptions,
    ) -> Pin<Box<dyn Future<Output = weir_sqs::Result<Vec<Message<T>>>> + Send + 'a>> {
        Box::pin(Self::receive(self, options))
    }
}

/// A fresh `ReceiveRequestAttemptId`: 32 alphanumeric characters.
fn attempt_id() -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(32)
        .collect()
}

/// Where a poller's batches go.
pub(crate) enum Sink<T> {
    /// Standard queues: started by the poller, on its own clone.
    Start(Handler<T>),
    /// FIFO queues: to the group scheduler.
    Fifo(mpsc::UnboundedSender<Vec<Held<T>>>),
}

pub(crate) struct Poller<T> {
    ctx: Arc<Ctx>,
    source: Arc<dyn Source<T>>,
    slots: Arc<Slots>,
    paused: watch::Receiver<bool>,
    /// The receive's parameters, built once; each poll sets its size and attempt id.
    options: ReceiveOptions,
}

impl<T: Send + Sync + 'static> Poller<T> {
    pub(crate) fn new(ctx: &Arc<Ctx>, source: &Arc<dyn Source<T>>, slots: &Arc<Slots>) -> Self {
        let s = &ctx.settings;
        Self {
            ctx: ctx.clone(),
            source: source.clone(),
            slots: slots.clone(),
            paused: ctx.health.paused.subscribe(),
            options: ReceiveOptions {
                wait: Some(s.wait_time),
                visibility: s.visibility_param,
                system_attributes: Some(s.system_attributes.clone()),
                ..ReceiveOptions::default()
            },
        }
    }

    /// Polls until the polling token fires, handing each batch to `sink`.
    pub(crate) async fn run(mut self, mut sink: Sink<T>) {
        let stop = self.ctx.tokens.polling.clone();
        let mut failures = 0u32;
        while !stop.is_cancelled() {
            if !self.wait_unpaused().await {
                break;
            }
            let Some(batch) = self.poll(&mut failures).await else {
                continue;
            };
            self.hand_over(&mut sink, batch).await;
        }
    }

    async fn wait_unpaused(&mut self) -> bool {
        let stop = &self.ctx.tokens.polling;
        tokio::select! {
            biased;
            () = stop.cancelled() => false,
            r = self.paused.wait_for(|p| !*p) => r.is_ok(),
        }
    }

    /// One receive: slots, permits, the long poll. `None` when nothing came (or
    /// shutdown began before it was sent).
    async fn poll(&mut self, failures: &mut u32) -> Option<Vec<Held<T>>> {
        let ctx = &self.ctx;
        let s = &ctx.settings;
        let stop = &ctx.tokens.polling;
        let max = s
            .limit
            .as_ref()
            .map_or(MAX_RECEIVE, |l| l.max_batch().clamp(1, MAX_RECEIVE));
        let permit = tokio::select! {
            biased;
            () = stop.cancelled() => return None,
            p = self.slots.take(max) => p?,
        };
        let n = permit.num_permits();
        if let Some(limit) = &s.limit {
            tokio::select! {
                biased;
                () = stop.cancelled() => return None,
                () = limit.acquire(n) => {}
            }
        }
        self.options.max_messages = n;
        // FIFO: if the answer is lost, the SDK's retry sends the same attempt id and gets
        // the same messages back, instead of leaving them invisible.
        self.options.attempt_id = s.fifo.then(attempt_id);
        let receive = ctx
            .calls
            .timed(Op::Receive, s.wait_time, self.source.receive(&self.options));
        tokio::pin!(receive);
        let (result, drained) = tokio::select! {
            r = &mut receive => (r, false),
            () = stop.cancelled() => match tokio::time::timeout(s.poll_grace, &mut receive).await {
                Ok(r) => (r, true),
                Err(_) => {
                    // What SQS may have sent this poll reappears after its visibility
                    // timeout: delayed, not lost.
                    ctx.stats.polls_cancelled.add(1);
                    return None;
                }
            },
        };
        let messages = match result {
            Ok(messages) => messages,
            Err(e) => {
                self.failed(&e, failures).await;
                return None;
            }
        };
        *failures = 0;
        ctx.health.poll_ok();
        if messages.is_empty() {
            ctx.stats.empty_polls.add(1);
            return None;
        }
        let held = self.register(messages, permit);
        if drained {
            ctx.stats.polls_drained.add(1);
            self.give_back(held).await;
            return None;
        }
        Some(held)
    }

    async fn failed(&self, e: &weir_sqs::Error, failures: &mut u32) {
        let ctx = &self.ctx;
        ctx.stats.poll_errors.add(1);
        ctx.health.poll_failed(e);
        *failures = failures.saturating_add(1);
        let exp = (*failures - 1).min(16);
        let full = Duration::from_millis(100 * (1u64 << exp)).min(ctx.settings.poll_backoff_max);
        // Jitter in [d/2, d], so pollers of many workers do not retry in step.
        let half = full / 2;
        let delay = half + half.mul_f64(fastrand::f64());
        tokio::select! {
            () = ctx.tokens.polling.cancelled() => {}
            () = tokio::time::sleep(delay) => {}
        }
    }

    /// Registers the batch's leases (one lock) and gives each message its slot.
    fn register(
        &self,
        messages: Vec<Message<T>>,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> Vec<Held<T>> {
        let ctx = &self.ctx;
        let returned_at = Instant::now();
        ctx.stats.received.add(messages.len() as u64);
        let keys = ctx.leases.register(
            messages.iter().map(Message::receipt_handle),
            returned_at,
            &ctx.tokens.force,
        );
        let slots = self.slots.split(permit, messages.len());
        messages
            .into_iter()
            .zip(keys)
            .zip(slots)
            .map(|((msg, (key, token)), slot)| {
                let ticket = Ticket {
                    msg: msg.clone().with_body(Ok(())),
                    key,
                    _slot: slot,
                };
                (msg, ticket, token)
            })
            .collect()
    }

    async fn hand_over(&self, sink: &mut Sink<T>, batch: Vec<Held<T>>) {
        let ctx = self.ctx.clone();
        match sink {
            Sink::Fifo(tx) => {
                if let Err(mpsc::error::SendError(batch)) = tx.send(batch) {
                    self.give_back(batch).await;
                }
            }
            Sink::Start(handler) => {
                let stop = ctx.tokens.polling.clone();
                let mut left = Vec::new();
                let mut batch = batch.into_iter();
                for (msg, ticket, token) in batch.by_ref() {
                    if let Err((msg, ticket)) = handler
                        .start(&ctx, msg, ticket, token.clone(), &stop, None)
                        .await
                    {
                        left.push((msg, ticket, token));
                        break;
                    }
                }
                left.extend(batch);
                if !left.is_empty() {
                    self.give_back(left).await;
                }
            }
        }
    }

    /// Releases messages received and not started (shutdown).
    async fn give_back(&self, held: Vec<Held<T>>) {
        let tickets: Vec<Ticket> = held.into_iter().map(|(_, t, _)| t).collect();
        self.ctx.stats.released_prefetched.add(tickets.len() as u64);
        release(&self.ctx, tickets).await;
    }
}
