//! Arbitrary input to the engine gets an answer, never a panic.

use proptest::prelude::*;
use weir_local::LocalSqs;

const OPS: &[&str] = weir_local::OPERATIONS;

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-zA-Z0-9_.:/-]{0,12}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from(
            "http://sqs.us-east-1.localhost/000000000000/q"
        )),
        Just(serde_json::Value::from(
            "arn:aws:sqs:us-east-1:000000000000:q"
        )),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("QueueUrl".to_owned()),
                    Just("QueueName".to_owned()),
                    Just("MessageBody".to_owned()),
                    Just("Entries".to_owned()),
                    Just("Attributes".to_owned()),
                    Just("MessageAttributes".to_owned()),
                    Just("ReceiptHandle".to_owned()),
                    Just("Id".to_owned()),
                    Just("DataType".to_owned()),
                    Just("StringValue".to_owned()),
                    Just("WaitTimeSeconds".to_owned()),
                    Just("VisibilityTimeout".to_owned()),
                    Just("SourceArn".to_owned()),
                    "[A-Za-z]{1,8}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_json_never_panics(op in prop::sample::select(OPS), body in json_value()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
        rt.block_on(async {
            let sqs = LocalSqs::new();
            sqs.handle("AmazonSQS.CreateQueue", br#"{"QueueName":"q"}"#).await;
            let resp = sqs.handle(&format!("AmazonSQS.{op}"), body.to_string().as_bytes()).await;
            prop_assert!(matches!(resp.status(), 200 | 400 | 403 | 404), "{}", resp.status());
            prop_assert!(serde_json::from_slice::<serde_json::Value>(resp.body()).is_ok());
            Ok(())
        })?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(op in prop::sample::select(OPS), body in prop::collection::vec(any::<u8>(), 0..64)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
        rt.block_on(async {
            let sqs = LocalSqs::new();
            let resp = sqs.handle(&format!("AmazonSQS.{op}"), &body).await;
            prop_assert!(resp.status() < 500, "{}", resp.status());
            Ok(())
        })?;
    }
}
