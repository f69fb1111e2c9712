//! What responses leave out, and what requests may say: empty lists left out, a queue
//! name for `QueueUrl`, the `X-Amzn-Trace-Id` header, attribute-name filters, and
//! attribute names in any script.

use std::collections::HashMap;

use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName as M, SendMessageBatchRequestEntry,
};

use crate::support::{Ctx, RawBody, Target, conformance, err_code, string_attr};

conformance!(
    receive_on_an_empty_queue_has_no_messages_key,
    batch_without_failures_has_no_failed_key,
    queue_name_is_accepted_for_queue_url,
    trace_header_of_a_send_becomes_aws_trace_header,
    message_attribute_names_filter_by_all_wildcard_and_prefix,
    attribute_names_take_letters_of_any_script_and_refuse_punctuation,
);

async fn receive_on_an_empty_queue_has_no_messages_key(ctx: &Ctx) {
    let url = ctx.queue("conf-nokey", &[]).await;
    let raw = RawBody::default();
    ctx.client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(0)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await
        .expect("ReceiveMessage");
    let body = raw.json();
    assert!(body.get("Messages").is_none(), "{body}");
    ctx.send(&url, "m").await;
    let raw = RawBody::default();
    ctx.client
        .receive_message()
        .queue_url(&url)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await
        .expect("ReceiveMessage");
    assert_eq!(raw.json()["Messages"].as_array().map(Vec::len), Some(1));
}

async fn batch_without_failures_has_no_failed_key(ctx: &Ctx) {
    let url = ctx.queue("conf-nofailed", &[]).await;
    let raw = RawBody::default();
    let entry = |id: &str| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body(id)
            .build()
            .expect("entry")
    };
    ctx.client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("a"))
        .entries(entry("b"))
        .customize()
        .interceptor(raw.clone())
        .send()
        .await
        .expect("SendMessageBatch");
    let body = raw.json();
    assert!(body.get("Failed").is_none(), "{body}");
    assert_eq!(body["Successful"].as_array().map(Vec::len), Some(2));
    let got = ctx.receive_n(&url, 2).await;
    let raw = RawBody::default();
    let mut req = ctx.client.delete_message_batch().queue_url(&url);
    for (i, m) in got.iter().enumerate() {
        req = req.entries(
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .build()
                .expect("entry"),
        );
    }
    req.customize()
        .interceptor(raw.clone())
        .send()
        .await
        .expect("DeleteMessageBatch");
    if ctx.target == Target::LocalStack {
        // LocalStack 4.12 leaves Failed out of SendMessageBatch, but writes
        // `"Failed": []` into DeleteMessageBatch; AWS leaves it out of both.
        assert_eq!(raw.json()["Failed"], serde_json::json!([]));
        return;
    }
    assert!(raw.json().get("Failed").is_none(), "{}", raw.json());
}

async fn queue_name_is_accepted_for_queue_url(ctx: &Ctx) {
    let url = ctx.queue("conf-byname", &[]).await;
    let name = url.rsplit('/').next().unwrap_or_default().to_owned();
    let c = &ctx.client;
    c.send_message()
        .queue_url(&name)
        .message_body("by name")
        .send()
        .await
        .expect("SendMessage with a queue name");
    let got = c
        .receive_message()
        .queue_url(&name)
        .send()
        .await
        .expect("ReceiveMessage with a queue name");
    assert_eq!(got.messages()[0].body(), Some("by name"));
    c.delete_message()
        .queue_url(&name)
        .receipt_handle(got.messages()[0].receipt_handle().unwrap_or_default())
        .send()
        .await
        .expect("DeleteMessage with a queue name");
    c.set_queue_attributes()
        .queue_url(&name)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::DelaySeconds, "3")
        .send()
        .await
        .expect("SetQueueAttributes with a queue name");
    assert_eq!(
        ctx.attribute(&url, aws_sdk_sqs::types::QueueAttributeName::DelaySeconds)
            .await
            .as_deref(),
        Some("3")
    );
    let deleted = c.delete_queue().queue_url(&name).send().await;
    if ctx.target == Target::LocalStack {
        // LocalStack 4.12 takes a name everywhere but in DeleteQueue (a 500); AWS takes
        // it there too.
        assert_eq!(err_code(deleted), "InternalError");
        return;
    }
    deleted.expect("DeleteQueue with a queue name");
    let gone = c.get_queue_url().queue_name(&name).send().await;
    assert_eq!(err_code(gone), "AWS.SimpleQueueService.NonExistentQueue");
}

const TRACE: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

async fn trace_header_of_a_send_becomes_aws_trace_header(ctx: &Ctx) {
    let url = ctx.queue("conf-trace", &[]).await;
    ctx.client
        .send_message()
        .queue_url(&url)
        .message_body("traced")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("X-Amzn-Trace-Id", TRACE);
        })
        .send()
        .await
        .expect("SendMessage");
    ctx.client
        .send_message_batch()
        .queue_url(&url)
        .entries(
            SendMessageBatchRequestEntry::builder()
                .id("b")
                .message_body("traced batch")
                .build()
                .expect("entry"),
        )
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("X-Amzn-Trace-Id", TRACE);
        })
        .send()
        .await
        .expect("SendMessageBatch");
    ctx.send(&url, "untraced").await;
    let got = ctx.receive_n(&url, 3).await;
    assert_eq!(got.len(), 3);
    for m in got {
        let header = m.attributes().and_then(|a| a.get(&M::AwsTraceHeader));
        match m.body() {
            Some("untraced") => assert_eq!(header, None),
            _ => assert_eq!(header.map(String::as_str), Some(TRACE), "{m:?}"),
        }
    }
}

async fn message_attribute_names_filter_by_all_wildcard_and_prefix(ctx: &Ctx) {
    let url = ctx.queue("conf-attrfilter", &[]).await;
    ctx.client
        .send_message()
        .queue_url(&url)
        .message_body("m")
        .message_attributes("Custom.a", string_attr("1"))
        .message_attributes("Custom.b", string_attr("2"))
        .message_attributes("Customer", string_attr("3"))
        .message_attributes("other", string_attr("4"))
        .send()
        .await
        .expect("SendMessage");
    let names = |filter: &[&str]| {
        let mut req = ctx
            .client
            .receive_message()
            .queue_url(&url)
            .visibility_timeout(0);
        for f in filter {
            req = req.message_attribute_names(*f);
        }
        async move {
            let got = req.send().await.expect("ReceiveMessage");
            let attrs: HashMap<_, _> = got.messages()[0]
                .message_attributes()
                .cloned()
                .unwrap_or_default();
            let mut names: Vec<String> = attrs.into_keys().collect();
            names.sort();
            names
        }
    };
    let all = ["Custom.a", "Custom.b", "Customer", "other"];
    assert_eq!(names(&["All"]).await, all);
    assert_eq!(names(&[".*"]).await, all);
    // `Prefix.*` is a pattern: `Custom.*` takes `Customer` too.
    assert_eq!(
        names(&["Custom.*"]).await,
        ["Custom.a", "Custom.b", "Customer"]
    );
    assert_eq!(names(&["Custom..*"]).await, ["Custom.a", "Custom.b"]);
    assert_eq!(
        names(&["Custom..*", "other"]).await,
        ["Custom.a", "Custom.b", "other"]
    );
    assert_eq!(names(&["Customer"]).await, ["Customer"]);
    assert!(names(&[]).await.is_empty());
}

async fn attribute_names_take_letters_of_any_script_and_refuse_punctuation(ctx: &Ctx) {
    let url = ctx.queue("conf-attrnames", &[]).await;
    let sent = ctx
        .client
        .send_message()
        .queue_url(&url)
        .message_body("m")
        .message_attributes("attr.1øßä", string_attr("v"))
        .message_attributes("名前", string_attr("w"))
        .send()
        .await;
    if ctx.target == Target::LocalStack {
        // LocalStack 4.12 refuses names outside A-Z a-z 0-9 _ - .; AWS takes
        // `attr.1øßä` (observed), so weir-local and weir-sqs take them.
        assert_eq!(err_code(sent), "InvalidParameterValue");
    } else {
        sent.expect("names with letters of any script");
        check_names_came_back(ctx, &url).await;
    }
    for bad in ["a!", "a\"b", "a§", "a(b", "a?"] {
        let result = ctx
            .client
            .send_message()
            .queue_url(&url)
            .message_body("m")
            .message_attributes(bad, string_attr("v"))
            .send()
            .await;
        assert_eq!(err_code(result), "InvalidParameterValue", "{bad:?}");
    }
}

async fn check_names_came_back(ctx: &Ctx, url: &str) {
    let got = ctx.receive(url, 1).await;
    let attrs = got[0].message_attributes().cloned().unwrap_or_default();
    assert_eq!(attrs["attr.1øßä"].string_value(), Some("v"));
    assert_eq!(attrs["名前"].string_value(), Some("w"));
}
