//! Hand-written JSON for the responses on the hot path (SendMessage(Batch),
//! ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibilityBatch).
//!
//! serde_json scans every key and value byte by byte for characters to escape; here keys
//! are literals and values are checked with a branch-free pass the compiler vectorizes,
//! falling back to serde_json only for a string that needs escaping. The output is the
//! same JSON document the `Serialize` derives in [`crate::wire`] produce (a test checks).

use crate::wire::{BatchOut, FailedEntry, IdEntry, MessageOut, ReceiveOut, SendResultEntry};

/// A response body that writes itself as JSON.
pub(crate) trait JsonOut {
    /// Appends this value's JSON to `out`.
    fn write_json(&self, out: &mut Vec<u8>);

    /// About how many bytes `write_json` appends, to size the buffer once (small
    /// buffers also stay in the allocator's per-thread cache).
    fn size_hint(&self) -> usize {
        128
    }
}

/// Whether a byte must be escaped inside a JSON string (as serde_json escapes).
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Appends `s` as a quoted JSON string.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    // No short-circuit: a plain fold over the bytes compiles to SIMD compares.
    let escape = s.bytes().fold(false, |acc, b| acc | needs_escape(b));
    if escape {
        // Serializing a &str into a Vec<u8> can't fail.
        let _infallible = serde_json::to_writer(&mut *out, s);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// Appends `,"key":"value"` (or without the comma for the first field).
fn field(out: &mut Vec<u8>, first: &mut bool, key: &str, value: &str) {
    key_only(out, first, key);
    write_str(out, value);
}

/// Appends `,"key":` (or without the comma for the first field). Keys are literals
/// without characters to escape.
fn key_only(out: &mut Vec<u8>, first: &mut bool, key: &str) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

fn write_list<T: JsonOut>(out: &mut Vec<u8>, items: &[T]) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item.write_json(out);
    }
    out.push(b']');
}

impl JsonOut for SendResultEntry {
    fn size_hint(&self) -> usize {
        160
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        let first = &mut true;
        out.push(b'{');
        if let Some(id) = &self.id {
            field(out, first, "Id", id);
        }
        field(out, first, "MessageId", &self.message_id);
        field(out, first, "MD5OfMessageBody", &self.md5_of_message_body);
        if let Some(v) = &self.md5_of_message_attributes {
            field(out, first, "MD5OfMessageAttributes", v);
        }
        if let Some(v) = &self.md5_of_message_system_attributes {
            field(out, first, "MD5OfMessageSystemAttributes", v);
        }
        if let Some(v) = &self.sequence_number {
            field(out, first, "SequenceNumber", v);
        }
        out.push(b'}');
    }
}

impl JsonOut for FailedEntry {
    fn size_hint(&self) -> usize {
        64 + self.id.len() + self.code.len() + self.message.len()
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        let first = &mut true;
        out.push(b'{');
        field(out, first, "Id", &self.id);
        key_only(out, first, "SenderFault");
        out.extend_from_slice(if self.sender_fault { b"true" } else { b"false" });
        field(out, first, "Code", &self.code);
        field(out, first, "Message", &self.message);
        out.push(b'}');
    }
}

impl JsonOut for IdEntry {
    fn size_hint(&self) -> usize {
        16 + self.id.len()
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"Id\":");
        write_str(out, &self.id);
        out.push(b'}');
    }
}

impl<T: JsonOut> JsonOut for BatchOut<T> {
    fn size_hint(&self) -> usize {
        32 + self.successful.iter().map(T::size_hint).sum::<usize>()
            + self
                .failed
                .iter()
                .map(FailedEntry::size_hint)
                .sum::<usize>()
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"Successful\":");
        write_list(out, &self.successful);
        out.extend_from_slice(b",\"Failed\":");
        write_list(out, &self.failed);
        out.push(b'}');
    }
}

impl JsonOut for MessageOut {
    fn size_hint(&self) -> usize {
        let maps = if self.attributes.is_empty() && self.message_attributes.is_empty() {
            0
        } else {
            512
        };
        160 + self.body.len() + self.receipt_handle.len() + maps
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        let first = &mut true;
        out.push(b'{');
        field(out, first, "MessageId", &self.message_id);
        field(out, first, "ReceiptHandle", &self.receipt_handle);
        field(out, first, "MD5OfBody", &self.md5_of_body);
        field(out, first, "Body", &self.body);
        // The maps are rare (only when asked for) and small: serde_json writes them.
        if !self.attributes.is_empty() {
            key_only(out, first, "Attributes");
            let _infallible = serde_json::to_writer(&mut *out, &self.attributes);
        }
        if let Some(v) = &self.md5_of_message_attributes {
            field(out, first, "MD5OfMessageAttributes", v);
        }
        if !self.message_attributes.is_empty() {
            key_only(out, first, "MessageAttributes");
            let _infallible = serde_json::to_writer(&mut *out, &self.message_attributes);
        }
        out.push(b'}');
    }
}

impl JsonOut for ReceiveOut {
    fn size_hint(&self) -> usize {
        16 + self
            .messages
            .iter()
            .map(MessageOut::size_hint)
            .sum::<usize>()
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"Messages\":");
        write_list(out, &self.messages);
        out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde::Serialize;

    use super::*;
    use crate::wire::AttrIn;

    fn same<T: JsonOut + Serialize>(v: &T) {
        let mut fast = Vec::new();
        v.write_json(&mut fast);
        let fast: serde_json::Value = serde_json::from_slice(&fast).unwrap();
        let derived = serde_json::to_value(v).unwrap();
        assert_eq!(fast, derived);
    }

    const AWKWARD: &str = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} é 😀";

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in ["", "plain", AWKWARD, "\u{1f}", "end\\"] {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(out, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn hot_responses_match_their_serde_derives() {
        let sent = SendResultEntry {
            id: Some("m-1".into()),
            message_id: Arc::from("0f8fad5b-d9cb-469f-a165-70867728950e"),
            md5_of_message_body: Arc::from("d41d8cd98f00b204e9800998ecf8427e"),
            md5_of_message_attributes: Some(Arc::from("a")),
            md5_of_message_system_attributes: Some("b".into()),
            sequence_number: Some(Arc::from("10000000000000000001")),
        };
        let bare = SendResultEntry {
            id: None,
            message_id: Arc::from("id"),
            md5_of_message_body: Arc::from(AWKWARD),
            md5_of_message_attributes: None,
            md5_of_message_system_attributes: None,
            sequence_number: None,
        };
        same(&sent);
        same(&bare);
        let failed = || FailedEntry {
            id: "x".into(),
            sender_fault: true,
            code: "InvalidParameterValue".into(),
            message: AWKWARD.into(),
        };
        same(&BatchOut {
            successful: vec![sent],
            failed: vec![failed(), failed()],
        });
        same(&BatchOut::<IdEntry> {
            successful: vec![],
            failed: vec![],
        });
        same(&BatchOut {
            successful: vec![IdEntry { id: "a".into() }, IdEntry { id: "b".into() }],
            failed: vec![failed()],
        });
        let plain = MessageOut {
            message_id: Arc::from("id"),
            receipt_handle: "h".into(),
            md5_of_body: Arc::from("m"),
            body: Arc::from(AWKWARD),
            attributes: HashMap::new(),
            md5_of_message_attributes: None,
            message_attributes: HashMap::new(),
        };
        let full = MessageOut {
            attributes: HashMap::from([
                ("SenderId", "AKID".to_owned()),
                ("SentTimestamp", "1".to_owned()),
            ]),
            md5_of_message_attributes: Some("md5".into()),
            message_attributes: HashMap::from([(
                "a\"b".to_owned(),
                AttrIn {
                    string_value: Some(AWKWARD.into()),
                    data_type: Some("String".into()),
                    ..AttrIn::default()
                },
            )]),
            ..MessageOut {
                message_id: Arc::from("id2"),
                receipt_handle: "h2".into(),
                md5_of_body: Arc::from("m2"),
                body: Arc::from("b"),
                attributes: HashMap::new(),
                md5_of_message_attributes: None,
                message_attributes: HashMap::new(),
            }
        };
        same(&ReceiveOut {
            messages: vec![plain, full],
        });
        same(&ReceiveOut { messages: vec![] });
    }
}
