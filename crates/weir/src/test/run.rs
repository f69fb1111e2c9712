//! Running a worker until it has nothing left to do, then reading each message's fate
//! from SQS.

use std::time::Duration;

use tokio::time::{Instant, sleep};
use weir_sqs::{Consumer, Message, Queue, RawString, ReceiveOptions, Result};
use weir_worker::{Worker, WorkerHandle, dlq_attributes};

use super::outcome::{Outcome, TestRun};
use super::queue::{INDEX, TestQueue};

/// How often the kit looks at the worker and the queue.
const TICK: Duration = Duration::from_millis(10);
/// Checks in a row that must find nothing left, so that a message between SQS and the
/// worker (received, not yet counted) is not missed.
const QUIET_CHECKS: u32 = 3;
/// The longest visibility timeout: what the kit receives stays out of the way.
const HIDE: Duration = Duration::from_secs(43_200);
/// The longest a message can stay out of sight: a 12 h visibility timeout, then a
/// 15 min delay, and a minute to spare.
const LONGEST_WAIT: Duration = Duration::from_secs(43_200 + 900 + 60);

impl TestQueue {
    /// Runs `worker` until nothing is left: no message visible, delayed or in flight in
    /// the queue and none held by the worker, so every retry has come due and been
    /// handled again. Then shuts it down (losslessly) and returns each message's
    /// [`Outcome`], read from SQS, in the order the kit sent them.
    ///
    /// A run that lasts [`run_timeout`](Self::run_timeout) is shut down as it is: its
    /// pending retries are [`Outcome::Retried`], with when they come due.
    pub async fn run<T: Send + Sync + 'static>(&self, worker: Worker<T>) -> Result<TestRun> {
        let handle = worker.handle();
        let deadline = Instant::now() + self.run_timeout;
        let report = worker.run_until(self.until_done(&handle, deadline)).await;
        let ended = Instant::now();
        let mut outcomes = vec![Outcome::Acked; usize::try_from(self.sent()).unwrap_or(0)];
        for (index, outcome) in self.dead_letters().await? {
            set(&mut outcomes, index, outcome);
        }
        for (index, outcome) in self.still_queued(ended).await? {
            set(&mut outcomes, index, outcome);
        }
        Ok(TestRun { outcomes, report })
    }

    /// Completes when the worker and the queue are both done, or at `deadline`.
    async fn until_done(&self, handle: &WorkerHandle, deadline: Instant) {
        let mut quiet = 0;
        while quiet < QUIET_CHECKS && Instant::now() < deadline {
            sleep(TICK).await;
            let idle = handle.health().in_flight == 0
                && self
                    .queue()
                    .depth()
                    .await
                    .is_ok_and(|d| d.visible == 0 && d.in_flight == 0 && d.delayed == 0);
            quiet = if idle { quiet + 1 } else { 0 };
        }
    }

    /// Every copy in the dead-letter queue, by the index of the message it copies.
    async fn dead_letters(&self) -> Result<Vec<(u64, Outcome)>> {
        let mut found = Vec::new();
        loop {
            let batch = receive(self.dlq(), Duration::ZERO).await?;
            if batch.is_empty() {
                return Ok(found);
            }
            for m in &batch {
                let outcome = Outcome::DeadLettered {
                    reason: m
                        .attribute(dlq_attributes::REASON)
                        .unwrap_or_default()
                        .to_owned(),
                    error: m.attribute(dlq_attributes::ERROR).map(str::to_owned),
                    attempts: m
                        .attribute(dlq_attributes::ATTEMPTS)
                        .and_then(|a| a.parse().ok()),
                };
                found.extend(index(m).map(|i| (i, outcome)));
            }
        }
    }

    /// The messages still in the queue after the run: visible at once (released
    /// unfinished), or later, when their retry comes due (at most 12 h 15 min later:
    /// the longest visibility timeout plus the longest delay).
    async fn still_queued(&self, ended: Instant) -> Result<Vec<(u64, Outcome)>> {
        let depth = self.queue().depth().await?;
        let mut left = depth.visible + depth.in_flight + depth.delayed;
        let mut found = Vec::new();
        loop {
            let batch = receive(self.queue(), Duration::ZERO).await?;
            if batch.is_empty() {
                break;
            }
            left = left.saturating_sub(batch.len() as u64);
            found.extend(
                batch
                    .iter()
                    .filter_map(index)
                    .map(|i| (i, Outcome::Released)),
            );
        }
        let horizon = ended + LONGEST_WAIT;
        while left > 0 && Instant::now() < horizon {
            let batch = receive(self.queue(), Duration::from_secs(20)).await?;
            let visible_again_after = Instant::now().duration_since(ended);
            left = left.saturating_sub(batch.len() as u64);
            let retried = Outcome::Retried {
                visible_again_after,
            };
            found.extend(batch.iter().filter_map(index).map(|i| (i, retried.clone())));
        }
        Ok(found)
    }
}

/// One receive of up to 10 messages, hidden for 12 h.
async fn receive(queue: &Queue, wait: Duration) -> Result<Vec<Message<String>>> {
    let options = ReceiveOptions::default()
        .with_wait(wait)
        .with_visibility(HIDE);
    Consumer::with_codec(queue.clone(), RawString)
        .receive(&options)
        .await
}

fn index(m: &Message<String>) -> Option<u64> {
    m.attribute(INDEX)?.parse().ok()
}

fn set(outcomes: &mut [Outcome], index: u64, outcome: Outcome) {
    if let Some(slot) = usize::try_from(index)
        .ok()
        .and_then(|i| outcomes.get_mut(i))
    {
        *slot = outcome;
    }
}
