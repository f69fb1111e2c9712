use std::time::{Duration, UNIX_EPOCH};

use super::*;

/// An SNS notification as SNS writes it to a subscribed queue (the AWS documentation's
/// example, with message attributes).
const SNS: &str = r#"{
  "Type" : "Notification",
  "MessageId" : "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
  "TopicArn" : "arn:aws:sns:us-west-2:123456789012:orders",
  "Subject" : "My First Message",
  "Message" : "{\"id\":7}",
  "Timestamp" : "2012-05-02T00:54:06.655Z",
  "SignatureVersion" : "1",
  "Signature" : "EXAMPLEw6JRN",
  "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
  "UnsubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:orders:c9135db0",
  "MessageAttributes" : {
    "weir.type" : {"Type":"String","Value":"OrderPlaced"},
    "traceparent" : {"Type":"String","Value":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
    "qty" : {"Type":"Number","Value":"3"},
    "blob" : {"Type":"Binary","Value":"AQID"},
    "tags" : {"Type":"String.Array","Value":"[\"a\",\"b\"]"}
  }
}"#;

/// An EventBridge event as a rule delivers it to a queue target.
const EVENT_BRIDGE: &str = r#"{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"OrderPlaced","source":"com.example.orders","account":"111122223333","time":"2017-12-22T18:43:48Z","region":"us-west-1","resources":["arn:aws:ec2:us-west-1:123456789012:instance/i-1"],"detail":{"id":7}}"#;

/// A CloudEvent in structured JSON mode.
const CLOUD_EVENT: &str = r#"{"specversion":"1.0","type":"com.example.order.placed","source":"/orders","id":"A234-1234-1234","time":"2018-04-05T17:31:00Z","datacontenttype":"application/json","data":{"id":7}}"#;

fn sns_info(u: &Unwrapped) -> &SnsNotification {
    match &u.info {
        EnvelopeInfo::Sns(n) => n,
        other => panic!("not SNS: {other:?}"),
    }
}

#[test]
fn none_never_looks_inside() {
    assert!(unwrap(Envelope::None, SNS).unwrap().is_none());
    assert!(unwrap(Envelope::None, "not json").unwrap().is_none());
}

#[test]
fn sns_gives_the_payload_and_every_field() {
    let u = unwrap(Envelope::Sns, SNS).unwrap().unwrap();
    assert_eq!(u.payload, r#"{"id":7}"#);
    let n = sns_info(&u);
    assert_eq!(n.topic_arn, "arn:aws:sns:us-west-2:123456789012:orders");
    assert_eq!(n.message_id, "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324");
    assert_eq!(n.subject.as_deref(), Some("My First Message"));
    assert_eq!(
        n.timestamp,
        Some(UNIX_EPOCH + Duration::from_millis(1_335_920_046_655))
    );
    assert_eq!(n.attributes["qty"].data_type(), "Number");
    assert_eq!(n.attributes["qty"].as_str(), Some("3"));
    assert_eq!(n.attributes["blob"].as_bytes(), Some(&[1u8, 2, 3][..]));
    assert_eq!(n.attributes["tags"].data_type(), "String.Array");
    assert_eq!(u.info.type_tag(), Some("OrderPlaced"));
}

#[test]
fn an_sns_tag_defaults_to_the_topic_name() {
    let body = SNS.replace("weir.type", "other");
    let u = unwrap(Envelope::Sns, &body).unwrap().unwrap();
    assert_eq!(u.info.type_tag(), Some("orders"));
}

#[test]
fn event_bridge_gives_the_detail_and_the_fields() {
    let u = unwrap(Envelope::EventBridge, EVENT_BRIDGE)
        .unwrap()
        .unwrap();
    assert_eq!(u.payload, r#"{"id":7}"#);
    let EnvelopeInfo::EventBridge(e) = &u.info else {
        panic!("{:?}", u.info)
    };
    assert_eq!(e.source, "com.example.orders");
    assert_eq!(e.detail_type, "OrderPlaced");
    assert_eq!(e.account.as_deref(), Some("111122223333"));
    assert_eq!(e.region.as_deref(), Some("us-west-1"));
    assert_eq!(e.resources.len(), 1);
    assert_eq!(
        e.time,
        Some(UNIX_EPOCH + Duration::from_secs(1_513_968_228))
    );
    assert_eq!(u.info.type_tag(), Some("OrderPlaced"));
}

#[test]
fn cloud_events_give_the_data_json_text_or_base64() {
    let u = unwrap(Envelope::CloudEvents, CLOUD_EVENT).unwrap().unwrap();
    assert_eq!(u.payload, r#"{"id":7}"#);
    assert_eq!(u.info.type_tag(), Some("com.example.order.placed"));
    let text = r#"{"specversion":"1.0","type":"t","source":"s","id":"1","datacontenttype":"text/plain","data":"hello"}"#;
    assert_eq!(
        unwrap(Envelope::CloudEvents, text)
            .unwrap()
            .unwrap()
            .payload,
        "hello"
    );
    let b64 = r#"{"specversion":"1.0","type":"t","source":"s","id":"1","data_base64":"aGVsbG8="}"#;
    assert_eq!(
        unwrap(Envelope::CloudEvents, b64).unwrap().unwrap().payload,
        "hello"
    );
    let json_string = r#"{"specversion":"1.0","type":"t","source":"s","id":"1","data":"hello"}"#;
    assert_eq!(
        unwrap(Envelope::CloudEvents, json_string)
            .unwrap()
            .unwrap()
            .payload,
        r#""hello""#
    );
}

#[test]
fn auto_tells_the_three_apart_and_leaves_plain_bodies_alone() {
    for body in [SNS, EVENT_BRIDGE, CLOUD_EVENT] {
        let u = unwrap(Envelope::Auto, body).unwrap().unwrap();
        assert_eq!(u.payload, r#"{"id":7}"#);
    }
    for plain in [
        r#"{"id":7}"#,
        r#"{"Type":"Order"}"#,
        "[1,2]",
        "plain text",
        "",
    ] {
        assert!(unwrap(Envelope::Auto, plain).unwrap().is_none(), "{plain}");
    }
}

#[test]
fn a_malformed_envelope_is_a_decode_error_that_says_why() {
    let cases = [
        (
            Envelope::Sns,
            r#"{"id":7}"#,
            "expected an SNS notification: no string field `Message`",
        ),
        (Envelope::Sns, "plain", "the body is not a JSON object"),
        (
            Envelope::Auto,
            r#"{"Type":"Notification","Message":"x"}"#,
            "`TopicArn`",
        ),
        (
            Envelope::EventBridge,
            r#"{"detail-type":"x","source":"s","id":"1"}"#,
            "`detail`",
        ),
        (
            Envelope::CloudEvents,
            r#"{"specversion":"1.0","type":"t","source":"s"}"#,
            "`id`",
        ),
        (
            Envelope::CloudEvents,
            r#"{"specversion":"1.0","type":"t","source":"s","id":"1","data_base64":"***"}"#,
            "not base64",
        ),
        (
            Envelope::Sns,
            r#"{"Type":"Notification","TopicArn":"a","MessageId":"m","Message":"x","MessageAttributes":{"a":{"Type":"String"}}}"#,
            "attribute `a`",
        ),
    ];
    for (setting, body, want) in cases {
        let err = unwrap(setting, body).unwrap_err().to_string();
        assert!(err.contains(want), "{body}: {err}");
    }
}
