//! `weir bench`: produce and consume N messages through weir, measure throughput,
//! end-to-end latency, SQS requests per message, duplicates, losses and CPU; optionally
//! against a raw aws-sdk-sqs loop on the same queue (`--baseline raw`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use hdrhistogram::Histogram;
use indicatif::{MultiProgress, ProgressBar};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use weir::sqs::{Producer, Queue, QueueSpec, SendOptions};
use weir::worker::{HandlerError, Message, RateLimiter, Worker, WorkerReport, handler_fn};

use crate::client::{self, Endpoint, RequestCounter};
use crate::commands::shutdown_signal;
use crate::error::{CliError, Result};
use crate::output::Out;
use crate::{Baseline, BenchArgs};

/// The body of a bench message: its id, its send time, and padding to the payload size.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BenchMsg {
    id: u64,
    /// Send time, microseconds since the Unix epoch.
    t: u64,
    pad: String,
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// CPU seconds (user + system) this process has used so far, from /proc/self/stat
/// (Linux; `None` elsewhere). Assumes 100 clock ticks a second, Linux's USER_HZ.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// Which ids were sent, which were processed and how often, and the latencies.
struct Tracker {
    sent: Vec<AtomicBool>,
    seen: Vec<AtomicU32>,
    sent_ok: AtomicU64,
    send_errors: AtomicU64,
    unique: AtomicU64,
    duplicates: AtomicU64,
    foreign: AtomicU64,
    latency_us: Mutex<Histogram<u64>>,
    processed_bar: ProgressBar,
    sent_bar: ProgressBar,
}

impl Tracker {
    fn new(n: u64, sent_bar: ProgressBar, processed_bar: ProgressBar) -> Result<Self> {
        let len = usize::try_from(n).map_err(CliError::other)?;
        let hist = Histogram::new_with_bounds(1, 3_600_000_000, 3).map_err(CliError::other)?;
        Ok(Self {
            sent: (0..len).map(|_| AtomicBool::new(false)).collect(),
            seen: (0..len).map(|_| AtomicU32::new(0)).collect(),
            sent_ok: AtomicU64::new(0),
            send_errors: AtomicU64::new(0),
            unique: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            foreign: AtomicU64::new(0),
            latency_us: Mutex::new(hist),
            processed_bar,
            sent_bar,
        })
    }

    fn sent(&self, id: u64, ok: bool) {
        if ok {
            if let Some(s) = usize::try_from(id).ok().and_then(|i| self.sent.get(i)) {
                s.store(true, Ordering::Relaxed);
            }
            self.sent_ok.fetch_add(1, Ordering::Relaxed);
            self.sent_bar.inc(1);
        } else {
            self.send_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records one processed message (its body's id and send time).
    fn processed(&self, id: u64, sent_us: u64) {
        let latency = now_us().saturating_sub(sent_us).max(1);
        if let Ok(mut h) = self.latency_us.lock() {
            h.saturating_record(latency);
        }
        let Some(seen) = usize::try_from(id).ok().and_then(|i| self.seen.get(i)) else {
            self.foreign.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if seen.fetch_add(1, Ordering::Relaxed) == 0 {
            self.unique.fetch_add(1, Ordering::Relaxed);
            self.processed_bar.inc(1);
        } else {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn processed_raw(&self, body: &str) {
        match serde_json::from_str::<BenchMsg>(body) {
            Ok(m) => self.processed(m.id, m.t),
            Err(_) => {
                self.foreign.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Ids sent successfully and never processed.
    fn lost(&self) -> u64 {
        self.sent
            .iter()
            .zip(&self.seen)
            .filter(|(s, n)| s.load(Ordering::Relaxed) && n.load(Ordering::Relaxed) == 0)
            .count() as u64
    }
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Serialize)]
struct Latency {
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// One phase's figures.
#[derive(Debug, Clone, Serialize)]
struct Phase {
    name: String,
    /// How messages were consumed.
    consumer: String,
    messages: u64,
    sent: u64,
    send_errors: u64,
    processed: u64,
    duplicates: u64,
    /// Sent and never processed, when the run went to its end (or stalled); 0 when
    /// interrupted, where `unprocessed` says what was left.
    lost: u64,
    /// Sent and not processed when the phase ended.
    unprocessed: u64,
    interrupted: bool,
    elapsed_seconds: f64,
    /// When the last send returned (from the start).
    send_seconds: Option<f64>,
    /// Messages sent per second, while sending.
    send_throughput_msg_per_s: Option<f64>,
    throughput_msg_per_s: f64,
    latency: Latency,
    requests: BTreeMap<String, u64>,
    requests_total: u64,
    requests_per_message: f64,
    requests_per_message_by_operation: BTreeMap<String, f64>,
    /// The worker's own report (weir phase only).
    worker: Option<BTreeMap<&'static str, u64>>,
    cpu_seconds: Option<f64>,
    cpu_us_per_message: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
struct Ratios {
    /// weir's throughput over raw's (above 1: weir is faster).
    throughput: f64,
    /// weir's CPU per message over raw's (below 1: weir uses less).
    cpu_per_message: Option<f64>,
    /// weir's requests per message over raw's.
    requests_per_message: f64,
}

#[derive(Debug, Clone, Serialize)]
struct Report {
    endpoint: String,
    queue: String,
    fifo: bool,
    groups: Option<u32>,
    messages: u64,
    payload_bytes: u32,
    producers: u32,
    concurrency: u32,
    rate: Option<f64>,
    handler_ms: u64,
    /// Every message was sent before the consumers started.
    prefill: bool,
    weir: Phase,
    raw: Option<Phase>,
    ratios: Option<Ratios>,
    notes: Vec<String>,
}

/// Everything a phase needs.
struct Setup {
    client: Client,
    queue: Queue,
    counter: RequestCounter,
    args: BenchArgs,
    pad: String,
    out: Out,
    stop: watch::Receiver<bool>,
    /// How long the worker lets a long poll in flight at shutdown complete.
    poll_grace: Duration,
}

fn body_of(id: u64, pad: &str) -> BenchMsg {
    BenchMsg {
        id,
        t: now_us(),
        pad: pad.to_owned(),
    }
}

/// Padding that brings the JSON body to about `payload` bytes.
fn padding(payload: u32, n: u64) -> String {
    let overhead = serde_json::to_string(&BenchMsg {
        id: n,
        t: now_us(),
        pad: String::new(),
    })
    .map_or(40, |s| s.len());
    "x".repeat(
        usize::try_from(payload)
            .unwrap_or(0)
            .saturating_sub(overhead),
    )
}

/// `weir bench`.
pub(crate) async fn run(endpoint: &Endpoint, args: &BenchArgs, json: bool) -> Result<()> {
    if let Some(r) = args.rate
        && !(r.is_finite() && r > 0.0)
    {
        return Err(CliError::Usage(format!(
            "--rate {r}: must be a positive number"
        )));
    }
    let out = Out::new(json);
    let counter = RequestCounter::default();
    let (client, _local) = client::build(endpoint, &counter).await;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let name = format!("weir-bench-{}", &id[..12]);
    let spec = if args.fifo {
        QueueSpec::fifo(format!("{name}.fifo"))
    } else {
        QueueSpec::standard(name)
    }
    .visibility(Duration::from_secs(30));
    let queue = spec.ensure(&client).await?.queue;

    let (stop_tx, stop) = watch::channel(false);
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });

    let setup = Setup {
        client: client.clone(),
        queue: queue.clone(),
        counter: counter.clone(),
        args: args.clone(),
        pad: padding(args.payload_bytes, args.messages),
        out,
        stop: stop.clone(),
        // A remote SQS keeps serving a long poll whose client went away: a message it
        // hands to that poll stays invisible for the visibility timeout, which would stall
        // the next phase. So against an endpoint the worker lets its last polls complete
        // (and releases what they bring); the in-process SQS cancels a dropped poll.
        poll_grace: if endpoint.local {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(20)
        },
    };
    let mut notes = vec![
        "cpu counts the whole process (producers and consumers together)".to_owned(),
        "latency: from the producer stamping the body to the handler seeing it (wall clock)"
            .to_owned(),
    ];
    if endpoint.local {
        notes.push("with --local, cpu includes the in-process SQS itself".to_owned());
    }
    let weir = phase(&setup, Kind::Weir).await;
    let raw = match (args.baseline, weir.as_ref()) {
        (Some(Baseline::Raw), Ok(w)) if !w.interrupted => {
            notes.push(
                "raw: P tasks of SendMessageBatch(10) and 8 tasks of ReceiveMessage(10, 20 s \
                 wait) then DeleteMessageBatch, on the same queue, after weir's phase; --rate \
                 does not apply to it"
                    .to_owned(),
            );
            let cancelled = w
                .worker
                .as_ref()
                .and_then(|r| r.get("polls_cancelled").copied())
                .unwrap_or(0);
            if cancelled > 0 && !endpoint.local {
                // A poll the worker gave up on at shutdown is still open on the server
                // side for a moment: let it expire before the next phase sends.
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            Some(phase(&setup, Kind::Raw).await)
        }
        _ => None,
    };
    signal.abort();
    if !args.keep_queue {
        let _ = client.delete_queue().queue_url(queue.url()).send().await;
    }
    let weir = weir?;
    let raw = raw.transpose()?;
    let ratios = raw.as_ref().map(|r| Ratios {
        throughput: weir.throughput_msg_per_s / r.throughput_msg_per_s.max(f64::MIN_POSITIVE),
        cpu_per_message: match (weir.cpu_us_per_message, r.cpu_us_per_message) {
            (Some(w), Some(r)) if r > 0.0 => Some(w / r),
            _ => None,
        },
        requests_per_message: weir.requests_per_message
            / r.requests_per_message.max(f64::MIN_POSITIVE),
    });
    let report = Report {
        endpoint: if endpoint.local {
            "in-process (--local)".to_owned()
        } else {
            endpoint
                .url
                .clone()
                .unwrap_or_else(|| "aws-config default".to_owned())
        },
        queue: queue.name().to_owned(),
        fifo: args.fifo,
        groups: args.fifo.then_some(args.groups),
        messages: args.messages,
        payload_bytes: args.payload_bytes,
        producers: args.producers,
        concurrency: args.concurrency,
        rate: args.rate,
        handler_ms: args.handler_ms,
        prefill: args.prefill,
        weir,
        raw,
        ratios,
        notes,
    };
    if json {
        out.value(&serde_json::to_value(&report).map_err(CliError::other)?);
    } else {
        print_report(&out, &report);
    }
    let lost = report.weir.lost + report.raw.as_ref().map_or(0, |r| r.lost);
    if report.weir.interrupted || report.raw.as_ref().is_some_and(|r| r.interrupted) {
        Err(CliError::Interrupted)
    } else if lost > 0 {
        Err(CliError::Lost(lost))
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Weir,
    Raw,
}

async fn phase(s: &Setup, kind: Kind) -> Result<Phase> {
    let n = s.args.messages;
    let multi = MultiProgress::with_draw_target(s.out.draw_target());
    let label = match kind {
        Kind::Weir => "weir",
        Kind::Raw => "raw",
    };
    let sent_bar = multi.add(s.out.progress(Some(n), &format!("{label} sent")));
    let processed_bar = multi.add(s.out.progress(Some(n), &format!("{label} done")));
    let tracker = Arc::new(Tracker::new(n, sent_bar.clone(), processed_bar.clone())?);
    let next_id = Arc::new(AtomicU64::new(0));
    let (done_tx, done_rx) = watch::channel(false);

    s.counter.reset();
    let mut cpu0 = cpu_seconds();
    let mut start = tokio::time::Instant::now();

    let mut producers = tokio::task::JoinSet::new();
    for _ in 0..s.args.producers {
        let t = tracker.clone();
        let next = next_id.clone();
        let stop = s.stop.clone();
        let pad = s.pad.clone();
        let fifo = s.args.fifo;
        let groups = u64::from(s.args.groups);
        match kind {
            Kind::Weir => {
                let producer: Producer<BenchMsg> = Producer::new(s.queue.clone());
                producers.spawn(async move {
                    produce_weir(&producer, &t, &next, n, &pad, fifo.then_some(groups), &stop)
                        .await;
                });
            }
            Kind::Raw => {
                let client = s.client.clone();
                let url = s.queue.url().to_owned();
                producers.spawn(async move {
                    produce_raw(
                        &client,
                        &url,
                        &t,
                        &next,
                        n,
                        &pad,
                        fifo.then_some(groups),
                        &stop,
                    )
                    .await;
                });
            }
        }
    }

    // --prefill: every message is in the queue before the consumers start, and the
    // phase's time, CPU and requests count the consumers alone.
    let mut prefilled_in = None;
    if s.args.prefill {
        while producers.join_next().await.is_some() {}
        prefilled_in = Some(start.elapsed());
        s.counter.reset();
        cpu0 = cpu_seconds();
        start = tokio::time::Instant::now();
    }

    let consumer_name;
    let mut consumers = tokio::task::JoinSet::new();
    let mut worker_task = None;
    match kind {
        Kind::Weir => {
            consumer_name = "weir_worker::Worker (handler_fn, batched acks)";
            let mut builder = Worker::builder(s.queue.clone())
                .concurrency(usize::try_from(s.args.concurrency).unwrap_or(64))
                .poll_grace(s.poll_grace);
            if let Some(r) = s.args.rate {
                let limiter = RateLimiter::new(r, 10)
                    .map_err(|e| CliError::Usage(format!("--rate {r}: {e}")))?;
                builder = builder.rate_limit(limiter);
            }
            let t = tracker.clone();
            let handler = Duration::from_millis(s.args.handler_ms);
            let worker = builder
                .handler(handler_fn(move |msg: Message<BenchMsg>| {
                    let t = t.clone();
                    async move {
                        if !handler.is_zero() {
                            tokio::time::sleep(handler).await;
                        }
                        match msg.body() {
                            Ok(b) => t.processed(b.id, b.t),
                            Err(_) => {
                                t.foreign.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Ok::<_, HandlerError>(())
                    }
                }))
                .build()
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let mut done = done_rx.clone();
            worker_task = Some(tokio::spawn(worker.run_until(async move {
                let _ = done.wait_for(|d| *d).await;
            })));
        }
        Kind::Raw => {
            consumer_name = "raw aws-sdk-sqs: 8 tasks, ReceiveMessage(10) then DeleteMessageBatch";
            for _ in 0..8 {
                let client = s.client.clone();
                let url = s.queue.url().to_owned();
                let t = tracker.clone();
                let done = done_rx.clone();
                let handler = Duration::from_millis(s.args.handler_ms);
                consumers.spawn(async move {
                    consume_raw(&client, &url, handler, &t, done).await;
                });
            }
        }
    }

    // Wait until every message sent is processed, or a stall, or Ctrl-C.
    let mut stop = s.stop.clone();
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    let mut last = (0u64, tokio::time::Instant::now());
    let mut interrupted = false;
    let mut sent_at = prefilled_in;
    loop {
        tokio::select! {
            _ = stop.changed() => { interrupted = true; break; }
            _ = tick.tick() => {}
        }
        while producers.try_join_next().is_some() {}
        let producers_done = producers.is_empty();
        if producers_done && sent_at.is_none() {
            sent_at = Some(start.elapsed());
        }
        let unique = tracker.unique.load(Ordering::Relaxed);
        let sent = tracker.sent_ok.load(Ordering::Relaxed);
        let errors = tracker.send_errors.load(Ordering::Relaxed);
        if producers_done && unique >= sent && sent + errors >= n {
            break;
        }
        if unique != last.0 {
            last = (unique, tokio::time::Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(s.args.stall_secs) {
            s.out.warn(format!(
                "{label}: nothing processed for {} s; giving up",
                s.args.stall_secs
            ));
            break;
        }
    }
    let elapsed = start.elapsed();
    let cpu1 = cpu_seconds();
    let _ = done_tx.send(true);
    producers.abort_all();
    // Let the consumers finish their current ack (a long poll is dropped).
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while consumers.join_next().await.is_some() {}
    })
    .await;
    consumers.abort_all();
    let worker_report = match worker_task {
        // The worker flushes its acks and releases what it holds, then reports.
        Some(task) => match tokio::time::timeout(Duration::from_secs(60), task).await {
            Ok(Ok(report)) => Some(worker_summary(&report)),
            _ => None,
        },
        None => None,
    };
    sent_bar.finish_and_clear();
    processed_bar.finish_and_clear();
    let _ = multi.clear();

    let requests = s.counter.snapshot();
    let processed = tracker.unique.load(Ordering::Relaxed);
    let per = |x: u64| if n == 0 { 0.0 } else { x as f64 / n as f64 };
    let total_requests: u64 = requests.values().sum();
    let latency = {
        let h = tracker
            .latency_us
            .lock()
            .map_err(|_| CliError::Other("latency histogram poisoned".into()))?;
        let ms = |v: u64| v as f64 / 1000.0;
        Latency {
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    };
    let cpu = match (cpu0, cpu1) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let secs = elapsed.as_secs_f64();
    Ok(Phase {
        name: label.to_owned(),
        consumer: consumer_name.to_owned(),
        messages: n,
        sent: tracker.sent_ok.load(Ordering::Relaxed),
        send_errors: tracker.send_errors.load(Ordering::Relaxed),
        processed,
        duplicates: tracker.duplicates.load(Ordering::Relaxed),
        lost: if interrupted { 0 } else { tracker.lost() },
        unprocessed: tracker.lost(),
        interrupted,
        elapsed_seconds: secs,
        send_seconds: sent_at.map(|d| d.as_secs_f64()),
        send_throughput_msg_per_s: sent_at
            .map(|d| d.as_secs_f64())
            .filter(|s| *s > 0.0)
            .map(|s| tracker.sent_ok.load(Ordering::Relaxed) as f64 / s),
        throughput_msg_per_s: if secs > 0.0 {
            processed as f64 / secs
        } else {
            0.0
        },
        latency,
        requests_per_message_by_operation: requests
            .iter()
            .map(|(k, v)| (k.clone(), per(*v)))
            .collect(),
        requests,
        requests_total: total_requests,
        requests_per_message: per(total_requests),
        worker: worker_report,
        cpu_seconds: cpu,
        cpu_us_per_message: cpu.map(|c| {
            if processed == 0 {
                0.0
            } else {
                c * 1e6 / processed as f64
            }
        }),
    })
}

fn worker_summary(r: &WorkerReport) -> BTreeMap<&'static str, u64> {
    BTreeMap::from([
        ("received", r.received),
        ("acked", r.acked),
        ("retried", r.retried),
        ("dead_lettered", r.dead_lettered),
        ("decode_failures", r.decode_failures),
        ("possible_duplicates", r.possible_duplicates),
        ("ack_failures", r.ack_failures),
        ("empty_polls", r.empty_polls),
        ("poll_errors", r.poll_errors),
        ("polls_cancelled", r.polls_cancelled),
        ("sqs_requests", r.sqs_requests),
    ])
}

/// Takes the next chunk of at most 10 ids, or `None` when all are taken.
fn next_chunk(next: &AtomicU64, n: u64) -> Option<std::ops::Range<u64>> {
    let from = next.fetch_add(10, Ordering::Relaxed);
    (from < n).then(|| from..(from + 10).min(n))
}

fn fifo_options(id: u64, groups: Option<u64>) -> SendOptions {
    match groups {
        Some(g) => SendOptions::default()
            .with_group_id(format!("g{}", id % g.max(1)))
            .with_dedup_id(format!("weir-{id}")),
        None => SendOptions::default(),
    }
}

async fn produce_weir(
    producer: &Producer<BenchMsg>,
    t: &Tracker,
    next: &AtomicU64,
    n: u64,
    pad: &str,
    groups: Option<u64>,
    stop: &watch::Receiver<bool>,
) {
    while let Some(ids) = next_chunk(next, n) {
        if *stop.borrow() {
            return;
        }
        let bodies: Vec<BenchMsg> = ids.clone().map(|id| body_of(id, pad)).collect();
        let results = producer
            .send_batch_with(bodies.iter().map(|b| (b, fifo_options(b.id, groups))))
            .await;
        for (b, r) in bodies.iter().zip(&results) {
            if let Err(e) = r {
                tracing::warn!(id = b.id, error = %e, "bench: send failed");
            }
            t.sent(b.id, r.is_ok());
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn produce_raw(
    client: &Client,
    url: &str,
    t: &Tracker,
    next: &AtomicU64,
    n: u64,
    pad: &str,
    groups: Option<u64>,
    stop: &watch::Receiver<bool>,
) {
    while let Some(ids) = next_chunk(next, n) {
        if *stop.borrow() {
            return;
        }
        let mut entries = Vec::new();
        for id in ids.clone() {
            let body = serde_json::to_string(&body_of(id, pad)).unwrap_or_default();
            let mut e = SendMessageBatchRequestEntry::builder()
                .id(id.to_string())
                .message_body(body);
            if let Some(g) = groups {
                e = e
                    .message_group_id(format!("g{}", id % g.max(1)))
                    // Not the weir phase's ids: FIFO queues drop a dedup id seen in
                    // the last 5 minutes.
                    .message_deduplication_id(format!("raw-{id}"));
            }
            if let Ok(e) = e.build() {
                entries.push(e);
            }
        }
        match client
            .send_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(out) => {
                for s in out.successful() {
                    t.sent(s.id().parse().unwrap_or(u64::MAX), true);
                }
                for _ in out.failed() {
                    t.sent(0, false);
                }
            }
            Err(_) => {
                for _ in ids {
                    t.sent(0, false);
                }
            }
        }
    }
}

async fn consume_raw(
    client: &Client,
    url: &str,
    handler: Duration,
    t: &Tracker,
    mut done: watch::Receiver<bool>,
) {
    loop {
        if *done.borrow() {
            return;
        }
        let received = tokio::select! {
            _ = done.changed() => return,
            r = client
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(20)
                .send() => r,
        };
        let Ok(out) = received else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            continue;
        }
        if !handler.is_zero() {
            tokio::time::sleep(handler).await;
        }
        let mut entries = Vec::with_capacity(messages.len());
        for (i, m) in messages.iter().enumerate() {
            t.processed_raw(m.body().unwrap_or_default());
            if let Ok(e) = DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .build()
            {
                entries.push(e);
            }
        }
        let _ = client
            .delete_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await;
    }
}

fn print_phase(out: &Out, p: &Phase) {
    out.line(format!("{} ({})", p.name, p.consumer));
    out.line(format!(
        "  throughput    {:.0} msg/s ({} processed in {:.2} s)",
        p.throughput_msg_per_s, p.processed, p.elapsed_seconds
    ));
    if let (Some(secs), Some(rate)) = (p.send_seconds, p.send_throughput_msg_per_s) {
        out.line(format!(
            "  sending       {rate:.0} msg/s (all sent in {secs:.2} s)"
        ));
    }
    out.line(format!(
        "  latency       p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        p.latency.p50_ms, p.latency.p90_ms, p.latency.p99_ms, p.latency.max_ms
    ));
    let by_op: Vec<String> = p
        .requests_per_message_by_operation
        .iter()
        .map(|(k, v)| format!("{k} {v:.3}"))
        .collect();
    out.line(format!(
        "  requests/msg  {:.3} ({})",
        p.requests_per_message,
        by_op.join(", ")
    ));
    out.line(format!(
        "  messages      sent {}  send errors {}  duplicates {}  lost {}{}{}",
        p.sent,
        p.send_errors,
        p.duplicates,
        p.lost,
        if p.interrupted { "  (interrupted)" } else { "" },
        if p.unprocessed > p.lost {
            format!("  unprocessed {}", p.unprocessed)
        } else {
            String::new()
        }
    ));
    match (p.cpu_seconds, p.cpu_us_per_message) {
        (Some(c), Some(per)) => out.line(format!("  cpu           {c:.2} s ({per:.1} µs/msg)")),
        _ => out.line("  cpu           n/a (needs /proc/self/stat)"),
    }
}

fn print_report(out: &Out, r: &Report) {
    out.line(format!(
        "weir bench: {} messages of {} B, {} producers, concurrency {}, {} queue{}, endpoint {}",
        r.messages,
        r.payload_bytes,
        r.producers,
        r.concurrency,
        if r.fifo { "FIFO" } else { "standard" },
        r.groups
            .map(|g| format!(" ({g} groups)"))
            .unwrap_or_default(),
        r.endpoint
    ));
    if r.prefill {
        out.line("prefilled: every message was sent before the consumers started; time, cpu and requests count the consumers alone");
    }
    if let Some(rate) = r.rate {
        out.line(format!("rate limit {rate} msg/s (received)"));
    }
    print_phase(out, &r.weir);
    if let Some(raw) = &r.raw {
        print_phase(out, raw);
    }
    if let (Some(x), Some(raw)) = (&r.ratios, &r.raw) {
        out.line("weir / raw");
        out.line(format!("  throughput    x{:.2}", x.throughput));
        match x.cpu_per_message {
            Some(c) => out.line(format!("  cpu/msg       x{c:.2}")),
            None => out.line("  cpu/msg       n/a"),
        }
        out.line(format!(
            "  requests/msg  {:.3} vs {:.3} (x{:.2})",
            r.weir.requests_per_message, raw.requests_per_message, x.requests_per_message
        ));
    }
    for n in &r.notes {
        out.line(format!("note: {n}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_brings_the_body_to_the_payload_size() {
        let pad = padding(256, 100_000);
        let body = serde_json::to_string(&body_of(99_999, &pad)).unwrap();
        assert!((250..=262).contains(&body.len()), "{}", body.len());
    }

    #[test]
    fn chunks_cover_every_id_once() {
        let next = AtomicU64::new(0);
        let mut ids = Vec::new();
        while let Some(r) = next_chunk(&next, 25) {
            ids.extend(r);
        }
        assert_eq!(ids, (0..25).collect::<Vec<_>>());
    }

    #[test]
    fn cpu_seconds_reads_proc_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(cpu_seconds().is_some_and(|c| c >= 0.0));
        }
    }

    #[test]
    fn duplicates_and_losses_are_counted() {
        let t = Tracker::new(3, ProgressBar::hidden(), ProgressBar::hidden()).unwrap();
        for id in 0..3 {
            t.sent(id, true);
        }
        t.processed(0, now_us());
        t.processed(0, now_us());
        t.processed(2, now_us());
        t.processed(7, now_us());
        assert_eq!(t.unique.load(Ordering::Relaxed), 2);
        assert_eq!(t.duplicates.load(Ordering::Relaxed), 1);
        assert_eq!(t.foreign.load(Ordering::Relaxed), 1);
        assert_eq!(t.lost(), 1);
    }
}
