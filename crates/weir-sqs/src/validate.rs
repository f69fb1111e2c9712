//! SQS's input rules, checked before any network call.
//!
//! Each function refuses what SQS would refuse, with an error that names the limit and
//! the actual value (see `docs/sqs-limits.md`). They are pure, so callers can also use
//! them to check input early.

use std::time::Duration;

use crate::attributes::Attributes;
use crate::error::{Error, PayloadTooLarge, Result};

/// Most entries in one batch call (SendMessageBatch, DeleteMessageBatch,
/// ChangeMessageVisibilityBatch) and most messages in one receive.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// SQS's default (and largest) MaximumMessageSize: 1 MiB, since August 2025.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 1_048_576;
/// Most message attributes on one message.
pub const MAX_ATTRIBUTES: usize = 10;
/// Longest per-message or queue delay: 15 minutes.
pub const MAX_DELAY: Duration = Duration::from_secs(900);
/// Longest long-poll wait.
pub const MAX_WAIT: Duration = Duration::from_secs(20);
/// Longest visibility timeout: 12 hours.
pub const MAX_VISIBILITY: Duration = Duration::from_secs(43_200);
/// Longest attribute name.
pub const MAX_ATTRIBUTE_NAME_LEN: usize = 256;
/// Longest group id, deduplication id or receive attempt id.
pub const MAX_ID_LEN: usize = 128;
/// Longest batch entry id.
pub const MAX_BATCH_ID_LEN: usize = 80;
/// Longest queue name (the `.fifo` suffix included).
pub const MAX_QUEUE_NAME_LEN: usize = 80;

/// Whether SQS accepts `c` in a body or a string attribute value:
/// `#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF`.
#[must_use]
pub fn is_allowed_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Refuses text containing a character SQS does not allow, naming its position.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming `field`, the character and its byte offset.
pub fn check_text(field: &'static str, text: &str) -> Result<()> {
    match text.char_indices().find(|(_, c)| !is_allowed_char(*c)) {
        None => Ok(()),
        Some((i, c)) => Err(Error::invalid(
            field,
            format!(
                "character U+{:04X} at byte {i} is not allowed by SQS (allowed: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF)",
                u32::from(c)
            ),
        )),
    }
}

/// Checks an attribute name: 1–256 characters, each a letter or digit (any script, as
/// AWS takes `attr.1øßä`) or `_ - .`; no leading or trailing period, no `..`, not
/// starting with `AWS.` or `Amazon.` (any case). Punctuation such as `! " § ( ?` is
/// refused, as AWS refuses it.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the rule broken.
pub fn check_attribute_name(name: &str) -> Result<()> {
    const F: &str = "message attribute name";
    let len = name.chars().count();
    if len == 0 || len > MAX_ATTRIBUTE_NAME_LEN {
        return Err(Error::invalid(
            F,
            format!("{name:?} is {len} characters; the limit is 1-{MAX_ATTRIBUTE_NAME_LEN}"),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(Error::invalid(
            F,
            format!("{name:?} contains {c:?}; only letters, digits and _ - . are allowed"),
        ));
    }
    if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
        return Err(Error::invalid(
            F,
            format!("{name:?}: no leading or trailing period, and no two periods in a row"),
        ));
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("aws.") || lower.starts_with("amazon.") {
        return Err(Error::invalid(
            F,
            format!("{name:?}: names starting with AWS. or Amazon. are reserved"),
        ));
    }
    Ok(())
}

/// Checks an attribute data type: `String`, `Number` or `Binary`, optionally followed by
/// `.label` (label of `A–Z a–z 0–9 _ - .`).
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the data type.
pub fn check_data_type(data_type: &str) -> Result<()> {
    let (base, label) = match data_type.split_once('.') {
        Some((b, l)) => (b, Some(l)),
        None => (data_type, None),
    };
    let base_ok = matches!(base, "String" | "Number" | "Binary");
    let label_ok = label.is_none_or(|l| {
        !l.is_empty()
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    });
    if base_ok && label_ok && data_type.len() <= MAX_ATTRIBUTE_NAME_LEN {
        Ok(())
    } else {
        Err(Error::invalid(
            "message attribute data type",
            format!("{data_type:?}: must be String, Number or Binary, optionally with .label"),
        ))
    }
}

/// Checks a set of attributes: at most 10, valid names, types and characters.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the limit or the rule broken.
pub fn check_attributes(attrs: &Attributes) -> Result<()> {
    if attrs.len() > MAX_ATTRIBUTES {
        return Err(Error::invalid(
            "message attributes",
            format!(
                "{} attributes; the limit is {MAX_ATTRIBUTES} per message",
                attrs.len()
            ),
        ));
    }
    for (name, v) in attrs {
        check_attribute_name(name)?;
        check_data_type(v.data_type())?;
        if let Some(s) = v.as_str() {
            check_text("message attribute value", s)?;
            if v.data_type().starts_with("Number") && s.parse::<f64>().is_err() {
                return Err(Error::invalid(
                    "message attribute value",
                    format!("attribute {name:?} is a Number but {s:?} is not a number"),
                ));
            }
        }
    }
    Ok(())
}

/// The size SQS counts for a message: the body's bytes plus each attribute's name,
/// data type and value.
#[must_use]
pub fn message_size(body: &str, attrs: &Attributes) -> usize {
    body.len() + attrs.iter().map(|(k, v)| v.size(k)).sum::<usize>()
}

/// Checks a message: body characters, attributes, and the total size against
/// `max_size`. Returns the size.
///
/// # Errors
///
/// [`Error::PayloadTooLarge`] with the limit and the actual size, or
/// [`Error::InvalidInput`].
pub fn check_message(body: &str, attrs: &Attributes, max_size: usize) -> Result<usize> {
    if body.is_empty() {
        return Err(Error::invalid(
            "message body",
            "the body is empty; SQS requires at least 1 character",
        ));
    }
    check_text("message body", body)?;
    check_attributes(attrs)?;
    let size = message_size(body, attrs);
    if size > max_size {
        return Err(Error::PayloadTooLarge(PayloadTooLarge::new(
            "message", max_size, size,
        )));
    }
    Ok(size)
}

/// Checks a per-message or queue delay: 0–900 s, whole seconds.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the 900 s limit.
pub fn check_delay(delay: Duration) -> Result<()> {
    check_seconds("delay", delay, MAX_DELAY)
}

/// Checks a long-poll wait: 0–20 s, whole seconds.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the 20 s limit.
pub fn check_wait(wait: Duration) -> Result<()> {
    check_seconds("wait time", wait, MAX_WAIT)
}

/// Checks a receipt handle before it is sent: SQS refuses an empty one
/// (`ReceiptHandleIsInvalid`), so weir refuses it first, without a request.
///
/// # Errors
///
/// [`Error::InvalidInput`] when the handle is empty.
pub fn check_receipt_handle(receipt_handle: &str) -> Result<()> {
    if receipt_handle.is_empty() {
        return Err(Error::invalid(
            "receipt handle",
            "it is empty: use the handle SQS returned with the message",
        ));
    }
    Ok(())
}

/// Checks a visibility timeout: 0–43,200 s (12 h), whole seconds.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the 12 h limit.
pub fn check_visibility(visibility: Duration) -> Result<()> {
    check_seconds("visibility timeout", visibility, MAX_VISIBILITY)
}

fn check_seconds(field: &'static str, d: Duration, max: Duration) -> Result<()> {
    if d > max {
        return Err(Error::invalid(
            field,
            format!(
                "{} s is over the limit of {} s",
                d.as_secs_f64(),
                max.as_secs()
            ),
        ));
    }
    if d.subsec_nanos() != 0 {
        return Err(Error::invalid(
            field,
            format!(
                "{} s: SQS takes whole seconds (0-{} s)",
                d.as_secs_f64(),
                max.as_secs()
            ),
        ));
    }
    Ok(())
}

/// Checks a number of messages to receive: 1–10.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the 1–10 range.
pub fn check_max_messages(n: usize) -> Result<()> {
    if (1..=MAX_BATCH_ENTRIES).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid(
            "max messages",
            format!("{n} is outside 1-{MAX_BATCH_ENTRIES}"),
        ))
    }
}

/// Checks a message group id, deduplication id or receive request attempt id: 1–128
/// characters of `a–z A–Z 0–9` and ASCII punctuation.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming `field` and the rule.
pub fn check_id(field: &'static str, id: &str) -> Result<()> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(Error::invalid(
            field,
            format!("{} characters; the limit is 1-{MAX_ID_LEN}", id.len()),
        ));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || c.is_ascii_punctuation()))
    {
        return Err(Error::invalid(
            field,
            format!("contains {c:?}; only a-z A-Z 0-9 and ASCII punctuation are allowed"),
        ));
    }
    Ok(())
}

/// Checks a batch entry id: 1–80 characters of `A–Z a–z 0–9 _ -`.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the rule.
pub fn check_batch_id(id: &str) -> Result<()> {
    if id.is_empty()
        || id.len() > MAX_BATCH_ID_LEN
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::invalid(
            "batch entry id",
            format!("{id:?}: 1-{MAX_BATCH_ID_LEN} characters of A-Z a-z 0-9 _ -"),
        ));
    }
    Ok(())
}

/// Checks a queue name: 1–80 characters of `A–Z a–z 0–9 - _`, plus `.fifo` at the end
/// for (and only for) FIFO queues.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the rule.
pub fn check_queue_name(name: &str, fifo: bool) -> Result<()> {
    const F: &str = "queue name";
    if name.is_empty() || name.len() > MAX_QUEUE_NAME_LEN {
        return Err(Error::invalid(
            F,
            format!(
                "{name:?} is {} characters; the limit is 1-{MAX_QUEUE_NAME_LEN}",
                name.len()
            ),
        ));
    }
    let stem = name.strip_suffix(".fifo");
    if fifo != stem.is_some() {
        return Err(Error::invalid(
            F,
            format!("{name:?}: FIFO queue names must end in .fifo, and only FIFO queue names may"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AttributeValue;

    fn attrs(n: usize) -> Attributes {
        (0..n)
            .map(|i| (format!("a{i}"), AttributeValue::string("v")))
            .collect()
    }

    #[allow(clippy::needless_pass_by_value)]
    fn reason(e: Error) -> String {
        e.to_string()
    }

    #[test]
    fn allowed_characters() {
        for c in [
            '\t',
            '\n',
            '\r',
            ' ',
            'a',
            '\u{D7FF}',
            '\u{E000}',
            '\u{FFFD}',
            '\u{10000}',
            '\u{10FFFF}',
        ] {
            assert!(is_allowed_char(c), "{c:?}");
        }
        for c in ['\0', '\u{8}', '\u{B}', '\u{1F}', '\u{FFFE}', '\u{FFFF}'] {
            assert!(!is_allowed_char(c), "{c:?}");
        }
        let e = check_text("message body", "ok\u{1}").unwrap_err();
        assert!(reason(e).contains("U+0001 at byte 2"));
    }

    #[test]
    fn attribute_names() {
        for ok in [
            "a",
            "trace-id",
            "x.y_z",
            &"n".repeat(256),
            "attr.1øßä",
            "é",
            &"ß".repeat(256),
        ] {
            check_attribute_name(ok).unwrap();
        }
        for bad in [
            "",
            ".a",
            "a.",
            "a..b",
            "AWS.x",
            "aws.x",
            "Amazon.x",
            "amazon.y",
            "a b",
            "a!",
            "a\"b",
            "a§",
            "a(b",
            "a?",
            &"n".repeat(257),
        ] {
            assert!(check_attribute_name(bad).is_err(), "{bad:?}");
        }
        check_attribute_name("AWSx").unwrap();
    }

    #[test]
    fn data_types() {
        for ok in [
            "String",
            "Number",
            "Binary",
            "String.json",
            "Number.float.x",
        ] {
            check_data_type(ok).unwrap();
        }
        for bad in ["string", "Int", "String.", "Binary.a b", ""] {
            assert!(check_data_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn at_most_ten_attributes() {
        check_attributes(&attrs(10)).unwrap();
        let e = check_attributes(&attrs(11)).unwrap_err();
        assert!(reason(e).contains("11 attributes; the limit is 10"));
    }

    #[test]
    fn number_attributes_must_parse() {
        let mut a = Attributes::new();
        a.insert("n".into(), AttributeValue::number("12.5"));
        check_attributes(&a).unwrap();
        a.insert("m".into(), AttributeValue::string("x").with_label("l"));
        check_attributes(&a).unwrap();
        let mut b = Attributes::new();
        b.insert("n".into(), AttributeValue::string("abc").with_label("x"));
        check_attributes(&b).unwrap();
    }

    #[test]
    fn attribute_value_characters() {
        let mut a = Attributes::new();
        a.insert("s".into(), AttributeValue::string("\u{0}"));
        assert!(check_attributes(&a).is_err());
    }

    #[test]
    fn size_counts_body_and_attributes() {
        let a = attrs(2); // each "aN" + "String" + "v" = 2 + 6 + 1
        assert_eq!(message_size("hello", &a), 5 + 2 * 9);
        let limit = 5 + 18;
        assert_eq!(check_message("hello", &a, limit).unwrap(), limit);
        match check_message("hello!", &a, limit).unwrap_err() {
            Error::PayloadTooLarge(p) => {
                assert_eq!(p.limit(), limit);
                assert_eq!(p.actual(), limit + 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_mib_boundary() {
        let body = "x".repeat(DEFAULT_MAX_MESSAGE_SIZE);
        check_message(&body, &Attributes::new(), DEFAULT_MAX_MESSAGE_SIZE).unwrap();
        let body = "x".repeat(DEFAULT_MAX_MESSAGE_SIZE + 1);
        let e = check_message(&body, &Attributes::new(), DEFAULT_MAX_MESSAGE_SIZE).unwrap_err();
        assert!(reason(e).contains("1048577 bytes, over the limit of 1048576"));
    }

    #[test]
    fn empty_body_refused() {
        assert!(check_message("", &Attributes::new(), 10).is_err());
    }

    #[test]
    fn durations() {
        check_delay(Duration::ZERO).unwrap();
        check_receipt_handle("AQEB-handle").unwrap();
        let err = check_receipt_handle("").unwrap_err();
        assert!(err.to_string().contains("receipt handle"), "{err}");
        check_delay(MAX_DELAY).unwrap();
        assert!(reason(check_delay(Duration::from_secs(901)).unwrap_err()).contains("900"));
        assert!(check_delay(Duration::from_millis(1500)).is_err());
        check_wait(MAX_WAIT).unwrap();
        assert!(reason(check_wait(Duration::from_secs(21)).unwrap_err()).contains("20 s"));
        check_visibility(MAX_VISIBILITY).unwrap();
        assert!(check_visibility(Duration::from_secs(43_201)).is_err());
    }

    #[test]
    fn max_messages() {
        assert!(check_max_messages(0).is_err());
        check_max_messages(1).unwrap();
        check_max_messages(10).unwrap();
        assert!(reason(check_max_messages(11).unwrap_err()).contains("1-10"));
    }

    #[test]
    fn ids() {
        check_id("group id", "a-b_c!{}").unwrap();
        check_id("group id", &"g".repeat(128)).unwrap();
        assert!(check_id("group id", "").is_err());
        assert!(check_id("group id", &"g".repeat(129)).is_err());
        assert!(check_id("group id", "a b").is_err());
        check_batch_id("0").unwrap();
        check_batch_id(&"i".repeat(80)).unwrap();
        assert!(check_batch_id(&"i".repeat(81)).is_err());
        assert!(check_batch_id("a.b").is_err());
        assert!(check_batch_id("").is_err());
    }

    #[test]
    fn queue_names() {
        check_queue_name("orders", false).unwrap();
        check_queue_name("orders-1_x.fifo", true).unwrap();
        assert!(check_queue_name("orders.fifo", false).is_err());
        assert!(check_queue_name("orders", true).is_err());
        assert!(check_queue_name(".fifo", true).is_err());
        assert!(check_queue_name("a.b", false).is_err());
        assert!(check_queue_name(&"q".repeat(81), false).is_err());
        check_queue_name(&"q".repeat(80), false).unwrap();
    }
}
