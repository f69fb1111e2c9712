//! The worker's own failures: a network that accepts and never answers, and a panic in
//! one of the worker's own tasks.

use std::time::Duration;

use tokio::net::TcpListener;
use weir_sqs::{Queue, QueueAttributes};
use weir_worker::{HandlerError, Message, StopReason, Worker, handler_fn};

/// A TCP server that accepts every connection and never answers: the shape of a
/// black-holed network path (a dead NAT entry, a half-open connection).
async fn black_hole() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (format!("http://{addr}"), task)
}

fn client_for(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// Every SDK call has an operation timeout: against a connection that accepts and stays
/// silent, polls fail (the worker is not ready) instead of hanging, and shutdown ends
/// within `shutdown_timeout` plus the request timeout. Real sockets, real time, four
/// threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_silent_connection_neither_hangs_polls_nor_shutdown() {
    let (endpoint, _server) = black_hole().await;
    let url = format!("{endpoint}/000000000000/silent");
    let queue = Queue::with_attributes(client_for(&endpoint), &url, QueueAttributes::default());
    let worker = Worker::builder(queue)
        .handler(handler_fn(|_m: Message<String>| async {
            Ok::<_, HandlerError>(())
        }))
        .wait_time(Duration::from_secs(1))
        .request_timeout(Duration::from_millis(500))
        .shutdown_timeout(Duration::from_secs(1))
        .poll_backoff_max(Duration::from_secs(1))
        .build()
        .unwrap();
    let handle = worker.handle();
    let run = tokio::spawn(worker.run());
    // One receive takes at most its wait (1 s) plus the request timeout (0.5 s).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let health = handle.health();
    assert!(health.live, "{health:?}");
    assert!(
        !health.ready,
        "a poll that timed out is a failed poll: {health:?}"
    );
    assert!(health.last_successful_poll.is_none());
    let asked = tokio::time::Instant::now();
    handle.shutdown();
    let report = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("shutdown hung on a silent connection")
        .unwrap();
    let took = asked.elapsed();
    assert!(
        took <= Duration::from_millis(2_500),
        "shutdown took {took:?}, past shutdown_timeout + request_timeout"
    );
    assert!(report.poll_errors >= 1, "{report:?}");
    assert_eq!(report.received, 0);
    assert_eq!(report.stopped, StopReason::Requested);
}

/// A tracing subscriber that panics on one event, to make a panic happen inside the
/// worker's own code (here: the poller, when it logs a failed receive).
struct PanicOn(&'static str);

impl tracing::Subscriber for PanicOn {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Text(String);
        impl tracing::field::Visit for Text {
            fn record_debug(&mut self, _: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                use std::fmt::Write as _;
                let _ = write!(self.0, "{v:?} ");
            }
        }
        let mut text = Text(String::new());
        event.record(&mut text);
        if text.0.contains(self.0) {
            // Not quoting the needle: the worker logs this panic's text in turn.
            panic!("subscriber panicked");
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// A panic in one of the worker's own tasks (not a handler) is reported: the worker is
/// neither live nor ready, stops on its own, and its report says why.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_panic_in_the_worker_itself_stops_it_and_says_why() {
    let env = crate::support::Env::paused();
    let q = env.queue("internal-panic", &[]).await;
    env.client
        .delete_queue()
        .queue_url(q.url())
        .send()
        .await
        .unwrap();
    let worker = Worker::builder(q)
        .handler(handler_fn(|_m: Message<String>| async {
            Ok::<_, HandlerError>(())
        }))
        .build()
        .unwrap();
    let handle = worker.handle();
    // The current-thread runtime runs every task on this thread, so the subscriber is
    // in force in all of them.
    let _guard = tracing::subscriber::set_default(PanicOn("receive failed; backing off"));
    let report = tokio::time::timeout(Duration::from_secs(60), worker.run())
        .await
        .expect("the worker went on after its poller panicked");
    drop(_guard);
    let StopReason::Failed(why) = &report.stopped else {
        panic!("stopped for the wrong reason: {report:?}");
    };
    assert!(why.contains("subscriber panicked"), "{why}");
    let health = handle.health();
    assert!(!health.live && !health.ready, "{health:?}");
    assert!(
        health
            .failure
            .is_some_and(|f| f.contains("subscriber panicked"))
    );
}
