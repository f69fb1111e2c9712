//! SendMessage and SendMessageBatch, with every check SQS makes on a message.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::checksum::{AttrValue, md5_hex_arc, md5_of_map, sha256_hex, valid_chars};
use crate::clock::secs;
use crate::engine::{Ctx, Engine};
use crate::error::{ErrorKind, SqsError, SqsResult};
use crate::queue::{DedupEntry, Msg, MsgState, Queue};
use crate::wire::{
    AttrIn, BatchOut, FailedEntry, SendBatchIn, SendEntry, SendMessageIn, SendResultEntry,
};

/// Largest total payload of one batch request.
pub(crate) const MAX_BATCH_BYTES: usize = 1_048_576;
const DEDUP_WINDOW: Duration = Duration::from_secs(300);
const ALLOWED: &str = "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF";

/// Queue settings a send needs, copied out of the lock.
#[derive(Debug, Clone, Copy)]
struct SendCfg {
    max_size: u32,
    delay: u32,
    content_dedup: bool,
    scope_group: bool,
}

/// Values every message of one request shares, allocated once per request.
struct PerRequest {
    sender: Arc<str>,
    /// The request's `X-Amzn-Trace-Id` header, for messages without an `AWSTraceHeader`
    /// system attribute (the attribute takes precedence, as on AWS).
    trace_header: Option<Arc<str>>,
    no_attrs: Arc<BTreeMap<String, AttrValue>>,
    /// When the request arrived: every message of a batch is sent at the same instant.
    now: Instant,
    now_ms: u64,
}

impl PerRequest {
    fn new(engine: &Engine, ctx: &Ctx<'_>) -> Self {
        let now = engine.clock.now();
        Self {
            sender: Arc::from(ctx.sender_id),
            trace_header: ctx.trace_header.filter(|h| !h.is_empty()).map(Arc::from),
            no_attrs: Arc::new(BTreeMap::new()),
            now,
            now_ms: engine.clock.epoch_ms(now),
        }
    }
}

/// A message ready to insert.
#[derive(Debug)]
pub(crate) struct Prepared {
    msg: Msg,
    dedup_key: Option<String>,
    md5_sys: Option<String>,
}

/// Checks batch entry ids: count, shape and uniqueness.
pub(crate) fn check_batch_ids<'a>(
    ids: impl ExactSizeIterator<Item = Option<&'a str>>,
    what: &str,
) -> SqsResult<()> {
    let n = ids.len();
    if n == 0 {
        return Err(SqsError::new(
            ErrorKind::EmptyBatchRequest,
            format!("There should be at least one {what} in the request."),
        ));
    }
    if n > 10 {
        return Err(SqsError::new(
            ErrorKind::TooManyEntriesInBatchRequest,
            format!("Maximum number of entries per request are 10. You have sent {n}."),
        ));
    }
    // At most ten ids: a linear scan beats hashing them.
    let mut seen: Vec<&str> = Vec::with_capacity(n);
    for id in ids {
        let id = id.ok_or_else(|| SqsError::missing(&format!("{what}.Id")))?;
        if id.is_empty()
            || id.len() > 80
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(SqsError::new(
                ErrorKind::InvalidBatchEntryId,
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
            ));
        }
        if seen.contains(&id) {
            return Err(SqsError::new(
                ErrorKind::BatchEntryIdsNotDistinct,
                format!("Id {id} repeated."),
            ));
        }
        seen.push(id);
    }
    Ok(())
}

/// AWS's rule: letters and digits of any script (it takes `attr.1øßä`), `_ - .`, up to
/// 256 characters; it refuses punctuation such as `! " § ( ?`.
fn valid_attr_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let len = name.chars().count();
    (1..=256).contains(&len)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.")
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
}

fn base_type(data_type: &str) -> Option<&'static str> {
    let (base, label) = match data_type.split_once('.') {
        Some((b, l)) => (b, Some(l)),
        None => (data_type, None),
    };
    if label.is_some_and(|l| l.is_empty() || l.len() > 256) {
        return None;
    }
    match base {
        "String" => Some("String"),
        "Number" => Some("Number"),
        "Binary" => Some("Binary"),
        _ => None,
    }
}

/// Validates message attributes and converts them to stored form.
pub(crate) fn convert_attrs(
    attrs: &HashMap<String, AttrIn>,
) -> SqsResult<BTreeMap<String, AttrValue>> {
    if attrs.len() > 10 {
        return Err(SqsError::invalid_param(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [10].",
            attrs.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (name, v) in attrs {
        if !valid_attr_name(name) {
            return Err(SqsError::invalid_param(format!(
                "Message (user) attribute name '{name}' is invalid: up to 256 letters, digits, _ - ., not starting with AWS. or Amazon., no leading, trailing or doubled period."
            )));
        }
        let data_type = v.data_type.as_deref().unwrap_or_default();
        if data_type.is_empty() {
            return Err(SqsError::invalid_param(format!(
                "The message attribute '{name}' must contain non-empty message attribute type."
            )));
        }
        let base = base_type(data_type).ok_or_else(|| {
            SqsError::invalid_param(format!(
                "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
            ))
        })?;
        if !v.string_list_values.is_empty() || !v.binary_list_values.is_empty() {
            return Err(SqsError::invalid_param(format!(
                "Message (user) attribute '{name}': StringListValues and BinaryListValues are not supported."
            )));
        }
        let stored = if base == "Binary" {
            let b64 = v.binary_value.as_deref().unwrap_or_default();
            let bytes = aws_smithy_types::base64::decode(b64).map_err(|_| {
                SqsError::invalid_param(format!(
                    "Message (user) attribute '{name}' has a BinaryValue that is not valid base64."
                ))
            })?;
            if bytes.is_empty() {
                return Err(SqsError::invalid_param(format!(
                    "Message (user) attribute '{name}' must contain a non-empty value of type 'Binary'."
                )));
            }
            AttrValue {
                data_type: data_type.to_owned(),
                string: None,
                binary: Some(bytes),
            }
        } else {
            let s = v.string_value.as_deref().unwrap_or_default();
            if s.is_empty() {
                return Err(SqsError::invalid_param(format!(
                    "Message (user) attribute '{name}' must contain a non-empty value of type '{base}'."
                )));
            }
            if !valid_chars(s) {
                return Err(SqsError::invalid_param(format!(
                    "Message (user) attribute '{name}' contains characters outside the allowed set: {ALLOWED}."
                )));
            }
            if base == "Number" && !s.trim().parse::<f64>().is_ok_and(f64::is_finite) {
                return Err(SqsError::invalid_param(format!(
                    "Can't cast the value of message (user) attribute '{name}' to a number."
                )));
            }
            AttrValue {
                data_type: data_type.to_owned(),
                string: Some(s.to_owned()),
                binary: None,
            }
        };
        out.insert(name.clone(), stored);
    }
    Ok(out)
}

/// AWS's words for a group or deduplication id outside its rule.
pub(crate) fn bad_fifo_id(id: &str, param: &str) -> SqsError {
    SqsError::bad_value(
        id,
        param,
        &format!(
            "{param} can only include alphanumeric and punctuation characters. 1 to 128 in length."
        ),
    )
}

fn valid_fifo_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| (33..=126).contains(&b))
}

/// A FIFO batch with an entry that lacks its group id, or its deduplication id on a queue
/// without content-based deduplication, fails as a whole request, as AWS fails it (not
/// entry by entry).
fn fifo_batch_ids(entries: &[SendEntry], cfg: SendCfg) -> SqsResult<()> {
    for e in entries {
        if !cfg.content_dedup && e.message_deduplication_id.is_none() {
            return Err(SqsError::invalid_param(NO_DEDUP_ID));
        }
        if e.message_group_id.is_none() {
            return Err(SqsError::invalid_param(
                "The request must contain the parameter MessageGroupId.",
            ));
        }
    }
    Ok(())
}

const NO_DEDUP_ID: &str = "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly";

/// Encoded size of an entry as SQS counts it (body plus attributes).
pub(crate) fn entry_size(e: &SendEntry) -> usize {
    let body = e.message_body.as_ref().map_or(0, |b| b.len());
    let attrs: usize = e
        .message_attributes
        .iter()
        .map(|(k, v)| {
            k.len()
                + v.data_type.as_ref().map_or(0, String::len)
                + v.string_value.as_ref().map_or(0, String::len)
                + v.binary_value.as_ref().map_or(0, |b| b.len() * 3 / 4)
        })
        .sum();
    body + attrs
}

impl Engine {
    fn send_cfg(q: &Queue) -> SendCfg {
        let st = q.lock();
        SendCfg {
            max_size: st.cfg.maximum_message_size,
            delay: st.cfg.delay_seconds,
            content_dedup: st.cfg.content_based_dedup,
            scope_group: st.cfg.dedup_scope_group,
        }
    }

    fn prepare(
        &self,
        q: &Queue,
        cfg: SendCfg,
        e: &SendEntry,
        shared: &PerRequest,
    ) -> SqsResult<Prepared> {
        let shared_body = e
            .message_body
            .as_ref()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                SqsError::new(
                    ErrorKind::MissingRequiredParameter,
                    "The request must contain the parameter MessageBody.",
                )
            })?;
        let body: &str = shared_body;
        if !valid_chars(body) {
            return Err(SqsError::new(
                ErrorKind::InvalidMessageContents,
                format!(
                    "Invalid binary character was found in the message body, the set of allowed characters is {ALLOWED}"
                ),
            ));
        }
        let attrs = convert_attrs(&e.message_attributes)?;
        let size = body.len() + attrs.iter().map(|(k, v)| k.len() + v.size()).sum::<usize>();
        if size > cfg.max_size as usize {
            return Err(SqsError::invalid_param(format!(
                "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
                cfg.max_size
            )));
        }
        let mut trace_header = shared.trace_header.clone();
        let mut md5_sys = None;
        for (name, v) in &e.message_system_attributes {
            if name != "AWSTraceHeader" {
                return Err(SqsError::invalid_param(format!(
                    "Message system attribute name '{name}' is invalid: only AWSTraceHeader is supported."
                )));
            }
            if v.data_type.as_deref() != Some("String")
                || v.string_value.as_deref().is_none_or(str::is_empty)
            {
                return Err(SqsError::invalid_param(
                    "Message system attribute AWSTraceHeader must be a non-empty String.",
                ));
            }
            let map = convert_attrs(&HashMap::from([(name.clone(), v.clone())]))?;
            md5_sys = md5_of_map(&map);
            trace_header = v.string_value.as_deref().map(Arc::from);
        }
        let delay = match e.delay_seconds {
            // A FIFO queue takes DelaySeconds 0 per message and applies its own delay.
            None | Some(0) if q.fifo => cfg.delay,
            None => cfg.delay,
            Some(d) if q.fifo && d != 0 => {
                return Err(SqsError::bad_value(
                    d,
                    "DelaySeconds",
                    "The request include parameter that is not valid for this queue type.",
                ));
            }
            Some(d) => u32::try_from(crate::ops::int_param(Some(d), "DelaySeconds", 0, 900, 0)?)
                .unwrap_or(0),
        };
        let mut dedup_key = None;
        let mut dedup_id = None;
        let group_id = e.message_group_id.as_deref();
        if let Some(g) = group_id
            && !valid_fifo_id(g)
        {
            return Err(bad_fifo_id(g, "MessageGroupId"));
        }
        if q.fifo {
            let group = group_id.ok_or_else(|| SqsError::missing("MessageGroupId"))?;
            let id = match e.message_deduplication_id.as_deref() {
                Some(id) if valid_fifo_id(id) => id.to_owned(),
                Some(id) => return Err(bad_fifo_id(id, "MessageDeduplicationId")),
                None if cfg.content_dedup => sha256_hex(body.as_bytes()),
                None => {
                    return Err(SqsError::invalid_param(NO_DEDUP_ID));
                }
            };
            dedup_key = Some(if cfg.scope_group {
                format!("{group}\u{0}{id}")
            } else {
                id.clone()
            });
            dedup_id = Some(Arc::from(id));
        } else if e.message_deduplication_id.is_some() {
            return Err(SqsError::bad_value(
                e.message_deduplication_id.as_deref().unwrap_or_default(),
                "MessageDeduplicationId",
                "The request include parameter that is not valid for this queue type",
            ));
        }
        let now = shared.now;
        let md5_attrs = md5_of_map(&attrs).map(Arc::from);
        Ok(Prepared {
            msg: Msg {
                id: crate::checksum::fast_uuid_arc(),
                body: shared_body.clone(),
                md5_body: md5_hex_arc(body.as_bytes()),
                attrs: if attrs.is_empty() {
                    shared.no_attrs.clone()
                } else {
                    Arc::new(attrs)
                },
                md5_attrs,
                trace_header,
                sent_ms: shared.now_ms,
                sent_at: now,
                sender_id: shared.sender.clone(),
                group_id: group_id.map(Arc::from),
                dedup_id,
                seq_number: None,
                dlq_source_arn: None,
                receive_count: 0,
                first_receive_ms: None,
                state: MsgState::Visible,
                visible_at: now + secs(delay),
                receipt: 0,
                received_at: now,
            },
            dedup_key,
            md5_sys,
        })
    }

    /// Inserts prepared messages under one lock; duplicates return the original id.
    fn commit(&self, q: &Queue, prepared: Vec<(Option<String>, Prepared)>) -> Vec<SendResultEntry> {
        let now = self.clock.now();
        let mut out = Vec::with_capacity(prepared.len());
        {
            let mut st = q.lock();
            st.tick(now);
            for (id, p) in prepared {
                let mut m = p.msg;
                let mut message_id = m.id.clone();
                let mut seq_number = None;
                let dup = p
                    .dedup_key
                    .as_ref()
                    .and_then(|k| st.dedup.get(k))
                    .filter(|d| d.expires > now)
                    .cloned();
                if let Some(d) = dup {
                    message_id = d.message_id;
                    seq_number = d.seq_number;
                } else {
                    if q.fifo {
                        let s = st.next_fifo_seq();
                        m.seq_number = Some(s.clone());
                        seq_number = Some(s);
                    }
                    if let Some(k) = p.dedup_key {
                        st.remember_dedup(
                            k,
                            DedupEntry {
                                expires: now + DEDUP_WINDOW,
                                message_id: message_id.clone(),
                                seq_number: seq_number.clone(),
                            },
                        );
                    }
                    let md5_body = m.md5_body.clone();
                    let md5_attrs = m.md5_attrs.clone();
                    st.insert(m, now);
                    out.push(SendResultEntry {
                        id,
                        message_id,
                        md5_of_message_body: md5_body,
                        md5_of_message_attributes: md5_attrs,
                        md5_of_message_system_attributes: p.md5_sys,
                        sequence_number: seq_number,
                    });
                    continue;
                }
                out.push(SendResultEntry {
                    id,
                    message_id,
                    md5_of_message_body: m.md5_body,
                    md5_of_message_attributes: m.md5_attrs,
                    md5_of_message_system_attributes: p.md5_sys,
                    sequence_number: seq_number,
                });
            }
        }
        q.notify.notify_waiters();
        out
    }

    pub(crate) fn send_message(
        &self,
        req: &SendMessageIn,
        ctx: &Ctx<'_>,
    ) -> SqsResult<SendResultEntry> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        self.send_to(&q, &req.entry, ctx)
    }

    /// Sends one message into a queue already resolved, with every check SendMessage
    /// makes: SNS deliveries come in this way.
    pub(crate) fn send_to(
        &self,
        q: &Queue,
        entry: &SendEntry,
        ctx: &Ctx<'_>,
    ) -> SqsResult<SendResultEntry> {
        let cfg = Self::send_cfg(q);
        let p = self.prepare(q, cfg, entry, &PerRequest::new(self, ctx))?;
        self.commit(q, vec![(None, p)])
            .pop()
            .ok_or_else(|| SqsError::new(ErrorKind::Internal, "send produced no result"))
    }

    pub(crate) fn send_message_batch(
        &self,
        req: SendBatchIn,
        ctx: &Ctx<'_>,
    ) -> SqsResult<BatchOut<SendResultEntry>> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        check_batch_ids(
            req.entries.iter().map(|e| e.id.as_deref()),
            "SendMessageBatchRequestEntry",
        )?;
        let total: usize = req.entries.iter().map(entry_size).sum();
        if total > MAX_BATCH_BYTES {
            return Err(SqsError::new(
                ErrorKind::BatchRequestTooLong,
                format!(
                    "Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes."
                ),
            ));
        }
        let cfg = Self::send_cfg(&q);
        if q.fifo {
            fifo_batch_ids(&req.entries, cfg)?;
        }
        let mut ok = Vec::with_capacity(req.entries.len());
        let mut failed = Vec::new();
        let shared = PerRequest::new(self, ctx);
        for mut e in req.entries {
            let id = e.id.take().unwrap_or_default();
            match self.prepare(&q, cfg, &e, &shared) {
                Ok(p) => ok.push((Some(id), p)),
                Err(err) => failed.push(FailedEntry {
                    id,
                    sender_fault: true,
                    code: err.kind.batch_code().to_owned(),
                    message: err.message,
                }),
            }
        }
        let successful = if ok.is_empty() {
            Vec::new()
        } else {
            self.commit(&q, ok)
        };
        Ok(BatchOut { successful, failed })
    }
}
