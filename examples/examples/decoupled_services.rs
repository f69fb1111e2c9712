//! Run with: cargo run --example decoupled_services [-- --requests 50]
//!
//! Two services that never call each other. An HTTP API (axum) takes a sign-up, puts a
//! `WelcomeEmail` job on a queue and answers `202 Accepted` at once; a worker does the
//! slow part (the email, 300 ms) at its own pace. The example posts sign-ups through
//! the router while the worker is down (a deploy, a crash): all are accepted at once
//! and wait in the queue. Then the worker comes back and drains the backlog.

#![allow(clippy::print_stdout)] // an example prints what it shows

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use clap::Parser as _;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tower::ServiceExt;
use weir::aws_sdk_sqs::Client;
use weir::prelude::*;
use weir::test::unique_name;
use weir_examples::{count, delete_queues, until_drained};

/// What the API accepts.
#[derive(Debug, Serialize, Deserialize)]
struct Signup {
    email: String,
}

/// What travels on the queue: the API's only contract with the worker.
#[derive(Debug, Serialize, Deserialize)]
struct WelcomeEmail {
    email: String,
}

/// The API service: knows the queue, not the worker.
fn api(queue: Queue) -> Router {
    let signup = async |State(jobs): State<Arc<Producer<WelcomeEmail>>>,
                        Json(req): Json<Signup>| {
        match jobs.send(&WelcomeEmail { email: req.email }).await {
            Ok(_) => StatusCode::ACCEPTED,
            // The queue itself is unreachable: say so, and let the client retry.
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    };
    let jobs = Arc::new(Producer::<WelcomeEmail>::new(queue));
    Router::new()
        .route("/signups", post(signup))
        .with_state(jobs)
}

/// The worker service: knows the queue, not the API.
fn email_worker(queue: &Queue) -> Result<Worker<WelcomeEmail>, Box<dyn Error>> {
    let handler = handler_fn(async |_job: Message<WelcomeEmail>| {
        tokio::time::sleep(Duration::from_millis(300)).await; // render, call the provider
        Ok::<_, HandlerError>(())
    });
    Ok(Worker::builder(queue.clone())
        .handler(handler)
        .concurrency(20)
        .wait_time(Duration::from_secs(1))
        .build()?)
}

async fn post_signup(app: &Router, email: &str) -> Result<StatusCode, Box<dyn Error>> {
    let body = Body::from(serde_json::json!({ "email": email }).to_string());
    let request = Request::post("/signups").header("content-type", "application/json");
    Ok(app.clone().oneshot(request.body(body)?).await?.status())
}

#[derive(Debug)]
struct Summary {
    accepted: u64,
    /// Jobs waiting in the queue while the worker was down.
    backlog: u64,
    left: u64,
    report: WorkerReport,
}

async fn run(client: &Client, requests: u64) -> Result<Summary, Box<dyn Error>> {
    let queue = QueueSpec::standard(unique_name("welcome-emails"))
        .ensure(client)
        .await?
        .queue;
    let app = api(queue.clone());

    // The worker is down: the API answers anyway.
    let mut accepted = 0;
    for i in 0..requests {
        if post_signup(&app, &format!("user{i}@example.com")).await? == StatusCode::ACCEPTED {
            accepted += 1;
        }
    }
    let backlog = count(&queue).await?;

    // The worker is back: it drains the backlog.
    let report = email_worker(&queue)?.run_until(until_drained(&queue)).await;
    let left = count(&queue).await?;
    delete_queues(&[&queue]).await;
    Ok(Summary {
        accepted,
        backlog,
        left,
        report,
    })
}

/// Options, also from the environment (`--help` lists them).
#[derive(Debug, clap::Parser)]
struct Args {
    /// How many sign-ups to post.
    #[arg(long, env = "WEIR_REQUESTS", default_value_t = 50)]
    requests: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let requests = Args::parse().requests;
    let client = weir_examples::client().await;
    let started = Instant::now();
    let s = run(&client, requests).await?;
    println!(
        "worker down: {} of {requests} sign-ups accepted, {} jobs waited in the queue",
        s.accepted, s.backlog
    );
    println!(
        "worker back: {} emails sent; {} left in the queue; {:.1?} in all",
        s.report.succeeded,
        s.left,
        started.elapsed()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_api_accepts_while_the_worker_is_down() {
        let client = weir::local::LocalSqs::new().client();
        let s = tokio::time::timeout(Duration::from_secs(600), run(&client, 30))
            .await
            .expect("the backlog drains")
            .unwrap();
        assert_eq!(s.accepted, 30);
        assert_eq!(s.backlog, 30, "every job waited in the queue");
        assert_eq!(s.report.succeeded, 30);
        assert_eq!(s.report.received, 30, "each sent once");
        assert_eq!(s.left, 0);
    }
}
