//! Subscribe, ConfirmSubscription, Unsubscribe, ListSubscriptions(ByTopic) and
//! Get/SetSubscriptionAttributes.
//!
//! Only the `sqs` protocol is answered: its subscriptions are confirmed at once, as AWS
//! confirms a queue in the topic's own account.

use std::collections::BTreeMap;

use super::filter::FilterPolicy;
use super::wire::{Form, SnsError, SnsResult, Xml};
use super::{SnsCtx, Subscription, check_topic_arn, no_topic, page};
use crate::engine::Engine;

/// The subscription attributes a client may set.
const SETTABLE: &[&str] = &[
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
];

/// The protocols SNS knows; weir-local delivers to `sqs` only.
const PROTOCOLS: &[&str] = &[
    "http",
    "https",
    "email",
    "email-json",
    "sms",
    "sqs",
    "application",
    "lambda",
    "firehose",
];

/// Validates one subscription attribute; `prefix` is AWS's lead-in, which differs
/// between Subscribe and SetSubscriptionAttributes.
fn check_attribute(
    name: &str,
    value: &str,
    scope: &str,
    prefix: &str,
) -> SnsResult<Option<FilterPolicy>> {
    if !SETTABLE.contains(&name) {
        return Err(SnsError::invalid(format!("{prefix}AttributeName")));
    }
    match name {
        "FilterPolicy" if value.is_empty() => Ok(None),
        "FilterPolicy" => FilterPolicy::parse(value, scope == "MessageBody")
            .map(Some)
            .map_err(|reason| SnsError::invalid(format!("{prefix}FilterPolicy: {reason}"))),
        "FilterPolicyScope" if value != "MessageAttributes" && value != "MessageBody" => {
            Err(SnsError::invalid(format!(
                "{prefix}FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or MessageAttributes"
            )))
        }
        "RawMessageDelivery"
            if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") =>
        {
            Err(SnsError::invalid(format!(
                "{prefix}RawMessageDelivery: Invalid value [{value}]. Must be true or false."
            )))
        }
        "RedrivePolicy" => {
            let target = serde_json::from_str::<serde_json::Value>(value)
                .map_err(|_| {
                    SnsError::invalid(format!("{prefix}RedrivePolicy: failed to parse JSON."))
                })?
                .get("deadLetterTargetArn")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .unwrap_or_default();
            if target.split(':').count() < 6 {
                return Err(SnsError::invalid(format!(
                    "{prefix}RedrivePolicy: deadLetterTargetArn is an invalid arn"
                )));
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// Checks every attribute of a Subscribe call, scope first; returns the parsed policy.
fn check_attributes(attrs: &mut BTreeMap<String, String>) -> SnsResult<Option<FilterPolicy>> {
    const PREFIX: &str = "Invalid parameter: Attributes Reason: ";
    let scope = attrs
        .get("FilterPolicyScope")
        .cloned()
        .unwrap_or_else(|| "MessageAttributes".to_owned());
    let mut filter = None;
    for (name, value) in attrs.iter() {
        if let Some(f) = check_attribute(name, value, &scope, PREFIX)? {
            filter = Some(f);
        }
    }
    if let Some(raw) = attrs.get_mut("RawMessageDelivery") {
        *raw = raw.to_ascii_lowercase();
    }
    Ok(filter)
}

fn check_endpoint(protocol: &str, endpoint: &str, topic_fifo: bool) -> SnsResult<()> {
    if !PROTOCOLS.contains(&protocol) {
        return Err(SnsError::invalid(format!(
            "Invalid parameter: Amazon SNS does not support this protocol string: {protocol}"
        )));
    }
    if protocol != "sqs" {
        return Err(SnsError::invalid(format!(
            "Invalid parameter: Protocol Reason: weir-local's SNS delivers to sqs subscriptions only, not {protocol}"
        )));
    }
    let parts: Vec<&str> = endpoint.split(':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "sqs" {
        return Err(SnsError::invalid("Invalid parameter: SQS endpoint ARN"));
    }
    // A FIFO queue needs a FIFO topic; a FIFO topic takes standard queues too (they
    // get its messages without order or deduplication), as AWS and LocalStack do.
    if endpoint.ends_with(".fifo") && !topic_fifo {
        return Err(SnsError::invalid(
            "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics",
        ));
    }
    Ok(())
}

pub(crate) fn subscribe(engine: &Engine, form: &Form, ctx: &SnsCtx<'_>) -> SnsResult<Option<Xml>> {
    let topic_arn = form.required("TopicArn")?;
    let protocol = form.required("Protocol")?;
    check_topic_arn(topic_arn, ctx, "TopicArn")?;
    let mut attrs = form.string_map("Attributes");
    let mut reg = engine.sns.lock();
    let topic = reg.topics.get(topic_arn).ok_or_else(no_topic)?;
    let endpoint = form
        .get("Endpoint")
        .filter(|e| !e.is_empty())
        .ok_or_else(|| SnsError::invalid("Invalid parameter: Endpoint"))?;
    check_endpoint(protocol, endpoint, topic.fifo)?;
    let filter = check_attributes(&mut attrs)?;
    // Subscribing an endpoint twice returns the first subscription, unless the new
    // attributes differ.
    let existing = topic
        .subscriptions
        .iter()
        .filter_map(|arn| reg.subscriptions.get(arn))
        .find(|s| s.endpoint == endpoint && s.protocol == protocol);
    if let Some(sub) = existing {
        if attrs.iter().any(|(k, v)| sub.attributes.get(k) != Some(v)) {
            return Err(SnsError::invalid(
                "Invalid parameter: Attributes Reason: Subscription already exists with different attributes",
            ));
        }
        let mut x = Xml::default();
        x.leaf("SubscriptionArn", &sub.arn);
        return Ok(Some(x));
    }
    let arn = format!("{topic_arn}:{}", crate::checksum::fast_uuid_string());
    let sub = Subscription {
        arn: arn.clone(),
        topic_arn: topic_arn.to_owned(),
        protocol: protocol.to_owned(),
        endpoint: endpoint.to_owned(),
        owner: ctx.account.to_owned(),
        attributes: attrs,
        filter,
    };
    reg.subscriptions.insert(arn.clone(), sub);
    if let Some(topic) = reg.topics.get_mut(topic_arn) {
        topic.subscriptions.push(arn.clone());
    }
    let mut x = Xml::default();
    x.leaf("SubscriptionArn", &arn);
    Ok(Some(x))
}

/// Queue subscriptions need no confirmation; a token names no pending subscription.
pub(crate) fn confirm(engine: &Engine, form: &Form, ctx: &SnsCtx<'_>) -> SnsResult<Option<Xml>> {
    let topic_arn = form.required("TopicArn")?;
    form.required("Token")?;
    check_topic_arn(topic_arn, ctx, "TopicArn")?;
    if !engine.sns.lock().topics.contains_key(topic_arn) {
        return Err(no_topic());
    }
    Err(SnsError::invalid("Invalid parameter: Token"))
}

pub(crate) fn unsubscribe(
    engine: &Engine,
    form: &Form,
    _ctx: &SnsCtx<'_>,
) -> SnsResult<Option<Xml>> {
    let arn = form.required("SubscriptionArn")?;
    let count = arn.split(':').count();
    if count < 6 {
        return Err(SnsError::invalid(format!(
            "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not {count}"
        )));
    }
    if count == 6 {
        return Err(SnsError::invalid("Invalid parameter: SubscriptionId"));
    }
    let mut reg = engine.sns.lock();
    // Unsubscribing twice is not an error.
    if let Some(sub) = reg.subscriptions.remove(arn)
        && let Some(topic) = reg.topics.get_mut(&sub.topic_arn)
    {
        topic.subscriptions.retain(|s| s != arn);
    }
    Ok(None)
}

fn member(x: &mut Xml, s: &Subscription) {
    x.open("member")
        .leaf("SubscriptionArn", &s.arn)
        .leaf("Owner", &s.owner)
        .leaf("Protocol", &s.protocol)
        .leaf("Endpoint", &s.endpoint)
        .leaf("TopicArn", &s.topic_arn)
        .close("member");
}

fn listing<'a>(
    subs: impl Iterator<Item = (&'a String, &'a Subscription)>,
    form: &Form,
) -> Option<Xml> {
    let (subs, next) = page(subs, form.get("NextToken"));
    let mut x = Xml::default();
    x.open("Subscriptions");
    for s in subs {
        member(&mut x, s);
    }
    x.close("Subscriptions");
    if let Some(next) = next {
        x.leaf("NextToken", &next);
    }
    Some(x)
}

pub(crate) fn list(engine: &Engine, form: &Form, ctx: &SnsCtx<'_>) -> SnsResult<Option<Xml>> {
    let prefix = ctx.topic_arn("");
    let reg = engine.sns.lock();
    Ok(listing(
        reg.subscriptions
            .iter()
            .filter(|(arn, _)| arn.starts_with(&prefix)),
        form,
    ))
}

pub(crate) fn list_by_topic(
    engine: &Engine,
    form: &Form,
    ctx: &SnsCtx<'_>,
) -> SnsResult<Option<Xml>> {
    let topic_arn = form.required("TopicArn")?;
    check_topic_arn(topic_arn, ctx, "TopicArn")?;
    let reg = engine.sns.lock();
    if !reg.topics.contains_key(topic_arn) {
        return Err(no_topic());
    }
    let head = format!("{topic_arn}:");
    Ok(listing(
        reg.subscriptions
            .range(head.clone()..)
            .take_while(|(arn, _)| arn.starts_with(&head)),
        form,
    ))
}

fn no_subscription() -> SnsError {
    SnsError::not_found("Subscription does not exist")
}

pub(crate) fn get_attributes(
    engine: &Engine,
    form: &Form,
    _ctx: &SnsCtx<'_>,
) -> SnsResult<Option<Xml>> {
    let arn = form.required("SubscriptionArn")?;
    let reg = engine.sns.lock();
    let sub = reg.subscriptions.get(arn).ok_or_else(no_subscription)?;
    let mut attrs = BTreeMap::from([
        ("SubscriptionArn".to_owned(), sub.arn.clone()),
        ("TopicArn".to_owned(), sub.topic_arn.clone()),
        ("Owner".to_owned(), sub.owner.clone()),
        ("Protocol".to_owned(), sub.protocol.clone()),
        ("Endpoint".to_owned(), sub.endpoint.clone()),
        ("PendingConfirmation".to_owned(), "false".to_owned()),
        ("ConfirmationWasAuthenticated".to_owned(), "true".to_owned()),
        ("RawMessageDelivery".to_owned(), "false".to_owned()),
        (
            "SubscriptionPrincipal".to_owned(),
            format!("arn:aws:iam::{}:user/weir-local", sub.owner),
        ),
    ]);
    attrs.extend(sub.attributes.clone());
    if attrs.get("FilterPolicy").is_none_or(String::is_empty) {
        attrs.remove("FilterPolicy");
        attrs.remove("FilterPolicyScope");
    } else {
        attrs
            .entry("FilterPolicyScope".to_owned())
            .or_insert_with(|| "MessageAttributes".to_owned());
    }
    let mut x = Xml::default();
    x.map("Attributes", &attrs);
    Ok(Some(x))
}

pub(crate) fn set_attributes(
    engine: &Engine,
    form: &Form,
    _ctx: &SnsCtx<'_>,
) -> SnsResult<Option<Xml>> {
    const PREFIX: &str = "Invalid parameter: ";
    let arn = form.required("SubscriptionArn")?;
    let name = form.required("AttributeName")?;
    let mut value = form.get("AttributeValue").unwrap_or_default().to_owned();
    let mut reg = engine.sns.lock();
    let sub = reg.subscriptions.get_mut(arn).ok_or_else(no_subscription)?;
    let scope = if name == "FilterPolicyScope" {
        value.clone()
    } else {
        sub.attributes
            .get("FilterPolicyScope")
            .cloned()
            .unwrap_or_else(|| "MessageAttributes".to_owned())
    };
    let parsed = check_attribute(name, &value, &scope, PREFIX)?;
    match name {
        "FilterPolicy" => sub.filter = parsed,
        "FilterPolicyScope" => {
            // The policy in place must make sense in the new scope.
            if let Some(policy) = sub.attributes.get("FilterPolicy").filter(|p| !p.is_empty()) {
                sub.filter = Some(FilterPolicy::parse(policy, value == "MessageBody").map_err(
                    |reason| SnsError::invalid(format!("{PREFIX}FilterPolicy: {reason}")),
                )?);
            }
        }
        "RawMessageDelivery" => value = value.to_ascii_lowercase(),
        _ => {}
    }
    sub.attributes.insert(name.to_owned(), value);
    Ok(None)
}
