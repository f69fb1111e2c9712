//! Codecs: how a typed value becomes a message body and back.
//!
//! [`Json`] (serde_json) is the default. [`RawString`] reads and writes bodies verbatim,
//! so messages from other producers can be handled. [`TaggedJson`] carries the variant
//! of an enum in the [`TYPE_TAG_ATTRIBUTE`] message attribute, so one queue can carry
//! several message types whose bodies stay plain JSON.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{CodecError, CodecErrorKind};

/// The message attribute that carries a type tag (see [`Encode::type_tag`]).
pub const TYPE_TAG_ATTRIBUTE: &str = "weir.type";

/// A body that could not be decoded. Kept on the [`Message`](crate::Message) with the raw
/// body; it never fails the batch it came in.
pub type DecodeError = CodecError;

/// Encodes values of `T` into message bodies: the producer side of a [`Codec`].
///
/// Implementations must be cheap to share (`Send + Sync`); a producer holds one behind
/// an `Arc`.
pub trait Encode<T>: Send + Sync + 'static {
    /// The MIME type of the bodies this codec writes, e.g. `application/json`.
    fn content_type(&self) -> &str;

    /// Encodes `value` into a message body.
    ///
    /// # Errors
    ///
    /// A [`CodecError`] of kind [`Encode`](CodecErrorKind::Encode) when the value cannot be
    /// represented.
    fn encode(&self, value: &T) -> Result<String, CodecError>;

    /// The type tag to send with `value` in the [`TYPE_TAG_ATTRIBUTE`] attribute, if any.
    /// The default sends none.
    fn type_tag(&self, value: &T) -> Option<Cow<'static, str>> {
        let _ = value;
        None
    }
}

/// Decodes message bodies into values of `T`: the consumer side of a [`Codec`].
pub trait Decode<T>: Send + Sync + 'static {
    /// Decodes a message body.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when the body is not a valid `T`.
    fn decode(&self, body: &str) -> Result<T, DecodeError>;

    /// Decodes a body that arrived with the type tag `tag` (the value of the
    /// [`TYPE_TAG_ATTRIBUTE`] attribute, if present). The default ignores the tag.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when the body is not a valid `T` for that tag.
    fn decode_tagged(&self, body: &str, tag: Option<&str>) -> Result<T, DecodeError> {
        let _ = tag;
        self.decode(body)
    }
}

/// A codec: encodes values of `T` into message bodies and decodes them back, with a
/// content type. Implemented for everything that implements both [`Encode`] and
/// [`Decode`]; a [`Producer`](crate::Producer) needs only `Encode<T>` and a
/// [`Consumer`](crate::Consumer) only `Decode<T>`, so [`Json`] serves types that are
/// only `Serialize` (or only `Deserialize`) too.
///
/// # Examples
///
/// A codec for plain numbers:
///
/// ```
/// use weir_sqs::codec::{Codec, Decode, DecodeError, Encode};
/// use weir_sqs::error::CodecError;
///
/// #[derive(Debug)]
/// struct Decimal;
///
/// impl Encode<u64> for Decimal {
///     fn content_type(&self) -> &str {
///         "text/plain"
///     }
///     fn encode(&self, value: &u64) -> Result<String, CodecError> {
///         Ok(value.to_string())
///     }
/// }
///
/// impl Decode<u64> for Decimal {
///     fn decode(&self, body: &str) -> Result<u64, DecodeError> {
///         body.parse().map_err(|e| CodecError::decode("decimal", e))
///     }
/// }
///
/// fn round_trip<C: Codec<u64>>(c: &C, v: u64) -> u64 {
///     c.decode(&c.encode(&v).unwrap()).unwrap()
/// }
/// assert_eq!(round_trip(&Decimal, 42), 42);
/// assert!(Decimal.decode("x").is_err());
/// ```
pub trait Codec<T>: Encode<T> + Decode<T> {}

impl<T, C: Encode<T> + Decode<T> + ?Sized> Codec<T> for C {}

/// The JSON codec (serde_json), weir's default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl<T: Serialize> Encode<T> for Json {
    fn content_type(&self) -> &str {
        "application/json"
    }

    fn encode(&self, value: &T) -> Result<String, CodecError> {
        serde_json::to_string(value).map_err(|e| CodecError::encode("json", e))
    }
}

impl<T: DeserializeOwned> Decode<T> for Json {
    fn decode(&self, body: &str) -> Result<T, DecodeError> {
        serde_json::from_str(body).map_err(|e| CodecError::decode("json", e))
    }
}

/// Bodies as they are: `String` in, `String` out. For messages written or read by other
/// producers and consumers, whatever their format.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawString;

impl Encode<String> for RawString {
    fn content_type(&self) -> &str {
        "text/plain"
    }

    fn encode(&self, value: &String) -> Result<String, CodecError> {
        Ok(value.clone())
    }
}

impl Decode<String> for RawString {
    fn decode(&self, body: &str) -> Result<String, DecodeError> {
        Ok(body.to_owned())
    }
}

/// JSON for an externally tagged serde enum, with the variant name carried in the
/// [`TYPE_TAG_ATTRIBUTE`] attribute and the variant's content as the body.
///
/// `Event::OrderPlaced(OrderPlaced { id: 7 })` is sent as the body `{"id":7}` with
/// `weir.type = OrderPlaced`, so a consumer that knows only `OrderPlaced` (or another
/// SQS client) reads a plain JSON body. A body that arrives without the attribute is
/// decoded as the whole enum (`{"OrderPlaced":{"id":7}}`).
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use weir_sqs::codec::{Decode, Encode, TaggedJson};
///
/// #[derive(Debug, PartialEq, Serialize, Deserialize)]
/// enum Event {
///     Placed { id: u32 },
///     Cancelled(u32),
/// }
///
/// let codec = TaggedJson;
/// let event = Event::Placed { id: 7 };
/// let body = Encode::<Event>::encode(&codec, &event).unwrap();
/// assert_eq!(body, r#"{"id":7}"#);
/// assert_eq!(codec.type_tag(&event).as_deref(), Some("Placed"));
/// let back: Event = codec.decode_tagged(&body, Some("Placed")).unwrap();
/// assert_eq!(back, event);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TaggedJson;

impl TaggedJson {
    fn split<T: Serialize>(value: &T) -> Result<(Option<String>, serde_json::Value), CodecError> {
        let v = serde_json::to_value(value).map_err(|e| CodecError::encode("tagged-json", e))?;
        match v {
            serde_json::Value::Object(map) if map.len() == 1 => {
                let mut it = map.into_iter();
                match it.next() {
                    Some((tag, inner)) => Ok((Some(tag), inner)),
                    None => Ok((None, serde_json::Value::Null)),
                }
            }
            serde_json::Value::String(tag) => Ok((Some(tag), serde_json::Value::Null)),
            other => Ok((None, other)),
        }
    }
}

impl<T: Serialize> Encode<T> for TaggedJson {
    fn content_type(&self) -> &str {
        "application/json"
    }

    fn encode(&self, value: &T) -> Result<String, CodecError> {
        let (_, inner) = Self::split(value)?;
        serde_json::to_string(&inner).map_err(|e| CodecError::encode("tagged-json", e))
    }

    fn type_tag(&self, value: &T) -> Option<Cow<'static, str>> {
        Self::split(value).ok().and_then(|(t, _)| t).map(Cow::Owned)
    }
}

impl<T: DeserializeOwned> Decode<T> for TaggedJson {
    fn decode(&self, body: &str) -> Result<T, DecodeError> {
        serde_json::from_str(body).map_err(|e| CodecError::decode("tagged-json", e))
    }

    fn decode_tagged(&self, body: &str, tag: Option<&str>) -> Result<T, DecodeError> {
        let Some(tag) = tag else {
            return Decode::<T>::decode(self, body);
        };
        let inner: serde_json::Value =
            serde_json::from_str(body).map_err(|e| CodecError::decode("tagged-json", e))?;
        let wrapped = if inner.is_null() {
            serde_json::Value::String(tag.to_owned())
        } else {
            let mut map = serde_json::Map::with_capacity(1);
            map.insert(tag.to_owned(), inner);
            serde_json::Value::Object(map)
        };
        serde_json::from_value(wrapped).map_err(|e| CodecError::decode("tagged-json", e))
    }
}

/// A codec built from two closures, for one-off formats.
///
/// # Examples
///
/// ```
/// use weir_sqs::codec::{Encode, FnCodec};
/// use weir_sqs::error::{CodecError, CodecErrorKind};
///
/// let upper = FnCodec::new(
///     "text/plain",
///     |s: &String| Ok(s.to_uppercase()),
///     |b: &str| Ok::<_, CodecError>(b.to_lowercase()),
/// );
/// assert_eq!(upper.encode(&"hi".to_owned()).unwrap(), "HI");
/// # let _ = CodecErrorKind::Encode;
/// ```
pub struct FnCodec<E, D> {
    content_type: &'static str,
    encode: E,
    decode: D,
}

impl<E, D> FnCodec<E, D> {
    /// A codec that encodes with `encode` and decodes with `decode`.
    pub fn new(content_type: &'static str, encode: E, decode: D) -> Self {
        Self {
            content_type,
            encode,
            decode,
        }
    }
}

impl<E, D> fmt::Debug for FnCodec<E, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnCodec")
            .field("content_type", &self.content_type)
            .field("encode", &std::any::type_name::<E>())
            .field("decode", &std::any::type_name::<D>())
            .finish()
    }
}

impl<T, E, D> Encode<T> for FnCodec<E, D>
where
    E: Fn(&T) -> Result<String, CodecError> + Send + Sync + 'static,
    D: Send + Sync + 'static,
{
    fn content_type(&self) -> &str {
        self.content_type
    }

    fn encode(&self, value: &T) -> Result<String, CodecError> {
        (self.encode)(value)
    }
}

impl<T, E, D> Decode<T> for FnCodec<E, D>
where
    E: Send + Sync + 'static,
    D: Fn(&str) -> Result<T, CodecError> + Send + Sync + 'static,
{
    fn decode(&self, body: &str) -> Result<T, DecodeError> {
        (self.decode)(body)
    }
}

/// An unknown type tag, as a [`DecodeError`]: for codecs that route by tag.
#[must_use]
pub fn unknown_tag(codec: &'static str, tag: &str) -> DecodeError {
    CodecError::msg(
        CodecErrorKind::Decode,
        codec,
        format!("unknown type tag {tag:?}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Order {
        id: u64,
        note: String,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    enum Event {
        Placed(Order),
        Shipped { id: u64 },
        Ping,
    }

    #[test]
    fn json_round_trip_and_decode_error() {
        let o = Order {
            id: 1,
            note: "x".into(),
        };
        let body = Json.encode(&o).unwrap();
        assert_eq!(body, r#"{"id":1,"note":"x"}"#);
        assert_eq!(Decode::<Order>::decode(&Json, &body).unwrap(), o);
        let err = Decode::<Order>::decode(&Json, "not json").unwrap_err();
        assert_eq!(err.kind(), CodecErrorKind::Decode);
        assert_eq!(Encode::<Order>::content_type(&Json), "application/json");
    }

    #[test]
    fn raw_string_is_verbatim() {
        let s = "<xml>not json</xml>".to_owned();
        assert_eq!(RawString.encode(&s).unwrap(), s);
        assert_eq!(RawString.decode(&s).unwrap(), s);
        assert!(RawString.type_tag(&s).is_none());
    }

    #[test]
    fn tagged_json_round_trips_every_variant_shape() {
        for e in [
            Event::Placed(Order {
                id: 2,
                note: "n".into(),
            }),
            Event::Shipped { id: 3 },
            Event::Ping,
        ] {
            let body = TaggedJson.encode(&e).unwrap();
            let tag = TaggedJson.type_tag(&e).unwrap();
            let back: Event = TaggedJson.decode_tagged(&body, Some(&tag)).unwrap();
            assert_eq!(back, e);
        }
        // Without a tag, the whole enum is expected.
        let back: Event = TaggedJson
            .decode_tagged(r#"{"Shipped":{"id":9}}"#, None)
            .unwrap();
        assert_eq!(back, Event::Shipped { id: 9 });
        // An unknown tag fails to decode.
        assert!(Decode::<Event>::decode_tagged(&TaggedJson, "{}", Some("Nope")).is_err());
    }

    #[test]
    fn unknown_tag_names_the_tag() {
        assert!(unknown_tag("x", "Foo").to_string().contains("\"Foo\""));
    }

    proptest! {
        #[test]
        fn json_round_trip(id in any::<u64>(), note in ".*") {
            let o = Order { id, note };
            let body = Json.encode(&o).unwrap();
            prop_assert_eq!(Decode::<Order>::decode(&Json, &body).unwrap(), o);
        }
    }
}
