//! FIFO group scheduling: one message per group at a time, groups in parallel, on the
//! scheduler's own clone of the handler.
//!
//! Pollers hand over whole receive batches; each message joins its group's queue in
//! the order SQS delivered it (undecodable ones too: they are dead-lettered in their
//! turn). When a message is settled in order (acked, or dead-lettered) its group goes on
//! with the next one at once, without waiting for the delete; when it will be delivered
//! again (retried, lost), the rest of its group in hand is released, so SQS delivers
//! them again after it, in order.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::context::{Ctx, Ticket};
use crate::receive::Held;
use crate::run::OnDone;
use crate::settle::Settled;
use crate::settle::release::release;
use crate::start::Handler;

pub(crate) struct Scheduler<T> {
    ctx: Arc<Ctx>,
    handler: Handler<T>,
    batches: mpsc::UnboundedReceiver<Vec<Held<T>>>,
    done_tx: mpsc::UnboundedSender<(String, Settled)>,
    done_rx: mpsc::UnboundedReceiver<(String, Settled)>,
    /// Messages in hand per group; a group is here while it has one running.
    groups: HashMap<String, Group<T>>,
}

struct Group<T> {
    waiting: VecDeque<Held<T>>,
    running: bool,
}

impl<T: Send + Sync + 'static> Scheduler<T> {
    pub(crate) fn new(
        ctx: &Arc<Ctx>,
        handler: Handler<T>,
        batches: mpsc::UnboundedReceiver<Vec<Held<T>>>,
    ) -> Self {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Self {
            ctx: ctx.clone(),
            handler,
            batches,
            done_tx,
            done_rx,
            groups: HashMap::new(),
        }
    }

    /// Schedules until the scheduling token fires, then releases what was not started.
    pub(crate) async fn run(mut self) {
        let stop = self.ctx.tokens.scheduling.clone();
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                Some((group, settled)) = self.done_rx.recv() => self.finished(group, settled).await,
                batch = self.batches.recv() => match batch {
                    Some(batch) => self.add(batch).await,
                    None => break,
                },
            }
        }
        let mut left: Vec<Ticket> = Vec::new();
        for (_, group) in self.groups.drain() {
            left.extend(group.waiting.into_iter().map(|(_, t, _)| t));
        }
        while let Ok(batch) = self.batches.try_recv() {
            left.extend(batch.into_iter().map(|(_, t, _)| t));
        }
        if !left.is_empty() {
            self.ctx.stats.released_prefetched.add(left.len() as u64);
            release(&self.ctx, left).await;
        }
    }

    async fn add(&mut self, batch: Vec<Held<T>>) {
        let mut idle = Vec::new();
        for held in batch {
            let name = held.0.group_id().unwrap_or_default().to_owned();
            let group = self.groups.entry(name.clone()).or_insert_with(|| Group {
                waiting: VecDeque::new(),
                running: false,
            });
            group.waiting.push_back(held);
            if !group.running && !idle.contains(&name) {
                idle.push(name);
            }
        }
        for name in idle {
            self.start_next(name).await;
        }
    }

    async fn finished(&mut self, name: String, settled: Settled) {
        let Some(group) = self.groups.get_mut(&name) else {
            return;
        };
        group.running = false;
        if settled == Settled::Stop && !group.waiting.is_empty() {
            let rest: Vec<Ticket> = group.waiting.drain(..).map(|(_, t, _)| t).collect();
            self.ctx.stats.released_on_failure.add(rest.len() as u64);
            // In a task of its own: the other groups go on during the round trip. SQS
            // delivers none of this group's later messages until these are back.
            let ctx = self.ctx.clone();
            self.ctx
                .handlers
                .spawn(self.ctx.guarded("FIFO release", async move {
                    release(&ctx, rest).await;
                }));
        }
        self.start_next(name).await;
    }

    /// Starts the group's next message, or forgets the group when it has none.
    async fn start_next(&mut self, name: String) {
        let Some(group) = self.groups.get_mut(&name) else {
            return;
        };
        let Some((msg, ticket, token)) = group.waiting.pop_front() else {
            self.groups.remove(&name);
            return;
        };
        group.running = true;
        let tx = self.done_tx.clone();
        let key = name.clone();
        let done: OnDone = Box::new(move |settled| {
            let _ = tx.send((key, settled));
        });
        let stop = self.ctx.tokens.scheduling.clone();
        let ctx = self.ctx.clone();
        if let Err((msg, ticket)) = self
            .handler
            .start(&ctx, msg, ticket, token.clone(), &stop, Some(done))
            .await
            && let Some(group) = self.groups.get_mut(&name)
        {
            group.running = false;
            group.waiting.push_front((msg, ticket, token));
        }
    }
}
