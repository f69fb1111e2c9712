//! Queue operations: create, look up, list, attributes, delete, purge, tags.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::config::{ALL_NAMES, QueueConfig, RedriveAllow};
use crate::engine::{Ctx, Engine};
use crate::error::{ErrorKind, SqsError, SqsResult};
use crate::ops::int_param;
use crate::queue::Queue;
use crate::wire::{
    CreateQueueIn, GetQueueAttributesIn, GetQueueUrlIn, ListDlqSourcesIn, ListQueuesIn, QueueUrlIn,
    SetQueueAttributesIn, TagQueueIn, UntagQueueIn,
};

/// AWS's words for a bad queue name (a standard name ending in `.fifo` included).
const NAME_RULE: &str =
    "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length";
/// AWS's words for `FifoQueue=true` on a name without `.fifo`.
const FIFO_NAME_RULE: &str = "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.";

fn valid_queue_name(name: &str) -> bool {
    let stem = name.strip_suffix(".fifo").unwrap_or(name);
    !stem.is_empty()
        && name.len() <= 80
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn validate_tags<'a>(tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> SqsResult<()> {
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(SqsError::invalid_param(format!(
                "Tag key {k:?} must be 1 to 128 characters long."
            )));
        }
        if v.chars().count() > 256 {
            return Err(SqsError::invalid_param(format!(
                "Tag value for key {k:?} must be at most 256 characters long."
            )));
        }
    }
    Ok(())
}

fn encode_token(name: &str) -> String {
    aws_smithy_types::base64::encode(format!("weir-local:{name}"))
}

fn decode_token(token: &str) -> SqsResult<String> {
    aws_smithy_types::base64::decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("weir-local:").map(str::to_owned))
        .ok_or_else(|| SqsError::invalid_param("Invalid NextToken value."))
}

/// Pages names sorted ascending: (page, next token).
fn paginate(
    mut names: Vec<String>,
    max_results: Option<i64>,
    next_token: Option<&str>,
) -> SqsResult<(Vec<String>, Option<String>)> {
    names.sort();
    if let Some(token) = next_token {
        let after = decode_token(token)?;
        names.retain(|n| n.as_str() > after.as_str());
    }
    let limit = match max_results {
        None => {
            names.truncate(1000);
            return Ok((names, None));
        }
        Some(m) => {
            usize::try_from(int_param(Some(m), "MaxResults", 1, 1000, 1000)?).unwrap_or(1000)
        }
    };
    if names.len() > limit {
        names.truncate(limit);
        let token = names.last().map(|n| encode_token(n));
        Ok((names, token))
    } else {
        Ok((names, None))
    }
}

impl Engine {
    /// One page of queue URLs, by name, and the token of the next page.
    fn page_of_urls(
        &self,
        ctx: &Ctx<'_>,
        queues: &[Arc<Queue>],
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> SqsResult<(Vec<String>, Option<String>)> {
        let names = queues.iter().map(|q| q.name.clone()).collect();
        let (page, next) = paginate(names, max_results, next_token)?;
        let urls = page
            .iter()
            .filter_map(|n| queues.iter().find(|q| &q.name == n))
            .map(|q| self.queue_url(ctx.base_url, q))
            .collect();
        Ok((urls, next))
    }

    /// Checks a RedrivePolicy against its target queue.
    pub(crate) fn check_redrive(
        &self,
        cfg: &QueueConfig,
        fifo: bool,
        source_arn: &str,
    ) -> SqsResult<()> {
        let Some(r) = &cfg.redrive else {
            return Ok(());
        };
        let value = cfg.render("RedrivePolicy", fifo).unwrap_or_default();
        let reject = |reason: &str| SqsError::bad_value(&value, "RedrivePolicy", reason);
        let target = self
            .by_arn(&r.target_arn)
            .ok_or_else(|| reject("Dead letter target does not exist."))?;
        if target.fifo != fifo {
            return Err(reject(
                "Dead-letter queue must be same type of queue as the source.",
            ));
        }
        let allow = target.lock().cfg.redrive_allow.clone();
        match allow {
            Some(RedriveAllow::DenyAll) => Err(reject(
                "Dead letter target's RedriveAllowPolicy denies all source queues.",
            )),
            Some(RedriveAllow::ByQueue(arns)) if !arns.iter().any(|a| a == source_arn) => {
                Err(reject(
                    "Source queue is not allowed by the dead letter target's RedriveAllowPolicy.",
                ))
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn create_queue(&self, req: CreateQueueIn, ctx: &Ctx<'_>) -> SqsResult<Value> {
        let name = req
            .queue_name
            .ok_or_else(|| SqsError::missing("QueueName"))?;
        if !valid_queue_name(&name) {
            return Err(SqsError::invalid_param(NAME_RULE));
        }
        let fifo = name.ends_with(".fifo");
        let fifo_attr = req
            .attributes
            .get("FifoQueue")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if fifo && !fifo_attr {
            return Err(SqsError::invalid_param(NAME_RULE));
        }
        if !fifo && fifo_attr {
            return Err(SqsError::invalid_param(FIFO_NAME_RULE));
        }
        let mut cfg = QueueConfig::default();
        cfg.apply_all(&req.attributes, fifo)?;
        let arn = Self::arn_in(ctx.account, ctx.region, &name);
        self.check_redrive(&cfg, fifo, &arn)?;
        if req.tags.len() > 50 {
            return Err(SqsError::invalid_param(
                "Too many tags: a queue can have at most 50.",
            ));
        }
        validate_tags(&req.tags)?;
        if let Some(existing) = self.by_arn(&arn) {
            let url = self.queue_url(ctx.base_url, &existing);
            return self.same_or_exists(&existing, &req.attributes, &cfg, &url);
        }
        let now = self.clock.now();
        {
            let mut deleted = self
                .deleted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            deleted.retain(|_, at| now.saturating_duration_since(*at) < Duration::from_secs(60));
            if deleted.contains_key(&arn) {
                return Err(SqsError::new(
                    ErrorKind::QueueDeletedRecently,
                    "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
                ));
            }
        }
        let tags: BTreeMap<String, String> = req.tags.into_iter().collect();
        let q = Queue::new(
            name,
            arn,
            fifo,
            self.next_incarnation(),
            self.clock.now_ms(),
            cfg.clone(),
            tags,
        );
        let (q, created) = self.insert_queue(q);
        let url = self.queue_url(ctx.base_url, &q);
        if created {
            Ok(json!({ "QueueUrl": url }))
        } else {
            self.same_or_exists(&q, &req.attributes, &cfg, &url)
        }
    }

    fn same_or_exists(
        &self,
        existing: &Queue,
        given: &std::collections::HashMap<String, String>,
        wanted: &QueueConfig,
        url: &str,
    ) -> SqsResult<Value> {
        let current = existing.lock().cfg.clone();
        for name in given.keys() {
            let same = if name == "FifoQueue" {
                true
            } else {
                current.render(name, existing.fifo) == wanted.render(name, existing.fifo)
            };
            if !same {
                return Err(SqsError::new(
                    ErrorKind::QueueAlreadyExists,
                    format!(
                        "A queue already exists with the same name and a different value for attribute {name}"
                    ),
                ));
            }
        }
        Ok(json!({ "QueueUrl": url }))
    }

    pub(crate) fn get_queue_url(&self, req: GetQueueUrlIn, ctx: &Ctx<'_>) -> SqsResult<Value> {
        let name = req
            .queue_name
            .ok_or_else(|| SqsError::missing("QueueName"))?;
        if req
            .queue_owner_aws_account_id
            .as_deref()
            .is_some_and(|a| a != ctx.account)
        {
            return Err(SqsError::no_queue());
        }
        let q = self.by_name(ctx, &name).ok_or_else(SqsError::no_queue)?;
        Ok(json!({ "QueueUrl": self.queue_url(ctx.base_url, &q) }))
    }

    pub(crate) fn list_queues(&self, req: ListQueuesIn, ctx: &Ctx<'_>) -> SqsResult<Value> {
        let prefix = req.queue_name_prefix.unwrap_or_default();
        let queues: Vec<Arc<Queue>> = self
            .queues_of(ctx)
            .into_iter()
            .filter(|q| q.name.starts_with(&prefix))
            .collect();
        let (urls, next) =
            self.page_of_urls(ctx, &queues, req.max_results, req.next_token.as_deref())?;
        let mut out = Map::new();
        if !urls.is_empty() {
            out.insert("QueueUrls".into(), json!(urls));
        }
        if let Some(t) = next {
            out.insert("NextToken".into(), json!(t));
        }
        Ok(Value::Object(out))
    }

    pub(crate) fn list_dlq_sources(
        &self,
        req: &ListDlqSourcesIn,
        ctx: &Ctx<'_>,
    ) -> SqsResult<Value> {
        let dlq = self.by_url(ctx, req.queue_url.as_deref())?;
        let sources: Vec<Arc<Queue>> = self
            .all_queues()
            .into_iter()
            .filter(|q| {
                q.lock()
                    .cfg
                    .redrive
                    .as_ref()
                    .is_some_and(|r| r.target_arn == dlq.arn)
            })
            .collect();
        let (urls, next) =
            self.page_of_urls(ctx, &sources, req.max_results, req.next_token.as_deref())?;
        let mut out = Map::new();
        out.insert("queueUrls".into(), json!(urls));
        if let Some(t) = next {
            out.insert("NextToken".into(), json!(t));
        }
        Ok(Value::Object(out))
    }

    pub(crate) fn get_queue_attributes(
        &self,
        req: &GetQueueAttributesIn,
        ctx: &Ctx<'_>,
    ) -> SqsResult<Value> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        for n in &req.attribute_names {
            if n != "All" && !ALL_NAMES.contains(&n.as_str()) {
                return Err(SqsError::new(
                    ErrorKind::InvalidAttributeName,
                    format!("Unknown Attribute {n}."),
                ));
            }
        }
        let all = req.attribute_names.iter().any(|n| n == "All");
        let wanted: Vec<&str> = if all {
            ALL_NAMES.to_vec()
        } else {
            req.attribute_names.iter().map(String::as_str).collect()
        };
        let now = self.clock.now();
        let mut st = q.lock();
        st.tick(now);
        let counts = st.counts(now);
        let mut out = Map::new();
        for name in wanted {
            let v = match name {
                "ApproximateNumberOfMessages" => Some(counts.visible.to_string()),
                "ApproximateNumberOfMessagesNotVisible" => Some(counts.inflight.to_string()),
                "ApproximateNumberOfMessagesDelayed" => Some(counts.delayed.to_string()),
                "CreatedTimestamp" => Some((q.created_ms / 1000).to_string()),
                "LastModifiedTimestamp" => Some((st.modified_ms / 1000).to_string()),
                "QueueArn" => Some(q.arn.clone()),
                other => st.cfg.render(other, q.fifo),
            };
            if let Some(v) = v {
                out.insert(name.to_owned(), Value::String(v));
            }
        }
        drop(st);
        if out.is_empty() {
            return Ok(json!({}));
        }
        Ok(json!({ "Attributes": out }))
    }

    pub(crate) fn set_queue_attributes(
        &self,
        req: &SetQueueAttributesIn,
        ctx: &Ctx<'_>,
    ) -> SqsResult<Value> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        let mut cfg = q.lock().cfg.clone();
        cfg.apply_all(&req.attributes, q.fifo)?;
        if req.attributes.contains_key("RedrivePolicy") {
            self.check_redrive(&cfg, q.fifo, &q.arn)?;
        }
        let now_ms = self.clock.now_ms();
        {
            let mut st = q.lock();
            st.cfg = cfg;
            st.modified_ms = now_ms;
        }
        q.notify.notify_waiters();
        Ok(json!({}))
    }

    pub(crate) fn delete_queue(&self, req: &QueueUrlIn, ctx: &Ctx<'_>) -> SqsResult<Value> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        if let Some(q) = self.remove_queue(&q.arn) {
            {
                let mut st = q.lock();
                st.deleted = true;
                st.purge();
            }
            q.notify.notify_waiters();
            if self.deleted_recently {
                self.deleted
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(q.arn.clone(), self.clock.now());
            }
        }
        Ok(json!({}))
    }

    pub(crate) fn purge_queue(&self, req: &QueueUrlIn, ctx: &Ctx<'_>) -> SqsResult<Value> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        let now = self.clock.now();
        let mut st = q.lock();
        if st
            .last_purge
            .is_some_and(|at| now.saturating_duration_since(at) < Duration::from_secs(60))
        {
            return Err(SqsError::new(
                ErrorKind::PurgeQueueInProgress,
                format!(
                    "Only one PurgeQueue operation on {} is allowed every 60 seconds.",
                    q.name
                ),
            ));
        }
        st.last_purge = Some(now);
        st.purge();
        Ok(json!({}))
    }

    pub(crate) fn tag_queue(&self, req: TagQueueIn, ctx: &Ctx<'_>) -> SqsResult<Value> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        if req.tags.is_empty() {
            return Err(SqsError::missing("Tags"));
        }
        validate_tags(&req.tags)?;
        let mut st = q.lock();
        let mut tags = st.tags.clone();
        tags.extend(req.tags);
        if tags.len() > 50 {
            return Err(SqsError::invalid_param(
                "Too many tags: a queue can have at most 50.",
            ));
        }
        st.tags = tags;
        Ok(json!({}))
    }

    pub(crate) fn untag_queue(&self, req: &UntagQueueIn, ctx: &Ctx<'_>) -> SqsResult<Value> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        if req.tag_keys.is_empty() {
            return Err(SqsError::invalid_param(
                "Tag keys must be between 1 and 128 characters in length.",
            ));
        }
        let mut st = q.lock();
        for k in &req.tag_keys {
            st.tags.remove(k);
        }
        Ok(json!({}))
    }

    pub(crate) fn list_queue_tags(&self, req: &QueueUrlIn, ctx: &Ctx<'_>) -> SqsResult<Value> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        let st = q.lock();
        if st.tags.is_empty() {
            return Ok(json!({}));
        }
        Ok(json!({ "Tags": st.tags }))
    }
}
