//! Message attributes: String, Number and Binary, custom type suffixes, at most 10,
//! MD5OfMessageAttributes (the SDK checks it), and system attributes (AWSTraceHeader).

use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeName as M, MessageSystemAttributeNameForSends,
    MessageSystemAttributeValue,
};

use std::collections::HashMap;

use crate::support::{Ctx, Target, conformance, md5_of_attributes, md5_of_body, string_attr};

conformance!(
    message_attributes_string_number_binary_roundtrip,
    message_attributes_with_custom_type_suffixes,
    message_attributes_at_most_ten,
    message_attribute_names_filter_on_receive,
    message_attribute_bad_names_rejected,
    message_attribute_bad_values_rejected,
    aws_trace_header_system_attribute_roundtrip,
);

fn attr(kind: &str, value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type(kind)
        .string_value(value)
        .build()
        .expect("attr")
}

fn binary(kind: &str, value: &[u8]) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type(kind)
        .binary_value(Blob::new(value.to_vec()))
        .build()
        .expect("attr")
}

async fn message_attributes_string_number_binary_roundtrip(ctx: &Ctx) {
    let url = ctx.queue("conf-attrs", &[]).await;
    let attrs = HashMap::from([
        ("name".to_owned(), attr("String", "weir ✓")),
        ("count".to_owned(), attr("Number", "-12.5e3")),
        ("blob".to_owned(), binary("Binary", &[0, 1, 2, 255])),
    ]);
    let sent = ctx
        .client
        .send_message()
        .queue_url(&url)
        .message_body("with attributes")
        .set_message_attributes(Some(attrs.clone()))
        .send()
        .await
        .expect("SendMessage");
    // aws-sdk-rust does not verify these digests, so the suite does.
    let md5 = sent
        .md5_of_message_attributes()
        .expect("MD5OfMessageAttributes")
        .to_owned();
    assert_eq!(md5, md5_of_attributes(&attrs));
    assert_eq!(
        sent.md5_of_message_body(),
        Some(md5_of_body("with attributes").as_str())
    );

    let got = ctx.receive_n(&url, 1).await;
    let msg = &got[0];
    assert_eq!(
        msg.md5_of_message_attributes(),
        Some(md5.as_str()),
        "same digest both ways"
    );
    let attrs = msg.message_attributes().expect("attributes");
    assert_eq!(md5_of_attributes(attrs), md5);
    assert_eq!(attrs.len(), 3);
    assert_eq!(attrs["name"].data_type(), "String");
    assert_eq!(attrs["name"].string_value(), Some("weir ✓"));
    assert_eq!(attrs["count"].data_type(), "Number");
    assert_eq!(attrs["count"].string_value(), Some("-12.5e3"));
    assert_eq!(attrs["blob"].data_type(), "Binary");
    assert_eq!(
        attrs["blob"].binary_value().map(Blob::as_ref),
        Some(&[0u8, 1, 2, 255][..])
    );
}

async fn message_attributes_with_custom_type_suffixes(ctx: &Ctx) {
    let url = ctx.queue("conf-attrsuffix", &[]).await;
    ctx.client
        .send_message()
        .queue_url(&url)
        .message_body("typed")
        .message_attributes("j", attr("String.json", r#"{"a":1}"#))
        .message_attributes("n", attr("Number.int", "42"))
        .message_attributes("g", binary("Binary.gzip", b"\x1f\x8b"))
        .send()
        .await
        .expect("SendMessage");
    let got = ctx.receive_n(&url, 1).await;
    let attrs = got[0].message_attributes().expect("attributes");
    assert_eq!(attrs["j"].data_type(), "String.json");
    assert_eq!(attrs["n"].data_type(), "Number.int");
    assert_eq!(attrs["g"].data_type(), "Binary.gzip");
    assert_eq!(attrs["n"].string_value(), Some("42"));

    let send = |kind: &'static str| {
        ctx.client
            .send_message()
            .queue_url(&url)
            .message_body("m")
            .message_attributes("x", attr(kind, "1"))
            .send()
    };
    for bad in ["Text", "string"] {
        ctx.rejects(send(bad).await, "InvalidParameterValue", bad);
    }
    // LocalStack 4.12 accepts an empty custom label ("Number."); AWS requires a label
    // after the period.
    ctx.rejects_but_localstack_accepts(send("Number.").await, "InvalidParameterValue", "Number.");
}

async fn message_attributes_at_most_ten(ctx: &Ctx) {
    let url = ctx.queue("conf-attrten", &[]).await;
    let mut ten = ctx
        .client
        .send_message()
        .queue_url(&url)
        .message_body("ten");
    for i in 0..10 {
        ten = ten.message_attributes(format!("a{i}"), string_attr("v"));
    }
    ten.send().await.expect("10 attributes are allowed");
    let mut eleven = ctx
        .client
        .send_message()
        .queue_url(&url)
        .message_body("eleven");
    for i in 0..11 {
        eleven = eleven.message_attributes(format!("a{i}"), string_attr("v"));
    }
    // LocalStack 4.12 does not count attributes; AWS allows at most 10.
    let accepted = ctx.rejects_but_localstack_accepts(
        eleven.send().await,
        "InvalidParameterValue",
        "11 attributes",
    );
    let got = ctx.receive_n(&url, 2).await;
    assert_eq!(got.len(), 1 + usize::from(accepted.is_some()));
    let ten = got
        .iter()
        .find(|m| m.body() == Some("ten"))
        .expect("the 10-attribute message");
    assert_eq!(ten.message_attributes().map(|a| a.len()), Some(10));
}

async fn message_attribute_names_filter_on_receive(ctx: &Ctx) {
    let url = ctx.queue("conf-attrfilter", &[]).await;
    ctx.client
        .send_message()
        .queue_url(&url)
        .message_body("m")
        .message_attributes("keep.one", string_attr("1"))
        .message_attributes("keep.two", string_attr("2"))
        .message_attributes("other", string_attr("3"))
        .send()
        .await
        .expect("SendMessage");
    let receive = |names: &[&str], visibility: i32| {
        let mut req = ctx
            .client
            .receive_message()
            .queue_url(&url)
            .visibility_timeout(visibility);
        for n in names {
            req = req.message_attribute_names(*n);
        }
        req.send()
    };
    let out = receive(&["other"], 0).await.expect("ReceiveMessage");
    let attrs = out.messages()[0].message_attributes().expect("attributes");
    assert_eq!(attrs.keys().collect::<Vec<_>>(), ["other"]);
    // The digest covers the attributes returned.
    assert_eq!(
        out.messages()[0].md5_of_message_attributes(),
        Some(md5_of_attributes(attrs).as_str())
    );

    let out = receive(&["keep.*"], 0).await.expect("ReceiveMessage");
    let mut keys: Vec<_> = out.messages()[0]
        .message_attributes()
        .expect("attributes")
        .keys()
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["keep.one", "keep.two"],
        "a prefix ending in .* selects by prefix"
    );

    let out = receive(&[], 0).await.expect("ReceiveMessage");
    let msg = &out.messages()[0];
    assert!(
        msg.message_attributes().is_none_or(|a| a.is_empty()),
        "none unless asked for"
    );

    let out = receive(&[".*"], 0).await.expect("ReceiveMessage");
    assert_eq!(
        out.messages()[0].message_attributes().map(|a| a.len()),
        Some(3),
        ".* is all"
    );
}

async fn message_attribute_bad_names_rejected(ctx: &Ctx) {
    let url = ctx.queue("conf-attrnames", &[]).await;
    let too_long = "a".repeat(257);
    let send = |name: String| {
        ctx.client
            .send_message()
            .queue_url(&url)
            .message_body("m")
            .message_attributes(name, string_attr("v"))
            .send()
    };
    for bad in [
        "AWS.reserved",
        "amazon.x",
        ".lead",
        "trail.",
        "sp ace",
        &too_long,
    ] {
        ctx.rejects(send(bad.to_owned()).await, "InvalidParameterValue", bad);
    }
    // LocalStack 4.12 accepts two periods in a row; AWS refuses "..". (Letters of any
    // script are fine on both: see responses.rs.)
    for bad in ["two..dots"] {
        ctx.rejects_but_localstack_accepts(
            send(bad.to_owned()).await,
            "InvalidParameterValue",
            bad,
        );
    }
    ctx.client
        .send_message()
        .queue_url(&url)
        .message_body("m")
        .message_attributes("Dots.and-dashes_1", string_attr("v"))
        .send()
        .await
        .expect(". - _ are allowed");
    let longest = send("a".repeat(256)).await;
    if ctx.target == Target::LocalStack {
        // LocalStack 4.12 wants names shorter than 256 bytes; AWS takes up to 256
        // characters.
        assert_eq!(crate::support::err_code(longest), "InvalidParameterValue");
    } else {
        longest.expect("a 256-character name is allowed");
    }
}

async fn message_attribute_bad_values_rejected(ctx: &Ctx) {
    let url = ctx.queue("conf-attrvalues", &[]).await;
    let send = |value: MessageAttributeValue| {
        ctx.client
            .send_message()
            .queue_url(&url)
            .message_body("m")
            .message_attributes("k", value)
            .send()
    };
    // LocalStack 4.12 does not parse Number values; AWS rejects a Number that is not one.
    let accepted = ctx.rejects_but_localstack_accepts(
        send(attr("Number", "twelve")).await,
        "InvalidParameterValue",
        "Number twelve",
    );
    let cases = [
        ("empty string", attr("String", "")),
        ("forbidden character", attr("String", "a\u{1}b")),
        (
            "no value",
            MessageAttributeValue::builder()
                .data_type("String")
                .build()
                .expect("attr"),
        ),
    ];
    for (what, value) in cases {
        ctx.rejects(send(value).await, "InvalidParameterValue", what);
    }
    let stored = ctx
        .count(
            &url,
            aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
        )
        .await;
    assert_eq!(stored, i64::from(accepted.is_some()));
}

async fn aws_trace_header_system_attribute_roundtrip(ctx: &Ctx) {
    let url = ctx.queue("conf-trace", &[]).await;
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let sent = ctx
        .client
        .send_message()
        .queue_url(&url)
        .message_body("traced")
        .message_system_attributes(
            MessageSystemAttributeNameForSends::AwsTraceHeader,
            MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value(trace)
                .build()
                .expect("attr"),
        )
        .send()
        .await
        .expect("SendMessage");
    // The system-attribute digest is computed like the user-attribute one.
    let as_attrs = HashMap::from([("AWSTraceHeader".to_owned(), attr("String", trace))]);
    assert_eq!(
        sent.md5_of_message_system_attributes(),
        Some(md5_of_attributes(&as_attrs).as_str()),
        "MD5OfMessageSystemAttributes"
    );
    let got = ctx.receive_n(&url, 1).await;
    let attrs = got[0].attributes().expect("system attributes");
    assert_eq!(
        attrs.get(&M::AwsTraceHeader).map(String::as_str),
        Some(trace)
    );
    assert!(
        got[0].message_attributes().is_none_or(|a| a.is_empty()),
        "not a user attribute"
    );
}
