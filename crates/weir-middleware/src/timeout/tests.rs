use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tower::{ServiceBuilder, ServiceExt};

use super::{Elapsed, TimeoutLayer, WithCancellation};

#[tokio::test(start_paused = true)]
async fn a_timeout_cancels_the_handler() {
    let stopped = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&stopped);
    let svc = ServiceBuilder::new()
        .layer(TimeoutLayer::new("handler", Duration::from_secs(30)))
        .service_fn(move |req: WithCancellation<u32>| {
            let seen = Arc::clone(&seen);
            async move {
                // Work the handler spawned: it stops only if the token fires.
                let token = req.token.clone();
                let worker = tokio::spawn(async move {
                    token.cancelled().await;
                    seen.store(true, Ordering::SeqCst);
                });
                std::future::pending::<()>().await;
                drop(worker);
                Ok::<u32, std::convert::Infallible>(req.request)
            }
        });
    let token = CancellationToken::new();
    let start = tokio::time::Instant::now();
    let err = svc
        .oneshot(WithCancellation::new(7, token.clone()))
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    let elapsed = err.downcast_ref::<Elapsed>().unwrap();
    assert_eq!(elapsed.name(), "handler");
    assert_eq!(elapsed.duration(), Duration::from_secs(30));
    assert_eq!(elapsed.to_string(), "timeout `handler` fired after 30s");
    assert!(token.is_cancelled());
    tokio::task::yield_now().await;
    assert!(
        stopped.load(Ordering::SeqCst),
        "the spawned work saw the cancellation"
    );
}

#[tokio::test(start_paused = true)]
async fn a_fast_handler_is_untouched() {
    let svc = ServiceBuilder::new()
        .layer(TimeoutLayer::new("handler", Duration::from_secs(30)))
        .service_fn(|req: WithCancellation<u32>| async move {
            tokio::time::sleep(Duration::from_secs(29)).await;
            Ok::<u32, std::convert::Infallible>(req.request * 2)
        });
    let token = CancellationToken::new();
    let out = svc
        .oneshot(WithCancellation::new(21, token.clone()))
        .await
        .unwrap();
    assert_eq!(out, 42);
    assert!(!token.is_cancelled());
}

#[tokio::test(start_paused = true)]
async fn grace_lets_the_handler_clean_up() {
    let cleaned = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&cleaned);
    let svc = ServiceBuilder::new()
        .layer(
            TimeoutLayer::new("handler", Duration::from_secs(1)).with_grace(Duration::from_secs(2)),
        )
        .service_fn(move |req: WithCancellation<()>| {
            let seen = Arc::clone(&seen);
            async move {
                req.token.cancelled().await;
                tokio::time::sleep(Duration::from_millis(500)).await; // cleanup
                seen.store(true, Ordering::SeqCst);
                Ok::<(), std::convert::Infallible>(())
            }
        });
    let start = tokio::time::Instant::now();
    let err = svc
        .oneshot(WithCancellation::new((), CancellationToken::new()))
        .await
        .unwrap_err();
    assert!(err.is::<Elapsed>());
    assert!(cleaned.load(Ordering::SeqCst));
    assert_eq!(start.elapsed(), Duration::from_millis(1500));
}
