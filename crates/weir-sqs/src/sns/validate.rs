//! SNS's input rules, checked before any network call (see `docs/sns-limits.md`).
//!
//! Message attributes, ids and characters follow the same rules as SQS's, so those
//! checks are [`crate::validate`]'s; this module holds what SNS adds or changes.

use crate::attributes::Attributes;
use crate::error::{Error, Result};
use crate::validate as sqs;

/// A topic's `MaximumMessageSize` when it sets none: 256 KiB (262,144 bytes), body and
/// attributes together. Topics may raise it to 1 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 262_144;

/// The largest `MaximumMessageSize` a topic can have: 1 MiB.
pub const MAX_MESSAGE_SIZE: usize = 1_048_576;

/// The smallest `MaximumMessageSize` a topic can have.
pub const MIN_MESSAGE_SIZE: usize = 1_024;

/// Most entries in one `PublishBatch` call.
pub const MAX_BATCH_ENTRIES: usize = 10;

/// Longest topic name, `.fifo` included.
pub const MAX_TOPIC_NAME_LEN: usize = 256;

/// A subject must be shorter than 100 characters.
pub const MAX_SUBJECT_LEN: usize = 99;

/// Most keys in a filter policy.
pub const MAX_FILTER_POLICY_KEYS: usize = 5;

/// Most combinations of values in a filter policy (the product of its arrays' lengths).
pub const MAX_FILTER_POLICY_COMBINATIONS: usize = 150;

/// Largest filter policy, in bytes.
pub const MAX_FILTER_POLICY_SIZE: usize = 256 * 1024;

/// Checks a topic name: 1–256 characters of `A–Z a–z 0–9 - _`, plus `.fifo` at the end
/// for (and only for) FIFO topics.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the rule.
pub fn check_topic_name(name: &str, fifo: bool) -> Result<()> {
    const F: &str = "topic name";
    if name.is_empty() || name.len() > MAX_TOPIC_NAME_LEN {
        return Err(Error::invalid(
            F,
            format!(
                "{name:?} is {} characters; the limit is 1-{MAX_TOPIC_NAME_LEN}",
                name.len()
            ),
        ));
    }
    let stem = name.strip_suffix(".fifo");
    if fifo != stem.is_some() {
        return Err(Error::invalid(
            F,
            format!("{name:?}: FIFO topic names must end in .fifo, and only FIFO topic names may"),
        ));
    }
    let stem = stem.unwrap_or(name);
    if stem.is_empty()
        || !stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::invalid(
            F,
            format!("{name:?}: only A-Z a-z 0-9 - _ are allowed (plus the .fifo suffix)"),
        ));
    }
    Ok(())
}

/// Checks a subject: 1–99 characters, no line breaks or other control characters.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the rule.
pub fn check_subject(subject: &str) -> Result<()> {
    const F: &str = "subject";
    let len = subject.chars().count();
    if len == 0 || len > MAX_SUBJECT_LEN {
        return Err(Error::invalid(
            F,
            format!("{len} characters; SNS takes 1-{MAX_SUBJECT_LEN} (less than 100)"),
        ));
    }
    if let Some(c) = subject.chars().find(|c| c.is_control()) {
        return Err(Error::invalid(
            F,
            format!(
                "contains U+{:04X}: no line breaks or control characters",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

/// Checks a message for a topic: a non-empty body of characters SQS accepts (a topic's
/// messages end up in queues), at most 10 attributes (SNS drops a message with more on
/// a raw-delivery queue subscription), valid attribute names and types (`String.Array`
/// values must be JSON arrays), and body plus attributes within `max_size`. Returns
/// the size.
///
/// # Errors
///
/// [`Error::PayloadTooLarge`] with the limit and the size, or [`Error::InvalidInput`].
pub fn check_message(body: &str, attrs: &Attributes, max_size: usize) -> Result<usize> {
    if body.is_empty() {
        return Err(Error::invalid(
            "message body",
            "the message is empty; SNS requires at least 1 character",
        ));
    }
    for (name, v) in attrs {
        if v.data_type() == "String.Array"
            && !v
                .as_str()
                .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
                .is_some_and(|j| j.is_array())
        {
            return Err(Error::invalid(
                "message attribute value",
                format!("attribute {name:?} is a String.Array but its value is not a JSON array"),
            ));
        }
    }
    sqs::check_message(body, attrs, max_size)
}

/// Checks a topic's `MaximumMessageSize`: 1,024 to 1,048,576 bytes.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the range.
pub fn check_max_message_size(bytes: usize) -> Result<()> {
    if (MIN_MESSAGE_SIZE..=MAX_MESSAGE_SIZE).contains(&bytes) {
        Ok(())
    } else {
        Err(Error::invalid(
            "maximum message size",
            format!("{bytes} bytes is outside {MIN_MESSAGE_SIZE}-{MAX_MESSAGE_SIZE}"),
        ))
    }
}

/// Checks a filter policy: a JSON object of at most 256 KiB, with at most 5 keys and at
/// most 150 combinations of values. On message attributes (`body = false`) every key
/// holds an array (no nesting) and every key counts; on the body, keys may nest and
/// only the top-level keys count.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the limit broken.
pub fn check_filter_policy(json: &str, body: bool) -> Result<()> {
    const F: &str = "filter policy";
    if json.len() > MAX_FILTER_POLICY_SIZE {
        return Err(Error::invalid(
            F,
            format!(
                "{} bytes; the limit is {MAX_FILTER_POLICY_SIZE}",
                json.len()
            ),
        ));
    }
    let policy: serde_json::Value =
        serde_json::from_str(json).map_err(|e| Error::invalid(F, format!("not JSON: {e}")))?;
    let Some(object) = policy.as_object() else {
        return Err(Error::invalid(F, "must be a JSON object"));
    };
    if object.is_empty() {
        return Err(Error::invalid(F, "the policy has no keys"));
    }
    if !body && let Some((k, _)) = object.iter().find(|(_, v)| !v.is_array()) {
        return Err(Error::invalid(
            F,
            format!("key {k:?} does not hold an array: message attribute policies do not nest"),
        ));
    }
    if object.len() > MAX_FILTER_POLICY_KEYS {
        return Err(Error::invalid(
            F,
            format!(
                "{} keys; the limit is {MAX_FILTER_POLICY_KEYS}",
                object.len()
            ),
        ));
    }
    let combinations = combinations(&policy);
    if combinations > MAX_FILTER_POLICY_COMBINATIONS {
        return Err(Error::invalid(
            F,
            format!(
                "{combinations} combinations of values; the limit is {MAX_FILTER_POLICY_COMBINATIONS}"
            ),
        ));
    }
    Ok(())
}

/// The product of the lengths of every array in the policy (nested objects included).
fn combinations(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => a.len().max(1),
        serde_json::Value::Object(m) => m
            .values()
            .map(combinations)
            .fold(1usize, usize::saturating_mul),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AttributeValue;

    #[test]
    fn topic_names() {
        check_topic_name("orders", false).unwrap();
        check_topic_name("orders-1_x.fifo", true).unwrap();
        check_topic_name(&"t".repeat(256), false).unwrap();
        assert!(check_topic_name(&"t".repeat(257), false).is_err());
        assert!(check_topic_name("orders.fifo", false).is_err());
        assert!(check_topic_name("orders", true).is_err());
        assert!(check_topic_name("a.b", false).is_err());
        assert!(check_topic_name("", false).is_err());
    }

    #[test]
    fn subjects() {
        check_subject("Order placed").unwrap();
        check_subject(&"s".repeat(99)).unwrap();
        let e = check_subject(&"s".repeat(100)).unwrap_err();
        assert!(e.to_string().contains("1-99"), "{e}");
        assert!(check_subject("two\nlines").is_err());
        assert!(check_subject("").is_err());
    }

    #[test]
    fn messages() {
        let mut a = Attributes::new();
        a.insert(
            "tags".into(),
            AttributeValue::string(r#"["a","b"]"#).with_label("Array"),
        );
        check_message("x", &a, DEFAULT_MAX_MESSAGE_SIZE).unwrap();
        a.insert(
            "bad".into(),
            AttributeValue::string("a,b").with_label("Array"),
        );
        assert!(check_message("x", &a, DEFAULT_MAX_MESSAGE_SIZE).is_err());
        assert!(check_message("", &Attributes::new(), 10).is_err());
        let big = "x".repeat(DEFAULT_MAX_MESSAGE_SIZE + 1);
        let e = check_message(&big, &Attributes::new(), DEFAULT_MAX_MESSAGE_SIZE).unwrap_err();
        assert!(e.to_string().contains("262144"), "{e}");
    }

    #[test]
    fn filter_policies() {
        check_filter_policy(
            r#"{"kind":["placed","paid"],"n":[{"numeric":[">",1]}]}"#,
            false,
        )
        .unwrap();
        check_filter_policy(r#"{"order":{"kind":["placed"]}}"#, true).unwrap();
        assert!(check_filter_policy(r#"{"order":{"kind":["placed"]}}"#, false).is_err());
        assert!(check_filter_policy("[1]", false).is_err());
        assert!(check_filter_policy("{}", false).is_err());
        assert!(check_filter_policy("nope", false).is_err());
        let six = r#"{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}"#;
        assert!(
            check_filter_policy(six, false)
                .unwrap_err()
                .to_string()
                .contains("limit is 5")
        );
        let values: Vec<u32> = (0..13).collect();
        let many = serde_json::json!({ "a": values, "b": values }).to_string();
        let e = check_filter_policy(&many, false).unwrap_err();
        assert!(e.to_string().contains("169 combinations"), "{e}");
    }
}
