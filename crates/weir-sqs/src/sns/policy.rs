//! The queue policy that lets a topic send to a queue, merged into the queue's own.
//!
//! The statement is the one AWS documents for SNS-to-SQS
//! (<https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html>):
//! `sns.amazonaws.com` may `sqs:SendMessage` to the queue when `aws:SourceArn` is the
//! topic's ARN.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// The policy language version AWS documents.
const VERSION: &str = "2012-10-17";

/// The statement id weir gives the statement for `topic_arn`: stable, and unique per
/// topic (letters and digits only, which every policy language accepts).
fn sid(topic_arn: &str) -> String {
    // FNV-1a, 64 bits: short and stable across runs and platforms.
    let hash = topic_arn.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("weirSnsTopic{hash:016x}")
}

/// The statement that lets the topic `topic_arn` send to the queue `queue_arn`.
fn statement(queue_arn: &str, topic_arn: &str) -> Value {
    json!({
        "Sid": sid(topic_arn),
        "Effect": "Allow",
        "Principal": { "Service": "sns.amazonaws.com" },
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": { "ArnEquals": { "aws:SourceArn": topic_arn } },
    })
}

/// Whether `v` is `want`, or an array that holds it.
fn is_or_holds(v: Option<&Value>, want: &str) -> bool {
    match v {
        Some(Value::String(s)) => s == want,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(want)),
        _ => false,
    }
}

/// Whether a statement already lets the topic send to the queue (whatever its Sid).
fn grants(s: &Value, queue_arn: &str, topic_arn: &str) -> bool {
    let source = s
        .pointer("/Condition/ArnEquals")
        .and_then(|c| c.get("aws:SourceArn"));
    s.get("Effect").and_then(Value::as_str) == Some("Allow")
        && is_or_holds(s.pointer("/Principal/Service"), "sns.amazonaws.com")
        && (is_or_holds(s.get("Action"), "sqs:SendMessage")
            || is_or_holds(s.get("Action"), "sqs:*"))
        && is_or_holds(s.get("Resource"), queue_arn)
        && is_or_holds(source, topic_arn)
}

/// Merges the statement that lets `topic_arn` send to `queue_arn` into the queue's
/// policy `existing` (its `Policy` attribute, if any). Returns the policy to set, or
/// `None` when `existing` already grants it. The other statements are kept as they
/// are; a stale statement of weir's for the same topic is replaced.
///
/// # Errors
///
/// [`Error::InvalidInput`] when `existing` is not a JSON policy object.
///
/// # Examples
///
/// ```
/// use weir_sqs::sns::merge_queue_policy;
///
/// let queue = "arn:aws:sqs:us-east-1:000000000000:orders";
/// let topic = "arn:aws:sns:us-east-1:000000000000:events";
/// let policy = merge_queue_policy(None, queue, topic).unwrap().unwrap();
/// assert!(policy.contains(r#""aws:SourceArn":"arn:aws:sns:us-east-1:000000000000:events""#));
/// // Merging again changes nothing.
/// assert_eq!(merge_queue_policy(Some(&policy), queue, topic).unwrap(), None);
/// ```
pub fn merge_queue_policy(
    existing: Option<&str>,
    queue_arn: &str,
    topic_arn: &str,
) -> Result<Option<String>> {
    let mut policy = match existing.map(str::trim).filter(|s| !s.is_empty()) {
        None => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(Error::invalid(
                    "queue policy",
                    "the queue's Policy attribute is not a JSON object",
                ));
            }
        },
    };
    let mut statements = match policy.remove("Statement") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(single) => vec![single],
    };
    if statements.iter().any(|s| grants(s, queue_arn, topic_arn)) {
        return Ok(None);
    }
    let ours = sid(topic_arn);
    statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(ours.as_str()));
    statements.push(statement(queue_arn, topic_arn));
    policy
        .entry("Version")
        .or_insert_with(|| Value::String(VERSION.to_owned()));
    policy.insert("Statement".to_owned(), Value::Array(statements));
    Ok(Some(Value::Object(policy).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: &str = "arn:aws:sqs:us-east-1:000000000000:q";
    const T: &str = "arn:aws:sns:us-east-1:000000000000:t";

    #[test]
    fn a_new_policy_is_the_documented_one() {
        let p: Value =
            serde_json::from_str(&merge_queue_policy(None, Q, T).unwrap().unwrap()).unwrap();
        assert_eq!(p["Version"], "2012-10-17");
        let s = &p["Statement"][0];
        assert_eq!(s["Principal"]["Service"], "sns.amazonaws.com");
        assert_eq!(s["Action"], "sqs:SendMessage");
        assert_eq!(s["Resource"], Q);
        assert_eq!(s["Condition"]["ArnEquals"]["aws:SourceArn"], T);
    }

    #[test]
    fn other_statements_are_kept() {
        let existing = json!({
            "Version": "2012-10-17",
            "Id": "mine",
            "Statement": {"Sid": "Other", "Effect": "Allow", "Principal": "*",
                          "Action": "sqs:ReceiveMessage", "Resource": Q},
        })
        .to_string();
        let merged = merge_queue_policy(Some(&existing), Q, T).unwrap().unwrap();
        let p: Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(p["Id"], "mine");
        assert_eq!(p["Statement"].as_array().unwrap().len(), 2);
        assert_eq!(p["Statement"][0]["Sid"], "Other");
        // A second topic adds its own statement.
        let t2 = "arn:aws:sns:us-east-1:000000000000:t2";
        let merged = merge_queue_policy(Some(&merged), Q, t2).unwrap().unwrap();
        let p: Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(p["Statement"].as_array().unwrap().len(), 3);
        assert_eq!(merge_queue_policy(Some(&merged), Q, T).unwrap(), None);
    }

    #[test]
    fn an_equivalent_grant_is_recognised_and_a_stale_one_replaced() {
        let other = json!({"Statement": [{"Effect": "Allow",
            "Principal": {"Service": ["sns.amazonaws.com"]}, "Action": ["sqs:SendMessage"],
            "Resource": Q, "Condition": {"ArnEquals": {"aws:SourceArn": [T]}}}]});
        assert_eq!(
            merge_queue_policy(Some(&other.to_string()), Q, T).unwrap(),
            None
        );
        let stale = json!({"Statement": [statement("arn:aws:sqs:us-east-1:0:old", T)]});
        let merged = merge_queue_policy(Some(&stale.to_string()), Q, T)
            .unwrap()
            .unwrap();
        let p: Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(p["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(p["Statement"][0]["Resource"], Q);
        assert!(merge_queue_policy(Some("not json"), Q, T).is_err());
    }
}
