//! The bad-input table: each kind of input SQS refuses is refused by weir first, before
//! any request, with an error naming the limit.
//!
//! "No request was sent" is proven with a tripwire: a weir-local fault rule that answers
//! the next request (any operation) with an error, once. If the rule is still armed after
//! the call, the call never reached the network. Where weir cannot know in advance (an
//! unknown queue, a receipt handle SQS no longer accepts, batch ids of the raw SDK), the
//! test checks that the server's answer arrives as a clean, typed error.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use weir_local::{FaultRule, LocalSqs};
use weir_sqs::codec::{Decode, TaggedJson};
use weir_sqs::error::CodecErrorKind;
use weir_sqs::{
    AttributeValue, Consumer, Error, Json, Producer, Queue, QueueSpec, RawString, ReceiveOptions,
    SendOptions,
};
use weir_worker::{
    AckBatching, HandlerError, Lease, Message, RateLimiter, RetryPolicy, Worker, handler_fn,
};

/// An in-process SQS with a queue, and a tripwire to prove calls never left the process.
struct Env {
    local: LocalSqs,
    client: Client,
}

impl Env {
    fn new() -> Self {
        let local = LocalSqs::new();
        let client = local.client();
        Self { local, client }
    }

    async fn queue(&self, spec: QueueSpec) -> Queue {
        spec.ensure(&self.client).await.unwrap().queue
    }

    /// Runs `f` with the tripwire armed; panics if it sent any request.
    async fn offline<T>(&self, f: impl Future<Output = T>) -> T {
        self.local.faults().clear();
        self.local
            .faults()
            .inject(FaultRule::error(599, "Tripwire", "a request was sent for bad input").times(1));
        let out = f.await;
        assert_eq!(
            self.local.faults().len(),
            1,
            "a request was sent: weir should have refused the input first"
        );
        self.local.faults().clear();
        out
    }
}

fn raw_producer(queue: Queue) -> Producer<String, RawString> {
    Producer::builder(queue).codec(RawString).build().unwrap()
}

/// The error is `InvalidInput` for `field`, and its message mentions each of `words`.
#[track_caller]
fn assert_invalid(e: &Error, field: &str, words: &[&str]) {
    let Error::InvalidInput(i) = e else {
        panic!("expected InvalidInput({field}), got {e:?}")
    };
    assert_eq!(i.field(), field, "{e}");
    let text = e.to_string();
    for w in words {
        assert!(text.contains(w), "{text:?} does not mention {w:?}");
    }
}

#[tokio::test]
async fn oversized_body() {
    let env = Env::new();
    let q = env.queue(QueueSpec::standard("big")).await;
    let p = raw_producer(q);
    let body = "x".repeat(1_048_577);
    let e = env.offline(p.send(&body)).await.unwrap_err();
    let Error::PayloadTooLarge(t) = &e else {
        panic!("{e:?}")
    };
    assert_eq!((t.limit(), t.actual()), (1_048_576, 1_048_577));
    assert!(e.to_string().contains("1048576"), "{e}");
    // Exactly at the limit is fine.
    p.send(&"x".repeat(1_048_576)).await.unwrap();

    // The queue's own MaximumMessageSize is the limit, not SQS's.
    let small = env
        .queue(QueueSpec::standard("small").max_message_size(1024))
        .await;
    let p = raw_producer(small);
    let e = env.offline(p.send(&"y".repeat(1025))).await.unwrap_err();
    assert!(e.to_string().contains("limit of 1024 bytes"), "{e}");
    // In a batch, the oversized entry fails alone, before the call; the others are sent.
    let batch = ["ok".to_owned(), "z".repeat(2000), "ok too".to_owned()];
    let results = p.send_batch(&batch).await;
    assert!(results[0].is_ok() && results[2].is_ok());
    assert!(matches!(results[1], Err(Error::PayloadTooLarge(_))));
}

#[tokio::test]
async fn oversized_attributes() {
    let env = Env::new();
    let q = env
        .queue(QueueSpec::standard("attrs").max_message_size(1024))
        .await;
    let p = raw_producer(q);
    // A 10-byte body, and attributes that take the message over 1024 bytes: name, data
    // type and value all count.
    let opts = SendOptions::default()
        .with_attribute("blob", AttributeValue::binary(vec![0u8; 1000]))
        .with_attribute("note", AttributeValue::string("n".repeat(20)));
    let e = env
        .offline(p.send_with(&"0123456789".to_owned(), opts))
        .await
        .unwrap_err();
    let Error::PayloadTooLarge(t) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(t.limit(), 1024);
    assert_eq!(t.actual(), 10 + (4 + 6 + 1000) + (4 + 6 + 20));
    assert!(e.to_string().contains("1024"), "{e}");
}

#[tokio::test]
async fn more_than_ten_attributes() {
    let env = Env::new();
    let p = raw_producer(env.queue(QueueSpec::standard("many")).await);
    let mut opts = SendOptions::default();
    for i in 0..11 {
        opts = opts.with_attribute(format!("a{i}"), AttributeValue::string("v"));
    }
    let e = env
        .offline(p.send_with(&"body".to_owned(), opts))
        .await
        .unwrap_err();
    assert_invalid(&e, "message attributes", &["11", "limit is 10"]);
}

#[tokio::test]
async fn characters_sqs_rejects() {
    let env = Env::new();
    let p = raw_producer(env.queue(QueueSpec::standard("chars")).await);
    for (bad, code) in [
        ("nul \u{0} here", "U+0000"),
        ("bell \u{7}", "U+0007"),
        ("noncharacter \u{FFFE}", "U+FFFE"),
        ("noncharacter \u{FFFF}", "U+FFFF"),
    ] {
        let e = env.offline(p.send(&bad.to_owned())).await.unwrap_err();
        assert_invalid(&e, "message body", &[code, "#x20-#xD7FF"]);
        // The same character in a string attribute value.
        let opts = SendOptions::default().with_attribute("a", AttributeValue::string(bad));
        let e = env
            .offline(p.send_with(&"fine".to_owned(), opts))
            .await
            .unwrap_err();
        assert_invalid(&e, "message attribute value", &[code]);
    }
    // Bad attribute names and data types.
    for (name, rule) in [
        ("has space", "only letters, digits and _ - . are allowed"),
        ("AWS.reserved", "reserved"),
        ("amazon.reserved", "reserved"),
        (".leading", "no leading or trailing period"),
        ("two..dots", "no two periods"),
    ] {
        let opts = SendOptions::default().with_attribute(name, AttributeValue::string("v"));
        let e = env
            .offline(p.send_with(&"fine".to_owned(), opts))
            .await
            .unwrap_err();
        assert_invalid(&e, "message attribute name", &[rule]);
    }
    let long = "n".repeat(257);
    let opts = SendOptions::default().with_attribute(long.as_str(), AttributeValue::string("v"));
    let e = env
        .offline(p.send_with(&"fine".to_owned(), opts))
        .await
        .unwrap_err();
    assert_invalid(&e, "message attribute name", &["257", "1-256"]);
    let opts = SendOptions::default().with_attribute("n", AttributeValue::number("twelve"));
    let e = env
        .offline(p.send_with(&"fine".to_owned(), opts))
        .await
        .unwrap_err();
    assert_invalid(&e, "message attribute value", &["not a number"]);
    // An empty body.
    let e = env.offline(p.send(&String::new())).await.unwrap_err();
    assert_invalid(&e, "message body", &["at least 1 character"]);
}

#[tokio::test]
async fn bad_and_duplicate_batch_ids() {
    // weir's batch helpers take no ids: they number the entries themselves, so a caller
    // cannot give a bad or duplicate id. The id rule is public for callers of the raw SDK:
    use weir_sqs::validate::check_batch_id;
    check_batch_id("entry_1-a").unwrap();
    for bad in ["", "has space", "dot.ted", &"x".repeat(81)] {
        let e = check_batch_id(bad).unwrap_err();
        assert_invalid(&e, "batch entry id", &["1-80", "A-Z a-z 0-9 _ -"]);
    }

    // The server side, through the raw SDK: each is a typed error, not a partial batch.
    let env = Env::new();
    let q = env.queue(QueueSpec::standard("ids")).await;
    let entry = |id: &str| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body("b")
            .build()
            .unwrap()
    };
    let send = |entries: Vec<SendMessageBatchRequestEntry>| {
        env.client
            .send_message_batch()
            .queue_url(q.url())
            .set_entries(Some(entries))
            .send()
    };
    // SQS answers with the query-compatible codes (`AWS.SimpleQueueService.<Code>`).
    let check = |e: aws_sdk_sqs::error::SdkError<_, _>, want: &str| {
        let e = Error::from_sdk("SendMessageBatch", e);
        let code = e.code().unwrap_or_default();
        assert!(code.ends_with(want), "{code} is not {want}: {e}");
        assert!(!e.is_retryable(), "{e}");
        assert!(e.to_string().contains(want), "{e}");
    };
    check(
        send(vec![entry("a b")]).await.unwrap_err(),
        "InvalidBatchEntryId",
    );
    check(
        send(vec![entry("same"), entry("same")]).await.unwrap_err(),
        "BatchEntryIdsNotDistinct",
    );
    check(
        send((0..11).map(|i| entry(&i.to_string())).collect())
            .await
            .unwrap_err(),
        "TooManyEntriesInBatchRequest",
    );
    check(send(vec![]).await.unwrap_err(), "EmptyBatchRequest");
    // Nothing was enqueued by any of them.
    let got = env
        .client
        .receive_message()
        .queue_url(q.url())
        .send()
        .await
        .unwrap();
    assert!(got.messages.unwrap_or_default().is_empty());

    // Duplicate ids on a delete batch too.
    let del = DeleteMessageBatchRequestEntry::builder()
        .id("d")
        .receipt_handle("r")
        .build()
        .unwrap();
    let e = env
        .client
        .delete_message_batch()
        .queue_url(q.url())
        .entries(del.clone())
        .entries(del)
        .send()
        .await
        .unwrap_err();
    let e = Error::from_sdk("DeleteMessageBatch", e);
    assert!(
        e.code()
            .unwrap_or_default()
            .ends_with("BatchEntryIdsNotDistinct"),
        "{e}"
    );

    // weir's own batches of 25 go out as 10 + 10 + 5 with ids SQS accepts.
    let p = raw_producer(q);
    let bodies: Vec<String> = (0..25).map(|i| i.to_string()).collect();
    assert!(p.send_batch(&bodies).await.iter().all(Result::is_ok));
}

#[tokio::test]
async fn fifo_fields_on_a_standard_queue() {
    let env = Env::new();
    let q = env.queue(QueueSpec::standard("std")).await;
    let p = raw_producer(q.clone());
    let opts = SendOptions::default().with_dedup_id("d-1");
    let e = env
        .offline(p.send_with(&"b".to_owned(), opts))
        .await
        .unwrap_err();
    assert_invalid(&e, "message deduplication id", &["only FIFO queues"]);
    // A receive attempt id is FIFO-only too.
    let c: Consumer<String, RawString> = Consumer::with_codec(q, RawString);
    let e = env
        .offline(c.receive(&ReceiveOptions::default().with_attempt_id("a-1")))
        .await
        .unwrap_err();
    assert_invalid(&e, "receive request attempt id", &["only FIFO queues"]);
    // A FIFO queue missing its FIFO fields.
    let fifo = env.queue(QueueSpec::fifo("f.fifo")).await;
    let p = raw_producer(fifo);
    let e = env.offline(p.send(&"b".to_owned())).await.unwrap_err();
    assert_invalid(&e, "message group id", &["require a message group id"]);
    let opts = SendOptions::default().with_group_id("g");
    let e = env
        .offline(p.send_with(&"b".to_owned(), opts))
        .await
        .unwrap_err();
    assert_invalid(
        &e,
        "message deduplication id",
        &["content-based deduplication"],
    );
    let opts = SendOptions::default().with_group_id("g".repeat(129));
    let e = env
        .offline(p.send_with(&"b".to_owned(), opts))
        .await
        .unwrap_err();
    assert_invalid(&e, "message group id", &["129", "1-128"]);
}

#[tokio::test]
async fn delay_on_a_fifo_message() {
    let env = Env::new();
    let fifo = env
        .queue(QueueSpec::fifo("d.fifo").content_based_deduplication(true))
        .await;
    let p = raw_producer(fifo);
    let opts = SendOptions::default()
        .with_group_id("g")
        .with_delay(Duration::from_secs(5));
    let e = env
        .offline(p.send_with(&"b".to_owned(), opts))
        .await
        .unwrap_err();
    assert_invalid(
        &e,
        "delay",
        &["per-message delay", "DelaySeconds on the queue"],
    );
    // On a standard queue: at most 900 s, whole seconds.
    let p = raw_producer(env.queue(QueueSpec::standard("d")).await);
    for (d, words) in [
        (Duration::from_secs(901), &["901", "900"][..]),
        (Duration::from_millis(1500), &["whole seconds"][..]),
    ] {
        let opts = SendOptions::default().with_delay(d);
        let e = env
            .offline(p.send_with(&"b".to_owned(), opts))
            .await
            .unwrap_err();
        assert_invalid(&e, "delay", words);
    }
}

#[tokio::test(start_paused = true)]
async fn a_body_that_does_not_decode_is_kept_and_dead_lettered() {
    let env = Env::new();
    let q = env.queue(QueueSpec::standard("poison")).await;
    let dlq = env.queue(QueueSpec::standard("poison-dlq")).await;
    for body in ["not json", "{\"id\": 1}", "\"\\ud800\""] {
        env.client
            .send_message()
            .queue_url(q.url())
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    // The consumer keeps the error beside the raw body; the receive itself succeeds.
    let c: Consumer<u32> = Consumer::new(q.clone());
    let got = c
        .receive(&ReceiveOptions::default().with_visibility(Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(got.len(), 3);
    for m in &got {
        let e = m.body().unwrap_err();
        assert_eq!(e.kind(), CodecErrorKind::Decode);
        assert_eq!(e.codec(), "json");
        assert!(!m.raw_body().is_empty());
    }
    // The worker dead-letters each one (reason decode_failed), and acks it.
    let handled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = handled.clone();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Ok::<_, HandlerError>(()) }
        }))
        .dead_letter(&dlq)
        .build()
        .unwrap();
    let stop = worker.shutdown_handle();
    let task = tokio::spawn(worker.run());
    let raw: Consumer<String, RawString> = Consumer::with_codec(dlq, RawString);
    let mut dead = Vec::new();
    while dead.len() < 3 {
        dead.extend(
            raw.receive(&ReceiveOptions::default().with_wait(Duration::from_secs(1)))
                .await
                .unwrap(),
        );
    }
    stop.shutdown();
    let report = task.await.unwrap();
    assert_eq!(report.decode_failures, 3, "{report:?}");
    assert_eq!(report.dead_lettered, 3, "{report:?}");
    assert_eq!(report.acked, 3, "{report:?}");
    assert_eq!(
        handled.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the handler never sees them"
    );
    let mut bodies: Vec<&str> = dead.iter().map(|m| m.raw_body()).collect();
    bodies.sort_unstable();
    assert_eq!(bodies, ["\"\\ud800\"", "not json", "{\"id\": 1}"]);
    for m in &dead {
        assert_eq!(m.attribute("weir.dlq.reason"), Some("decode_failed"));
        assert!(m.attribute("weir.dlq.error").is_some_and(|e| !e.is_empty()));
    }
}

#[tokio::test]
async fn an_unknown_queue() {
    let env = Env::new();
    for name in ["missing", "missing.fifo"] {
        let e = Queue::open(&env.client, name).await.unwrap_err();
        let Error::QueueNotFound(nf) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(nf.queue(), name);
        assert!(e.to_string().contains(name), "{e}");
        assert!(!e.is_retryable());
    }
    let url = format!("{}/000000000000/missing", env.local.endpoint_url());
    let e = Queue::open(&env.client, &url).await.unwrap_err();
    assert!(matches!(e, Error::QueueNotFound(_)), "{e:?}");
    let e = Queue::open(&env.client, "arn:aws:sqs:us-east-1:000000000000:missing")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::QueueNotFound(_)), "{e:?}");
    // A name SQS could never have is refused without asking.
    for (bad, words) in [
        ("has space", &["A-Z a-z 0-9 - _"][..]),
        (&*"q".repeat(81), &["81", "1-80"][..]),
        ("", &["1-80"][..]),
    ] {
        let e = env
            .offline(Queue::open(&env.client, bad))
            .await
            .unwrap_err();
        assert_invalid(&e, "queue name", words);
    }
    let e = env
        .offline(Queue::open(&env.client, "arn:aws:sns:us-east-1:1:topic"))
        .await
        .unwrap_err();
    assert_invalid(&e, "queue ARN", &["not an SQS ARN"]);
    // A queue deleted under a running producer: its sends fail with QueueNotFound.
    let q = env.queue(QueueSpec::standard("gone")).await;
    env.client
        .delete_queue()
        .queue_url(q.url())
        .send()
        .await
        .unwrap();
    let e = raw_producer(q).send(&"b".to_owned()).await.unwrap_err();
    assert!(matches!(e, Error::QueueNotFound(_)), "{e:?}");
}

#[tokio::test]
async fn an_invalid_receipt_handle() {
    let env = Env::new();
    let q = env.queue(QueueSpec::standard("rh")).await;
    // A receipt handle is opaque: only SQS can tell it is invalid. The answer is a
    // typed, non-retryable error naming the code.
    let e = q.delete("not-a-receipt-handle").await.unwrap_err();
    assert_eq!(e.code(), Some("ReceiptHandleIsInvalid"), "{e:?}");
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("ReceiptHandleIsInvalid"), "{e}");
    // An empty handle is refused before any request, alone and inside a batch.
    let e = env.offline(q.delete("")).await.unwrap_err();
    assert_invalid(&e, "receipt handle", &["empty"]);
    let results = env.offline(q.delete_batch(&[""])).await;
    assert_invalid(
        results[0].as_ref().unwrap_err(),
        "receipt handle",
        &["empty"],
    );
    let e = env
        .offline(q.change_visibility("", Duration::from_secs(1)))
        .await
        .unwrap_err();
    assert_invalid(&e, "receipt handle", &["empty"]);
    // In a batch, the bad handle fails alone.
    env.client
        .send_message()
        .queue_url(q.url())
        .message_body("b")
        .send()
        .await
        .unwrap();
    let c: Consumer<String, RawString> = Consumer::with_codec(q.clone(), RawString);
    let got = c.receive(&ReceiveOptions::default()).await.unwrap();
    let handles = [got[0].receipt_handle(), "garbage"];
    let results = q.delete_batch(&handles).await;
    assert!(results[0].is_ok(), "{results:?}");
    let e = results[1].as_ref().unwrap_err();
    assert_eq!(e.code(), Some("ReceiptHandleIsInvalid"), "{e:?}");
    // A visibility change over 12 h is refused before the call, whatever the handle.
    let e = env
        .offline(q.change_visibility("garbage", Duration::from_secs(43_201)))
        .await
        .unwrap_err();
    assert_invalid(&e, "visibility timeout", &["43201", "43200"]);
}

#[tokio::test]
async fn receive_options_out_of_range() {
    let env = Env::new();
    let c: Consumer<String, RawString> =
        Consumer::with_codec(env.queue(QueueSpec::standard("ro")).await, RawString);
    let d = ReceiveOptions::default();
    let cases = [
        (d.clone().with_max_messages(0), "max messages", "1-10"),
        (d.clone().with_max_messages(11), "max messages", "1-10"),
        (
            d.clone().with_wait(Duration::from_secs(21)),
            "wait time",
            "20 s",
        ),
        (
            d.clone().with_wait(Duration::from_millis(500)),
            "wait time",
            "whole seconds",
        ),
        (
            d.clone().with_visibility(Duration::from_secs(43_201)),
            "visibility timeout",
            "43200 s",
        ),
        (
            d.clone().with_attempt_id("x"),
            "receive request attempt id",
            "FIFO",
        ),
    ];
    for (opts, field, words) in cases {
        let e = env.offline(c.receive(&opts)).await.unwrap_err();
        assert_invalid(&e, field, &[words]);
    }
}

#[tokio::test]
async fn worker_settings_out_of_range() {
    let env = Env::new();
    let q = env.queue(QueueSpec::standard("wk")).await;
    let fifo = env.queue(QueueSpec::fifo("wk.fifo")).await;
    let std_dlq = env.queue(QueueSpec::standard("wk-dlq")).await;
    let ok = || handler_fn(|_m: Message<String>| async { Ok::<_, HandlerError>(()) });
    let b = || Worker::builder(q.clone()).handler(ok());
    // A builder without a handler has no `build`: that one is refused at compile time.
    let cases = vec![
        (b().concurrency(0), "concurrency", "1 to 10000"),
        (b().concurrency(10_001), "concurrency", "1 to 10000"),
        (b().pollers(0), "pollers", "1 to 64"),
        (b().pollers(65).concurrency(100), "pollers", "1 to 64"),
        (
            b().pollers(5).concurrency(4),
            "pollers",
            "at most the concurrency",
        ),
        (b().wait_time(Duration::from_secs(21)), "wait_time", "20 s"),
        (
            b().visibility_timeout(Duration::ZERO),
            "visibility_timeout",
            "1 s to 12 h",
        ),
        (
            b().visibility_timeout(Duration::from_secs(43_201)),
            "visibility_timeout",
            "1 s to 12 h",
        ),
        (b().max_attempts(0), "max_attempts", "at least 1"),
        (
            b().ack_batching(AckBatching::new().max_batch(11)),
            "ack_batching",
            "1 to 10",
        ),
        (
            b().ack_batching(AckBatching::new().interval(Duration::from_secs(11))),
            "ack_batching",
            "at most 10 s",
        ),
        (
            b().lease(Lease::new().threshold(Duration::from_secs(30))),
            "lease",
            "shorter than the visibility timeout",
        ),
        (
            b().lease(Lease::new().max_total(Duration::from_secs(43_201))),
            "lease",
            "1 s to 12 h",
        ),
        (
            b().retry_policy(RetryPolicy::fixed(Duration::from_secs(43_201))),
            "retry_policy",
            "12 h",
        ),
        (
            b().poll_grace(Duration::from_secs(5))
                .wait_time(Duration::from_secs(2)),
            "poll_grace",
            "at most the wait time",
        ),
        (
            b().poll_backoff_max(Duration::from_millis(10)),
            "poll_backoff_max",
            "1 s to 5 min",
        ),
        (
            Worker::builder(fifo.clone())
                .handler(ok())
                .dead_letter(&std_dlq),
            "dead_letter",
            "must be FIFO",
        ),
    ];
    for (builder, setting, words) in cases {
        let e = builder.build().unwrap_err();
        assert_eq!(e.setting(), setting, "{e}");
        assert!(
            e.to_string().contains(words),
            "{e} does not mention {words:?}"
        );
    }
}

#[test]
fn rate_limiter_out_of_range() {
    for (rate, burst) in [(0.0, 1), (-1.0, 1), (f64::NAN, 1), (f64::INFINITY, 1)] {
        let e = RateLimiter::new(rate, burst).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
    }
    let e = RateLimiter::new(10.0, 0).unwrap_err();
    assert!(e.to_string().contains("at least 1"), "{e}");
    let e = RateLimiter::builder().burst(5).build().unwrap_err();
    assert!(e.to_string().contains("needs a rate"), "{e}");
    // Asking for more than the burst at once can never succeed: an error, not a hang.
    let l = RateLimiter::new(10.0, 5).unwrap();
    let e = l.try_acquire(6).unwrap_err();
    assert!(e.to_string().contains("burst of 5"), "{e}");
}

#[tokio::test]
async fn queue_spec_out_of_range() {
    let env = Env::new();
    let cases = [
        (QueueSpec::standard("q".repeat(81)), "queue name", "1-80"),
        (QueueSpec::standard("a.fifo"), "queue name", ".fifo"),
        (QueueSpec::fifo("no-suffix"), "queue name", ".fifo"),
        (
            QueueSpec::standard("v").visibility(Duration::from_secs(43_201)),
            "visibility timeout",
            "43200",
        ),
        (
            QueueSpec::standard("d").delay(Duration::from_secs(901)),
            "delay",
            "900",
        ),
        (
            QueueSpec::standard("w").receive_wait(Duration::from_secs(21)),
            "wait time",
            "20",
        ),
        (
            QueueSpec::standard("r").retention(Duration::from_secs(59)),
            "retention",
            "",
        ),
        (
            QueueSpec::standard("m").max_message_size(1023),
            "maximum message size",
            "1024-1048576",
        ),
        (
            QueueSpec::standard("m").max_message_size(1_048_577),
            "maximum message size",
            "1024-1048576",
        ),
        (
            QueueSpec::standard("c").content_based_deduplication(true),
            "content-based deduplication",
            "only FIFO",
        ),
        (
            QueueSpec::standard("x").dead_letter(0),
            "max receive count",
            "1-1000",
        ),
        (
            QueueSpec::standard("x").dead_letter(1001),
            "max receive count",
            "1-1000",
        ),
        // The DLQ's name (name + "-dlq") must fit in 80 characters too.
        (
            QueueSpec::standard("q".repeat(78)).dead_letter(3),
            "queue name",
            "1-80",
        ),
    ];
    for (spec, field, words) in cases {
        let e = env.offline(spec.ensure(&env.client)).await.unwrap_err();
        let Error::InvalidInput(i) = &e else {
            panic!("{field}: {e:?}")
        };
        assert!(
            i.field().contains(field),
            "{e}: field {:?}, wanted {field:?}",
            i.field()
        );
        assert!(
            e.to_string().contains(words),
            "{e} does not mention {words:?}"
        );
    }
}

/// A connector that answers every request with one fixed response.
#[derive(Debug, Clone)]
struct Fixed {
    status: u16,
    body: Vec<u8>,
}

impl HttpConnector for Fixed {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        let mut resp = HttpResponse::new(
            StatusCode::try_from(self.status).unwrap(),
            SdkBody::from(self.body.clone()),
        );
        resp.headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(resp))
    }
}

impl HttpClient for Fixed {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

#[tokio::test]
async fn bodies_that_are_not_utf8() {
    // The SDK can't send a body that is not UTF-8 (it takes a String). A request that
    // carries one anyway is refused by the server side with a 400, not a crash.
    let local = LocalSqs::new();
    local
        .handle("AmazonSQS.CreateQueue", br#"{"QueueName":"u"}"#)
        .await;
    let url = format!("{}/000000000000/u", local.endpoint_url());
    let mut req = format!(r#"{{"QueueUrl":"{url}","MessageBody":""#).into_bytes();
    req.extend_from_slice(b"\xff\xfe bad \xc3\x28");
    req.extend_from_slice(br#""}"#);
    let resp = local.handle("AmazonSQS.SendMessage", &req).await;
    assert_eq!(resp.status(), 400);

    // A receive response whose body is not UTF-8 (a broken proxy, a bad emulator) is a
    // clean error from the consumer, not a panic and not a message.
    let mut body =
        br#"{"Messages":[{"MessageId":"m","ReceiptHandle":"r","MD5OfBody":"x","Body":""#.to_vec();
    body.extend_from_slice(b"\xff\xfe\xfd");
    body.extend_from_slice(br#""}]}"#);
    let conf = local
        .config_builder()
        .http_client(Fixed { status: 200, body })
        .build();
    let client = Client::from_conf(conf);
    let q = Queue::with_attributes(client, &url, weir_sqs::QueueAttributes::default());
    let c: Consumer<String, RawString> = Consumer::with_codec(q, RawString);
    let e = c.receive(&ReceiveOptions::default()).await.unwrap_err();
    assert!(matches!(e, Error::Sqs(_)), "{e:?}");

    // The codecs decode `&str`: bytes reach them only as valid UTF-8, and a lossy
    // conversion of bad bytes decodes (or fails) cleanly.
    let lossy = String::from_utf8_lossy(b"\"\xff\xfe\"");
    let v: String = Decode::<String>::decode(&Json, &lossy).unwrap();
    assert_eq!(v, "\u{FFFD}\u{FFFD}");
    let e = Decode::<u32>::decode(&Json, &lossy).unwrap_err();
    assert_eq!(e.kind(), CodecErrorKind::Decode);
}

/// An error and its sources, joined with ": ".
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[test]
fn deeply_nested_json_is_a_clean_decode_error() {
    // serde_json stops at 128 levels; run on a small stack to prove nothing recurses
    // anywhere near the input's depth.
    let t = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            for depth in [129usize, 10_000, 500_000] {
                let arrays = "[".repeat(depth) + &"]".repeat(depth);
                let objects = "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth);
                for body in [&arrays, &objects] {
                    let e = Decode::<serde_json::Value>::decode(&Json, body).unwrap_err();
                    assert_eq!(e.kind(), CodecErrorKind::Decode);
                    assert!(chain(&e).contains("recursion limit"), "{}", chain(&e));
                    let e =
                        Decode::<BTreeMap<String, serde_json::Value>>::decode(&TaggedJson, body)
                            .unwrap_err();
                    assert_eq!(e.kind(), CodecErrorKind::Decode);
                    let e =
                        Decode::<serde_json::Value>::decode_tagged(&TaggedJson, body, Some("Tag"))
                            .unwrap_err();
                    assert_eq!(e.kind(), CodecErrorKind::Decode);
                }
            }
        })
        .unwrap();
    t.join().unwrap();
}

#[tokio::test]
async fn deeply_nested_json_through_a_consumer() {
    let env = Env::new();
    let q = env.queue(QueueSpec::standard("deep")).await;
    let depth = 200_000;
    let body = "[".repeat(depth) + &"]".repeat(depth);
    raw_producer(q.clone()).send(&body).await.unwrap();
    let c: Consumer<serde_json::Value> = Consumer::new(q);
    let got = c.receive(&ReceiveOptions::default()).await.unwrap();
    assert_eq!(got.len(), 1);
    let e = got[0].body().unwrap_err();
    assert!(chain(e).contains("recursion limit"), "{}", chain(e));
    assert_eq!(got[0].raw_body().len(), 2 * depth);
}
