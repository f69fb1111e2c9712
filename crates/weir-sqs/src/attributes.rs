//! Message attributes: typed values, and conversion to and from the SDK's shape.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::MessageAttributeValue;

use crate::error::{Error, Result};

/// A message's attributes by name, in a stable order.
pub type Attributes = BTreeMap<String, AttributeValue>;

/// The value of a message attribute: a data type (`String`, `Number` or `Binary`,
/// optionally with a `.custom-label`) and a string or binary value.
///
/// # Examples
///
/// ```
/// use weir_sqs::AttributeValue;
///
/// let v = AttributeValue::number(42).with_label("int");
/// assert_eq!(v.data_type(), "Number.int");
/// assert_eq!(v.as_str(), Some("42"));
/// // name + type + value bytes count toward the message size:
/// assert_eq!(v.size("n"), 1 + "Number.int".len() + 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeValue {
    data_type: String,
    value: Data,
}

#[derive(Clone, PartialEq, Eq)]
enum Data {
    Text(String),
    Bytes(Vec<u8>),
}

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(s) => f.debug_tuple("Text").field(s).finish(),
            Self::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
        }
    }
}

impl AttributeValue {
    /// A `String` attribute.
    pub fn string(value: impl Into<String>) -> Self {
        Self {
            data_type: "String".to_owned(),
            value: Data::Text(value.into()),
        }
    }

    /// A `Number` attribute (SQS keeps numbers as strings).
    pub fn number(value: impl fmt::Display) -> Self {
        Self {
            data_type: "Number".to_owned(),
            value: Data::Text(value.to_string()),
        }
    }

    /// A `Binary` attribute.
    pub fn binary(value: impl Into<Vec<u8>>) -> Self {
        Self {
            data_type: "Binary".to_owned(),
            value: Data::Bytes(value.into()),
        }
    }

    /// Adds a custom label to the data type: `String` becomes `String.label`.
    #[must_use]
    pub fn with_label(mut self, label: &str) -> Self {
        self.data_type.push('.');
        self.data_type.push_str(label);
        self
    }

    /// The full data type, e.g. `String` or `Number.float`.
    #[must_use]
    pub fn data_type(&self) -> &str {
        &self.data_type
    }

    /// The value of a `String` or `Number` attribute.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Data::Text(s) => Some(s),
            Data::Bytes(_) => None,
        }
    }

    /// The value of a `Binary` attribute.
    #[must_use]
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.value {
            Data::Bytes(b) => Some(b),
            Data::Text(_) => None,
        }
    }

    /// The bytes this attribute adds to a message of the given attribute `name`: the
    /// name, the data type and the value, as SQS counts them.
    #[must_use]
    pub fn size(&self, name: &str) -> usize {
        let value = match &self.value {
            Data::Text(s) => s.len(),
            Data::Bytes(b) => b.len(),
        };
        name.len() + self.data_type.len() + value
    }

    pub(crate) fn to_sdk(&self) -> Result<MessageAttributeValue> {
        let b = MessageAttributeValue::builder().data_type(&self.data_type);
        let b = match &self.value {
            Data::Text(s) => b.string_value(s),
            Data::Bytes(v) => b.binary_value(Blob::new(v.clone())),
        };
        b.build()
            .map_err(|e| Error::invalid("message attribute", e.to_string()))
    }

    pub(crate) fn from_sdk(v: MessageAttributeValue) -> Self {
        let value = match (v.string_value, v.binary_value) {
            (Some(s), _) => Data::Text(s),
            (None, Some(b)) => Data::Bytes(b.into_inner()),
            (None, None) => Data::Text(String::new()),
        };
        Self {
            data_type: v.data_type,
            value,
        }
    }
}

/// Converts attributes into the SDK's map.
pub(crate) fn to_sdk_map(
    attrs: &Attributes,
) -> Result<std::collections::HashMap<String, MessageAttributeValue>> {
    attrs
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.to_sdk()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_round_trip() {
        for v in [
            AttributeValue::string("a"),
            AttributeValue::number(1.5),
            AttributeValue::binary(vec![0, 1, 2]).with_label("raw"),
        ] {
            let back = AttributeValue::from_sdk(v.to_sdk().unwrap());
            assert_eq!(back, v);
        }
    }

    #[test]
    fn size_counts_name_type_value() {
        assert_eq!(AttributeValue::string("abc").size("key"), 3 + 6 + 3);
        assert_eq!(AttributeValue::binary(vec![0; 5]).size("b"), 1 + 6 + 5);
    }
}
