//! Run with: cargo run --example decoupled_services
//!
//! Two services that never call each other. An HTTP API (axum) takes a sign-up, puts
//! a `WelcomeEmail` job on a queue and answers `202 Accepted` at once; a worker does the
//! slow part (rendering and sending the email, 300 ms here) at its own pace.
//!
//! The example drives itself with a small HTTP client and shows what the queue buys:
//!
//! 1. **Worker up.** Sign-ups come every 20 ms and are answered in about a millisecond;
//!    the worker (20 at a time) keeps up.
//! 2. **Worker down** (stopped, as in a deploy or an outage). The API still answers
//!    just as fast; the jobs wait in the queue, a backlog you can see.
//! 3. **Worker back.** It drains the backlog; no job was lost, none was done twice.
//!
//! Doing the work inside the request would make every request take 300 ms or more,
//! and fail outright while the email service is down.

#![allow(clippy::print_stdout)] // an example prints what it shows

use clap::Parser as _;
use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use weir::aws_sdk_sqs::Client;
use weir::sqs::{Producer, Queue, QueueSpec};
use weir::worker::{HandlerError, Message, Worker, WorkerReport, handler_fn};
use weir_examples::{delete_queues, drained, human, unique_name};

/// What the API accepts.
#[derive(Debug, Serialize, Deserialize)]
struct Signup {
    email: String,
}

/// What travels on the queue: the API's only contract with the worker.
#[derive(Debug, Serialize, Deserialize)]
struct WelcomeEmail {
    user_id: u64,
    email: String,
}

// ---- the API service: knows the queue, not the worker ----------------------------

struct Api {
    jobs: Producer<WelcomeEmail>,
    next_user: AtomicU64,
}

async fn signup(
    State(api): State<Arc<Api>>,
    Json(req): Json<Signup>,
) -> (StatusCode, Json<serde_json::Value>) {
    if !req.email.contains('@') {
        let body = serde_json::json!({ "error": "email must contain @" });
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(body));
    }
    let user_id = api.next_user.fetch_add(1, Ordering::Relaxed);
    let job = WelcomeEmail {
        user_id,
        email: req.email,
    };
    match api.jobs.send(&job).await {
        Ok(sent) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "user_id": user_id, "job": sent.message_id() })),
        ),
        // The queue itself is unreachable: say so, and let the client retry.
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "error": e.to_string() })),
        ),
    }
}

async fn serve_api(queue: Queue) -> Result<SocketAddr, Box<dyn Error>> {
    let api = Arc::new(Api {
        jobs: Producer::new(queue),
        next_user: AtomicU64::new(1),
    });
    let app = Router::new()
        .route("/signups", post(signup))
        .with_state(api);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("api: {e}");
        }
    });
    Ok(addr)
}

// ---- the worker service: knows the queue, not the API -----------------------------

fn email_worker(
    queue: &Queue,
    work: Duration,
    sent: &Arc<AtomicU64>,
) -> Result<Worker<WelcomeEmail>, Box<dyn Error>> {
    let sent = sent.clone();
    let handler = handler_fn(move |msg: Message<WelcomeEmail>| {
        let sent = sent.clone();
        async move {
            let _job = msg
                .body()
                .map_err(|e| HandlerError::reject(e.to_string()))?;
            tokio::time::sleep(work).await; // render the template, call the email provider
            sent.fetch_add(1, Ordering::Relaxed);
            Ok::<_, HandlerError>(())
        }
    });
    Ok(Worker::builder(queue.clone())
        .handler(handler)
        .concurrency(20)
        .wait_time(Duration::from_secs(1))
        .build()?)
}

// ---- a tiny HTTP/1.1 client, so the example drives itself --------------------------

async fn post_json(addr: SocketAddr, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Fires `n` sign-ups, one every `pace`; returns the statuses and latencies.
async fn fire(addr: SocketAddr, first: u64, n: u64, pace: Duration) -> std::io::Result<Phase> {
    let mut phase = Phase::default();
    let mut ticks = tokio::time::interval(pace);
    for i in first..first + n {
        ticks.tick().await;
        let started = Instant::now();
        let (status, _body) = post_json(
            addr,
            "/signups",
            &format!(r#"{{"email":"user{i}@example.com"}}"#),
        )
        .await?;
        phase.latencies.push(started.elapsed());
        if status == 202 {
            phase.accepted += 1;
        }
    }
    phase.latencies.sort();
    Ok(phase)
}

#[derive(Debug, Default)]
struct Phase {
    accepted: u64,
    /// Sorted.
    latencies: Vec<Duration>,
    /// Jobs waiting in the queue (not yet picked up) right after the requests.
    backlog: u64,
}

impl Phase {
    fn percentile(&self, p: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(i).copied().unwrap_or_default()
    }
}

#[derive(Debug)]
struct Options {
    requests: u64,
    /// Time between two sign-ups.
    pace: Duration,
    /// How long the worker takes per email.
    work: Duration,
}

#[derive(Debug)]
struct Summary {
    up: Phase,
    down: Phase,
    /// How long the restarted worker took to drain the backlog.
    drain_time: Duration,
    emails_sent: u64,
    left: u64,
    reports: [WorkerReport; 2],
}

async fn run(client: &Client, options: &Options) -> Result<Summary, Box<dyn Error>> {
    let topology = QueueSpec::standard(unique_name("welcome-emails"))
        .dead_letter(5)
        .ensure(client)
        .await?;
    let queue = topology.queue;
    let dlq = topology
        .dlq
        .ok_or("the spec declares a dead-letter queue")?;
    let addr = serve_api(queue.clone()).await?;
    println!(
        "API listening on http://{addr}/signups; jobs go to {}",
        queue.name()
    );
    let emails_sent = Arc::new(AtomicU64::new(0));
    let n = options.requests;

    // 1. Worker up.
    let worker = email_worker(&queue, options.work, &emails_sent)?;
    let stop = worker.handle();
    let running = tokio::spawn(worker.run());
    let mut up = fire(addr, 0, n, options.pace).await?;
    up.backlog = queue.depth().await?.visible;
    drained(&queue, Duration::from_millis(50)).await;
    println!(
        "1. worker up:   {n} sign-ups answered, {} waiting in the queue at the end; the worker sent {} emails",
        up.backlog,
        emails_sent.load(Ordering::Relaxed)
    );

    // 2. Worker down: stop it (lossless), then keep the API busy.
    stop.shutdown();
    let report_up = running.await?;
    let mut down = fire(addr, n, n, options.pace).await?;
    down.backlog = queue.depth().await?.visible;
    println!(
        "2. worker down: {n} sign-ups answered; {} jobs wait in the queue",
        down.backlog
    );

    // 3. Worker back: it drains the backlog.
    let started = Instant::now();
    let report_back = email_worker(&queue, options.work, &emails_sent)?
        .run_until(drained(&queue, Duration::from_millis(50)))
        .await;
    let drain_time = started.elapsed();

    let left = weir_examples::count(&queue).await?;
    delete_queues(&[&queue, &dlq]).await;
    Ok(Summary {
        up,
        down,
        drain_time,
        emails_sent: emails_sent.load(Ordering::Relaxed),
        left,
        reports: [report_up, report_back],
    })
}

/// Options: each can also be set by its environment variable (`--help` lists them).
#[derive(Debug, clap::Parser)]
struct Args {
    /// How many sign-ups the client sends.
    #[arg(long, env = "WEIR_REQUESTS", default_value_t = 50)]
    requests: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let options = Options {
        requests: Args::parse().requests,
        pace: Duration::from_millis(20),
        work: Duration::from_millis(300),
    };
    let client = weir_examples::client().await;
    let s = run(&client, &options).await?;
    println!("3. worker back: backlog drained in {}", human(s.drain_time));
    println!("\n  API latency     worker  accepted   p50      p99      max   backlog after");
    for (name, p) in [("up", &s.up), ("down", &s.down)] {
        println!(
            "                  {name:<6} {:>6}   {:>7}  {:>7}  {:>7}  {:>5}",
            p.accepted,
            human(p.percentile(0.5)),
            human(p.percentile(0.99)),
            human(p.percentile(1.0)),
            p.backlog
        );
    }
    println!(
        "\n  emails sent: {} of {} sign-ups ({} + {} by the two worker runs); left in queue: {}",
        s.emails_sent,
        s.up.accepted + s.down.accepted,
        s.reports[0].succeeded,
        s.reports[1].succeeded,
        s.left
    );
    println!(
        "  sign-ups came every {}; doing the email inline would have made each request take {} or more",
        human(options.pace),
        human(options.work)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real time: the API is reached over a real TCP socket.
    #[tokio::test]
    async fn the_api_accepts_while_the_worker_is_down() {
        let client = weir::local::LocalSqs::new().client();
        let options = Options {
            requests: 8,
            pace: Duration::from_millis(1),
            work: Duration::from_millis(20),
        };
        let s = weir_examples::within(Duration::from_secs(60), run(&client, &options))
            .await
            .unwrap();
        assert_eq!(s.up.accepted, 8);
        assert_eq!(s.down.accepted, 8);
        // While the worker was down, every job waited in the queue.
        assert_eq!(s.down.backlog, 8);
        assert_eq!(s.reports[0].succeeded, 8);
        assert_eq!(s.reports[1].succeeded, 8);
        assert_eq!(s.emails_sent, 16);
        assert_eq!(s.left, 0);
    }

    #[tokio::test]
    async fn a_bad_request_is_refused_before_the_queue() {
        let client = weir::local::LocalSqs::new().client();
        let queue = QueueSpec::standard("signups")
            .ensure(&client)
            .await
            .unwrap()
            .queue;
        let addr = serve_api(queue.clone()).await.unwrap();
        let (status, body) = post_json(addr, "/signups", r#"{"email":"nobody"}"#)
            .await
            .unwrap();
        assert_eq!(status, 422, "{body}");
        assert_eq!(weir_examples::count(&queue).await.unwrap(), 0);
    }
}
