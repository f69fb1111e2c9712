//! Worker throughput with a no-op handler, beside a raw aws-sdk-sqs loop on the same
//! SQS (8 tasks, each ReceiveMessage(10) then DeleteMessageBatch), with SQS requests
//! per processed message counted by an SDK interceptor, and the process's CPU time per
//! message (Linux: summed over its threads from `/proc/self/task/*/schedstat`).
//!
//! Run with `cargo bench -p weir-worker --bench throughput`. The in-process SQS is
//! always measured, unless `WEIR_BENCH_LOCAL=off`; LocalStack too when
//! `WEIR_BENCH_ENDPOINT` is set (e.g. `http://127.0.0.1:4566`). `WEIR_BENCH_N` sets the
//! message count (default 40 000 in-process, 5 000 on LocalStack), `WEIR_BENCH_ROUNDS`
//! the rounds (default 6: three in each order), `WEIR_BENCH_CONCURRENCY` and
//! `WEIR_BENCH_POLLERS` the worker's settings (200 and 8), `WEIR_BENCH_LEASE=off` turns
//! leases off, and `WEIR_BENCH_ONLY=raw|worker` runs one side only (for profiling).

#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use tokio::time::Instant;
use weir_sqs::RequestCounter;
use weir_worker::{HandlerError, Message, Worker, handler_fn};

async fn fill(client: &Client, url: &str, n: usize) {
    let bodies: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let chunks: Vec<Vec<String>> = bodies.chunks(10).map(<[String]>::to_vec).collect();
    let chunks = Arc::new(Mutex::new(chunks));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, url, chunks) = (client.clone(), url.to_owned(), chunks.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(chunk) = chunks.lock().unwrap().pop() else {
                    return;
                };
                let entries = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .message_body(b)
                            .build()
                            .unwrap()
                    })
                    .collect::<Vec<_>>();
                client
                    .send_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

async fn create(client: &Client, name: &str) -> String {
    client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap()
}

/// The raw loop: 8 tasks of ReceiveMessage(10) + DeleteMessageBatch until `n` are done.
async fn raw(client: &Client, url: &str, n: usize) -> (Duration, Duration) {
    let cpu_start = cpu_time();
    let cpu_end: Arc<Mutex<Option<Duration>>> = Arc::default();
    let done = Arc::new(AtomicU64::new(0));
    // When the last delete completed (tasks may still sit in an idle long poll after).
    let end: Arc<Mutex<Option<Instant>>> = Arc::default();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, url, done, end, cpu_end) = (
            client.clone(),
            url.to_owned(),
            done.clone(),
            end.clone(),
            cpu_end.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while done.load(Ordering::Relaxed) < n as u64 {
                let out = client
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(1)
                    .send()
                    .await
                    .unwrap();
                let msgs = out.messages.unwrap_or_default();
                if msgs.is_empty() {
                    continue;
                }
                let entries = msgs
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        DeleteMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .receipt_handle(m.receipt_handle().unwrap())
                            .build()
                            .unwrap()
                    })
                    .collect::<Vec<_>>();
                client
                    .delete_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .unwrap();
                let total =
                    done.fetch_add(msgs.len() as u64, Ordering::Relaxed) + msgs.len() as u64;
                if total >= n as u64 && end.lock().unwrap().is_none() {
                    *end.lock().unwrap() = Some(Instant::now());
                    *cpu_end.lock().unwrap() = cpu_time();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let end = end.lock().unwrap().unwrap_or_else(Instant::now);
    let cpu = match (cpu_start, *cpu_end.lock().unwrap()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    (end - start, cpu)
}

/// CPU time this process has used so far, summed over its threads (Linux
/// `/proc/self/task/*/schedstat`, nanoseconds on CPU); `None` elsewhere.
fn cpu_time() -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path().join("schedstat");
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // the thread exited meanwhile
        };
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The worker with a no-op handler until `n` are acked.
async fn worker(
    queue: weir_sqs::Queue,
    n: usize,
) -> (Duration, Duration, weir_worker::WorkerReport) {
    let handled = Arc::new(AtomicU64::new(0));
    let all_handled = Arc::new(tokio::sync::Notify::new());
    let (h, all) = (handled.clone(), all_handled.clone());
    let mut builder = Worker::builder(queue);
    if std::env::var("WEIR_BENCH_LEASE").as_deref() == Ok("off") {
        builder = builder.lease(weir_worker::Lease::disabled());
    }
    let worker = builder
        .handler(handler_fn(move |_m: Message<u64>| {
            if h.fetch_add(1, Ordering::Relaxed) + 1 == n as u64 {
                all.notify_one();
            }
            std::future::ready(Ok::<_, HandlerError>(()))
        }))
        .concurrency(env_or("WEIR_BENCH_CONCURRENCY", 200))
        .pollers(env_or("WEIR_BENCH_POLLERS", 8))
        .wait_time(Duration::from_secs(1))
        .build()
        .unwrap();
    let handle = worker.handle();
    let cpu_start = cpu_time();
    let start = Instant::now();
    let task = tokio::spawn(worker.run());
    // Done when every message was handled and its delete completed (a slot is held
    // until its ack is flushed, so in-flight 0 means all deletes are done). Shutdown
    // (which waits out idle long polls) is not timed. Waiting is a notification, then
    // a short poll for the last deletes, so that the bench costs the worker no CPU.
    all_handled.notified().await;
    while handled.load(Ordering::Relaxed) < n as u64 || handle.health().in_flight > 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let took = start.elapsed();
    let cpu = match (cpu_start, cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    handle.shutdown();
    let report = task.await.unwrap();
    (took, cpu, report)
}

struct Round {
    raw_rate: f64,
    raw_per_msg: f64,
    raw_ops: String,
    /// Process CPU per message, in microseconds.
    raw_cpu: f64,
    worker_cpu: f64,
    worker_rate: f64,
    worker_per_msg: f64,
    worker_ops: String,
}

async fn round(client: &Client, requests: &RequestCounter, n: usize, i: usize) -> Round {
    let tag = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let raw_url = create(client, &format!("bench-raw-{tag}-{nanos}-{i}")).await;
    let worker_url = create(client, &format!("bench-worker-{tag}-{nanos}-{i}")).await;
    fill(client, &raw_url, n).await;
    fill(client, &worker_url, n).await;

    // WEIR_BENCH_ONLY=worker skips the raw loop (for profiling); =raw skips the worker.
    let only = std::env::var("WEIR_BENCH_ONLY").unwrap_or_default();
    // Open the queue before counting: its GetQueueAttributes is setup, not work.
    let queue = weir_sqs::Queue::from_url(client, &worker_url)
        .await
        .unwrap();
    let run_raw = async || {
        requests.reset();
        let out = if only == "worker" {
            (Duration::from_secs(1), Duration::ZERO)
        } else {
            raw(client, &raw_url, n).await
        };
        (out, requests.total(), requests.to_string())
    };
    let run_worker = async || {
        requests.reset();
        let out = if only == "raw" {
            (
                Duration::from_secs(1),
                Duration::ZERO,
                weir_worker::WorkerReport::default(),
            )
        } else {
            worker(queue.clone(), n).await
        };
        (out, requests.total(), requests.to_string())
    };
    // The second run of a round is slower (the first leaves the allocator and the
    // engine busier), so odd rounds run the worker first.
    let (raw_out, worker_out) = if i.is_multiple_of(2) {
        let r = run_raw().await;
        (r, run_worker().await)
    } else {
        let w = run_worker().await;
        (run_raw().await, w)
    };
    let ((raw_time, raw_cpu), raw_requests, raw_ops) = raw_out;
    let ((worker_time, worker_cpu, report), worker_requests, worker_ops) = worker_out;
    assert!(only == "raw" || report.acked == n as u64, "{report:?}");
    assert_eq!(report.possible_duplicates, 0);

    let _ = client.delete_queue().queue_url(raw_url).send().await;
    let _ = client.delete_queue().queue_url(worker_url).send().await;
    Round {
        raw_rate: n as f64 / raw_time.as_secs_f64(),
        raw_per_msg: raw_requests as f64 / n as f64,
        raw_ops,
        raw_cpu: raw_cpu.as_secs_f64() * 1e6 / n as f64,
        worker_cpu: worker_cpu.as_secs_f64() * 1e6 / n as f64,
        worker_rate: n as f64 / worker_time.as_secs_f64(),
        worker_per_msg: worker_requests as f64 / n as f64,
        worker_ops,
    }
}

/// Rounds of raw and worker back to back (six by default), in alternating order. The
/// summary gives the geometric mean of the per-round ratios (which cancels the cost of
/// running second), and the best of each side.
async fn compare(
    label: &str,
    client: &Client,
    requests: &RequestCounter,
    n: usize,
    target: f64,
    cpu_target: &str,
) {
    println!(
        "== {label}: {n} messages per run, {} rounds (raw first in even rounds, worker first in odd ones)",
        env_or("WEIR_BENCH_ROUNDS", 6)
    );
    let mut rounds = Vec::new();
    for i in 0..env_or("WEIR_BENCH_ROUNDS", 6) {
        let r = round(client, requests, n, i).await;
        println!(
            "round {i}: raw {:>8.0} msg/s {:.3} req/msg {:.1} µs CPU/msg [{}] | worker {:>8.0} msg/s {:.3} req/msg {:.1} µs CPU/msg [{}]",
            r.raw_rate,
            r.raw_per_msg,
            r.raw_cpu,
            r.raw_ops,
            r.worker_rate,
            r.worker_per_msg,
            r.worker_cpu,
            r.worker_ops
        );
        rounds.push(r);
    }
    let best_raw = rounds.iter().map(|r| r.raw_rate).fold(0.0, f64::max);
    let best_worker = rounds.iter().map(|r| r.worker_rate).fold(0.0, f64::max);
    let per_msg = rounds.iter().map(|r| r.worker_per_msg).fold(0.0, f64::max);
    println!(
        "best: raw loop (8 tasks, ReceiveMessage(10) + DeleteMessageBatch) {best_raw:.0} msg/s; \
         worker (no-op handler, concurrency 200, 8 pollers) {best_worker:.0} msg/s"
    );
    // The side that runs second in a round runs slower (the first leaves the heap and
    // the engine busier), so rounds alternate the order, and the geometric mean of
    // the per-round ratios over both orders cancels that out.
    let geomean = |xs: &[f64]| (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp();
    let ratios: Vec<f64> = rounds.iter().map(|r| r.worker_rate / r.raw_rate).collect();
    let cpu_ratios: Vec<f64> = rounds.iter().map(|r| r.worker_cpu / r.raw_cpu).collect();
    let min_cpu = |f: fn(&Round) -> f64| rounds.iter().map(f).fold(f64::INFINITY, f64::min);
    println!(
        "process CPU per message: raw {:.1} µs, worker {:.1} µs (least of rounds); worker / raw, geometric mean of rounds {:.2} (target <= {cpu_target})",
        min_cpu(|r| r.raw_cpu),
        min_cpu(|r| r.worker_cpu),
        geomean(&cpu_ratios)
    );
    println!(
        "worker / raw throughput: geometric mean of rounds {:.2}, best vs best {:.2} (target >= {target}); worker SQS requests per message <= {per_msg:.3} (target <= 0.21)",
        geomean(&ratios),
        best_worker / best_raw,
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let n_env = std::env::var("WEIR_BENCH_N")
            .ok()
            .and_then(|v| v.parse().ok());

        // WEIR_BENCH_LOCAL=off skips the in-process SQS (to measure LocalStack alone).
        let local_on = std::env::var("WEIR_BENCH_LOCAL").as_deref() != Ok("off");
        let requests = RequestCounter::new();
        let local = weir_local::LocalSqs::new();
        let conf = local.config_builder().interceptor(requests.clone()).build();
        let client = Client::from_conf(conf);
        if local_on {
            compare(
                "in-process SQS",
                &client,
                &requests,
                n_env.unwrap_or(40_000),
                0.75,
                "none; the engine shares the process",
            )
            .await;
        }

        if let Ok(endpoint) = std::env::var("WEIR_BENCH_ENDPOINT") {
            let requests = RequestCounter::new();
            let conf = aws_sdk_sqs::Config::builder()
                .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
                .region(aws_sdk_sqs::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                    "test", "test", None, None, "bench",
                ))
                .endpoint_url(endpoint)
                .interceptor(requests.clone())
                .build();
            let client = Client::from_conf(conf);
            compare(
                "LocalStack",
                &client,
                &requests,
                n_env.unwrap_or(5_000),
                0.9,
                "1.25",
            )
            .await;
        }
    });
}
