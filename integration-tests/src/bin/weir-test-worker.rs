//! A worker process for the end-to-end crash test.
//!
//! `weir-test-worker <queue-url> <visibility-secs> <handler-delay-ms>`
//!
//! Polls the queue on LocalStack, handles each message by sleeping `handler-delay-ms`,
//! then prints its body (the message's id) on stdout, one per line, before the ack.
//! Shuts down (losslessly) when stdin closes, on SIGTERM, or on Ctrl-C (SIGINT); the
//! crash test kills it with SIGKILL.

use std::io::{BufRead, Write};
use std::time::Duration;

use weir_worker::{HandlerError, Lease, Message, Worker, handler_fn};

fn arg(n: usize) -> String {
    std::env::args()
        .nth(n)
        .unwrap_or_else(|| panic!("usage: weir-test-worker <queue-url> <visibility-secs> <delay-ms> (missing argument {n})"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = arg(1);
    let visibility: u64 = arg(2).parse().expect("visibility seconds");
    let delay: u64 = arg(3).parse().expect("delay in ms");
    let client = weir_integration_tests::localstack_client().await;
    let queue = weir_sqs::Queue::from_url(&client, &url)
        .await
        .expect("open the queue");

    // Lines go to stdout from one thread, so the handler never blocks on the pipe.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let writer = std::thread::spawn(move || {
        let mut out = std::io::stdout().lock();
        for line in rx {
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return;
            }
        }
    });

    let worker = Worker::builder(queue)
        .handler(handler_fn(move |m: Message<String>| {
            let tx = tx.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                let id = m.body().map_err(|e| HandlerError::reject(e.to_string()))?;
                let _ = tx.send(id.clone());
                Ok::<_, HandlerError>(())
            }
        }))
        .codec(weir_sqs::RawString)
        .concurrency(10)
        .wait_time(Duration::from_secs(1))
        .visibility_timeout(Duration::from_secs(visibility))
        .lease(Lease::new().threshold(Duration::from_secs(1)))
        .build()
        .expect("worker settings");

    let stop = worker.shutdown_handle();
    std::thread::spawn(move || {
        // Shut down when stdin closes.
        for line in std::io::stdin().lock().lines() {
            if line.is_err() {
                break;
            }
        }
        stop.shutdown();
    });
    // SIGTERM (how orchestrators stop a process) and Ctrl-C run the same lossless
    // shutdown.
    let stop = worker.shutdown_handle();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install the SIGTERM handler");
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => eprintln!("SIGTERM: shutting down"),
            r = tokio::signal::ctrl_c() => {
                if r.is_err() {
                    return;
                }
                eprintln!("Ctrl-C: shutting down");
            }
        }
        stop.shutdown();
    });
    let report = worker.run().await;
    eprintln!("{report:?}");
    drop(writer);
}
