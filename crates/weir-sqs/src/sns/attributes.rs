//! weir's [`AttributeValue`]s in aws-sdk-sns's shape.

use std::collections::HashMap;

use aws_sdk_sns::primitives::Blob;
use aws_sdk_sns::types::MessageAttributeValue;

use crate::attributes::{AttributeValue, Attributes};
use crate::error::{Error, Result};

fn to_sns(v: &AttributeValue) -> Result<MessageAttributeValue> {
    let b = MessageAttributeValue::builder().data_type(v.data_type());
    let b = match (v.as_str(), v.as_bytes()) {
        (Some(s), _) => b.string_value(s),
        (None, Some(bytes)) => b.binary_value(Blob::new(bytes.to_vec())),
        (None, None) => b,
    };
    b.build()
        .map_err(|e| Error::invalid("message attribute", e.to_string()))
}

/// The attributes as the SDK takes them; `None` when there are none.
pub(crate) fn to_sns_map(
    attrs: &Attributes,
) -> Result<Option<HashMap<String, MessageAttributeValue>>> {
    if attrs.is_empty() {
        return Ok(None);
    }
    attrs
        .iter()
        .map(|(k, v)| Ok((k.clone(), to_sns(v)?)))
        .collect::<Result<HashMap<_, _>>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_converts() {
        let mut a = Attributes::new();
        a.insert("s".into(), AttributeValue::string("v"));
        a.insert("n".into(), AttributeValue::number(3).with_label("int"));
        a.insert("b".into(), AttributeValue::binary(vec![1, 2]));
        let m = to_sns_map(&a).unwrap().unwrap();
        assert_eq!(m["s"].string_value(), Some("v"));
        assert_eq!(m["n"].data_type(), "Number.int");
        assert_eq!(m["b"].binary_value().map(Blob::as_ref), Some(&[1u8, 2][..]));
        assert!(to_sns_map(&Attributes::new()).unwrap().is_none());
    }
}
