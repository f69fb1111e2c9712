//! CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes and the topic tags.

use std::collections::{BTreeMap, HashMap};

use super::wire::{Form, SnsError, SnsResult, Xml};
use super::{SnsCtx, Topic, check_topic_arn, no_topic, page};
use crate::engine::Engine;

/// The attributes a client may set (AWS's list for SetTopicAttributes), besides the
/// delivery-status logging ones (`{Protocol}{Success|Failure}FeedbackRoleArn`,
/// `{Protocol}SuccessFeedbackSampleRate`).
const SETTABLE: &[&str] = &[
    "DeliveryPolicy",
    "DisplayName",
    "Policy",
    "SignatureVersion",
    "TracingConfig",
    "KmsMasterKeyId",
    "ContentBasedDeduplication",
    "ArchivePolicy",
    "FifoThroughputScope",
];

fn settable(name: &str) -> bool {
    SETTABLE.contains(&name)
        || name.ends_with("FeedbackRoleArn")
        || name.ends_with("SuccessFeedbackSampleRate")
}

/// AWS's rule: 1 to 256 letters, digits, hyphens and underscores, and `.fifo` at the
/// end of a FIFO topic's name.
fn valid_name(name: &str, fifo: bool) -> bool {
    let stem = if fifo {
        match name.strip_suffix(".fifo") {
            Some(stem) => stem,
            None => return false,
        }
    } else {
        name
    };
    (1..=256).contains(&stem.len())
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_true(v: Option<&String>) -> bool {
    v.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Checks the attributes given to CreateTopic; returns whether the topic is FIFO.
fn check_create_attributes(attrs: &BTreeMap<String, String>) -> SnsResult<bool> {
    for name in attrs.keys() {
        if !settable(name) && name != "FifoTopic" {
            return Err(SnsError::invalid(format!(
                "Invalid parameter: Attributes Reason: Unknown attribute: {name}"
            )));
        }
    }
    let fifo = is_true(attrs.get("FifoTopic"));
    if !fifo && is_true(attrs.get("ContentBasedDeduplication")) {
        return Err(SnsError::invalid(
            "Invalid parameter: Attributes Reason: Content based deduplication can only be set for FIFO topics",
        ));
    }
    Ok(fifo)
}

pub(crate) fn create(engine: &Engine, form: &Form, ctx: &SnsCtx<'_>) -> SnsResult<Option<Xml>> {
    let name = form.required("Name")?;
    let mut attrs = form.string_map("Attributes");
    let tags = form.tags("Tags");
    let fifo = check_create_attributes(&attrs)?;
    if !valid_name(name, fifo) {
        return Err(SnsError::invalid("Invalid parameter: Topic Name"));
    }
    if !fifo {
        // AWS keeps no explicit FifoTopic=false.
        attrs.remove("FifoTopic");
    }
    let arn = ctx.topic_arn(name);
    let mut reg = engine.sns.lock();
    if let Some(existing) = reg.topics.get(&arn) {
        let differs = attrs.iter().any(|(k, v)| {
            let current = existing.attributes.get(k).map_or("", String::as_str);
            !(k == "FifoTopic" && existing.fifo) && current != v
        });
        if differs {
            return Err(SnsError::invalid(
                "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
            ));
        }
        if tags.iter().any(|(k, v)| existing.tags.get(k) != Some(v)) {
            return Err(SnsError::invalid(
                "Invalid parameter: Tags Reason: Topic already exists with different tags",
            ));
        }
    } else {
        attrs.remove("FifoTopic");
        reg.topics.insert(
            arn.clone(),
            Topic {
                arn: arn.clone(),
                fifo,
                attributes: attrs,
                tags,
                subscriptions: Vec::new(),
                dedup: HashMap::new(),
                sequence: 10_000_000_000_000_000_000,
            },
        );
    }
    let mut x = Xml::default();
    x.leaf("TopicArn", &arn);
    Ok(Some(x))
}

/// Deleting a topic deletes its subscriptions; deleting one that does not exist is not
/// an error (AWS: "This action is idempotent").
pub(crate) fn delete(engine: &Engine, form: &Form, ctx: &SnsCtx<'_>) -> SnsResult<Option<Xml>> {
    let arn = form.required("TopicArn")?;
    check_topic_arn(arn, ctx, "TopicArn")?;
    let mut reg = engine.sns.lock();
    if let Some(topic) = reg.topics.remove(arn) {
        for sub in topic.subscriptions {
            reg.subscriptions.remove(&sub);
        }
    }
    Ok(None)
}

pub(crate) fn list(engine: &Engine, form: &Form, ctx: &SnsCtx<'_>) -> SnsResult<Option<Xml>> {
    let prefix = ctx.topic_arn("");
    let reg = engine.sns.lock();
    let (arns, next) = page(
        reg.topics
            .keys()
            .filter(|arn| arn.starts_with(&prefix))
            .map(|arn| (arn, arn)),
        form.get("NextToken"),
    );
    let mut x = Xml::default();
    x.open("Topics");
    for arn in arns {
        x.open("member").leaf("TopicArn", arn).close("member");
    }
    x.close("Topics");
    if let Some(next) = next {
        x.leaf("NextToken", &next);
    }
    Ok(Some(x))
}

/// AWS's default topic policy: the owner account may do everything.
fn default_policy(arn: &str, owner: &str) -> String {
    serde_json::json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic", "SNS:Publish"
            ],
            "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": owner}}
        }]
    })
    .to_string()
}

const EFFECTIVE_DELIVERY_POLICY: &str = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#;

fn owner_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

pub(crate) fn get_attributes(
    engine: &Engine,
    form: &Form,
    ctx: &SnsCtx<'_>,
) -> SnsResult<Option<Xml>> {
    let arn = form.required("TopicArn")?;
    check_topic_arn(arn, ctx, "TopicArn")?;
    let reg = engine.sns.lock();
    let topic = reg.topics.get(arn).ok_or_else(no_topic)?;
    let owner = owner_of(arn);
    let mut attrs = BTreeMap::from([
        ("TopicArn".to_owned(), topic.arn.clone()),
        ("Owner".to_owned(), owner.to_owned()),
        ("DisplayName".to_owned(), String::new()),
        ("Policy".to_owned(), default_policy(arn, owner)),
        (
            "EffectiveDeliveryPolicy".to_owned(),
            EFFECTIVE_DELIVERY_POLICY.to_owned(),
        ),
        (
            "SubscriptionsConfirmed".to_owned(),
            topic.subscriptions.len().to_string(),
        ),
        ("SubscriptionsPending".to_owned(), "0".to_owned()),
        ("SubscriptionsDeleted".to_owned(), "0".to_owned()),
    ]);
    if topic.fifo {
        attrs.insert("FifoTopic".to_owned(), "true".to_owned());
        attrs.insert("ContentBasedDeduplication".to_owned(), "false".to_owned());
    }
    attrs.extend(topic.attributes.clone());
    let mut x = Xml::default();
    x.map("Attributes", &attrs);
    Ok(Some(x))
}

pub(crate) fn set_attributes(
    engine: &Engine,
    form: &Form,
    ctx: &SnsCtx<'_>,
) -> SnsResult<Option<Xml>> {
    let arn = form.required("TopicArn")?;
    let name = form.required("AttributeName")?;
    let value = form.get("AttributeValue").unwrap_or_default();
    check_topic_arn(arn, ctx, "TopicArn")?;
    let mut reg = engine.sns.lock();
    let topic = reg.topics.get_mut(arn).ok_or_else(no_topic)?;
    if !settable(name) {
        return Err(SnsError::invalid("Invalid parameter: AttributeName"));
    }
    if name == "ContentBasedDeduplication" {
        if !topic.fifo {
            return Err(SnsError::invalid(
                "Invalid parameter: Attributes Reason: Content based deduplication can only be set for FIFO topics",
            ));
        }
        if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") {
            return Err(SnsError::invalid(
                "Invalid parameter: ContentBasedDeduplication Reason: Invalid value: must be true or false",
            ));
        }
    }
    if name == "Policy" && serde_json::from_str::<serde_json::Value>(value).is_err() {
        return Err(SnsError::invalid(
            "Invalid parameter: Policy Error: null Reason: policy is not valid JSON",
        ));
    }
    topic.attributes.insert(name.to_owned(), value.to_owned());
    Ok(None)
}

fn tagged<'r>(
    reg: &'r mut super::Registry,
    form: &Form,
    ctx: &SnsCtx<'_>,
) -> SnsResult<&'r mut Topic> {
    let arn = form.required("ResourceArn")?;
    check_topic_arn(arn, ctx, "ResourceArn")?;
    reg.topics
        .get_mut(arn)
        .ok_or_else(|| SnsError::sender("ResourceNotFound", "Resource does not exist"))
}

pub(crate) fn tag(engine: &Engine, form: &Form, ctx: &SnsCtx<'_>) -> SnsResult<Option<Xml>> {
    let tags = form.tags("Tags");
    let mut reg = engine.sns.lock();
    let topic = tagged(&mut reg, form, ctx)?;
    if topic.tags.len() + tags.keys().filter(|k| !topic.tags.contains_key(*k)).count() > 50 {
        return Err(SnsError::sender(
            "TagLimitExceeded",
            "Could not complete request: tag quota of per resource exceeded",
        ));
    }
    topic.tags.extend(tags);
    Ok(Some(Xml::default()))
}

pub(crate) fn untag(engine: &Engine, form: &Form, ctx: &SnsCtx<'_>) -> SnsResult<Option<Xml>> {
    let keys = form.strings("TagKeys");
    let mut reg = engine.sns.lock();
    let topic = tagged(&mut reg, form, ctx)?;
    for k in keys {
        topic.tags.remove(&k);
    }
    Ok(Some(Xml::default()))
}

pub(crate) fn list_tags(engine: &Engine, form: &Form, ctx: &SnsCtx<'_>) -> SnsResult<Option<Xml>> {
    let mut reg = engine.sns.lock();
    let topic = tagged(&mut reg, form, ctx)?;
    let mut x = Xml::default();
    x.open("Tags");
    for (k, v) in &topic.tags {
        x.open("member")
            .leaf("Key", k)
            .leaf("Value", v)
            .close("member");
    }
    x.close("Tags");
    Ok(Some(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_aws_rules() {
        assert!(valid_name("orders", false));
        assert!(valid_name("a-b_C9", false));
        assert!(valid_name("orders.fifo", true));
        assert!(!valid_name("orders.fifo", false));
        assert!(!valid_name("orders", true));
        assert!(!valid_name("", false));
        assert!(!valid_name(".fifo", true));
        assert!(!valid_name("a b", false));
        assert!(valid_name(&"x".repeat(256), false));
        assert!(!valid_name(&"x".repeat(257), false));
    }
}
