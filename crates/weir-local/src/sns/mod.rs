//! The in-process SNS: topics and subscriptions, sharing the engine's queues.
//!
//! Requests arrive in the query protocol (`Action=Publish&...`, see [`wire`]); topics
//! and subscriptions live per account and region, like queues, and a publish delivers
//! to every `sqs` subscription whose filter policy matches before it answers.

mod deliver;
mod filter;
mod publish;
mod subscriptions;
mod topics;
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use tokio::time::Instant;

use crate::engine::{Engine, EngineResponse};
use crate::gateway::Incoming;
use filter::FilterPolicy;
use wire::{Form, SnsError, SnsResult};

/// The SNS actions this engine answers; anything else is `InvalidAction`.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateTopic",
    "DeleteTopic",
    "ListTopics",
    "GetTopicAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "ConfirmSubscription",
    "Unsubscribe",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "GetSubscriptionAttributes",
    "SetSubscriptionAttributes",
    "Publish",
    "PublishBatch",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// A topic.
#[derive(Debug)]
pub(crate) struct Topic {
    pub(crate) arn: String,
    pub(crate) fifo: bool,
    /// Settable attributes as set (DisplayName, Policy, ContentBasedDeduplication, ...).
    pub(crate) attributes: BTreeMap<String, String>,
    pub(crate) tags: BTreeMap<String, String>,
    /// Subscription ARNs, in the order they were made.
    pub(crate) subscriptions: Vec<String>,
    /// FIFO: deduplication id -> (expiry, message id, sequence number).
    pub(crate) dedup: HashMap<String, (Instant, String, String)>,
    /// FIFO: the last sequence number handed out.
    pub(crate) sequence: u128,
}

impl Topic {
    pub(crate) fn content_based_dedup(&self) -> bool {
        self.attributes
            .get("ContentBasedDeduplication")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// A subscription.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub(crate) arn: String,
    pub(crate) topic_arn: String,
    pub(crate) protocol: String,
    pub(crate) endpoint: String,
    pub(crate) owner: String,
    /// Settable attributes as set (RawMessageDelivery, FilterPolicy, ...).
    pub(crate) attributes: BTreeMap<String, String>,
    /// The parsed FilterPolicy, when one is set.
    pub(crate) filter: Option<FilterPolicy>,
}

impl Subscription {
    pub(crate) fn raw(&self) -> bool {
        self.attributes
            .get("RawMessageDelivery")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Whether the filter policy applies to the body (`FilterPolicyScope=MessageBody`).
    pub(crate) fn body_scope(&self) -> bool {
        self.attributes
            .get("FilterPolicyScope")
            .is_some_and(|v| v == "MessageBody")
    }
}

/// Every topic and subscription, keyed by ARN (so per account and region).
#[derive(Debug, Default)]
pub(crate) struct SnsState {
    inner: Mutex<Registry>,
}

#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub(crate) topics: BTreeMap<String, Topic>,
    pub(crate) subscriptions: BTreeMap<String, Subscription>,
}

impl SnsState {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Registry> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many topics there are (for `Debug`).
    pub(crate) fn topic_count(&self) -> usize {
        self.lock().topics.len()
    }
}

/// Per-request context: the namespace and where URLs point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SnsCtx<'a> {
    pub(crate) account: &'a str,
    pub(crate) region: &'a str,
    pub(crate) base_url: &'a str,
    pub(crate) trace_header: Option<&'a str>,
}

impl SnsCtx<'_> {
    pub(crate) fn topic_arn(&self, name: &str) -> String {
        format!("arn:aws:sns:{}:{}:{name}", self.region, self.account)
    }
}

/// Answers one SNS request.
pub(crate) fn handle(engine: &Engine, req: &Incoming<'_>) -> EngineResponse {
    let form = Form::parse(req.body, req.query);
    let scope = req.scope();
    // As for SQS: a 12-digit access key id is the account the request acts in.
    let account = scope
        .map(|s| s.access_key)
        .filter(|k| k.len() == 12 && k.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or(&engine.account);
    let region = scope
        .map(|s| s.region)
        .filter(|r| !r.is_empty())
        .unwrap_or(&engine.region);
    let ctx = SnsCtx {
        account,
        region,
        base_url: req.base_url,
        trace_header: req.header("x-amzn-trace-id"),
    };
    let action = form.get("Action").unwrap_or_default().to_owned();
    match dispatch(engine, &action, &form, &ctx) {
        Ok(resp) => resp,
        Err(e) => e.response(),
    }
}

fn dispatch(
    engine: &Engine,
    action: &str,
    form: &Form,
    ctx: &SnsCtx<'_>,
) -> SnsResult<EngineResponse> {
    let result = match action {
        "CreateTopic" => topics::create(engine, form, ctx)?,
        "DeleteTopic" => topics::delete(engine, form, ctx)?,
        "ListTopics" => topics::list(engine, form, ctx)?,
        "GetTopicAttributes" => topics::get_attributes(engine, form, ctx)?,
        "SetTopicAttributes" => topics::set_attributes(engine, form, ctx)?,
        "TagResource" => topics::tag(engine, form, ctx)?,
        "UntagResource" => topics::untag(engine, form, ctx)?,
        "ListTagsForResource" => topics::list_tags(engine, form, ctx)?,
        "Subscribe" => subscriptions::subscribe(engine, form, ctx)?,
        "ConfirmSubscription" => subscriptions::confirm(engine, form, ctx)?,
        "Unsubscribe" => subscriptions::unsubscribe(engine, form, ctx)?,
        "ListSubscriptions" => subscriptions::list(engine, form, ctx)?,
        "ListSubscriptionsByTopic" => subscriptions::list_by_topic(engine, form, ctx)?,
        "GetSubscriptionAttributes" => subscriptions::get_attributes(engine, form, ctx)?,
        "SetSubscriptionAttributes" => subscriptions::set_attributes(engine, form, ctx)?,
        "Publish" => publish::publish(engine, form, ctx)?,
        "PublishBatch" => publish::publish_batch(engine, form, ctx)?,
        _ => return Err(SnsError::unknown_action(action)),
    };
    Ok(wire::ok(action, result))
}

/// An injected error, in the XML an SNS client parses.
pub(crate) fn injected(status: u16, code: &str, message: &str) -> EngineResponse {
    wire::injected(status, code, message)
}

/// Checks a topic ARN's shape and region, as AWS does before looking it up.
pub(crate) fn check_topic_arn(arn: &str, ctx: &SnsCtx<'_>, param: &str) -> SnsResult<()> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return Err(SnsError::invalid(format!(
            "Invalid parameter: {param} Reason: An ARN must have at least 6 elements, not {}",
            parts.len()
        )));
    }
    if parts[2] != "sns" || parts[3] != ctx.region {
        return Err(SnsError::invalid(format!("Invalid parameter: {param}")));
    }
    Ok(())
}

/// `NotFound` for a topic, in AWS's words.
pub(crate) fn no_topic() -> SnsError {
    SnsError::not_found("Topic does not exist")
}

/// One page of a list of ARNs: up to 100 after `next_token` (the last ARN of the
/// previous page), and the token of the next page.
pub(crate) fn page<'a, T>(
    items: impl Iterator<Item = (&'a String, T)>,
    next_token: Option<&str>,
) -> (Vec<T>, Option<String>) {
    const PAGE: usize = 100;
    let mut out = Vec::new();
    let mut last = None;
    for (key, item) in items.filter(|(k, _)| next_token.is_none_or(|t| k.as_str() > t)) {
        if out.len() == PAGE {
            return (out, last);
        }
        last = Some(key.clone());
        out.push(item);
    }
    (out, None)
}
