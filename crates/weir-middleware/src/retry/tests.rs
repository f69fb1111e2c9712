use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tower::ServiceExt;

use super::{InPlaceRetry, RetryLayer};
use crate::BoxError;
use crate::classify::ErrorPredicate;

fn transient() -> BoxError {
    std::io::Error::from(std::io::ErrorKind::TimedOut).into()
}

/// A service that always fails with `err()` and records when it was called.
fn failing(
    calls: Arc<Mutex<Vec<Instant>>>,
    err: fn() -> BoxError,
) -> impl tower::Service<
    (),
    Response = (),
    Error = BoxError,
    Future = std::future::Ready<Result<(), BoxError>>,
> + Clone {
    tower::service_fn(move |()| {
        calls.lock().unwrap().push(Instant::now());
        std::future::ready(Err(err()))
    })
}

fn gaps(calls: &Mutex<Vec<Instant>>) -> Vec<Duration> {
    let calls = calls.lock().unwrap();
    calls.windows(2).map(|w| w[1] - w[0]).collect()
}

#[tokio::test(start_paused = true)]
async fn attempts_and_delays_follow_the_schedule() {
    let policy = InPlaceRetry::builder()
        .max_attempts(5)
        .min_delay(Duration::from_millis(100))
        .max_delay(Duration::from_millis(500))
        .jitter(false)
        .build()
        .unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let svc = tower::Layer::layer(
        &RetryLayer::new(policy),
        failing(Arc::clone(&calls), transient),
    );
    svc.oneshot(()).await.unwrap_err();
    let ms = |v: u64| Duration::from_millis(v);
    assert_eq!(gaps(&calls), [ms(100), ms(200), ms(400), ms(500)]);
}

#[tokio::test(start_paused = true)]
async fn jitter_stays_within_its_bounds() {
    for seed in 0..20 {
        let policy = InPlaceRetry::builder()
            .max_attempts(6)
            .min_delay(Duration::from_millis(100))
            .max_delay(Duration::from_secs(10))
            .jitter_seed(seed)
            .build()
            .unwrap();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let svc = tower::Layer::layer(
            &RetryLayer::new(policy),
            failing(Arc::clone(&calls), transient),
        );
        svc.oneshot(()).await.unwrap_err();
        let gaps = gaps(&calls);
        assert_eq!(gaps.len(), 5);
        for (i, gap) in gaps.iter().enumerate() {
            let base = Duration::from_millis(100 << i);
            // Jitter adds [0, base); tokio's timer rounds up to the next millisecond.
            assert!(
                *gap >= base && *gap <= base * 2,
                "retry {i}: {gap:?} outside [{base:?}, 2×{base:?})"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn errors_the_predicate_rejects_are_not_retried() {
    let policy = InPlaceRetry::builder().build().unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let svc = tower::Layer::layer(
        &RetryLayer::new(policy),
        failing(Arc::clone(&calls), || "permanent".into()),
    );
    svc.oneshot(()).await.unwrap_err();
    assert_eq!(calls.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn max_elapsed_bounds_the_retries() {
    // 100, 200, 400, 800 ms: the fourth retry would start at 1.5 s > 1 s.
    let policy = InPlaceRetry::builder()
        .max_attempts(10)
        .jitter(false)
        .max_elapsed(Duration::from_secs(1))
        .build()
        .unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let svc = tower::Layer::layer(
        &RetryLayer::new(policy),
        failing(Arc::clone(&calls), transient),
    );
    svc.oneshot(()).await.unwrap_err();
    assert_eq!(calls.lock().unwrap().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn retry_after_replaces_the_backoff() {
    let policy = InPlaceRetry::builder()
        .max_attempts(2)
        .jitter(false)
        .predicate(ErrorPredicate::new(|_| true))
        .retry_after(|e| (e.to_string() == "slow down").then_some(Duration::from_secs(3)))
        .build()
        .unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let svc = tower::Layer::layer(
        &RetryLayer::new(policy),
        failing(Arc::clone(&calls), || "slow down".into()),
    );
    svc.oneshot(()).await.unwrap_err();
    assert_eq!(gaps(&calls), [Duration::from_secs(3)]);
}

#[tokio::test(start_paused = true)]
async fn the_budget_stops_a_retry_storm() {
    // Budget: 1 retry/s reserve over a 10 s window (10 retries), plus 10 % of requests.
    let policy = InPlaceRetry::builder()
        .max_attempts(5)
        .jitter(false)
        .min_delay(Duration::from_millis(1))
        .budget_params(Duration::from_secs(10), 1, 0.1)
        .build()
        .unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let svc = tower::Layer::layer(
        &RetryLayer::new(policy),
        failing(Arc::clone(&calls), transient),
    );
    let requests = 100;
    for _ in 0..requests {
        svc.clone().oneshot(()).await.unwrap_err();
    }
    let total = calls.lock().unwrap().len();
    let retries = total - requests;
    // Without the budget: 4 retries each, 400. With it: at most 10 + 10 % of 100 = 20.
    assert!((10..=20).contains(&retries), "{retries} retries");
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_retrying() {
    let token = tokio_util::sync::CancellationToken::new();
    let policy = InPlaceRetry::builder()
        .shutdown(token.clone())
        .build()
        .unwrap();
    token.cancel();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let svc = tower::Layer::layer(
        &RetryLayer::new(policy),
        failing(Arc::clone(&calls), transient),
    );
    svc.oneshot(()).await.unwrap_err();
    assert_eq!(calls.lock().unwrap().len(), 1);
}

#[test]
fn bad_config_is_rejected() {
    use super::RetryBuildError as E;
    assert_eq!(
        InPlaceRetry::builder().max_attempts(0).build().unwrap_err(),
        E::ZeroAttempts
    );
    assert!(matches!(
        InPlaceRetry::builder().factor(0.5).build(),
        Err(E::Factor(_))
    ));
    assert!(matches!(
        InPlaceRetry::builder()
            .min_delay(Duration::from_secs(20))
            .build(),
        Err(E::Delays { .. })
    ));
    assert!(matches!(
        InPlaceRetry::builder()
            .budget_params(Duration::from_secs(61), 1, 0.1)
            .build(),
        Err(E::Budget { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn handler_errors_decide_rejects_and_waits() {
    use crate::classify::HandlerError;
    let policy = InPlaceRetry::builder()
        .max_attempts(3)
        .min_delay(Duration::from_millis(100))
        .jitter(false)
        // A predicate that retries everything still never retries a reject.
        .predicate(ErrorPredicate::new(|_| true))
        .build()
        .unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c = Arc::clone(&calls);
    let rejecting = tower::service_fn(move |()| {
        c.lock().unwrap().push(Instant::now());
        std::future::ready(Err::<(), _>(HandlerError::reject("bad order")))
    });
    let svc = tower::Layer::layer(&RetryLayer::new(policy.clone()), rejecting);
    let err = svc.oneshot(()).await.unwrap_err();
    assert_eq!(err.to_string(), "bad order");
    assert_eq!(calls.lock().unwrap().len(), 1, "a reject is tried once");

    let calls = Arc::new(Mutex::new(Vec::new()));
    let c = Arc::clone(&calls);
    let busy = tower::service_fn(move |()| {
        c.lock().unwrap().push(Instant::now());
        std::future::ready(Err::<(), _>(HandlerError::retry_after(
            Duration::from_secs(2),
            "busy",
        )))
    });
    let svc = tower::Layer::layer(&RetryLayer::new(policy), busy);
    svc.oneshot(()).await.unwrap_err();
    assert_eq!(
        gaps(&calls),
        [Duration::from_secs(2), Duration::from_secs(2)],
        "retry_after replaces the backoff"
    );
}
