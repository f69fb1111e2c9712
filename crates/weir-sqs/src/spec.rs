//! [`QueueSpec`]: declare a queue with its dead-letter queue, create it idempotently,
//! and report drift when an existing queue differs.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::queue::{Queue, QueueAttributes};
use crate::telemetry::{OpType, record_error, sqs_span};
use crate::validate;

/// Who may use a dead-letter queue as a redrive target (`RedriveAllowPolicy`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedriveAllow {
    /// Any queue (SQS's default).
    AllowAll,
    /// No queue.
    DenyAll,
    /// Only the source queue of this spec.
    SourceQueue,
    /// Only the queues with these ARNs (at most 10).
    ByQueue(Vec<String>),
}

/// The dead-letter queue of a [`QueueSpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlqSpec {
    /// The DLQ's name; `None` means `<name>-dlq` (`<stem>-dlq.fifo` for FIFO).
    pub name: Option<String>,
    /// Receives after which a message moves to the DLQ (1–1000).
    pub max_receive_count: u32,
    /// The DLQ's retention; `None` means 14 days (the longest, to leave time to redrive).
    pub retention: Option<Duration>,
    /// Who may redrive into the DLQ's sources.
    pub redrive_allow: Option<RedriveAllow>,
}

/// One attribute of an existing queue that differs from the spec (or, for the `sns`
/// feature's `TopicSpec`, of an existing topic or subscription).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDrift {
    /// The queue whose attribute differs (for a `TopicSpec`: the topic's name, or
    /// `topic -> queue` for a subscription).
    pub queue: String,
    /// The SQS attribute name, e.g. `VisibilityTimeout`.
    pub attribute: String,
    /// The value the spec asks for.
    pub expected: String,
    /// The value the queue has (`None` if unset).
    pub actual: Option<String>,
}

impl fmt::Display for AttributeDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} is {} but the spec says {}",
            self.queue,
            self.attribute,
            self.actual.as_deref().unwrap_or("unset"),
            self.expected
        )
    }
}

/// The queues a [`QueueSpec`] ensured, and any drift found.
#[derive(Debug, Clone)]
pub struct Topology {
    /// The main queue.
    pub queue: Queue,
    /// Its dead-letter queue, if the spec has one.
    pub dlq: Option<Queue>,
    /// Attributes of queues that already existed and differ from the spec (SQS's
    /// `CreateQueue` does not change them; weir reports, and never overwrites).
    pub drift: Vec<AttributeDrift>,
}

/// A queue declaration: standard or FIFO, its attributes, and an optional DLQ with a
/// redrive policy. [`ensure`](Self::ensure) creates what is missing and reports drift.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> weir_sqs::Result<()> {
/// # let client = weir_local::LocalSqs::new().client();
/// use std::time::Duration;
/// use weir_sqs::QueueSpec;
///
/// let topology = QueueSpec::standard("orders")
///     .visibility(Duration::from_secs(60))
///     .receive_wait(Duration::from_secs(20))
///     .dead_letter(5)
///     .ensure(&client)
///     .await?;
/// assert_eq!(topology.dlq.as_ref().map(|q| q.name()), Some("orders-dlq"));
/// for d in &topology.drift {
///     eprintln!("drift: {d}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct QueueSpec {
    name: String,
    fifo: bool,
    visibility: Option<Duration>,
    retention: Option<Duration>,
    delay: Option<Duration>,
    receive_wait: Option<Duration>,
    max_message_size: Option<usize>,
    content_based_dedup: Option<bool>,
    dlq: Option<DlqSpec>,
}

impl QueueSpec {
    /// A standard queue.
    pub fn standard(name: impl Into<String>) -> Self {
        Self::new(name.into(), false)
    }

    /// A FIFO queue (the name must end in `.fifo`).
    pub fn fifo(name: impl Into<String>) -> Self {
        Self::new(name.into(), true)
    }

    fn new(name: String, fifo: bool) -> Self {
        Self {
            name,
            fifo,
            visibility: None,
            retention: None,
            delay: None,
            receive_wait: None,
            max_message_size: None,
            content_based_dedup: None,
            dlq: None,
        }
    }

    /// The default visibility timeout (0–12 h).
    pub fn visibility(mut self, d: Duration) -> Self {
        self.visibility = Some(d);
        self
    }

    /// How long messages are kept (60 s – 14 days).
    pub fn retention(mut self, d: Duration) -> Self {
        self.retention = Some(d);
        self
    }

    /// The delivery delay of every message (0–900 s).
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = Some(d);
        self
    }

    /// The default long-poll wait (0–20 s).
    pub fn receive_wait(mut self, d: Duration) -> Self {
        self.receive_wait = Some(d);
        self
    }

    /// The maximum message size in bytes (1,024–1,048,576).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = Some(bytes);
        self
    }

    /// Content-based deduplication (FIFO only).
    pub fn content_based_deduplication(mut self, on: bool) -> Self {
        self.content_based_dedup = Some(on);
        self
    }

    /// Adds a dead-letter queue named `<name>-dlq`, used after `max_receive_count`
    /// receives.
    pub fn dead_letter(self, max_receive_count: u32) -> Self {
        self.dead_letter_spec(DlqSpec {
            name: None,
            max_receive_count,
            retention: None,
            redrive_allow: Some(RedriveAllow::SourceQueue),
        })
    }

    /// Adds a dead-letter queue described in full.
    pub fn dead_letter_spec(mut self, dlq: DlqSpec) -> Self {
        self.dlq = Some(dlq);
        self
    }

    /// The queue name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The DLQ's name, if the spec has one.
    #[must_use]
    pub fn dlq_name(&self) -> Option<String> {
        let dlq = self.dlq.as_ref()?;
        Some(
            dlq.name
                .clone()
                .unwrap_or_else(|| match self.name.strip_suffix(".fifo") {
                    Some(stem) => format!("{stem}-dlq.fifo"),
                    None => format!("{}-dlq", self.name),
                }),
        )
    }

    /// Checks the spec against SQS's limits, without any call.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the limit broken.
    pub fn validate(&self) -> Result<()> {
        validate::check_queue_name(&self.name, self.fifo)?;
        if let Some(v) = self.visibility {
            validate::check_visibility(v)?;
        }
        if let Some(d) = self.delay {
            validate::check_delay(d)?;
        }
        if let Some(w) = self.receive_wait {
            validate::check_wait(w)?;
        }
        if let Some(r) = self.retention {
            check_retention(r)?;
        }
        if let Some(s) = self.max_message_size
            && !(1024..=validate::DEFAULT_MAX_MESSAGE_SIZE).contains(&s)
        {
            return Err(Error::invalid(
                "maximum message size",
                format!("{s} bytes is outside 1024-1048576"),
            ));
        }
        if self.content_based_dedup == Some(true) && !self.fifo {
            return Err(Error::invalid(
                "content-based deduplication",
                "only FIFO queues take ContentBasedDeduplication",
            ));
        }
        if let Some(dlq) = &self.dlq {
            if !(1..=1000).contains(&dlq.max_receive_count) {
                return Err(Error::invalid(
                    "max receive count",
                    format!("{} is outside 1-1000", dlq.max_receive_count),
                ));
            }
            if let Some(r) = dlq.retention {
                check_retention(r)?;
            }
            if let Some(RedriveAllow::ByQueue(arns)) = &dlq.redrive_allow
                && arns.len() > 10
            {
                return Err(Error::invalid(
                    "redrive allow policy",
                    format!("{} source queues; the limit is 10", arns.len()),
                ));
            }
            let name = self.dlq_name().unwrap_or_default();
            validate::check_queue_name(&name, self.fifo)?;
        }
        Ok(())
    }

    /// The attributes this spec sets on the main queue (redrive policy excluded).
    fn attributes(&self) -> BTreeMap<&'static str, String> {
        let mut a = BTreeMap::new();
        if self.fifo {
            a.insert("FifoQueue", "true".to_owned());
        }
        if let Some(v) = self.visibility {
            a.insert("VisibilityTimeout", v.as_secs().to_string());
        }
        if let Some(v) = self.retention {
            a.insert("MessageRetentionPeriod", v.as_secs().to_string());
        }
        if let Some(v) = self.delay {
            a.insert("DelaySeconds", v.as_secs().to_string());
        }
        if let Some(v) = self.receive_wait {
            a.insert("ReceiveMessageWaitTimeSeconds", v.as_secs().to_string());
        }
        if let Some(v) = self.max_message_size {
            a.insert("MaximumMessageSize", v.to_string());
        }
        if let Some(v) = self.content_based_dedup {
            a.insert("ContentBasedDeduplication", v.to_string());
        }
        a
    }

    fn dlq_attributes(&self, dlq: &DlqSpec) -> BTreeMap<&'static str, String> {
        let mut a = BTreeMap::new();
        if self.fifo {
            a.insert("FifoQueue", "true".to_owned());
        }
        let retention = dlq.retention.unwrap_or(Duration::from_secs(1_209_600));
        a.insert("MessageRetentionPeriod", retention.as_secs().to_string());
        if let Some(m) = self.max_message_size {
            a.insert("MaximumMessageSize", m.to_string());
        }
        a
    }

    /// How a queue's attributes differ from the attributes this spec sets on the main
    /// queue (the redrive policy aside, since it needs the DLQ's ARN).
    #[must_use]
    pub fn drift(&self, actual: &QueueAttributes) -> Vec<AttributeDrift> {
        Self::diff(&self.name, &self.attributes(), actual)
    }

    /// Compares expected attributes with a queue's actual ones. JSON policies are
    /// compared by content.
    pub(crate) fn diff(
        queue: &str,
        expected: &BTreeMap<&'static str, String>,
        actual: &QueueAttributes,
    ) -> Vec<AttributeDrift> {
        expected
            .iter()
            .filter(|(k, v)| !same_value(k, v, actual.get(k)))
            .map(|(k, v)| AttributeDrift {
                queue: queue.to_owned(),
                attribute: (*k).to_owned(),
                expected: v.clone(),
                actual: actual.get(k).map(str::to_owned),
            })
            .collect()
    }

    /// Creates the DLQ (if any) and the queue when missing, sets the redrive policy on
    /// new queues, and reports how existing queues differ from the spec. Safe to run
    /// again and again.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] from [`validate`](Self::validate) before any call, then
    /// [`Error::Sqs`].
    pub async fn ensure(&self, client: &Client) -> Result<Topology> {
        self.validate()?;
        let mut drift = Vec::new();
        let mut dlq_queue = None;
        let mut main = self.attributes();
        if let Some(dlq) = &self.dlq {
            let dlq_name = self.dlq_name().unwrap_or_default();
            let dlq_attrs = self.dlq_attributes(dlq);
            let (q, d, created) = ensure_one(client, &dlq_name, &dlq_attrs).await?;
            drift.extend(d);
            let dlq_arn = q.arn().map(str::to_owned).unwrap_or_default();
            main.insert(
                "RedrivePolicy",
                format!(
                    r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":{}}}"#,
                    dlq.max_receive_count
                ),
            );
            if let Some(allow) = &dlq.redrive_allow {
                let source_arn = match dlq_arn.rsplit_once(':') {
                    Some((prefix, _)) => format!("{prefix}:{}", self.name),
                    None => self.name.clone(),
                };
                let policy = redrive_allow_json(allow, &source_arn);
                let mut want = BTreeMap::new();
                want.insert("RedriveAllowPolicy", policy.clone());
                let d = Self::diff(q.name(), &want, q.attributes());
                if !d.is_empty() {
                    // A new DLQ gets the policy; an existing one is only reported.
                    if created {
                        set_attributes(client, q.url(), &want).await?;
                    } else {
                        drift.extend(d);
                    }
                }
            }
            dlq_queue = Some(q.refresh().await?);
        }
        let (queue, d, _) = ensure_one(client, &self.name, &main).await?;
        drift.extend(d);
        for d in &drift {
            tracing::warn!(queue = %d.queue, attribute = %d.attribute, expected = %d.expected, actual = ?d.actual, "queue attribute drift");
        }
        Ok(Topology {
            queue,
            dlq: dlq_queue,
            drift,
        })
    }
}

fn check_retention(r: Duration) -> Result<()> {
    if !(60..=1_209_600).contains(&r.as_secs()) || r.subsec_nanos() != 0 {
        return Err(Error::invalid(
            "retention period",
            format!(
                "{} s is outside 60-1209600 s (1 min - 14 days)",
                r.as_secs_f64()
            ),
        ));
    }
    Ok(())
}

fn redrive_allow_json(allow: &RedriveAllow, source_arn: &str) -> String {
    match allow {
        RedriveAllow::AllowAll => r#"{"redrivePermission":"allowAll"}"#.to_owned(),
        RedriveAllow::DenyAll => r#"{"redrivePermission":"denyAll"}"#.to_owned(),
        RedriveAllow::SourceQueue => serde_json::json!({
            "redrivePermission": "byQueue",
            "sourceQueueArns": [source_arn],
        })
        .to_string(),
        RedriveAllow::ByQueue(arns) => serde_json::json!({
            "redrivePermission": "byQueue",
            "sourceQueueArns": arns,
        })
        .to_string(),
    }
}

/// Compares one attribute: JSON by content (numbers and numeric strings alike),
/// others as text.
fn same_value(name: &str, expected: &str, actual: Option<&str>) -> bool {
    let Some(actual) = actual else {
        // Unset "false" flags equal their default.
        return expected == "false";
    };
    if name.ends_with("Policy") {
        let norm = |s: &str| -> Option<serde_json::Value> {
            let v: serde_json::Value = serde_json::from_str(s).ok()?;
            Some(normalize(v))
        };
        return norm(expected).is_some() && norm(expected) == norm(actual);
    }
    expected == actual
}

fn normalize(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, normalize(v))).collect()),
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        other => other,
    }
}

async fn set_attributes(
    client: &Client,
    url: &str,
    attrs: &BTreeMap<&'static str, String>,
) -> Result<()> {
    let span = sqs_span("SetQueueAttributes", OpType::Create, url);
    client
        .set_queue_attributes()
        .queue_url(url)
        .set_attributes(Some(
            attrs
                .iter()
                .map(|(k, v)| (QueueAttributeName::from(*k), v.clone()))
                .collect(),
        ))
        .send()
        .instrument(span.clone())
        .await
        .map(|_| ())
        .map_err(|e| {
            let err = Error::from_sdk("SetQueueAttributes", e).for_queue(url);
            record_error(&span, &err);
            err
        })
}

/// Opens `name` if it exists (reporting drift), or creates it with `attrs`. The flag
/// says whether it was created.
async fn ensure_one(
    client: &Client,
    name: &str,
    attrs: &BTreeMap<&'static str, String>,
) -> Result<(Queue, Vec<AttributeDrift>, bool)> {
    match Queue::from_name(client, name).await {
        Ok(q) => {
            let drift = QueueSpec::diff(name, attrs, q.attributes());
            Ok((q, drift, false))
        }
        Err(Error::QueueNotFound(_)) => {
            let span = sqs_span("CreateQueue", OpType::Create, name);
            let out = client
                .create_queue()
                .queue_name(name)
                .set_attributes(Some(
                    attrs
                        .iter()
                        .map(|(k, v)| (QueueAttributeName::from(*k), v.clone()))
                        .collect(),
                ))
                .send()
                .instrument(span.clone())
                .await
                .map_err(|e| {
                    let err = Error::from_sdk("CreateQueue", e).for_queue(name);
                    record_error(&span, &err);
                    err
                })?;
            let url = out.queue_url.unwrap_or_default();
            Ok((Queue::from_url(client, &url).await?, Vec::new(), true))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> QueueAttributes {
        QueueAttributes::from_map(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn validation_names_limits() {
        QueueSpec::standard("q").validate().unwrap();
        assert!(QueueSpec::standard("q.fifo").validate().is_err());
        assert!(QueueSpec::fifo("q").validate().is_err());
        QueueSpec::fifo("q.fifo")
            .content_based_deduplication(true)
            .validate()
            .unwrap();
        assert!(
            QueueSpec::standard("q")
                .content_based_deduplication(true)
                .validate()
                .is_err()
        );
        assert!(
            QueueSpec::standard("q")
                .retention(Duration::from_secs(59))
                .validate()
                .is_err()
        );
        assert!(
            QueueSpec::standard("q")
                .delay(Duration::from_secs(901))
                .validate()
                .is_err()
        );
        assert!(
            QueueSpec::standard("q")
                .receive_wait(Duration::from_secs(21))
                .validate()
                .is_err()
        );
        assert!(
            QueueSpec::standard("q")
                .visibility(Duration::from_secs(43_201))
                .validate()
                .is_err()
        );
        assert!(
            QueueSpec::standard("q")
                .max_message_size(1023)
                .validate()
                .is_err()
        );
        assert!(QueueSpec::standard("q").dead_letter(0).validate().is_err());
        assert!(
            QueueSpec::standard("q")
                .dead_letter(1001)
                .validate()
                .is_err()
        );
        QueueSpec::standard("q").dead_letter(5).validate().unwrap();
    }

    #[test]
    fn dlq_names() {
        assert_eq!(
            QueueSpec::standard("a").dead_letter(3).dlq_name().unwrap(),
            "a-dlq"
        );
        assert_eq!(
            QueueSpec::fifo("a.fifo").dead_letter(3).dlq_name().unwrap(),
            "a-dlq.fifo"
        );
        assert_eq!(QueueSpec::standard("a").dlq_name(), None);
    }

    #[test]
    fn diff_reports_typed_drift() {
        let spec = QueueSpec::standard("q")
            .visibility(Duration::from_secs(60))
            .delay(Duration::ZERO);
        let d = QueueSpec::diff(
            "q",
            &spec.attributes(),
            &attrs(&[("VisibilityTimeout", "30"), ("DelaySeconds", "0")]),
        );
        assert_eq!(
            d,
            vec![AttributeDrift {
                queue: "q".into(),
                attribute: "VisibilityTimeout".into(),
                expected: "60".into(),
                actual: Some("30".into()),
            }]
        );
        assert!(
            d[0].to_string()
                .contains("VisibilityTimeout is 30 but the spec says 60")
        );
    }

    #[test]
    fn policies_compare_by_content() {
        assert!(same_value(
            "RedrivePolicy",
            r#"{"deadLetterTargetArn":"a","maxReceiveCount":5}"#,
            Some(r#"{"maxReceiveCount":"5", "deadLetterTargetArn":"a"}"#)
        ));
        assert!(!same_value(
            "RedrivePolicy",
            r#"{"deadLetterTargetArn":"a","maxReceiveCount":5}"#,
            Some(r#"{"deadLetterTargetArn":"a","maxReceiveCount":6}"#)
        ));
        assert!(same_value("ContentBasedDeduplication", "false", None));
        assert!(!same_value("VisibilityTimeout", "5", None));
    }
}
