//! Per-message publish options, what SNS returns for a publish, and the FIFO rules.

use crate::attributes::{AttributeValue, Attributes};
use crate::error::{Error, Result};
use crate::validate as sqs;

use super::validate::check_subject;

/// Per-message publish options: SQS's [`SendOptions`](crate::SendOptions) without the
/// delay (SNS has none), with a subject.
///
/// # Examples
///
/// ```
/// use weir_sqs::AttributeValue;
/// use weir_sqs::sns::PublishOptions;
///
/// let opts = PublishOptions::default()
///     .with_subject("Order placed")
///     .with_attribute("tenant", AttributeValue::string("acme"));
/// assert_eq!(opts.attributes.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishOptions {
    /// The subject (1–99 characters, no control characters): email subscriptions'
    /// subject line, and `Subject` in the notifications queues receive.
    pub subject: Option<String>,
    /// Message group id: required on FIFO topics; on standard topics it reaches
    /// standard queue subscriptions, for fair queues.
    pub group_id: Option<String>,
    /// Deduplication id: FIFO topics only; required unless the topic has content-based
    /// deduplication.
    pub dedup_id: Option<String>,
    /// Message attributes (at most 10 in total, including the type tag and traceparent
    /// that weir may add).
    pub attributes: Attributes,
}

impl PublishOptions {
    /// Sets the subject.
    #[must_use]
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Sets the message group id.
    #[must_use]
    pub fn with_group_id(mut self, id: impl Into<String>) -> Self {
        self.group_id = Some(id.into());
        self
    }

    /// Sets the deduplication id.
    #[must_use]
    pub fn with_dedup_id(mut self, id: impl Into<String>) -> Self {
        self.dedup_id = Some(id.into());
        self
    }

    /// Adds a message attribute.
    #[must_use]
    pub fn with_attribute(mut self, name: impl Into<String>, value: AttributeValue) -> Self {
        self.attributes.insert(name.into(), value);
        self
    }
}

/// What SNS returned for a published message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishOutput {
    message_id: String,
    sequence_number: Option<String>,
}

impl PublishOutput {
    pub(crate) fn new(message_id: String, sequence_number: Option<String>) -> Self {
        Self {
            message_id,
            sequence_number,
        }
    }

    /// SNS's message id (the `MessageId` of the notification; not the id SQS gives the
    /// copy each queue receives).
    #[must_use]
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// The sequence number (FIFO topics).
    #[must_use]
    pub fn sequence_number(&self) -> Option<&str> {
        self.sequence_number.as_deref()
    }
}

/// Checks one message's options against the topic: the subject, the ids' characters
/// and lengths; on FIFO topics a group id, and a dedup id unless `content_dedup`; on
/// standard topics no dedup id.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the rule.
pub fn check_publish_options(
    options: &PublishOptions,
    fifo: bool,
    content_dedup: bool,
) -> Result<()> {
    if let Some(s) = &options.subject {
        check_subject(s)?;
    }
    if let Some(g) = &options.group_id {
        sqs::check_id("message group id", g)?;
    }
    if let Some(d) = &options.dedup_id {
        sqs::check_id("message deduplication id", d)?;
    }
    if fifo {
        if options.group_id.is_none() {
            return Err(Error::invalid(
                "message group id",
                "FIFO topics require a message group id on every message",
            ));
        }
        if options.dedup_id.is_none() && !content_dedup {
            return Err(Error::invalid(
                "message deduplication id",
                "this FIFO topic has no content-based deduplication, so every message needs a deduplication id",
            ));
        }
    } else if options.dedup_id.is_some() {
        return Err(Error::invalid(
            "message deduplication id",
            "only FIFO topics take a deduplication id",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> PublishOptions {
        PublishOptions::default()
    }

    #[test]
    fn fifo_rules() {
        let e = check_publish_options(&opts().with_dedup_id("d"), true, false).unwrap_err();
        assert!(e.to_string().contains("group id"), "{e}");
        assert!(check_publish_options(&opts().with_group_id("g"), true, false).is_err());
        check_publish_options(&opts().with_group_id("g"), true, true).unwrap();
        check_publish_options(&opts().with_group_id("g").with_dedup_id("d"), true, false).unwrap();
    }

    #[test]
    fn standard_rules() {
        check_publish_options(&opts().with_group_id("tenant"), false, false).unwrap();
        assert!(check_publish_options(&opts().with_dedup_id("d"), false, false).is_err());
        assert!(check_publish_options(&opts().with_subject("a\nb"), false, false).is_err());
        assert!(
            check_publish_options(&opts().with_group_id("g".repeat(129)), false, false).is_err()
        );
    }
}
