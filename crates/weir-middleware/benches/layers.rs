//! The overhead each layer adds per call, against the bare service, when nothing waits
//! (the limiter has room, nothing fails, back pressure is open, no subscriber is set).
//!
//! Run with `cargo bench -p weir-middleware --bench layers -- --warm-up-time 1 --measurement-time 3`.

#![allow(missing_docs, clippy::unwrap_used)]

use std::future::{Ready, ready};
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;
use tower::{Layer, Service, ServiceExt};
use weir_middleware::adaptive::{AdaptiveRateLimitLayer, AdaptiveRateLimiter};
use weir_middleware::backpressure::{
    BackpressureLayer, BackpressurePolicy, DepthMonitor, DepthSample,
};
use weir_middleware::trace::MessageMeta;
use weir_middleware::{
    BoxError, InPlaceRetry, RateLimitLayer, RateLimiter, RetryLayer, TimeoutLayer, TraceLayer,
    WithCancellation,
};

#[derive(Clone)]
struct Req(u64);

impl MessageMeta for Req {
    fn message_id(&self) -> Option<&str> {
        Some("5fea7756-0ea4-451a-a703-a558b933e274")
    }
    fn queue_name(&self) -> Option<&str> {
        Some("orders")
    }
}

type Bare<R> = tower::util::ServiceFn<fn(R) -> Ready<Result<u64, BoxError>>>;

fn bare() -> Bare<Req> {
    tower::service_fn(|r: Req| ready(Ok(r.0)))
}

fn bare_cancellable() -> Bare<WithCancellation<Req>> {
    tower::service_fn(|r: WithCancellation<Req>| ready(Ok(r.request.0)))
}

fn bench<S, R>(
    c: &mut Criterion,
    rt: &Runtime,
    name: &str,
    make: impl Fn() -> S,
    req: impl Fn() -> R,
) where
    S: Service<R>,
    S::Error: std::fmt::Debug,
{
    c.bench_function(name, |b| {
        b.to_async(rt).iter_custom(|iters| {
            let mut svc = make();
            let req = &req;
            async move {
                let start = tokio::time::Instant::now();
                for _ in 0..iters {
                    let svc = svc.ready().await.unwrap();
                    black_box(svc.call(black_box(req())).await.unwrap());
                }
                start.elapsed()
            }
        });
    });
}

fn layers(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _guard = rt.enter();

    bench(c, &rt, "bare", bare, || Req(1));

    // A limit far above what one thread can call: it never waits.
    let limiter = RateLimiter::new(weir_middleware::MAX_RATE_PER_SECOND, 1_000_000).unwrap();
    bench(
        c,
        &rt,
        "rate_limit",
        || RateLimitLayer::new(limiter.clone()).layer(bare()),
        || Req(1),
    );

    let adaptive = AdaptiveRateLimiter::builder()
        .min_per_second(1.0)
        .max_per_second(weir_middleware::MAX_RATE_PER_SECOND)
        .burst(1_000_000)
        .build()
        .unwrap();
    bench(
        c,
        &rt,
        "adaptive_rate_limit",
        || AdaptiveRateLimitLayer::new(adaptive.clone()).layer(bare()),
        || Req(1),
    );

    let policy = InPlaceRetry::builder().build().unwrap();
    bench(
        c,
        &rt,
        "retry",
        || RetryLayer::new(policy.clone()).layer(bare()),
        || Req(1),
    );

    bench(c, &rt, "bare_cancellable", bare_cancellable, || {
        WithCancellation::new(Req(1), CancellationToken::new())
    });
    bench(
        c,
        &rt,
        "timeout",
        || TimeoutLayer::new("handler", Duration::from_secs(30)).layer(bare_cancellable()),
        || WithCancellation::new(Req(1), CancellationToken::new()),
    );

    bench(
        c,
        &rt,
        "trace_no_subscriber",
        || TraceLayer::new().layer(bare()),
        || Req(1),
    );

    let (depth, feed) = DepthMonitor::manual();
    feed.send(DepthSample::visible(10));
    let bp = BackpressureLayer::builder(depth)
        .high_watermark(1000)
        .low_watermark(500)
        .policy(BackpressurePolicy::FailFast)
        .build()
        .unwrap();
    bench(c, &rt, "backpressure_open", || bp.layer(bare()), || Req(1));
}

criterion_group!(benches, layers);
criterion_main!(benches);
