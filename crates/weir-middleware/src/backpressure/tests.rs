use std::time::Duration;

use tokio_test::{assert_pending, assert_ready_ok, task};
use tower::{Layer, Service, ServiceExt};

use super::*;
use crate::adaptive::AdaptiveRateLimiter;

type Echo =
    tower::util::ServiceFn<fn(u32) -> std::future::Ready<Result<u32, std::convert::Infallible>>>;

fn echo() -> Echo {
    tower::service_fn(|n| std::future::ready(Ok(n)))
}

fn layer(policy: BackpressurePolicy) -> (BackpressureLayer, DepthSender) {
    let (depth, feed) = DepthMonitor::manual();
    let layer = BackpressureLayer::builder(depth)
        .high_watermark(100)
        .low_watermark(50)
        .policy(policy)
        .build()
        .unwrap();
    (layer, feed)
}

#[tokio::test(start_paused = true)]
async fn engages_above_high_releases_at_low_and_does_not_flap_between() {
    let (layer, feed) = layer(BackpressurePolicy::FailFast);
    assert_eq!(layer.state(), BackpressureState::Open); // no sample yet: calls pass
    let mut states = Vec::new();
    for depth in [10, 90, 100, 101, 99, 60, 51, 100, 120, 50, 99, 100, 101] {
        feed.send(DepthSample::visible(depth));
        states.push(layer.state());
    }
    use BackpressureState::{Engaged as E, Open as O};
    assert_eq!(states, [O, O, O, E, E, E, E, E, E, O, O, O, E]);
    assert_eq!(layer.stats().engagements, 2);
}

#[tokio::test(start_paused = true)]
async fn fail_fast_refuses_without_calling_the_inner_service() {
    let (layer, feed) = layer(BackpressurePolicy::FailFast);
    let mut svc = layer.layer(tower::service_fn(|_: u32| async {
        panic!("the inner service must not be called");
        #[allow(unreachable_code)]
        Ok::<u32, std::convert::Infallible>(0)
    }));
    feed.send(DepthSample::visible(150));
    let err = svc.ready().await.unwrap().call(1).await.unwrap_err();
    let bp = err.downcast_ref::<Backpressure>().unwrap();
    assert_eq!(
        (bp.depth(), bp.high_watermark(), bp.waited()),
        (150, 100, None)
    );
    assert_eq!(layer.stats().rejected, 1);
}

#[tokio::test(start_paused = true)]
async fn wait_holds_calls_until_the_low_watermark() {
    let (layer, feed) = layer(BackpressurePolicy::Wait {
        timeout: Duration::from_secs(60),
    });
    let mut svc = layer.layer(echo());
    feed.send(DepthSample::visible(150));
    let mut ready = task::spawn(svc.ready());
    assert_pending!(ready.poll());
    tokio::time::advance(Duration::from_secs(10)).await;
    feed.send(DepthSample::visible(70)); // between the marks: still engaged
    assert!(ready.is_woken());
    assert_pending!(ready.poll());
    tokio::time::advance(Duration::from_secs(10)).await;
    feed.send(DepthSample::visible(40));
    assert!(ready.is_woken());
    assert_ready_ok!(ready.poll());
    drop(ready);
    assert_eq!(svc.call(5).await.unwrap(), 5);
    let stats = layer.stats();
    assert_eq!(stats.state, BackpressureState::Open);
    assert_eq!(stats.throttled_time, Duration::from_secs(20));
    assert_eq!(stats.waits, 1);
}

#[tokio::test(start_paused = true)]
async fn wait_gives_up_after_its_timeout() {
    let (layer, feed) = layer(BackpressurePolicy::Wait {
        timeout: Duration::from_secs(5),
    });
    let svc = layer.layer(echo());
    feed.send(DepthSample::visible(150));
    let start = tokio::time::Instant::now();
    let err = svc.oneshot(1).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    let bp = err.downcast_ref::<Backpressure>().unwrap();
    assert_eq!(bp.waited(), Some(Duration::from_secs(5)));
    assert!(crate::classify::is_retryable(bp));
    assert_eq!(layer.stats().throttled_time, Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn slow_down_lowers_the_adaptive_rate_and_lets_calls_through() {
    let adaptive = AdaptiveRateLimiter::builder()
        .min_per_second(10.0)
        .max_per_second(100.0)
        .build()
        .unwrap();
    let (layer, feed) = layer(BackpressurePolicy::SlowDown(adaptive.clone()));
    let svc = layer.layer(echo());
    feed.send(DepthSample::visible(150));
    assert_eq!(svc.clone().oneshot(1).await.unwrap(), 1);
    assert_eq!(adaptive.per_second(), 50.0);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(svc.oneshot(2).await.unwrap(), 2);
    assert_eq!(adaptive.per_second(), 25.0);
}

#[test]
fn bad_watermarks_are_rejected() {
    let (depth, _feed) = DepthMonitor::manual();
    let err = BackpressureLayer::builder(depth.clone())
        .high_watermark(10)
        .low_watermark(10)
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        BackpressureBuildError::Watermarks { low: 10, high: 10 }
    );
    assert!(err.to_string().contains("below the high watermark"));
    assert_eq!(
        BackpressureLayer::builder(depth)
            .low_watermark(1)
            .build()
            .unwrap_err(),
        BackpressureBuildError::MissingWatermark("high_watermark")
    );
}
