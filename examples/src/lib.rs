//! Shared plumbing for weir's runnable examples (`examples/examples/*.rs`).
//!
//! Run one with `cargo run --example NAME`. Every example runs on the in-process SQS
//! (`weir::local`) unless the environment points at a real endpoint; [`client`] makes
//! that choice, in one place, and says which it made.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::time::Duration;

use weir::aws_sdk_sqs::Client;
use weir::sqs::Queue;

/// The environment variables that switch the examples to a real SQS.
const REMOTE_ENV: [&str; 4] = [
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
];

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Chooses where the example runs, and says so on stdout.
///
/// - If `AWS_ENDPOINT_URL_SQS` or `AWS_ENDPOINT_URL` (LocalStack), or credentials
///   (`AWS_ACCESS_KEY_ID`, `AWS_PROFILE`) are set, the client is [`weir::client`]'s:
///   the standard AWS chain, exactly as a service would build it.
/// - Otherwise it is the in-process SQS: `weir::local::LocalSqs::new().client()`.
///
/// `WEIR_EXAMPLES_TARGET=local` forces the in-process SQS even when those are set.
pub async fn client() -> Client {
    let forced_local = env("WEIR_EXAMPLES_TARGET").is_some_and(|v| v == "local");
    if forced_local || !REMOTE_ENV.iter().any(|name| env(name).is_some()) {
        println!("target: the in-process SQS (weir::local)");
        println!(
            "        (set AWS_ENDPOINT_URL=http://127.0.0.1:4566 to use LocalStack; see examples/README.md)"
        );
        return weir::local::LocalSqs::new().client();
    }
    match env("AWS_ENDPOINT_URL_SQS").or_else(|| env("AWS_ENDPOINT_URL")) {
        Some(url) => println!("target: SQS at {url}"),
        None => println!("target: AWS SQS (default credential chain)"),
    }
    weir::client().await
}

/// [`client`]'s choice for an example that also publishes to SNS topics: both clients
/// of the same target (one in-process engine answers both, or the standard chain's
/// endpoints, `AWS_ENDPOINT_URL_SNS` / `AWS_ENDPOINT_URL`).
pub async fn clients_with_sns() -> (Client, weir::aws_sdk_sns::Client) {
    let forced_local = env("WEIR_EXAMPLES_TARGET").is_some_and(|v| v == "local");
    if forced_local || !REMOTE_ENV.iter().any(|name| env(name).is_some()) {
        println!("target: the in-process SQS and SNS (weir::local)");
        let local = weir::local::LocalSqs::new();
        return (local.client(), local.sns_client());
    }
    (client().await, weir::sns_client().await)
}

/// [`client`]'s choice for an example that also keeps payloads in S3: both clients of
/// the same target (one in-process engine answers both; or the standard chain, with
/// path-style addressing when an endpoint such as LocalStack's is set).
pub async fn clients_with_s3() -> (Client, weir::aws_sdk_s3::Client) {
    let forced_local = env("WEIR_EXAMPLES_TARGET").is_some_and(|v| v == "local");
    if forced_local || !REMOTE_ENV.iter().any(|name| env(name).is_some()) {
        println!("target: the in-process SQS and S3 (weir::local)");
        let local = weir::local::LocalSqs::new();
        return (local.client(), local.s3_client());
    }
    let sqs = client().await;
    let config = weir::aws_config::load_defaults(weir::aws_config::BehaviorVersion::latest()).await;
    let endpoint = env("AWS_ENDPOINT_URL_S3").or_else(|| env("AWS_ENDPOINT_URL"));
    let s3 = weir::aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(endpoint.is_some())
        .build();
    (sqs, weir::aws_sdk_s3::Client::from_conf(s3))
}

/// Deletes the queues an example created, so runs against LocalStack or AWS leave
/// nothing behind. Failures are reported and otherwise ignored.
pub async fn delete_queues(queues: &[&Queue]) {
    for queue in queues {
        let result = queue
            .client()
            .delete_queue()
            .queue_url(queue.url())
            .send()
            .await;
        if let Err(e) = result {
            eprintln!(
                "note: could not delete queue {}: {}",
                queue.name(),
                weir::aws_sdk_sqs::error::DisplayErrorContext(e)
            );
        }
    }
}

/// Completes on Ctrl-C (SIGINT). If the signal handler cannot be installed, it never
/// completes, so the example still ends by its own rules.
pub async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Counts the messages in a queue: visible + in flight + delayed.
///
/// # Errors
///
/// The `GetQueueAttributes` error.
pub async fn count(queue: &Queue) -> weir::sqs::Result<u64> {
    let depth = queue.depth().await?;
    Ok(depth.visible + depth.in_flight + depth.delayed)
}

/// A worker's stop signal for a demo: completes once `queue` holds no message at all
/// (checked every 100 ms: a message being handled, retried or dead-lettered still
/// counts until it is deleted), or on Ctrl-C, whichever comes first.
pub async fn until_drained(queue: &Queue) {
    let drained = async {
        while !matches!(count(queue).await, Ok(0)) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::select! {
        () = drained => {}
        () = ctrl_c() => println!("Ctrl-C: stopping (unfinished messages go back to the queue)"),
    }
}

/// Why a dead-lettered message is in `dlq`: the attributes the worker attached
/// (`weir.dlq.reason`, `weir.dlq.error`, `weir.dlq.attempts`), one line per message.
/// It reads every message without deleting it, and makes them visible again at the end.
///
/// # Errors
///
/// The `ReceiveMessage` or `ChangeMessageVisibilityBatch` error.
pub async fn dead_letter_reasons(dlq: &Queue) -> weir::sqs::Result<Vec<String>> {
    use weir::sqs::{Consumer, RawString, ReceiveOptions};
    use weir::worker::dlq_attributes::{ATTEMPTS, ERROR, REASON};
    let consumer = Consumer::with_codec(dlq.clone(), RawString);
    let options = ReceiveOptions::default()
        .with_wait(Duration::from_secs(1))
        .with_visibility(Duration::from_secs(60));
    let mut seen = Vec::new();
    loop {
        let batch = consumer.receive(&options).await?;
        if batch.is_empty() {
            break;
        }
        seen.extend(batch);
    }
    let attr = |m: &weir::sqs::Message<String>, name| m.attribute(name).unwrap_or("-").to_owned();
    let reasons = seen
        .iter()
        .map(|m| {
            format!(
                "{} after {} deliveries: {}",
                attr(m, REASON),
                attr(m, ATTEMPTS),
                attr(m, ERROR)
            )
        })
        .collect();
    for r in consumer
        .change_visibility_batch(&seen, Duration::ZERO)
        .await
    {
        r?;
    }
    Ok(reasons)
}
