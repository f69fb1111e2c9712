//! Secrets: `Debug` and `Display` of weir's configs, handles and errors never print
//! credentials, and logs never carry message bodies unless the user turns that on.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::Credentials;
use tracing_subscriber::fmt::MakeWriter;
use weir_local::LocalSqs;
use weir_sqs::{
    AttributeValue, BatchingProducer, Consumer, DecodeError, Error, Producer, Queue, QueueSpec,
    RawString, ReceiveOptions, SendOptions,
};
use weir_worker::{
    DeadLetter, HandlerError, Message, RateLimiter, RetryPolicy, Worker, WorkerReport, handler_fn,
};

const ACCESS_KEY: &str = "AKIDWEIRTEST9";
const SECRET_KEY: &str = "SECRETKEY123";
const SESSION_TOKEN: &str = "SESSIONTOKEN456";
/// A marker put in every message body; it must never reach a log line.
const MARKER: &str = "BODYMARKER-7f3a";

fn client_with_secrets(local: &LocalSqs) -> Client {
    let conf = local
        .config_builder()
        .credentials_provider(Credentials::new(
            ACCESS_KEY,
            SECRET_KEY,
            Some(SESSION_TOKEN.to_owned()),
            None,
            "secrets-test",
        ))
        .build();
    Client::from_conf(conf)
}

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for s in [SECRET_KEY, SESSION_TOKEN] {
        assert!(!text.contains(s), "{what} prints a credential: {text}");
    }
}

#[tokio::test]
async fn debug_and_display_never_print_credentials() {
    let local = LocalSqs::new();
    let client = client_with_secrets(&local);
    // The SDK's own Debug redacts them; the client is the baseline.
    assert_no_secret("aws_sdk_sqs::Client", &format!("{client:?}"));
    let topology = QueueSpec::standard("sec")
        .dead_letter(3)
        .ensure(&client)
        .await
        .unwrap();
    let queue = topology.queue.clone();
    let fifo = QueueSpec::fifo("sec.fifo")
        .ensure(&client)
        .await
        .unwrap()
        .queue;
    let producer: Producer<String> = Producer::new(queue.clone());
    let builder = Producer::<String>::builder(queue.clone()).log_bodies(false);
    let batching = BatchingProducer::new(producer.clone());
    let consumer: Consumer<String> = Consumer::new(queue.clone());
    let worker_builder = Worker::builder(queue.clone())
        .handler(handler_fn(|_m: Message<String>| async {
            Ok::<_, HandlerError>(())
        }))
        .rate_limit(RateLimiter::new(10.0, 10).unwrap())
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(1)))
        .dead_letter(DeadLetter::new(topology.dlq.as_ref().unwrap().url()));
    let shown = format!("{worker_builder:?}");
    let worker = worker_builder.build().unwrap();
    let handle = worker.handle();

    // Errors of every kind, from real calls where there is one.
    let not_found = Queue::open(&client, "missing").await.unwrap_err();
    let receipt = queue.delete("garbage").await.unwrap_err();
    let fifo_missing_group = Producer::<String>::new(fifo)
        .send(&"b".to_owned())
        .await
        .unwrap_err();
    let too_large = producer.send(&"x".repeat(1_048_577)).await.unwrap_err();
    let bad_attr = producer
        .send_with(
            &"b".to_owned(),
            SendOptions::default().with_attribute("AWS.x", AttributeValue::string("v")),
        )
        .await
        .unwrap_err();
    local.faults().inject(
        weir_local::FaultRule::error(500, "InternalError", "injected")
            .operation("SendMessageBatch")
            .times(100),
    );
    let batch = producer
        .send_batch(&["a".to_owned()])
        .await
        .pop()
        .unwrap()
        .unwrap_err();
    local.faults().clear();
    local
        .faults()
        .inject(weir_local::FaultRule::new(weir_local::FaultAction::DropConnection).times(100));
    let dropped = Queue::open(&client, "sec").await.unwrap_err();
    local.faults().clear();
    let build_err = Worker::builder(queue.clone())
        .handler(handler_fn(|_m: Message<String>| async {
            Ok::<_, HandlerError>(())
        }))
        .concurrency(0)
        .build()
        .unwrap_err();
    let errors: Vec<(&str, &Error)> = vec![
        ("QueueNotFound", &not_found),
        ("ReceiptHandleIsInvalid", &receipt),
        ("FIFO group id", &fifo_missing_group),
        ("PayloadTooLarge", &too_large),
        ("attribute name", &bad_attr),
        ("batch entry", &batch),
        ("dropped connection", &dropped),
    ];
    for (what, e) in errors {
        assert_no_secret(what, &format!("{e:?}"));
        assert_no_secret(what, &format!("{e}"));
        // The whole source chain too (it holds the SDK's error and raw response).
        let mut cur: Option<&dyn std::error::Error> = Some(e);
        while let Some(s) = cur {
            assert_no_secret(what, &format!("{s} / {s:?}"));
            cur = s.source();
        }
    }
    for (what, text) in [
        ("Queue", format!("{queue:?}")),
        ("Topology", format!("{topology:?}")),
        ("Producer", format!("{producer:?}")),
        ("ProducerBuilder", format!("{builder:?}")),
        ("BatchingProducer", format!("{batching:?}")),
        ("Consumer", format!("{consumer:?}")),
        ("WorkerBuilder", shown),
        ("Worker", format!("{worker:?}")),
        ("WorkerHandle", format!("{handle:?}")),
        ("BuildError", format!("{build_err:?} {build_err}")),
        ("WorkerReport", format!("{:?}", WorkerReport::default())),
    ] {
        assert_no_secret(what, &text);
    }
    batching.close().await;
}

/// A `MakeWriter` that appends every log line to a shared buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// Captures every event at TRACE from `filter`'s targets on this thread (the test's
/// runtime is current-thread, so its spawned tasks log here too).
fn capture(filter: &str) -> (Buffer, tracing::subscriber::DefaultGuard) {
    let buf = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(buf.clone())
        .with_ansi(false)
        .finish();
    (buf, tracing::subscriber::set_default(subscriber))
}

/// Sends, receives, processes (ok, retried, rejected, undecodable) and dead-letters
/// bodies carrying [`MARKER`], with weir's defaults (or `log_bodies` on the producer).
async fn traffic(log_bodies: bool) {
    let local = LocalSqs::new();
    let client = client_with_secrets(&local);
    let q = QueueSpec::standard("logs")
        .ensure(&client)
        .await
        .unwrap()
        .queue;
    let dlq = QueueSpec::standard("logs-dlq")
        .ensure(&client)
        .await
        .unwrap()
        .queue;
    let producer: Producer<String, RawString> = Producer::builder(q.clone())
        .codec(RawString)
        .log_bodies(log_bodies)
        .build()
        .unwrap();
    producer.send(&format!("ok {MARKER}")).await.unwrap();
    let batch: Vec<String> = ["retry", "reject", "ok"]
        .iter()
        .map(|k| format!("{k} {MARKER}"))
        .collect();
    for r in producer.send_batch(&batch).await {
        r.unwrap();
    }
    // A body that does not decode as the worker's type: serde's error quotes it.
    client
        .send_message()
        .queue_url(q.url())
        .message_body(format!("\"{MARKER}\""))
        .send()
        .await
        .unwrap();
    let batching = BatchingProducer::new(producer.clone());
    batching
        .send(&format!("ok batched {MARKER}"))
        .await
        .unwrap();
    batching.close().await;

    // A consumer that reads and releases one message, then the worker handles them all.
    let consumer: Consumer<String, RawString> = Consumer::with_codec(q.clone(), RawString);
    let got = consumer
        .receive(&ReceiveOptions::default().with_max_messages(1))
        .await
        .unwrap();
    consumer.nack(&got[0], Duration::ZERO).await.unwrap();

    let worker = Worker::builder(q.clone())
        .handler(handler_fn(|m: Message<String>| async move {
            let body = m.body().map_err(|e| HandlerError::reject(e.to_string()))?;
            if body.starts_with("retry") && m.receive_count() == 1 {
                return Err(HandlerError::retry(format!("busy ({} bytes)", body.len())));
            }
            if body.starts_with("reject") {
                return Err(HandlerError::reject("rejected by the test"));
            }
            Ok::<_, HandlerError>(())
        }))
        // Bodies in quotes are decoded as JSON numbers (and fail: serde's error quotes
        // the body); others are taken as they are.
        .codec(weir_sqs::codec::FnCodec::new(
            "text/plain",
            |s: &String| -> Result<String, weir_sqs::error::CodecError> { Ok(s.clone()) },
            |b: &str| -> Result<String, weir_sqs::error::CodecError> {
                if b.starts_with('"') {
                    serde_json::from_str::<u32>(b)
                        .map(|n| n.to_string())
                        .map_err(|e| weir_sqs::error::CodecError::decode("json", e))
                } else {
                    Ok(b.to_owned())
                }
            },
        ))
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(1)))
        .dead_letter(&dlq)
        .wait_time(Duration::from_secs(1))
        .build()
        .unwrap();
    let stop = worker.shutdown_handle();
    let task = tokio::spawn(worker.run());
    // 6 messages: 4 acked, 1 rejected, 1 undecodable (both dead-lettered, then acked).
    let start = tokio::time::Instant::now();
    loop {
        let d = q.depth().await.unwrap();
        if d.visible + d.in_flight + d.delayed == 0 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(600), "not drained");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.shutdown();
    let report = task.await.unwrap();
    assert_eq!(report.dead_lettered, 2, "{report:?}");
    assert_eq!(report.retried, 1, "{report:?}");
    assert_eq!(report.acked, 6, "{report:?}");
    // The DLQ keeps the bodies (that is its job), unlogged.
    let dead: Consumer<String, RawString> = Consumer::with_codec(dlq, RawString);
    let got = dead.receive(&ReceiveOptions::default()).await.unwrap();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|m| m.raw_body().contains(MARKER)));
    // A decode error's Display never quotes the body (its source, serde's error, may).
    let e: DecodeError =
        weir_sqs::codec::Decode::<u32>::decode(&weir_sqs::Json, &format!("\"{MARKER}\""))
            .unwrap_err();
    assert!(!e.to_string().contains(MARKER), "{e}");
    // Nor does its Debug, though serde's error (the source) quotes it.
    assert!(!format!("{e:?}").contains(MARKER), "{e:?}");
}

/// Runs `traffic` on a fresh current-thread runtime (paused clock) while capturing the
/// logs of `filter`'s targets on this thread.
fn logs_of(filter: &str, log_bodies: bool) -> String {
    let (logs, guard) = capture(filter);
    // Interest in each callsite is cached process-wide; recompute it now that this
    // thread's subscriber exists, so no event is missed.
    tracing::callsite::rebuild_interest_cache();
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(traffic(log_bodies));
    drop(guard);
    logs.text()
}

const WEIR: &str = "weir_sqs=trace,weir_worker=trace,weir_middleware=trace";

/// The three log captures run one after the other in one test, so only one
/// thread-local subscriber exists at a time.
#[test]
fn logs_never_carry_bodies_unless_turned_on() {
    // 1. weir's own logs at TRACE: no body.
    let text = logs_of(WEIR, false);
    assert!(
        text.lines().count() > 10,
        "the capture works (weir logs at least its worker lifecycle): {text}"
    );
    assert!(text.contains("worker started"), "{text}");
    assert!(text.contains("body does not decode"), "{text}");
    let leaks: Vec<&str> = text.lines().filter(|l| l.contains(MARKER)).collect();
    assert!(
        leaks.is_empty(),
        "bodies in weir's logs:\n{}",
        leaks.join("\n")
    );
    assert_no_secret("weir's logs", &text);

    // 2. ProducerBuilder::log_bodies(true): each sent body is logged, once.
    let text = logs_of(WEIR, true);
    let with_body = text
        .lines()
        .filter(|l| l.contains(MARKER) && l.contains("sending message"))
        .count();
    // 1 send + 3 in a batch + 1 through the batching producer.
    assert_eq!(with_body, 5, "{text}");
    assert_no_secret("weir's logs", &text);

    // 3. Every target at TRACE, the SDK's included: no credential ever appears, and
    //    weir still logs no body. The SDK's own TRACE logs are outside weir's control
    //    (see RELIABILITY.md).
    let text = logs_of("trace", false);
    assert_no_secret("logs at TRACE", &text);
    let weir_lines = text
        .lines()
        .filter(|l| {
            l.contains(MARKER) && (l.contains(" weir_sqs::") || l.contains(" weir_worker::"))
        })
        .count();
    assert_eq!(weir_lines, 0);
    let other: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(MARKER) && !l.contains(" weir_"))
        .collect();
    println!(
        "at TRACE: {} lines, {} lines from other crates carry a body, 0 from weir",
        text.lines().count(),
        other.len()
    );
    for l in other.iter().take(3) {
        let from = l.find(" aws_").unwrap_or(0);
        println!("  {}", l[from..].chars().take(300).collect::<String>());
    }
}
