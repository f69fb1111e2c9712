//! Queue attributes: defaults, validation and rendering.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{ErrorKind, SqsError, SqsResult};

/// A parsed RedrivePolicy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RedrivePolicy {
    pub(crate) target_arn: String,
    pub(crate) max_receive_count: u32,
}

/// A parsed RedriveAllowPolicy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RedriveAllow {
    AllowAll,
    DenyAll,
    ByQueue(Vec<String>),
}

/// The configurable attributes of a queue.
#[derive(Debug, Clone)]
pub(crate) struct QueueConfig {
    pub(crate) visibility_timeout: u32,
    pub(crate) delay_seconds: u32,
    pub(crate) maximum_message_size: u32,
    pub(crate) retention: u32,
    pub(crate) receive_wait: u32,
    pub(crate) redrive: Option<RedrivePolicy>,
    pub(crate) redrive_allow: Option<RedriveAllow>,
    pub(crate) content_based_dedup: bool,
    pub(crate) dedup_scope_group: bool,
    pub(crate) throughput_per_group: bool,
    pub(crate) policy: Option<String>,
    pub(crate) kms_key: Option<String>,
    pub(crate) kms_reuse: u32,
    pub(crate) sse: bool,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            visibility_timeout: 30,
            delay_seconds: 0,
            maximum_message_size: 1_048_576,
            retention: 345_600,
            receive_wait: 0,
            redrive: None,
            redrive_allow: None,
            content_based_dedup: false,
            dedup_scope_group: false,
            throughput_per_group: false,
            policy: None,
            kms_key: None,
            kms_reuse: 300,
            sse: true,
        }
    }
}

/// Attribute names GetQueueAttributes knows.
pub(crate) const ALL_NAMES: &[&str] = &[
    "Policy",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
    "ApproximateNumberOfMessagesDelayed",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedriveAllowPolicy",
    "SqsManagedSseEnabled",
];

fn invalid_value(name: &str, reason: &str) -> SqsError {
    SqsError::new(
        ErrorKind::InvalidAttributeValue,
        format!("Invalid value for the parameter {name}. Reason: {reason}"),
    )
}

fn int_in(name: &str, value: &str, min: u32, max: u32) -> SqsResult<u32> {
    match value.trim().parse::<u32>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(invalid_value(
            name,
            &format!("{name} must be an integer between {min} and {max}."),
        )),
    }
}

fn boolean(name: &str, value: &str) -> SqsResult<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid_value(name, "must be true or false.")),
    }
}

fn parse_redrive(value: &str) -> SqsResult<Option<RedrivePolicy>> {
    if value.is_empty() {
        return Ok(None);
    }
    let v: Value = serde_json::from_str(value).map_err(|_| {
        SqsError::bad_value(
            value,
            "RedrivePolicy",
            "Redrive policy is not a valid JSON map.",
        )
    })?;
    let arn = v
        .get("deadLetterTargetArn")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            SqsError::bad_value(
                value,
                "RedrivePolicy",
                "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.",
            )
        })?;
    let count = match v.get("maxReceiveCount") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        SqsError::bad_value(
            value,
            "RedrivePolicy",
            "Redrive policy does not contain mandatory attribute: maxReceiveCount.",
        )
    })?;
    if !(1..=1000).contains(&count) {
        return Err(SqsError::bad_value(
            value,
            "RedrivePolicy",
            "Invalid value for maxReceiveCount: must be between 1 and 1000.",
        ));
    }
    Ok(Some(RedrivePolicy {
        target_arn: arn.to_owned(),
        max_receive_count: u32::try_from(count).unwrap_or(1000),
    }))
}

fn parse_redrive_allow(value: &str) -> SqsResult<Option<RedriveAllow>> {
    if value.is_empty() {
        return Ok(None);
    }
    let v: Value = serde_json::from_str(value).map_err(|_| {
        invalid_value(
            "RedriveAllowPolicy",
            "Redrive allow policy is not a valid JSON map.",
        )
    })?;
    let arns: Vec<String> = v
        .get("sourceQueueArns")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    match v.get("redrivePermission").and_then(Value::as_str) {
        Some("allowAll") if arns.is_empty() => Ok(Some(RedriveAllow::AllowAll)),
        Some("denyAll") if arns.is_empty() => Ok(Some(RedriveAllow::DenyAll)),
        Some("byQueue") if (1..=10).contains(&arns.len()) => Ok(Some(RedriveAllow::ByQueue(arns))),
        Some("byQueue") => Err(invalid_value(
            "RedriveAllowPolicy",
            "sourceQueueArns must list 1 to 10 queue ARNs when redrivePermission is byQueue.",
        )),
        Some("allowAll" | "denyAll") => Err(invalid_value(
            "RedriveAllowPolicy",
            "sourceQueueArns may only be given when redrivePermission is byQueue.",
        )),
        _ => Err(invalid_value(
            "RedriveAllowPolicy",
            "redrivePermission must be allowAll, denyAll or byQueue.",
        )),
    }
}

impl QueueConfig {
    /// Applies one attribute, validating its value.
    pub(crate) fn apply(&mut self, name: &str, value: &str, fifo: bool) -> SqsResult<()> {
        match name {
            "VisibilityTimeout" => self.visibility_timeout = int_in(name, value, 0, 43_200)?,
            "DelaySeconds" => self.delay_seconds = int_in(name, value, 0, 900)?,
            "MaximumMessageSize" => {
                self.maximum_message_size = int_in(name, value, 1024, 1_048_576)?;
            }
            "MessageRetentionPeriod" => self.retention = int_in(name, value, 60, 1_209_600)?,
            "ReceiveMessageWaitTimeSeconds" => self.receive_wait = int_in(name, value, 0, 20)?,
            "RedrivePolicy" => self.redrive = parse_redrive(value)?,
            "RedriveAllowPolicy" => self.redrive_allow = parse_redrive_allow(value)?,
            "Policy" => {
                if !value.is_empty() && serde_json::from_str::<Value>(value).is_err() {
                    return Err(invalid_value(name, "Policy is not valid JSON."));
                }
                self.policy = (!value.is_empty()).then(|| value.to_owned());
            }
            "KmsMasterKeyId" => {
                self.kms_key = (!value.is_empty()).then(|| value.to_owned());
                if self.kms_key.is_some() {
                    self.sse = false;
                }
            }
            "KmsDataKeyReusePeriodSeconds" => self.kms_reuse = int_in(name, value, 60, 86_400)?,
            "SqsManagedSseEnabled" => {
                self.sse = boolean(name, value)?;
                if self.sse {
                    self.kms_key = None;
                }
            }
            // AWS knows FifoQueue on FIFO queues only: on a standard queue, even "false"
            // is an unknown attribute. On a FIFO queue "true" is accepted (CreateQueue
            // checked it against the name), anything else would change the queue type.
            "FifoQueue" if !fifo => {
                return Err(SqsError::new(
                    ErrorKind::InvalidAttributeName,
                    format!("Unknown Attribute {name}."),
                ));
            }
            "FifoQueue" => {
                if !boolean(name, value)? {
                    return Err(SqsError::new(
                        ErrorKind::InvalidAttributeValue,
                        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.",
                    ));
                }
            }
            "ContentBasedDeduplication" if fifo => self.content_based_dedup = boolean(name, value)?,
            "DeduplicationScope" if fifo => {
                self.dedup_scope_group = match value {
                    "messageGroup" => true,
                    "queue" => false,
                    _ => return Err(invalid_value(name, "must be messageGroup or queue.")),
                };
            }
            "FifoThroughputLimit" if fifo => {
                self.throughput_per_group = match value {
                    "perMessageGroupId" => true,
                    "perQueue" => false,
                    _ => {
                        return Err(invalid_value(
                            name,
                            "must be perMessageGroupId or perQueue.",
                        ));
                    }
                };
            }
            _ => {
                return Err(SqsError::new(
                    ErrorKind::InvalidAttributeName,
                    format!("Unknown Attribute {name}."),
                ));
            }
        }
        Ok(())
    }

    /// Applies a whole map, checking cross-attribute rules.
    pub(crate) fn apply_all(
        &mut self,
        attrs: &HashMap<String, String>,
        fifo: bool,
    ) -> SqsResult<()> {
        for (k, v) in attrs {
            self.apply(k, v, fifo)?;
        }
        if self.throughput_per_group && !self.dedup_scope_group {
            return Err(invalid_value(
                "FifoThroughputLimit",
                "FifoThroughputLimit perMessageGroupId needs DeduplicationScope messageGroup.",
            ));
        }
        Ok(())
    }

    /// The rendered value of a configurable attribute, or `None` if unset or not applicable.
    pub(crate) fn render(&self, name: &str, fifo: bool) -> Option<String> {
        Some(match name {
            "VisibilityTimeout" => self.visibility_timeout.to_string(),
            "DelaySeconds" => self.delay_seconds.to_string(),
            "MaximumMessageSize" => self.maximum_message_size.to_string(),
            "MessageRetentionPeriod" => self.retention.to_string(),
            "ReceiveMessageWaitTimeSeconds" => self.receive_wait.to_string(),
            "RedrivePolicy" => {
                let r = self.redrive.as_ref()?;
                serde_json::json!({
                    "deadLetterTargetArn": r.target_arn,
                    "maxReceiveCount": r.max_receive_count,
                })
                .to_string()
            }
            "RedriveAllowPolicy" => match self.redrive_allow.as_ref()? {
                RedriveAllow::AllowAll => r#"{"redrivePermission":"allowAll"}"#.to_owned(),
                RedriveAllow::DenyAll => r#"{"redrivePermission":"denyAll"}"#.to_owned(),
                RedriveAllow::ByQueue(arns) => serde_json::json!({
                    "redrivePermission": "byQueue",
                    "sourceQueueArns": arns,
                })
                .to_string(),
            },
            "Policy" => self.policy.clone()?,
            "KmsMasterKeyId" => self.kms_key.clone()?,
            "KmsDataKeyReusePeriodSeconds" => {
                self.kms_key.as_ref()?;
                self.kms_reuse.to_string()
            }
            "SqsManagedSseEnabled" => self.sse.to_string(),
            "FifoQueue" if fifo => "true".to_owned(),
            "ContentBasedDeduplication" if fifo => self.content_based_dedup.to_string(),
            "DeduplicationScope" if fifo => if self.dedup_scope_group {
                "messageGroup"
            } else {
                "queue"
            }
            .to_owned(),
            "FifoThroughputLimit" if fifo => if self.throughput_per_group {
                "perMessageGroupId"
            } else {
                "perQueue"
            }
            .to_owned(),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_enforced() {
        let mut c = QueueConfig::default();
        assert!(c.apply("VisibilityTimeout", "43200", false).is_ok());
        let e = c.apply("VisibilityTimeout", "43201", false).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidAttributeValue);
        assert!(c.apply("MaximumMessageSize", "1023", false).is_err());
        assert!(c.apply("MessageRetentionPeriod", "59", false).is_err());
        assert!(c.apply("DelaySeconds", "901", false).is_err());
        let e = c.apply("Nope", "1", false).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidAttributeName);
    }

    #[test]
    fn redrive_policy_round_trips() {
        let mut c = QueueConfig::default();
        c.apply(
            "RedrivePolicy",
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:d","maxReceiveCount":"3"}"#,
            false,
        )
        .unwrap();
        assert_eq!(c.redrive.as_ref().unwrap().max_receive_count, 3);
        assert!(
            c.render("RedrivePolicy", false)
                .unwrap()
                .contains("\"maxReceiveCount\":3")
        );
    }
}
