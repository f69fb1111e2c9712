//! `weir publish` and `weir subscribe`: SNS topics, in the style of `send` and `create`.

use serde_json::{Value, json};
use weir::sqs::sns::{
    FilterScope, PublishOptions, Publisher, Subscription, SubscriptionSpec, Topic, TopicSpec,
};
use weir::sqs::{AttributeValue, QueueSpec, RawString};

use crate::commands::{drift_json, queue_json, read_input, report_failures};
use crate::error::{CliError, Result};
use crate::output::Out;
use crate::{FilterScopeArg, PublishArgs, SubscribeArgs};

/// The options of every message of one `publish`: line n of stdin gets the dedup id D-n.
fn publish_options(a: &PublishArgs, count: usize, from_stdin: bool) -> Vec<PublishOptions> {
    let mut base = PublishOptions::default();
    if let Some(s) = &a.subject {
        base = base.with_subject(s);
    }
    if let Some(g) = &a.group {
        base = base.with_group_id(g);
    }
    for (k, v) in &a.attrs {
        base = base.with_attribute(k, AttributeValue::string(v));
    }
    (0..count)
        .map(|i| {
            let mut o = base.clone();
            if let Some(d) = &a.dedup {
                o.dedup_id = Some(if from_stdin && count > 1 {
                    format!("{d}-{}", i + 1)
                } else {
                    d.clone()
                });
            }
            o
        })
        .collect()
}

/// `weir publish`.
pub(crate) async fn publish(
    sns: &weir::aws_sdk_sns::Client,
    a: &PublishArgs,
    out: &Out,
) -> Result<()> {
    let topic = Topic::open(sns, &a.topic).await?;
    let from_stdin = a.message.is_none() && a.file.is_none();
    let bodies = match &a.message {
        Some(m) => vec![m.clone()],
        None => read_input(a.file.clone()).await?,
    };
    if bodies.is_empty() {
        return Err(CliError::Usage(
            "nothing to publish (stdin was empty)".into(),
        ));
    }
    let options = publish_options(a, bodies.len(), from_stdin);
    let publisher: Publisher<String, RawString> =
        Publisher::builder(topic).codec(RawString).build()?;
    let results = if bodies.len() == 1 {
        vec![publisher.publish_with(&bodies[0], options[0].clone()).await]
    } else {
        publisher
            .publish_batch_with(bodies.iter().zip(options))
            .await
    };
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(o) => ids.push(o.message_id().to_owned()),
            Err(e) => errors.push((i, e)),
        }
    }
    if out.json() {
        out.value(&json!({ "published": ids.len(), "failed": errors.len(), "message_ids": ids }));
    } else {
        for id in &ids {
            out.line(id);
        }
    }
    report_failures(ids.len(), errors, "published")
}

/// The topic name in a name or an ARN.
fn last_segment(s: &str) -> &str {
    s.rsplit([':', '/']).next().unwrap_or(s)
}

/// `weir subscribe`.
pub(crate) async fn subscribe(
    sns: &weir::aws_sdk_sns::Client,
    sqs: &aws_sdk_sqs::Client,
    a: &SubscribeArgs,
    out: &Out,
) -> Result<()> {
    let mut spec = SubscriptionSpec::queue(&a.queue).raw(a.raw);
    if let Some(p) = &a.filter_policy {
        spec = spec.filter_policy(p);
    }
    spec = spec.filter_scope(match a.filter_scope {
        FilterScopeArg::Attributes => FilterScope::MessageAttributes,
        FilterScopeArg::Body => FilterScope::MessageBody,
    });
    spec.validate()?;
    let (topic, created_topic, s, mut drift) = if a.create {
        let name = last_segment(&a.topic);
        let fifo = name.ends_with(".fifo");
        let queue = last_segment(&a.queue);
        let q = if queue.ends_with(".fifo") {
            QueueSpec::fifo(queue)
        } else {
            QueueSpec::standard(queue)
        };
        let queue_drift = q.ensure(sqs).await?.drift;
        let t = if fifo {
            TopicSpec::fifo(name)
        } else {
            TopicSpec::standard(name)
        };
        let existed = Topic::open(sns, name).await.is_ok();
        let mut t = t.subscribe(spec).ensure(sns, sqs).await?;
        let s = t.subscriptions.remove(0);
        let mut drift = queue_drift;
        drift.extend(t.drift);
        (t.topic, !existed, s, drift)
    } else {
        let topic = Topic::open(sns, &a.topic).await?;
        let s = topic.subscribe(sqs, &spec).await?;
        let drift = s.drift.clone();
        (topic, false, s, drift)
    };
    drift.dedup();
    print_subscription(out, &topic, created_topic, &s, &drift);
    Ok(())
}

fn print_subscription(
    out: &Out,
    topic: &Topic,
    created_topic: bool,
    s: &Subscription,
    drift: &[weir::sqs::AttributeDrift],
) {
    if out.json() {
        out.value(&json!({
            "topic": { "name": topic.name(), "arn": topic.arn(), "fifo": topic.is_fifo(),
                       "created": created_topic },
            "queue": queue_json(&s.queue),
            "subscription": { "arn": s.arn, "created": s.created,
                              "policy_updated": s.policy_updated },
            "drift": Value::Array(drift_json(drift)),
        }));
        return;
    }
    out.line(format!("topic        {}", topic.arn()));
    out.line(format!("queue        {}", s.queue.url()));
    let how = if s.created {
        "created"
    } else {
        "already there"
    };
    out.line(format!("subscription {} ({how})", s.arn));
    if s.policy_updated {
        out.line("policy       the queue's policy now lets the topic send to it");
    }
    for d in drift {
        out.line(format!(
            "drift {d} (weir does not change existing subscriptions)"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_out_of_arns_and_urls() {
        assert_eq!(
            last_segment("arn:aws:sns:us-east-1:000000000000:events"),
            "events"
        );
        assert_eq!(
            last_segment("http://localhost:4566/000000000000/orders"),
            "orders"
        );
        assert_eq!(last_segment("orders.fifo"), "orders.fifo");
    }
}
