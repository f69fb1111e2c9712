//! Moving messages out of a dead-letter queue: SQS message move tasks, and a manual move
//! (receive, send, delete, at a given rate) for endpoints that have no move tasks.

use std::time::Duration;

use tracing::Instrument;

use crate::codec::RawString;
use crate::consumer::{Consumer, ReceiveOptions};
use crate::error::{Error, Result};
use crate::producer::{Producer, SendOptions};
use crate::queue::Queue;
use crate::telemetry::OpType;

/// A message move task, as `ListMessageMoveTasks` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MoveTask {
    /// The handle to cancel it with (only for a running task).
    pub task_handle: Option<String>,
    /// `RUNNING`, `COMPLETED`, `CANCELLING`, `CANCELLED` or `FAILED`.
    pub status: Option<String>,
    /// The DLQ's ARN.
    pub source_arn: Option<String>,
    /// Where messages go; `None` means back to their source queues.
    pub destination_arn: Option<String>,
    /// The rate limit, if one was set.
    pub max_per_second: Option<i32>,
    /// Messages moved so far.
    pub moved: i64,
    /// Messages to move in all, when known.
    pub to_move: Option<i64>,
    /// Why it failed, if it did.
    pub failure_reason: Option<String>,
}

fn dlq_arn(dlq: &Queue) -> Result<&str> {
    dlq.arn().ok_or_else(|| {
        Error::invalid(
            "dead-letter queue",
            format!("{} has no QueueArn attribute", dlq.name()),
        )
    })
}

/// Starts a message move task from `dlq` (`StartMessageMoveTask`): to `destination_arn`,
/// or back to each message's source queue when `None`; at most `max_per_second`
/// messages per second (1–500) when set. Returns the task handle.
///
/// # Errors
///
/// [`Error::InvalidInput`] for a rate outside 1–500, [`Error::Sqs`] (e.g. a task is
/// already running: SQS allows one per queue).
pub async fn start(
    dlq: &Queue,
    destination_arn: Option<&str>,
    max_per_second: Option<u32>,
) -> Result<String> {
    if let Some(r) = max_per_second
        && !(1..=500).contains(&r)
    {
        return Err(Error::invalid(
            "max messages per second",
            format!("{r} is outside 1-500"),
        ));
    }
    let source = dlq_arn(dlq)?;
    let span = dlq.span("StartMessageMoveTask", OpType::Settle);
    let out = dlq
        .client()
        .start_message_move_task()
        .source_arn(source)
        .set_destination_arn(destination_arn.map(str::to_owned))
        .set_max_number_of_messages_per_second(max_per_second.and_then(|r| i32::try_from(r).ok()))
        .send()
        .instrument(span.clone())
        .await
        .map_err(|e| dlq.sdk_err("StartMessageMoveTask", e, &span))?;
    Ok(out.task_handle().unwrap_or_default().to_owned())
}

/// Lists the most recent move tasks of `dlq` (`ListMessageMoveTasks`, up to 10).
///
/// # Errors
///
/// [`Error::Sqs`].
pub async fn list(dlq: &Queue) -> Result<Vec<MoveTask>> {
    let source = dlq_arn(dlq)?;
    let span = dlq.span("ListMessageMoveTasks", OpType::Settle);
    let out = dlq
        .client()
        .list_message_move_tasks()
        .source_arn(source)
        .max_results(10)
        .send()
        .instrument(span.clone())
        .await
        .map_err(|e| dlq.sdk_err("ListMessageMoveTasks", e, &span))?;
    Ok(out
        .results()
        .iter()
        .map(|t| MoveTask {
            task_handle: t.task_handle().map(str::to_owned),
            status: t.status().map(str::to_owned),
            source_arn: t.source_arn().map(str::to_owned),
            destination_arn: t.destination_arn().map(str::to_owned),
            max_per_second: t.max_number_of_messages_per_second(),
            moved: t.approximate_number_of_messages_moved(),
            to_move: t.approximate_number_of_messages_to_move(),
            failure_reason: t.failure_reason().map(str::to_owned),
        })
        .collect())
}

/// Cancels a running move task (`CancelMessageMoveTask`); returns the messages moved.
///
/// # Errors
///
/// [`Error::Sqs`] (e.g. the task is not running).
pub async fn cancel(dlq: &Queue, task_handle: &str) -> Result<i64> {
    let span = dlq.span("CancelMessageMoveTask", OpType::Settle);
    let out = dlq
        .client()
        .cancel_message_move_task()
        .task_handle(task_handle)
        .send()
        .instrument(span.clone())
        .await
        .map_err(|e| dlq.sdk_err("CancelMessageMoveTask", e, &span))?;
    Ok(out.approximate_number_of_messages_moved())
}

/// Options of a [`manual`] move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualMove {
    /// Messages per second at most; `None` for as fast as the calls go.
    pub max_per_second: Option<u32>,
    /// Stop after this many messages; `None` to drain.
    pub limit: Option<u64>,
    /// Long-poll wait of each receive; the move stops at the first empty receive.
    pub wait: Duration,
}

impl Default for ManualMove {
    fn default() -> Self {
        Self {
            max_per_second: None,
            limit: None,
            wait: Duration::from_secs(1),
        }
    }
}

/// What a [`manual`] move did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MoveReport {
    /// Messages sent to the destination and deleted from the source.
    pub moved: u64,
    /// Messages that could not be sent or deleted (left in, or returned to, the source).
    pub failed: u64,
}

/// Moves messages from `from` to `to` by hand: receive, send (body, attributes, group
/// and dedup ids kept), delete; paced to `options.max_per_second`. A message is deleted
/// only after its send succeeded, so a failure never loses one (it may duplicate one).
///
/// # Errors
///
/// [`Error::InvalidInput`] for a rate of 0 or a wait over 20 s, and errors of the
/// receive calls. Per-message failures are counted in [`MoveReport::failed`].
pub async fn manual(from: &Queue, to: &Queue, options: &ManualMove) -> Result<MoveReport> {
    if options.max_per_second == Some(0) {
        return Err(Error::invalid(
            "max messages per second",
            "must be at least 1",
        ));
    }
    crate::validate::check_wait(options.wait)?;
    let consumer = Consumer::with_codec(from.clone(), RawString);
    let producer: Producer<String, RawString> =
        Producer::builder(to.clone()).codec(RawString).build()?;
    let start = tokio::time::Instant::now();
    let mut report = MoveReport::default();
    loop {
        let left = options
            .limit
            .map_or(10, |l| l.saturating_sub(report.moved + report.failed));
        if left == 0 {
            break;
        }
        let max = usize::try_from(left.min(10)).unwrap_or(10);
        let msgs = consumer
            .receive(
                &ReceiveOptions::default()
                    .with_max_messages(max)
                    .with_wait(options.wait),
            )
            .await?;
        if msgs.is_empty() {
            break;
        }
        let to_fifo = to.is_fifo();
        let sends: Vec<(String, SendOptions)> = msgs
            .iter()
            .map(|m| {
                let mut o = SendOptions {
                    attributes: m.attributes().clone(),
                    ..SendOptions::default()
                };
                if to_fifo || m.group_id().is_some() {
                    o.group_id = m
                        .group_id()
                        .map(str::to_owned)
                        .or_else(|| Some("redrive".into()));
                }
                if to_fifo {
                    o.dedup_id = m
                        .dedup_id()
                        .map(str::to_owned)
                        .or_else(|| Some(m.message_id().to_owned()));
                }
                (m.raw_body().to_owned(), o)
            })
            .collect();
        let sent = producer
            .send_batch_with(sends.iter().map(|(b, o)| (b, o.clone())))
            .await;
        let mut handles = Vec::new();
        for (m, r) in msgs.iter().zip(&sent) {
            match r {
                Ok(_) => handles.push(m.receipt_handle()),
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(message_id = m.message_id(), error = %e, "redrive: send failed; message left in the source");
                }
            }
        }
        for r in from.delete_batch(&handles).await {
            match r {
                Ok(()) => report.moved += 1,
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(error = %e, "redrive: delete failed; the message may be moved twice");
                }
            }
        }
        if let Some(rate) = options.max_per_second {
            let done = report.moved + report.failed;
            let due = start + Duration::from_secs_f64(done as f64 / f64::from(rate));
            tokio::time::sleep_until(due).await;
        }
    }
    Ok(report)
}
