//! Message move tasks: StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::engine::Engine;
use crate::error::{ErrorKind, SqsError, SqsResult};
use crate::ops::int_param;
use crate::queue::{Msg, MsgState};
use crate::wire::{CancelMoveIn, ListMovesIn, StartMoveIn};

/// Progress of a move task.
#[derive(Debug)]
struct Progress {
    status: &'static str,
    moved: u64,
    failure: Option<String>,
}

/// One move task, running or finished.
#[derive(Debug)]
pub(crate) struct MoveTask {
    handle: String,
    source_arn: String,
    dest_arn: Option<String>,
    rate: Option<u32>,
    to_move: u64,
    started_ms: u64,
    cancel: AtomicBool,
    progress: Mutex<Progress>,
}

impl MoveTask {
    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_active(&self) -> bool {
        matches!(self.progress().status, "RUNNING" | "CANCELLING")
    }

    fn finish(&self, status: &'static str, failure: Option<String>) {
        let mut p = self.progress();
        p.status = status;
        p.failure = failure;
    }
}

/// What a move task handle carries.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskHandle {
    #[allow(dead_code)] // read to check the handle's shape; tasks are found by handle
    task_id: String,
    source_arn: String,
}

fn decode_task_handle(handle: &str) -> Option<TaskHandle> {
    let json = aws_smithy_types::base64::decode(handle).ok()?;
    serde_json::from_slice(&json).ok()
}

fn not_found(what: &str) -> SqsError {
    SqsError::new(
        ErrorKind::ResourceNotFound,
        format!("The resource that you specified for the {what} parameter doesn't exist."),
    )
}

impl Engine {
    fn tasks(&self) -> std::sync::MutexGuard<'_, Vec<Arc<MoveTask>>> {
        self.tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn start_move_task(&self, req: StartMoveIn) -> SqsResult<Value> {
        let source_arn = req
            .source_arn
            .ok_or_else(|| SqsError::missing("SourceArn"))?;
        let source = self
            .by_arn(&source_arn)
            .ok_or_else(|| not_found("SourceArn"))?;
        let is_dlq = self.all_queues().iter().any(|q| {
            q.lock()
                .cfg
                .redrive
                .as_ref()
                .is_some_and(|r| r.target_arn == source_arn)
        });
        if !is_dlq {
            return Err(SqsError::invalid_param(
                "Source queue must be configured as a Dead Letter Queue.",
            ));
        }
        if let Some(d) = &req.destination_arn
            && self.by_arn(d).is_none()
        {
            return Err(not_found("DestinationArn"));
        }
        let rate = req
            .max_number_of_messages_per_second
            .map(|r| int_param(Some(r), "MaxNumberOfMessagesPerSecond", 1, 500, 500))
            .transpose()?
            .map(|r| u32::try_from(r).unwrap_or(500));
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            SqsError::new(
                ErrorKind::Internal,
                "StartMessageMoveTask needs a tokio runtime to run the task on.",
            )
        })?;
        let to_move = {
            let now = self.clock.now();
            let mut st = source.lock();
            st.tick(now);
            st.counts(now).visible as u64
        };
        let task = Arc::new(MoveTask {
            handle: aws_smithy_types::base64::encode(
                json!({ "taskId": crate::checksum::fast_uuid().to_string(), "sourceArn": source_arn })
                    .to_string(),
            ),
            source_arn: source_arn.clone(),
            dest_arn: req.destination_arn,
            rate,
            to_move,
            started_ms: self.clock.now_ms(),
            cancel: AtomicBool::new(false),
            progress: Mutex::new(Progress {
                status: "RUNNING",
                moved: 0,
                failure: None,
            }),
        });
        {
            let mut tasks = self.tasks();
            if tasks
                .iter()
                .any(|t| t.source_arn == source_arn && t.is_active())
            {
                return Err(SqsError::invalid_param(
                    "There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
                ));
            }
            tasks.push(task.clone());
        }
        let handle = task.handle.clone();
        runtime.spawn(run_task(self.me.clone(), task));
        Ok(json!({ "TaskHandle": handle }))
    }

    pub(crate) fn list_move_tasks(&self, req: ListMovesIn) -> SqsResult<Value> {
        let source_arn = req
            .source_arn
            .ok_or_else(|| SqsError::missing("SourceArn"))?;
        if self.by_arn(&source_arn).is_none() {
            return Err(not_found("SourceArn"));
        }
        let max = usize::try_from(int_param(req.max_results, "MaxResults", 1, 10, 1)?).unwrap_or(1);
        let tasks: Vec<Arc<MoveTask>> = self
            .tasks()
            .iter()
            .rev()
            .filter(|t| t.source_arn == source_arn)
            .take(max)
            .cloned()
            .collect();
        let results: Vec<Value> = tasks
            .iter()
            .map(|t| {
                let p = t.progress();
                let mut m = Map::new();
                if p.status == "RUNNING" {
                    m.insert("TaskHandle".into(), json!(t.handle));
                }
                m.insert("Status".into(), json!(p.status));
                m.insert("SourceArn".into(), json!(t.source_arn));
                if let Some(d) = &t.dest_arn {
                    m.insert("DestinationArn".into(), json!(d));
                }
                if let Some(r) = t.rate {
                    m.insert("MaxNumberOfMessagesPerSecond".into(), json!(r));
                }
                m.insert("ApproximateNumberOfMessagesMoved".into(), json!(p.moved));
                m.insert("ApproximateNumberOfMessagesToMove".into(), json!(t.to_move));
                if let Some(f) = &p.failure {
                    m.insert("FailureReason".into(), json!(f));
                }
                m.insert("StartedTimestamp".into(), json!(t.started_ms));
                Value::Object(m)
            })
            .collect();
        Ok(json!({ "Results": results }))
    }

    pub(crate) fn cancel_move_task(&self, req: CancelMoveIn) -> SqsResult<Value> {
        let handle = req
            .task_handle
            .ok_or_else(|| SqsError::missing("TaskHandle"))?;
        // AWS's handle is base64 JSON naming the task and its source queue; it checks
        // the handle, then the queue, then the task.
        let parsed = decode_task_handle(&handle)
            .ok_or_else(|| SqsError::invalid_param("Value for parameter TaskHandle is invalid."))?;
        if self.by_arn(&parsed.source_arn).is_none() {
            return Err(not_found("SourceArn"));
        }
        let task = self
            .tasks()
            .iter()
            .find(|t| t.handle == handle)
            .cloned()
            .ok_or_else(|| SqsError::new(ErrorKind::ResourceNotFound, "Task does not exist."))?;
        let mut p = task.progress();
        if p.status != "RUNNING" {
            return Err(SqsError::new(
                ErrorKind::ResourceNotFound,
                format!(
                    "The task is {}, only a RUNNING task can be cancelled.",
                    p.status
                ),
            ));
        }
        p.status = "CANCELLING";
        task.cancel.store(true, Ordering::SeqCst);
        Ok(json!({ "ApproximateNumberOfMessagesMoved": p.moved }))
    }

    /// Takes the oldest visible message out of a queue.
    fn pop_visible(&self, arn: &str) -> Option<Msg> {
        let q = self.by_arn(arn)?;
        let now = self.clock.now();
        let mut st = q.lock();
        st.tick(now);
        let seq = st
            .ready
            .iter()
            .copied()
            .find(|s| st.msgs.get(s).is_some_and(|m| m.state == MsgState::Visible))?;
        st.remove(seq)
    }
}

async fn run_task(engine: Weak<Engine>, task: Arc<MoveTask>) {
    let pause = task.rate.map(|r| Duration::from_secs(1) / r.max(1));
    loop {
        let Some(engine) = engine.upgrade() else {
            return;
        };
        if task.cancel.load(Ordering::SeqCst) {
            task.finish("CANCELLED", None);
            return;
        }
        if task.progress().moved >= task.to_move {
            task.finish("COMPLETED", None);
            return;
        }
        let Some(mut m) = engine.pop_visible(&task.source_arn) else {
            task.finish("COMPLETED", None);
            return;
        };
        let target_arn = task
            .dest_arn
            .clone()
            .or_else(|| m.dlq_source_arn.as_deref().map(str::to_owned));
        let Some(target) = target_arn.as_deref().and_then(|a| engine.by_arn(a)) else {
            // Put it back where it was and fail, as AWS does when the destination is gone.
            if let Some(src) = engine.by_arn(&task.source_arn) {
                engine.deliver_to(&src, None, vec![m]);
            }
            task.finish(
                "FAILED",
                Some("The destination queue does not exist.".to_owned()),
            );
            return;
        };
        let now = engine.clock.now();
        m.dlq_source_arn = None;
        m.receive_count = 0;
        m.first_receive_ms = None;
        m.sent_at = now;
        m.sent_ms = engine.clock.epoch_ms(now);
        engine.deliver_to(&target, None, vec![m]);
        let moved = {
            let mut p = task.progress();
            p.moved += 1;
            p.moved
        };
        drop(engine);
        match pause {
            Some(d) => tokio::time::sleep(d).await,
            None if moved % 100 == 0 => tokio::task::yield_now().await,
            None => {}
        }
    }
}
