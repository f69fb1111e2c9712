//! A fast path for parsing the hot requests (SendMessageBatch, ReceiveMessage,
//! DeleteMessageBatch, ChangeMessageVisibilityBatch).
//!
//! It accepts only the plain shape the SDKs send: known fields, each at most once,
//! strings without escape sequences, integers, arrays of strings. Anything else (an
//! escaped string, a null, a float, an unknown or repeated field, message attributes,
//! malformed JSON) returns `None`, and the caller parses with serde_json, which then
//! gives the answer (or the error message) it always gave. So this parser only has to
//! be right about what it accepts; a proptest checks it agrees with serde there.

use std::sync::Arc;

use crate::wire::{HandleBatchIn, HandleEntry, ReceiveIn, SendBatchIn, SendEntry};

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self { b, i: 0 }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// The raw bytes of a string without escapes or control characters.
    fn raw_str(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let rest = &self.b[self.i..];
        let len = special(rest)?;
        if rest[len] != b'"' {
            return None;
        }
        self.i += len + 1;
        Some(&rest[..len])
    }

    /// A string without escapes or control characters.
    fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.raw_str()?).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    /// An integer that fits an i64, with no fraction or exponent.
    fn int(&mut self) -> Option<i64> {
        self.ws();
        let start = self.i;
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let digits = self.b[self.i..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        // JSON has no leading zeros; serde rejects them, so they go to serde.
        if digits == 0 || digits > 18 || (digits > 1 && self.b[self.i] == b'0') {
            return None;
        }
        self.i += digits;
        if matches!(self.b.get(self.i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    /// `{ "key": value, ... }`, calling `field` for each key to consume its value. Keys
    /// are matched as bytes against ASCII names, so they need no UTF-8 check.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.raw_str()?;
            self.eat(b':')?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `[ item, ... ]`, calling `item` to consume each element.
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn strings(&mut self) -> Option<Vec<String>> {
        let mut out = Vec::new();
        self.array(|s| {
            out.push(s.string()?);
            Some(())
        })?;
        Some(out)
    }

    fn finish<T>(mut self, v: T) -> Option<T> {
        self.ws();
        (self.i == self.b.len()).then_some(v)
    }
}

/// The index of the first `"`, `\\` or control character, eight bytes at a time.
fn special(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for c in chunks.by_ref() {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w);
        let hit = has_zero(x ^ (ONES * u64::from(b'"')))
            | has_zero(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
        if hit != 0 {
            break;
        }
        at += 8;
    }
    b[at..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| at + p)
}

/// Sets a field once: a repeated field goes to serde (which rejects it).
fn once<T>(slot: &mut Option<T>, v: Option<T>) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(v?);
    Some(())
}

fn once_vec<T>(slot: &mut Option<Vec<T>>, v: Option<Vec<T>>) -> Option<()> {
    once(slot, v)
}

pub(crate) fn send_batch(body: &[u8]) -> Option<SendBatchIn> {
    let mut s = Scan::new(body);
    let mut queue_url = None;
    let mut entries: Option<Vec<SendEntry>> = None;
    s.object(|s, key| match key {
        b"QueueUrl" => once(&mut queue_url, s.string()),
        b"Entries" => {
            let mut list = Vec::with_capacity(10);
            s.array(|s| {
                list.push(send_entry(s)?);
                Some(())
            })?;
            once_vec(&mut entries, Some(list))
        }
        _ => None,
    })?;
    s.finish(SendBatchIn {
        queue_url,
        entries: entries.unwrap_or_default(),
    })
}

fn send_entry(s: &mut Scan<'_>) -> Option<SendEntry> {
    let mut e = SendEntry::default();
    s.object(|s, key| match key {
        b"Id" => once(&mut e.id, s.string()),
        b"MessageBody" => once(&mut e.message_body, s.str().map(Arc::from)),
        b"DelaySeconds" => once(&mut e.delay_seconds, s.int()),
        b"MessageDeduplicationId" => once(&mut e.message_deduplication_id, s.string()),
        b"MessageGroupId" => once(&mut e.message_group_id, s.string()),
        _ => None,
    })?;
    Some(e)
}

pub(crate) fn handle_batch(body: &[u8]) -> Option<HandleBatchIn> {
    let mut s = Scan::new(body);
    let mut queue_url = None;
    let mut entries: Option<Vec<HandleEntry>> = None;
    s.object(|s, key| match key {
        b"QueueUrl" => once(&mut queue_url, s.string()),
        b"Entries" => {
            let mut list = Vec::with_capacity(10);
            s.array(|s| {
                let mut e = HandleEntry::default();
                s.object(|s, key| match key {
                    b"Id" => once(&mut e.id, s.string()),
                    b"ReceiptHandle" => once(&mut e.receipt_handle, s.string()),
                    b"VisibilityTimeout" => once(&mut e.visibility_timeout, s.int()),
                    _ => None,
                })?;
                list.push(e);
                Some(())
            })?;
            once_vec(&mut entries, Some(list))
        }
        _ => None,
    })?;
    s.finish(HandleBatchIn {
        queue_url,
        entries: entries.unwrap_or_default(),
    })
}

pub(crate) fn receive(body: &[u8]) -> Option<ReceiveIn> {
    let mut s = Scan::new(body);
    let mut r = ReceiveIn::default();
    let (mut attrs, mut sys, mut msg_attrs) = (None, None, None);
    s.object(|s, key| match key {
        b"QueueUrl" => once(&mut r.queue_url, s.string()),
        b"AttributeNames" => once_vec(&mut attrs, s.strings()),
        b"MessageSystemAttributeNames" => once_vec(&mut sys, s.strings()),
        b"MessageAttributeNames" => once_vec(&mut msg_attrs, s.strings()),
        b"MaxNumberOfMessages" => once(&mut r.max_number_of_messages, s.int()),
        b"VisibilityTimeout" => once(&mut r.visibility_timeout, s.int()),
        b"WaitTimeSeconds" => once(&mut r.wait_time_seconds, s.int()),
        b"ReceiveRequestAttemptId" => once(&mut r.receive_request_attempt_id, s.string()),
        _ => None,
    })?;
    r.attribute_names = attrs.unwrap_or_default();
    r.message_system_attribute_names = sys.unwrap_or_default();
    r.message_attribute_names = msg_attrs.unwrap_or_default();
    s.finish(r)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn by_serde<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
        serde_json::from_slice(body).ok()
    }

    #[test]
    fn what_the_sdk_sends_takes_the_fast_path() {
        let send = br#"{"QueueUrl":"http://sqs.us-east-1.localhost/000000000000/q","Entries":[{"Id":"m0","MessageBody":"body 0"},{"Id":"m1","MessageBody":"b\u00e9","DelaySeconds":5}]}"#;
        assert!(send_batch(send).is_none(), "escapes go to serde");
        let send = r#"{"QueueUrl":"u","Entries":[{"Id":"m0","MessageBody":"body é 0"},{"Id":"m1","MessageBody":"x","DelaySeconds":5}]}"#;
        let fast = send_batch(send.as_bytes()).unwrap();
        assert_eq!(
            format!("{fast:?}"),
            format!("{:?}", by_serde::<SendBatchIn>(send.as_bytes()).unwrap())
        );
        let del = br#"{"QueueUrl":"u","Entries":[{"Id":"d0","ReceiptHandle":"abc"}]}"#;
        assert_eq!(
            format!("{:?}", handle_batch(del).unwrap()),
            format!("{:?}", by_serde::<HandleBatchIn>(del).unwrap())
        );
        let recv = br#"{ "QueueUrl" : "u", "MaxNumberOfMessages": 10, "AttributeNames": ["All"] }"#;
        assert_eq!(
            format!("{:?}", receive(recv).unwrap()),
            format!("{:?}", by_serde::<ReceiveIn>(recv).unwrap())
        );
        assert!(receive(b"{}").is_some());
    }

    #[test]
    fn anything_unusual_goes_to_serde() {
        for body in [
            &br#"{"QueueUrl":"u","QueueUrl":"v"}"#[..],
            br#"{"QueueUrl":null}"#,
            br#"{"QueueUrl":"u","MaxNumberOfMessages":1.0}"#,
            br#"{"QueueUrl":"u","MaxNumberOfMessages":99999999999999999999}"#,
            br#"{"QueueUrl":"u","Unknown":1}"#,
            br#"{"QueueUrl":"u","MaxNumberOfMessages":007}"#,
            br#"{"QueueUrl":"u"} x"#,
            br#"{"QueueUrl":"u""#,
            b"{\"QueueUrl\":\"a\nb\"}",
            b"[]",
        ] {
            assert!(receive(body).is_none(), "{}", String::from_utf8_lossy(body));
        }
        let attrs =
            br#"{"QueueUrl":"u","Entries":[{"Id":"m","MessageBody":"b","MessageAttributes":{}}]}"#;
        assert!(send_batch(attrs).is_none());
    }

    proptest! {
        #[test]
        fn fast_path_agrees_with_serde(
            url in ".{0,40}",
            ids in proptest::collection::vec(".{0,12}", 0..4),
            bodies in proptest::collection::vec(".{0,30}", 0..4),
            delay in proptest::option::of(any::<i64>()),
            max in proptest::option::of(any::<i64>()),
            names in proptest::collection::vec(".{0,8}", 0..3),
        ) {
            let entries: Vec<_> = ids.iter().zip(&bodies).map(|(id, b)| {
                let mut e = json!({"Id": id, "MessageBody": b});
                if let Some(d) = delay { e["DelaySeconds"] = json!(d); }
                e
            }).collect();
            let send = json!({"QueueUrl": url, "Entries": entries}).to_string();
            if let Some(fast) = send_batch(send.as_bytes()) {
                prop_assert_eq!(format!("{fast:?}"), format!("{:?}", by_serde::<SendBatchIn>(send.as_bytes()).unwrap()));
            }
            let handles: Vec<_> = ids.iter().zip(&bodies).map(|(id, h)| json!({"Id": id, "ReceiptHandle": h})).collect();
            let del = json!({"QueueUrl": url, "Entries": handles}).to_string();
            if let Some(fast) = handle_batch(del.as_bytes()) {
                prop_assert_eq!(format!("{fast:?}"), format!("{:?}", by_serde::<HandleBatchIn>(del.as_bytes()).unwrap()));
            }
            let mut recv = json!({"QueueUrl": url, "AttributeNames": names});
            if let Some(m) = max { recv["MaxNumberOfMessages"] = json!(m); }
            let recv = recv.to_string();
            if let Some(fast) = receive(recv.as_bytes()) {
                prop_assert_eq!(format!("{fast:?}"), format!("{:?}", by_serde::<ReceiveIn>(recv.as_bytes()).unwrap()));
            }
        }
    }
}
