//! Feeds arbitrary bodies to weir-sqs's decoding codecs (`Json`, `TaggedJson`,
//! `RawString`): any input must decode or give a `DecodeError`, never panic or overflow
//! the stack; what decodes must encode and decode back to the same value.
//!
//! Input: an optional type tag (bytes up to the first 0x00), then the body. Bodies that
//! are not UTF-8 are read lossily (SQS bodies are always text, so a codec only ever sees
//! a `&str`).
//!
//! Run with `scripts/fuzz codec_json` (or `RUSTC_BOOTSTRAP=1 cargo fuzz run codec_json`).

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};
use weir_sqs::codec::{Decode, Encode};
use weir_sqs::error::CodecErrorKind;
use weir_sqs::{Json, RawString, TaggedJson};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    note: String,
    lines: Vec<(String, f64)>,
    tags: BTreeMap<String, Option<bool>>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Event {
    Placed(Order),
    Shipped { id: u64, carrier: Option<String> },
    Cancelled(u64),
    Ping,
}

/// Exactly equal: the workspace turns on serde_json's `float_roundtrip`, so a float
/// survives decode → encode → decode bit for bit. (Without it, this target found a float
/// that moved by an ULP; see RELIABILITY.md.)
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    a == b
}

fn check<T>(result: Result<T, weir_sqs::DecodeError>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            assert_eq!(e.kind(), CodecErrorKind::Decode);
            // Display and the source chain must be printable.
            let _ = e.to_string();
            let _ = std::error::Error::source(&e).map(ToString::to_string);
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (tag, body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (Some(String::from_utf8_lossy(&data[..i])), &data[i + 1..]),
        None => (None, data),
    };
    let body = String::from_utf8_lossy(body);
    let tag = tag.as_deref();

    // Untyped JSON: what decodes round-trips.
    if let Some(v) = check(Decode::<serde_json::Value>::decode(&Json, &body)) {
        let again = Encode::<serde_json::Value>::encode(&Json, &v).expect("re-encode a Value");
        let back = Decode::<serde_json::Value>::decode(&Json, &again).expect("decode re-encoded");
        assert!(same(&v, &back), "{v} != {back}");
    }
    // Typed JSON.
    if let Some(o) = check(Decode::<Order>::decode(&Json, &body)) {
        if o.lines.iter().all(|(_, f)| f.is_finite()) {
            let again = Encode::<Order>::encode(&Json, &o).expect("re-encode an Order");
            let back = Decode::<Order>::decode(&Json, &again).expect("decode re-encoded");
            let (a, b) = (
                serde_json::to_value(&o).expect("to value"),
                serde_json::to_value(&back).expect("to value"),
            );
            assert!(same(&a, &b), "{a} != {b}");
        }
    }
    // Tagged JSON, with and without the tag attribute.
    let _ = check(Decode::<Event>::decode_tagged(&TaggedJson, &body, tag));
    let _ = check(Decode::<Event>::decode_tagged(&TaggedJson, &body, None));
    let _ = check(Decode::<serde_json::Value>::decode_tagged(
        &TaggedJson,
        &body,
        tag,
    ));
    // Raw strings are kept verbatim.
    assert_eq!(
        Decode::<String>::decode(&RawString, &body).expect("raw"),
        body.as_ref()
    );
});
