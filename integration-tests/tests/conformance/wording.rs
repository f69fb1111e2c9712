//! Error codes and messages word for word, as AWS sends them: clients match on them
//! and people search for them.

use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::MessageAttributeValue;

use crate::support::{Ctx, conformance};

conformance!(
    queue_name_rule_is_worded_as_aws_words_it,
    wait_time_seconds_rule_is_worded_as_aws_words_it,
    group_and_dedup_id_rules_are_worded_as_aws_words_them,
    empty_body_is_missing_parameter_message_body,
    empty_string_attribute_is_worded_as_aws_words_it,
    cancel_message_move_task_tells_malformed_from_unknown_handles,
);

/// (code, message) of a call that must fail.
#[track_caller]
fn code_and_message<T: std::fmt::Debug, E, R>(result: Result<T, SdkError<E, R>>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => (
            e.code().unwrap_or_default().to_owned(),
            e.message().unwrap_or_default().to_owned(),
        ),
    }
}

const NAME_RULE: &str =
    "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length";

async fn queue_name_rule_is_worded_as_aws_words_it(ctx: &Ctx) {
    for bad in ["has space", "bad!", &"n".repeat(81)] {
        let result = ctx.client.create_queue().queue_name(bad).send().await;
        assert_eq!(
            code_and_message(result),
            ("InvalidParameterValue".to_owned(), NAME_RULE.to_owned()),
            "{bad:?}"
        );
    }
}

async fn wait_time_seconds_rule_is_worded_as_aws_words_it(ctx: &Ctx) {
    let url = ctx.queue("conf-waitword", &[]).await;
    let result = ctx
        .client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(21)
        .send()
        .await;
    assert_eq!(
        code_and_message(result),
        (
            "InvalidParameterValue".to_owned(),
            "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.".to_owned()
        )
    );
}

async fn group_and_dedup_id_rules_are_worded_as_aws_words_them(ctx: &Ctx) {
    let url = ctx.fifo_queue("conf-idword", &[]).await;
    let bad = "has space";
    let group = ctx
        .client
        .send_message()
        .queue_url(&url)
        .message_body("m")
        .message_group_id(bad)
        .message_deduplication_id("d")
        .send()
        .await;
    assert_eq!(
        code_and_message(group),
        (
            "InvalidParameterValue".to_owned(),
            format!(
                "Value {bad} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length."
            )
        )
    );
    let dedup = ctx
        .client
        .send_message()
        .queue_url(&url)
        .message_body("m")
        .message_group_id("g")
        .message_deduplication_id(bad)
        .send()
        .await;
    assert_eq!(
        code_and_message(dedup),
        (
            "InvalidParameterValue".to_owned(),
            format!(
                "Value {bad} for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length."
            )
        )
    );
}

async fn empty_body_is_missing_parameter_message_body(ctx: &Ctx) {
    let url = ctx.queue("conf-emptyword", &[]).await;
    let result = ctx
        .client
        .send_message()
        .queue_url(&url)
        .message_body("")
        .send()
        .await;
    let err = result.expect_err("an empty body is refused");
    assert_eq!(err.code(), Some("MissingParameter"));
    assert_eq!(
        err.message(),
        Some("The request must contain the parameter MessageBody.")
    );
    let raw = err
        .raw_response()
        .map(|r| String::from_utf8_lossy(r.body().bytes().unwrap_or_default()).into_owned());
    assert!(
        raw.as_deref()
            .is_some_and(|b| b.contains("MissingRequiredParameterException")),
        "{raw:?}"
    );
}

async fn empty_string_attribute_is_worded_as_aws_words_it(ctx: &Ctx) {
    let url = ctx.queue("conf-emptyattr", &[]).await;
    let empty = MessageAttributeValue::builder()
        .data_type("String")
        .string_value("")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let result = ctx
        .client
        .send_message()
        .queue_url(&url)
        .message_body("m")
        .message_attributes("a", empty)
        .send()
        .await;
    assert_eq!(
        code_and_message(result),
        (
            "InvalidParameterValue".to_owned(),
            "Message (user) attribute 'a' must contain a non-empty value of type 'String'."
                .to_owned()
        )
    );
}

async fn cancel_message_move_task_tells_malformed_from_unknown_handles(ctx: &Ctx) {
    let malformed = ctx
        .client
        .cancel_message_move_task()
        .task_handle("not-a-handle")
        .send()
        .await;
    assert_eq!(
        code_and_message(malformed),
        (
            "InvalidParameterValue".to_owned(),
            "Value for parameter TaskHandle is invalid.".to_owned()
        )
    );
    let url = ctx.queue("conf-notask", &[]).await;
    let arn = ctx.arn(&url).await;
    let handle = aws_smithy_types::base64::encode(format!(
        r#"{{"taskId":"00000000-0000-0000-0000-000000000000","sourceArn":"{arn}"}}"#
    ));
    let unknown = ctx
        .client
        .cancel_message_move_task()
        .task_handle(handle)
        .send()
        .await;
    match unknown {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            let e = e.into_service_error();
            assert!(e.is_resource_not_found_exception(), "{e:?}");
            assert_eq!(e.message(), Some("Task does not exist."));
        }
    }
}
