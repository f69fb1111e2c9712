//! Process-level chaos against LocalStack (feature `localstack`), in real time:
//!
//! 1. a worker process (`weir-test-worker`) killed with SIGKILL three times during a run
//!    and restarted each time: nothing lost, duplicates at most the messages a process
//!    held when it died;
//! 2. a worker process asked to stop in the middle of a run: it exits within its
//!    shutdown timeout, nothing left in flight (see the note on SIGTERM below);
//! 3. LocalStack unreachable for 10 s in the middle of a run: a TCP proxy in the test
//!    between an in-process worker and LocalStack is cut (open connections reset, new
//!    ones refused) and restored; the worker backs off, its readiness turns false, then
//!    it recovers and nothing is lost. The shared LocalStack on 4566 is never stopped.
//!
//! Sizes: the SIGKILL run uses the full 20 000 messages: one test-worker process handles
//! ~500 messages/s against LocalStack, so the run takes ~45 s (see RELIABILITY.md).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
#![cfg(feature = "localstack")]

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName as A;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use weir_integration_tests::queues::{counts, create_queue, send};
use weir_integration_tests::{
    Clock, eventually, localstack_client, localstack_client_at, localstack_endpoint, unique_name,
};
use weir_sqs::Queue;
use weir_worker::{HandlerError, Message, Worker, handler_fn};

type Seen = Arc<Mutex<HashMap<String, u32>>>;

/// Sends `ids` as bodies in 8 parallel parts, each in batches of 10.
async fn send_in_parallel(client: &Client, url: &str, ids: &[String]) {
    let mut tasks = tokio::task::JoinSet::new();
    for part in ids.chunks(ids.len().div_ceil(8).max(1)) {
        let (client, url, part) = (client.clone(), url.to_owned(), part.to_vec());
        tasks.spawn(async move { send(&client, &url, part).await });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
}

fn spawn_worker(url: &str, visibility: u32, delay_ms: u32) -> Child {
    Command::new(env!("CARGO_BIN_EXE_weir-test-worker"))
        .args([url, &visibility.to_string(), &delay_ms.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads a worker process's stdout (one handled id per line) into `seen`, and keeps its
/// stderr (the final `WorkerReport`) for the test's output.
fn collect(child: &mut Child, seen: Seen) -> std::thread::JoinHandle<String> {
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let errs = std::thread::spawn(move || {
        let mut s = String::new();
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            s.push_str(&line);
            s.push('\n');
        }
        s
    });
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(id) = line else { break };
            *seen.lock().unwrap().entry(id).or_default() += 1;
        }
        errs.join().unwrap_or_default()
    })
}

fn handled(seen: &Seen) -> usize {
    seen.lock().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_three_times_loses_nothing() {
    const N: usize = 20_000;
    const VISIBILITY: u32 = 3;
    let client = localstack_client().await;
    let q = create_queue(
        &client,
        &unique_name("chaos-kill"),
        &[(A::VisibilityTimeout, &VISIBILITY.to_string())],
    )
    .await;
    let ids: Vec<String> = (0..N).map(|i| format!("id-{i}")).collect();
    let t0 = Instant::now();
    send_in_parallel(&client, q.url(), &ids).await;
    let sent_in = t0.elapsed();

    let seen: Seen = Arc::default();
    let mut kills = Vec::new();
    let start = Instant::now();
    for k in 1..=3 {
        let mut child = spawn_worker(q.url(), VISIBILITY, 0);
        let reader = collect(&mut child, seen.clone());
        let target = N * k / 4;
        let met = eventually(Duration::from_secs(120), || async {
            handled(&seen) >= target
        });
        assert!(met.await, "worker {k} reaches {target}: not within 120 s");
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(!status.success(), "killed: {status:?}");
        let _ = reader.join().unwrap();
        kills.push(handled(&seen));
    }
    // The fourth process finishes the run.
    let mut last = spawn_worker(q.url(), VISIBILITY, 0);
    let reader = collect(&mut last, seen.clone());
    let all: BTreeSet<String> = ids.iter().cloned().collect();
    let met = eventually(Duration::from_secs(180), || async {
        handled(&seen) == N && counts(&client, q.url()).await == (0, 0, 0)
    });
    assert!(
        met.await,
        "every id handled and the queue empty: not within 180 s"
    );
    let took = start.elapsed();
    drop(last.stdin.take()); // graceful stop
    assert!(last.wait().unwrap().success());
    let report = reader.join().unwrap();

    let seen = seen.lock().unwrap();
    let got: BTreeSet<String> = seen.keys().cloned().collect();
    let lost: Vec<&String> = all.difference(&got).take(10).collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(got.is_subset(&all));
    let duplicates: u32 = seen.values().map(|c| c - 1).sum();
    println!(
        "| SIGKILL ×3 | {N} | {} | {duplicates} | {} | sent in {sent_in:?}, handled in {took:?}, kills at {kills:?} |",
        got.len(),
        N - got.len()
    );
    println!("last worker: {report}");
    // A killed process held at most its concurrency (10) messages handled but not yet
    // deleted (a slot is freed only after the delete): 3 kills, at most 30 duplicates.
    assert!(duplicates <= 30, "{duplicates} duplicates");
}

/// A real SIGTERM mid-run: the test worker's handler starts the lossless shutdown
/// (`ShutdownHandle`); the process must exit within its shutdown timeout (30 s, the
/// default) with nothing left in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_mid_run_exits_in_time_with_nothing_in_flight() {
    const N: usize = 2000;
    let client = localstack_client().await;
    let q = create_queue(
        &client,
        &unique_name("chaos-stop"),
        &[(A::VisibilityTimeout, "30")],
    )
    .await;
    let ids: Vec<String> = (0..N).map(|i| format!("id-{i}")).collect();
    send_in_parallel(&client, q.url(), &ids).await;
    let seen: Seen = Arc::default();
    // 1 s per message, 10 at a time.
    let mut child = spawn_worker(q.url(), 30, 1000);
    let reader = collect(&mut child, seen.clone());
    let met = eventually(Duration::from_secs(60), || async { handled(&seen) >= 30 });
    assert!(met.await, "worker starts handling: not within 60 s");
    // Not a wait for a condition: it puts the stop in the middle of the next batch's
    // handlers (they run 1 s), so the shutdown has running handlers to wait for.
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Keep stdin open (`Child::wait` would close it, which also stops the worker), so
    // only the signal can stop it.
    let stdin = child.stdin.take();
    let stopped = Instant::now();
    let pid = child.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success(), "kill -TERM {pid}: {kill:?}");
    // Its shutdown timeout is the default 30 s; running handlers need under 1 s more.
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let took = stopped.elapsed();
    drop(stdin);
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(30), "exit took {took:?}");
    let report = reader.join().unwrap();
    let (visible, in_flight, delayed) = counts(&client, q.url()).await;
    let visible = visible + delayed;
    let handled = handled(&seen);
    println!(
        "| SIGTERM mid-run | {N} | {handled} handled, exit in {took:?} | in flight after: {in_flight} | visible {visible} |"
    );
    println!("worker: {report}");
    assert!(report.contains("SIGTERM: shutting down"), "{report}");
    assert_eq!(in_flight, 0, "nothing left in flight: {report}");
    assert_eq!(visible as usize + handled, N, "{report}");
}

/// A TCP proxy that can be cut: while cut, open connections are closed and new ones are
/// accepted and closed at once.
struct Proxy {
    addr: std::net::SocketAddr,
    cut: Arc<AtomicBool>,
    epoch: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let epoch = Arc::new(tokio::sync::watch::Sender::new(0u64));
        let (c, e) = (cut.clone(), epoch.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if c.load(Ordering::SeqCst) {
                    let _ = inbound.shutdown().await;
                    continue;
                }
                let mut cut_signal = e.subscribe();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut_signal.changed() => {}
                    }
                    // Dropping both sockets resets the connection.
                });
            }
        });
        Self { addr, cut, epoch }
    }

    fn set_cut(&self, cut: bool) {
        self.cut.store(cut, Ordering::SeqCst);
        if cut {
            self.epoch.send_modify(|e| *e += 1);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localstack_unreachable_for_10s() {
    const N: usize = 3000;
    let client = localstack_client().await;
    let q = create_queue(
        &client,
        &unique_name("chaos-cut"),
        &[(A::VisibilityTimeout, "5")],
    )
    .await;
    let ids: Vec<String> = (0..N).map(|i| format!("id-{i}")).collect();
    send_in_parallel(&client, q.url(), &ids).await;

    let upstream = localstack_endpoint()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let proxy = Proxy::start(upstream).await;
    let proxied = localstack_client_at(&format!("http://{}", proxy.addr), Clock::Real).await;
    let queue = Queue::from_url(&proxied, q.url()).await.unwrap();

    let seen: Seen = Arc::default();
    let s = seen.clone();
    let worker = Worker::builder(queue)
        .handler(handler_fn(move |m: Message<String>| {
            let s = s.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let id = m.body().map_err(|e| HandlerError::reject(e.to_string()))?;
                *s.lock().unwrap().entry(id.clone()).or_default() += 1;
                Ok::<_, HandlerError>(())
            }
        }))
        .codec(weir_sqs::RawString)
        .concurrency(20)
        .wait_time(Duration::from_secs(1))
        .poll_backoff_max(Duration::from_secs(2))
        .build()
        .unwrap();
    let handle = worker.handle();
    let task = tokio::spawn(worker.run());

    let met = eventually(Duration::from_secs(60), || async {
        handled(&seen) >= N / 3
    });
    assert!(met.await, "a third handled: not within 60 s");
    assert!(handle.health().ready);
    proxy.set_cut(true);
    let cut_at = Instant::now();
    let before = handled(&seen);
    // Receives fail only after the SDK's own 3 attempts, and a poller may first wait for
    // slots held by messages whose deletes are failing: allow 20 s.
    let met = eventually(Duration::from_secs(20), || async { !handle.health().ready });
    assert!(met.await, "readiness turns false: not within 20 s");
    let unready_after = cut_at.elapsed();
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(cut_at.elapsed())).await;
    let during = handled(&seen) - before;
    assert!(!handle.health().ready, "{:?}", handle.health());
    proxy.set_cut(false);
    let restored = Instant::now();
    let met = eventually(Duration::from_secs(30), || async { handle.health().ready });
    assert!(met.await, "ready again: not within 30 s");
    let ready_after = restored.elapsed();
    let met = eventually(Duration::from_secs(120), || async {
        handled(&seen) == N && counts(&client, q.url()).await == (0, 0, 0)
    });
    assert!(
        met.await,
        "every id handled and the queue empty: not within 120 s"
    );
    handle.shutdown();
    let report = task.await.unwrap();
    let seen = seen.lock().unwrap();
    let duplicates: u32 = seen.values().map(|c| c - 1).sum();
    println!(
        "| LocalStack cut 10 s | {N} | {} | {duplicates} | {} | unready {unready_after:?} after the cut, ready {ready_after:?} after the restore, {during} handled while cut |",
        seen.len(),
        N - seen.len()
    );
    println!("{report:?}");
    assert_eq!(seen.len(), N, "lost messages");
    // Duplicates need a delete that did not happen: acks given up during the cut, or
    // messages handled then released... bounded by what the worker reports.
    assert!(
        u64::from(duplicates)
            <= report.ack_failures + report.possible_duplicates + report.leases_lost,
        "{duplicates} duplicates: {report:?}"
    );
    // It backed off: 2 pollers failing for 10 s, at most ~10 failed receives each with
    // a 200 ms first backoff doubling to 2 s (plus the SDK's own 3 attempts per call).
    assert!(
        report.poll_errors > 0 && report.poll_errors <= 20,
        "{report:?}"
    );
}
