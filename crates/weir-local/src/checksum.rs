//! MD5 digests exactly as SQS computes them, and the character rules for bodies.

use std::collections::BTreeMap;
use std::sync::Arc;

use md5::{Digest, Md5};
use sha2::Sha256;

/// A message attribute as stored: data type plus its string or binary value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttrValue {
    pub(crate) data_type: String,
    pub(crate) string: Option<String>,
    pub(crate) binary: Option<Vec<u8>>,
}

impl AttrValue {
    /// Bytes counted toward the message size: name is added by the caller.
    pub(crate) fn size(&self) -> usize {
        self.data_type.len()
            + self.string.as_ref().map_or(0, String::len)
            + self.binary.as_ref().map_or(0, Vec::len)
    }

    fn is_binary(&self) -> bool {
        self.data_type == "Binary" || self.data_type.starts_with("Binary.")
    }
}

/// A random (version 4) UUID from fastrand: ids here need uniqueness, not secrecy, and
/// the OS random source costs a syscall per id.
pub(crate) fn fast_uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid()
}

/// [`fast_uuid`] in its hyphenated lower-case form, without the formatting machinery.
pub(crate) fn fast_uuid_string() -> String {
    let mut buf = uuid::Uuid::encode_buffer();
    fast_uuid().hyphenated().encode_lower(&mut buf).to_owned()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Lower-case hex MD5 of a body, straight into shared storage.
pub(crate) fn md5_hex_arc(data: &[u8]) -> Arc<str> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = Md5::digest(data);
    let mut buf = [0u8; 32];
    for (i, b) in digest.iter().enumerate() {
        buf[2 * i] = DIGITS[usize::from(b >> 4)];
        buf[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
    }
    Arc::from(std::str::from_utf8(&buf).unwrap_or_default())
}

/// [`fast_uuid_string`] straight into shared storage.
pub(crate) fn fast_uuid_arc() -> Arc<str> {
    let mut buf = uuid::Uuid::encode_buffer();
    Arc::from(&*fast_uuid().hyphenated().encode_lower(&mut buf))
}

/// Lower-case hex SHA-256 of a body (content-based deduplication).
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn put_len_prefixed(h: &mut Md5, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    h.update(len.to_be_bytes());
    h.update(bytes);
}

/// MD5 of message attributes: sorted by name, each as length-prefixed name, type, a
/// transport byte (1 string/number, 2 binary) and length-prefixed value.
pub(crate) fn md5_of_attributes<'a>(
    attrs: impl IntoIterator<Item = (&'a String, &'a AttrValue)>,
) -> Option<String> {
    let mut h = Md5::new();
    let mut any = false;
    for (name, v) in attrs {
        any = true;
        put_len_prefixed(&mut h, name.as_bytes());
        put_len_prefixed(&mut h, v.data_type.as_bytes());
        if v.is_binary() {
            h.update([2u8]);
            put_len_prefixed(&mut h, v.binary.as_deref().unwrap_or_default());
        } else {
            h.update([1u8]);
            put_len_prefixed(&mut h, v.string.as_deref().unwrap_or_default().as_bytes());
        }
    }
    any.then(|| hex(&h.finalize()))
}

/// MD5 of an attribute map (BTreeMap iterates sorted by name).
pub(crate) fn md5_of_map(attrs: &BTreeMap<String, AttrValue>) -> Option<String> {
    md5_of_attributes(attrs.iter())
}

/// True when every character is one SQS accepts:
/// #x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD #x10000–#x10FFFF.
pub(crate) fn valid_chars(s: &str) -> bool {
    // Fast path, branch-free so it vectorizes: printable ASCII, tab, LF and CR.
    let ascii_ok = s.bytes().fold(true, |ok, b| {
        ok & ((0x20..0x7f).contains(&b) | (b == b'\t') | (b == b'\n') | (b == b'\r'))
    });
    ascii_ok
        || s.chars().all(|c| {
            matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_body_matches_known_value() {
        assert_eq!(&*md5_hex_arc(b"hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn md5_of_attributes_matches_aws_example() {
        // Value computed with the algorithm AWS documents (and botocore implements).
        let mut m = BTreeMap::new();
        m.insert(
            "a".to_owned(),
            AttrValue {
                data_type: "String".into(),
                string: Some("b".into()),
                binary: None,
            },
        );
        let mut h = Md5::new();
        h.update([0, 0, 0, 1, b'a', 0, 0, 0, 6]);
        h.update(b"String");
        h.update([1, 0, 0, 0, 1, b'b']);
        assert_eq!(md5_of_map(&m), Some(hex(&h.finalize())));
        assert_eq!(md5_of_map(&BTreeMap::new()), None);
    }

    #[test]
    fn fast_uuids_are_v4_and_distinct() {
        let a = fast_uuid();
        assert_eq!(a.get_version_num(), 4);
        assert_ne!(a, fast_uuid());
    }

    #[test]
    fn chars_outside_the_allowed_ranges_are_rejected() {
        assert!(valid_chars("ok\t\n\r é 😀"));
        assert!(!valid_chars("\u{0}"));
        assert!(!valid_chars("\u{FFFE}"));
    }
}
