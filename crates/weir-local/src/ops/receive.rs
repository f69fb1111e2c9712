//! ReceiveMessage (with long polling and redrive), DeleteMessage and ChangeMessageVisibility.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::checksum::md5_of_attributes;
use crate::clock::secs;
use crate::engine::{Ctx, Engine};
use crate::error::{ErrorKind, SqsError, SqsResult};
use crate::ops::int_param;
use crate::ops::messages::check_batch_ids;
use crate::queue::{Attempt, Msg, MsgState, Queue};
use crate::wire::{
    AttrIn, BatchOut, ChangeVisibilityIn, DeleteMessageIn, FailedEntry, HandleBatchIn, IdEntry,
    MessageOut, ReceiveIn, ReceiveOut,
};

const MAX_VISIBILITY: Duration = Duration::from_secs(43_200);
const ATTEMPT_WINDOW: Duration = Duration::from_secs(300);

/// System attributes a receive asked for, as bit flags.
#[derive(Debug, Clone, Copy, Default)]
struct SysAttrs(u16);

const SYS_NAMES: &[&str] = &[
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
];

impl SysAttrs {
    fn parse<'a>(names: impl Iterator<Item = &'a String>) -> Self {
        let mut bits = 0u16;
        for n in names {
            if n == "All" {
                bits = u16::MAX;
            } else if let Some(i) = SYS_NAMES.iter().position(|s| s == n) {
                bits |= 1 << i;
            }
        }
        Self(bits)
    }

    fn has(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }
}

/// Receipt handle: queue incarnation, message sequence and receive token, hex encoded.
fn encode_handle(incarnation: u64, seq: u64, token: u64) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(48);
    for n in [incarnation, seq, token] {
        for shift in (0..16).rev() {
            let nibble = (n >> (shift * 4)) & 0xf;
            s.push(char::from(DIGITS[usize::try_from(nibble).unwrap_or(0)]));
        }
    }
    s
}

fn parse_handle(q: &Queue, handle: Option<&str>) -> SqsResult<(u64, u64)> {
    let h = handle.ok_or_else(|| SqsError::missing("ReceiptHandle"))?;
    let invalid = || {
        SqsError::new(
            ErrorKind::ReceiptHandleIsInvalid,
            format!("The input receipt handle \"{h}\" is not a valid receipt handle."),
        )
    };
    let b = h.as_bytes();
    if b.len() != 48 {
        return Err(invalid());
    }
    let mut parts = [0u64; 3];
    for (i, part) in parts.iter_mut().enumerate() {
        for &c in &b[i * 16..(i + 1) * 16] {
            let digit = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(invalid()),
            };
            *part = (*part << 4) | u64::from(digit);
        }
    }
    if parts[0] != q.incarnation {
        return Err(invalid());
    }
    Ok((parts[1], parts[2]))
}

/// `All` and `.*` select every attribute; `Prefix.*` those whose name starts with
/// `Prefix` (read as a pattern: `Custom.*` takes `Customer` too, as AWS and LocalStack
/// do); any other entry one name.
fn wants_attr(filter: &[String], name: &str) -> bool {
    filter.iter().any(|f| {
        f == "All"
            || f == ".*"
            || f == name
            || f.strip_suffix(".*").is_some_and(|p| name.starts_with(p))
    })
}

fn render(m: &Msg, handle: String, sys: SysAttrs, filter: &[String]) -> MessageOut {
    let mut attributes = HashMap::new();
    // Values are only rendered for the attributes asked for (usually none).
    let mut put = |i: usize, v: &dyn Fn() -> Option<String>| {
        if sys.has(i)
            && let Some(v) = v()
        {
            attributes.insert(SYS_NAMES[i], v);
        }
    };
    put(0, &|| Some(m.sender_id.to_string()));
    put(1, &|| Some(m.sent_ms.to_string()));
    put(2, &|| Some(m.receive_count.to_string()));
    put(3, &|| m.first_receive_ms.map(|t| t.to_string()));
    put(4, &|| m.seq_number.as_deref().map(str::to_owned));
    put(5, &|| m.dedup_id.as_deref().map(str::to_owned));
    put(6, &|| m.group_id.as_deref().map(str::to_owned));
    put(7, &|| m.trace_header.as_deref().map(str::to_owned));
    put(8, &|| m.dlq_source_arn.as_deref().map(str::to_owned));
    let (md5, message_attributes) = if filter.is_empty() || m.attrs.is_empty() {
        (None, HashMap::new())
    } else {
        let chosen: Vec<_> = m
            .attrs
            .iter()
            .filter(|(k, _)| wants_attr(filter, k))
            .collect();
        let md5 = md5_of_attributes(chosen.iter().copied());
        let map = chosen
            .into_iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    AttrIn {
                        string_value: v.string.clone(),
                        binary_value: v.binary.as_ref().map(aws_smithy_types::base64::encode),
                        string_list_values: Vec::new(),
                        binary_list_values: Vec::new(),
                        data_type: Some(v.data_type.clone()),
                    },
                )
            })
            .collect();
        (md5, map)
    };
    MessageOut {
        message_id: m.id.clone(),
        receipt_handle: handle,
        md5_of_body: m.md5_body.clone(),
        body: m.body.clone(),
        attributes,
        md5_of_message_attributes: md5,
        message_attributes,
    }
}

/// What one pass over the queue produced.
struct Taken {
    msgs: Vec<MessageOut>,
    to_dlq: Vec<Msg>,
    next_due: Option<Instant>,
    deleted: bool,
}

impl Engine {
    fn take(
        &self,
        q: &Queue,
        max: usize,
        vt: Duration,
        redrive: Option<u32>,
        attempt: Option<&str>,
        render: impl Fn(&Msg, String) -> MessageOut,
    ) -> Taken {
        let now = self.clock.now();
        let now_ms = self.clock.epoch_ms(now);
        let mut st = q.lock();
        st.tick(now);
        let mut out = Taken {
            msgs: Vec::new(),
            to_dlq: Vec::new(),
            next_due: None,
            deleted: st.deleted,
        };
        // A FIFO retry with the same attempt id gets the same messages back.
        if let Some(aid) = attempt
            && let Some(a) = st.attempts.get(aid).filter(|a| a.expires > now).cloned()
        {
            let intact = !a.taken.is_empty()
                && a.taken.iter().all(|(seq, token)| {
                    st.msgs
                        .get(seq)
                        .is_some_and(|m| m.state == MsgState::Inflight && m.receipt == *token)
                });
            if intact {
                for (seq, token) in &a.taken {
                    st.set_visible_at(*seq, now + vt, now);
                    if let Some(m) = st.msgs.get(seq) {
                        out.msgs
                            .push(render(m, encode_handle(q.incarnation, *seq, *token)));
                    }
                }
                return out;
            }
        }
        let mut chosen = Vec::new();
        let mut dlq_seqs = Vec::new();
        let mut expired = Vec::new();
        // FIFO: group by group, as the group index orders them; standard: send order.
        let candidates: Box<dyn Iterator<Item = u64> + '_> = if q.fifo {
            Box::new(st.groups.receivable())
        } else {
            Box::new(st.ready.iter().copied())
        };
        for seq in candidates {
            if chosen.len() >= max {
                break;
            }
            let Some(m) = st.msgs.get(&seq) else { continue };
            if st.expired(m, now) {
                expired.push(seq);
            } else if redrive.is_some_and(|max_count| m.receive_count >= max_count) {
                dlq_seqs.push(seq);
            } else {
                chosen.push(seq);
            }
        }
        for seq in expired {
            st.remove(seq);
        }
        for seq in dlq_seqs {
            if let Some(m) = st.remove(seq) {
                out.to_dlq.push(m);
            }
        }
        // Messages are rendered here, under the lock, rather than cloned out of it.
        let mut receipts = Vec::new();
        for &seq in &chosen {
            st.take_inflight(seq, now, now_ms, now + vt);
            if let Some(m) = st.msgs.get(&seq) {
                if attempt.is_some() {
                    receipts.push((seq, m.receipt));
                }
                out.msgs
                    .push(render(m, encode_handle(q.incarnation, seq, m.receipt)));
            }
        }
        if let Some(aid) = attempt
            && !chosen.is_empty()
        {
            st.attempts.insert(
                aid.to_owned(),
                Attempt {
                    expires: now + ATTEMPT_WINDOW,
                    taken: receipts,
                },
            );
        }
        out.next_due = st.next_due();
        out
    }

    /// Moves messages that exceeded maxReceiveCount into their dead-letter queue.
    pub(crate) fn deliver_to(&self, target: &Queue, source_arn: Option<&str>, msgs: Vec<Msg>) {
        if msgs.is_empty() {
            return;
        }
        let now = self.clock.now();
        {
            let mut st = target.lock();
            for mut m in msgs {
                if let Some(src) = source_arn {
                    m.dlq_source_arn = Some(Arc::from(src));
                }
                m.visible_at = now;
                m.seq_number = if target.fifo {
                    Some(st.next_fifo_seq())
                } else {
                    None
                };
                if target.fifo {
                    // FIFO dead-letter queues restart the retention clock (AWS documents this).
                    m.sent_at = now;
                }
                st.insert(m, now);
            }
        }
        target.notify.notify_waiters();
    }

    pub(crate) async fn receive_message(
        &self,
        req: ReceiveIn,
        ctx: &Ctx<'_>,
    ) -> SqsResult<ReceiveOut> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        let max = usize::try_from(int_param(
            req.max_number_of_messages,
            "MaxNumberOfMessages",
            1,
            10,
            1,
        )?)
        .unwrap_or(1);
        let vt = req
            .visibility_timeout
            .map(|v| int_param(Some(v), "VisibilityTimeout", 0, 43_200, 0))
            .transpose()?;
        let wait = match req.wait_time_seconds {
            Some(v) if !(0..=20).contains(&v) => {
                return Err(SqsError::bad_value(
                    v,
                    "WaitTimeSeconds",
                    "Must be >= 0 and <= 20, if provided.",
                ));
            }
            v => v,
        };
        let attempt = if q.fifo {
            if let Some(a) = req.receive_request_attempt_id.as_deref()
                && (a.is_empty() || a.len() > 128 || !a.bytes().all(|b| (33..=126).contains(&b)))
            {
                return Err(SqsError::bad_value(
                    a,
                    "ReceiveRequestAttemptId",
                    "ReceiveRequestAttemptId can only include printable ASCII characters and be 1 to 128 in length.",
                ));
            }
            req.receive_request_attempt_id.as_deref()
        } else {
            None
        };
        let (vt, wait, redrive) = {
            let st = q.lock();
            (
                vt.map_or(st.cfg.visibility_timeout, |v| u32::try_from(v).unwrap_or(0)),
                wait.map_or(st.cfg.receive_wait, |v| u32::try_from(v).unwrap_or(0)),
                st.cfg.redrive.clone(),
            )
        };
        let dlq = redrive
            .as_ref()
            .and_then(|r| self.by_arn(&r.target_arn).map(|d| (d, r.max_receive_count)));
        let sys = SysAttrs::parse(
            req.attribute_names
                .iter()
                .chain(req.message_system_attribute_names.iter()),
        );
        let deadline = self.clock.now() + secs(wait);
        loop {
            let notified = q.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let taken = self.take(
                &q,
                max,
                secs(vt),
                dlq.as_ref().map(|(_, n)| *n),
                attempt,
                |m, h| render(m, h, sys, &req.message_attribute_names),
            );
            if let Some((d, _)) = &dlq {
                self.deliver_to(d, Some(&q.arn), taken.to_dlq);
            }
            let now = self.clock.now();
            if !taken.msgs.is_empty() || taken.deleted || now >= deadline {
                return Ok(ReceiveOut {
                    messages: taken.msgs,
                });
            }
            let wake = taken.next_due.map_or(deadline, |d| d.min(deadline));
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    pub(crate) fn delete_message(
        &self,
        req: &DeleteMessageIn,
        ctx: &Ctx<'_>,
    ) -> SqsResult<serde_json::Value> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        self.delete_one(&q, req.receipt_handle.as_deref())?;
        Ok(serde_json::json!({}))
    }

    /// Deletes by handle. On a standard queue a stale handle (the message was received
    /// again since) succeeds without deleting, as the AWS DeleteMessage reference
    /// documents; on a FIFO queue a handle whose visibility ran out has expired.
    fn delete_one(&self, q: &Queue, handle: Option<&str>) -> SqsResult<()> {
        let parsed = parse_handle(q, handle)?;
        let raw = handle.unwrap_or_default();
        self.delete_parsed(q, &[(parsed, raw)])
            .pop()
            .unwrap_or(Ok(()))
    }

    /// Deletes parsed handles under one lock, with one result per handle.
    fn delete_parsed(&self, q: &Queue, handles: &[((u64, u64), &str)]) -> Vec<SqsResult<()>> {
        let now = self.clock.now();
        let mut removed = false;
        let mut results = Vec::with_capacity(handles.len());
        {
            let mut st = q.lock();
            st.tick(now);
            for &((seq, token), raw) in handles {
                let current = match st.msgs.get(&seq) {
                    None => {
                        results.push(Ok(()));
                        continue;
                    }
                    Some(m) => m.receipt == token && (!q.fifo || m.state == MsgState::Inflight),
                };
                if current {
                    removed |= st.remove(seq).is_some();
                    results.push(Ok(()));
                } else if q.fifo {
                    results.push(Err(expired(raw)));
                } else {
                    results.push(Ok(()));
                }
            }
        }
        if removed && q.fifo {
            q.notify.notify_waiters();
        }
        results
    }

    pub(crate) fn delete_message_batch(
        &self,
        req: &HandleBatchIn,
        ctx: &Ctx<'_>,
    ) -> SqsResult<BatchOut<IdEntry>> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        check_batch_ids(
            req.entries.iter().map(|e| e.id.as_deref()),
            "DeleteMessageBatchRequestEntry",
        )?;
        let mut out = BatchOut {
            successful: Vec::with_capacity(req.entries.len()),
            failed: Vec::new(),
        };
        let mut parsed = Vec::with_capacity(req.entries.len());
        for e in &req.entries {
            let id = e.id.clone().unwrap_or_default();
            match parse_handle(&q, e.receipt_handle.as_deref()) {
                Ok(h) => parsed.push((id, h, e.receipt_handle.as_deref().unwrap_or_default())),
                Err(err) => out.failed.push(failed(id, err)),
            }
        }
        let handles: Vec<_> = parsed.iter().map(|(_, h, raw)| (*h, *raw)).collect();
        let results = self.delete_parsed(&q, &handles);
        for ((id, _, _), result) in parsed.into_iter().zip(results) {
            match result {
                Ok(()) => out.successful.push(IdEntry { id }),
                Err(err) => out.failed.push(failed(id, err)),
            }
        }
        Ok(out)
    }

    fn change_one(&self, q: &Queue, handle: Option<&str>, vt: Option<i64>) -> SqsResult<()> {
        let (seq, token) = parse_handle(q, handle)?;
        let vt = vt.ok_or_else(|| SqsError::missing("VisibilityTimeout"))?;
        let vt =
            u32::try_from(int_param(Some(vt), "VisibilityTimeout", 0, 43_200, 0)?).unwrap_or(0);
        let now = self.clock.now();
        {
            let mut st = q.lock();
            st.tick(now);
            // The latest handle of a standard message applies even after its visibility
            // ran out (AWS answers 200); a FIFO handle expires with its visibility.
            let m = st
                .msgs
                .get(&seq)
                .filter(|m| m.receipt == token)
                .filter(|m| !q.fifo || m.state == MsgState::Inflight)
                .ok_or_else(|| expired(handle.unwrap_or_default()))?;
            if now + secs(vt) > m.received_at + MAX_VISIBILITY {
                return Err(SqsError::bad_value(
                    vt,
                    "VisibilityTimeout",
                    "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
                ));
            }
            st.set_visible_at(seq, now + secs(vt), now);
        }
        // A waiter may be sleeping until the old deadline: let it recompute.
        q.notify.notify_waiters();
        Ok(())
    }

    pub(crate) fn change_visibility(
        &self,
        req: &ChangeVisibilityIn,
        ctx: &Ctx<'_>,
    ) -> SqsResult<serde_json::Value> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        self.change_one(&q, req.receipt_handle.as_deref(), req.visibility_timeout)?;
        Ok(serde_json::json!({}))
    }

    pub(crate) fn change_visibility_batch(
        &self,
        req: HandleBatchIn,
        ctx: &Ctx<'_>,
    ) -> SqsResult<BatchOut<IdEntry>> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        check_batch_ids(
            req.entries.iter().map(|e| e.id.as_deref()),
            "ChangeMessageVisibilityBatchRequestEntry",
        )?;
        let mut out = BatchOut {
            successful: Vec::new(),
            failed: Vec::new(),
        };
        for e in req.entries {
            let id = e.id.unwrap_or_default();
            match self.change_one(&q, e.receipt_handle.as_deref(), e.visibility_timeout) {
                Ok(()) => out.successful.push(IdEntry { id }),
                Err(err) => out.failed.push(failed(id, err)),
            }
        }
        Ok(out)
    }
}

/// The error of a handle that no longer applies.
fn expired(handle: &str) -> SqsError {
    SqsError::bad_value(handle, "ReceiptHandle", "The receipt handle has expired.")
}

fn failed(id: String, err: SqsError) -> FailedEntry {
    FailedEntry {
        id,
        sender_fault: true,
        code: err.kind.batch_code().to_owned(),
        message: err.message,
    }
}

#[cfg(test)]
mod tests {
    use super::encode_handle;

    #[test]
    fn receipt_handles_are_three_fixed_width_hex_numbers() {
        for (a, b, c) in [
            (0, 0, 0),
            (1, u64::MAX, 0x0123_4567_89ab_cdef),
            (u64::MAX / 3, 42, 7),
        ] {
            assert_eq!(encode_handle(a, b, c), format!("{a:016x}{b:016x}{c:016x}"));
        }
    }
}
