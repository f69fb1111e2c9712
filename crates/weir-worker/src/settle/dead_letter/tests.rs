use aws_sdk_sqs::types::MessageAttributeValue;
use weir_sqs::{Json, Message, validate};

use super::{Fields, dlq_attributes as names, fit};

const MIB: usize = 1_048_576;

fn message(body: &str, attrs: &[(&str, &str)]) -> Message<()> {
    let mut m = aws_sdk_sqs::types::Message::builder()
        .message_id("m-1")
        .receipt_handle("r-1")
        .body(body);
    for (k, v) in attrs {
        m = m.message_attributes(
            *k,
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(*v)
                .build()
                .unwrap(),
        );
    }
    let msg: Message<String> = Message::from_sdk_message(m.build(), &weir_sqs::RawString);
    msg.with_body(Ok(()))
}

fn fields(error: &str) -> Fields<'_> {
    Fields {
        reason: "rejected",
        error,
        attempts: 3,
        source: "arn:aws:sqs:us-east-1:000000000000:orders",
    }
}

#[test]
fn a_small_message_keeps_everything() {
    let msg = message("{}", &[("tenant", "acme"), ("traceparent", "00-abc")]);
    let attrs = fit(&msg, &fields("no such order"), MIB);
    assert_eq!(attrs["tenant"].as_str(), Some("acme"));
    assert_eq!(attrs[names::REASON].as_str(), Some("rejected"));
    assert_eq!(attrs[names::ERROR].as_str(), Some("no such order"));
    assert_eq!(attrs[names::ATTEMPTS].as_str(), Some("3"));
    assert!(!attrs.contains_key(names::DROPPED));
    let _ = Json;
}

#[test]
fn a_body_near_the_limit_drops_attributes_then_shortens_the_error() {
    let originals = [("a", "x".repeat(300)), ("b", "y".repeat(20))];
    let originals: Vec<(&str, &str)> = originals.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // Room for about 400 bytes of attributes beside the body.
    let body = "b".repeat(MIB - 400);
    let msg = message(&body, &originals);
    let error = "e".repeat(5000);
    let attrs = fit(&msg, &fields(&error), MIB);
    let size = validate::message_size(msg.sqs_body(), &attrs);
    assert!(size <= MIB, "{size}");
    assert!(!attrs.contains_key("a"), "the largest original goes first");
    let dropped = attrs[names::DROPPED].as_str().unwrap();
    assert!(dropped.contains("attributes: a"), "{dropped}");
    assert!(dropped.contains("of 5000 bytes"), "{dropped}");
    assert_eq!(attrs[names::REASON].as_str(), Some("rejected"));
}

#[test]
fn a_body_at_the_limit_goes_alone() {
    let body = "b".repeat(1_048_566);
    let msg = message(&body, &[("k", "v")]);
    let attrs = fit(&msg, &fields("rejected for a reason"), MIB);
    assert!(validate::message_size(&body, &attrs) <= MIB);
}

#[test]
fn never_more_than_ten_attributes() {
    let many: Vec<(String, String)> = (0..10).map(|i| (format!("k{i}"), "v".into())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let msg = message("{}", &many);
    let attrs = fit(&msg, &fields("e"), MIB);
    assert_eq!(attrs.len(), 10);
    let dropped = attrs[names::DROPPED].as_str().unwrap();
    assert!(
        dropped.starts_with("attributes: k5,k6,k7,k8,k9"),
        "{dropped}"
    );
}

#[test]
fn errors_are_cut_on_char_boundaries_and_to_1024_bytes() {
    let msg = message("{}", &[]);
    let error = "é".repeat(2000);
    let attrs = fit(&msg, &fields(&error), MIB);
    let kept = attrs[names::ERROR].as_str().unwrap();
    assert!(kept.len() <= 1024 && kept.chars().all(|c| c == 'é'));
}

#[test]
fn an_earlier_dead_letter_record_is_replaced() {
    let msg = message("{}", &[(names::REASON, "max_attempts"), ("k", "v")]);
    let attrs = fit(&msg, &fields("e"), MIB);
    assert_eq!(attrs[names::REASON].as_str(), Some("rejected"));
    assert_eq!(attrs["k"].as_str(), Some("v"));
}

/// A message with `attrs` as `String` attributes, and `numbers` as `Number` ones.
fn message_with_numbers(
    body: &str,
    attrs: &[(&str, &str)],
    numbers: &[(&str, &str)],
) -> Message<()> {
    let mut m = aws_sdk_sqs::types::Message::builder()
        .message_id("m-1")
        .receipt_handle("r-1")
        .body(body);
    for (k, v, t) in attrs
        .iter()
        .map(|(k, v)| (k, v, "String"))
        .chain(numbers.iter().map(|(k, v)| (k, v, "Number")))
    {
        m = m.message_attributes(
            *k,
            MessageAttributeValue::builder()
                .data_type(t)
                .string_value(*v)
                .build()
                .unwrap(),
        );
    }
    let msg: Message<String> = Message::from_sdk_message(m.build(), &weir_sqs::RawString);
    msg.with_body(Ok(()))
}

#[test]
fn the_payload_markers_survive_when_everything_else_is_dropped() {
    let pointer = r#"["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]"#;
    // Nine originals (over the room), one of them large, and both markers.
    let big = "x".repeat(2000);
    let mut originals: Vec<(String, String)> =
        (0..7).map(|i| (format!("a{i}"), "v".to_owned())).collect();
    originals.push(("big".to_owned(), big));
    let originals: Vec<(&str, &str)> = originals
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let markers = super::PAYLOAD_MARKERS.map(|m| (m, "2097152"));
    let msg = message_with_numbers(pointer, &originals, &markers);
    // So small a limit that every original, the error and weir's own must go.
    let max = pointer.len() + 90;
    let attrs = fit(&msg, &fields(&"e".repeat(5000)), max);
    for marker in super::PAYLOAD_MARKERS {
        assert_eq!(
            attrs[marker].as_str(),
            Some("2097152"),
            "{marker}: {attrs:?}"
        );
        assert_eq!(attrs[marker].data_type(), "Number");
    }
    assert!(!attrs.contains_key("big"));
    // And with room: the markers count among the ten attributes, and stay.
    let attrs = fit(&msg, &fields("no"), MIB);
    assert!(attrs.len() <= 10, "{}", attrs.len());
    for marker in super::PAYLOAD_MARKERS {
        assert!(attrs.contains_key(marker), "{marker}");
    }
    assert!(
        attrs[names::DROPPED]
            .as_str()
            .unwrap()
            .contains("attributes")
    );
}

#[cfg(feature = "s3")]
#[test]
fn the_markers_are_the_extended_clients() {
    assert_eq!(
        super::PAYLOAD_MARKERS,
        [
            weir_sqs::s3::SIZE_ATTRIBUTE,
            weir_sqs::s3::LEGACY_SIZE_ATTRIBUTE
        ]
    );
}
