use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::time::{Instant, Sleep};
use tower::Service;

use crate::{AcquireError, RateLimiter};

/// Takes one permit from a shared [`RateLimiter`] before each call.
///
/// `poll_ready` takes the permit (waiting on a tokio timer, never spinning) and then asks
/// the inner service; `call` uses it.
///
/// # Cancellation
///
/// While `poll_ready` is pending, no permit is held: dropping the service or the pending
/// readiness future takes nothing from the budget. A permit taken by a `poll_ready` that
/// returned `Ready` but was never followed by `call` is spent (the limiter errs on the side
/// of fewer requests, never more).
///
/// # Clone
///
/// Clones share the limiter. A clone starts unready: the permit reserved by the original,
/// if any, stays with the original.
pub struct RateLimit<S> {
    inner: S,
    limiter: RateLimiter,
    state: State,
    sleep: Option<Pin<Box<Sleep>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No permit held.
    Idle,
    /// No permit held; the sleep runs until one should be free.
    Waiting,
    /// A permit is held for the next call.
    Reserved,
}

const MIN_WAIT: Duration = Duration::from_micros(1);

impl<S> RateLimit<S> {
    /// Wraps `inner` so that each call takes one permit from `limiter`.
    pub const fn new(inner: S, limiter: RateLimiter) -> Self {
        Self {
            inner,
            limiter,
            state: State::Idle,
            sleep: None,
        }
    }

    /// The inner service.
    pub const fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub const fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service; a reserved permit is spent.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The shared limiter.
    pub const fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }
}

impl<S, Req> Service<Req> for RateLimit<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        loop {
            match self.state {
                State::Reserved => return self.inner.poll_ready(cx),
                State::Waiting => {
                    if let Some(sleep) = self.sleep.as_mut() {
                        ready!(sleep.as_mut().poll(cx));
                    }
                    self.state = State::Idle;
                }
                State::Idle => match self.limiter.try_acquire(1) {
                    // The burst is at least 1, so one permit never exceeds it.
                    Ok(()) | Err(AcquireError::ExceedsBurst { .. }) => {
                        self.state = State::Reserved;
                    }
                    Err(AcquireError::Wait { wait }) => {
                        let deadline = Instant::now() + wait.max(MIN_WAIT);
                        match self.sleep.as_mut() {
                            Some(sleep) => sleep.as_mut().reset(deadline),
                            None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
                        }
                        self.state = State::Waiting;
                    }
                },
            }
        }
    }

    /// # Panics
    ///
    /// If `poll_ready` did not return `Ready(Ok(()))` first, as the `Service` contract requires.
    fn call(&mut self, req: Req) -> Self::Future {
        assert!(
            self.state == State::Reserved,
            "RateLimit::call without a successful poll_ready"
        );
        self.state = State::Idle;
        self.inner.call(req)
    }
}

impl<S: Clone> Clone for RateLimit<S> {
    fn clone(&self) -> Self {
        Self::new(self.inner.clone(), self.limiter.clone())
    }
}

impl<S: fmt::Debug> fmt::Debug for RateLimit<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit")
            .field("inner", &self.inner)
            .field("limiter", &self.limiter)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio_test::{assert_pending, assert_ready_ok, task};
    use tower::{Layer, Service, ServiceExt};

    use crate::{RateLimitLayer, RateLimiter};

    fn echo() -> tower::util::ServiceFn<
        impl FnMut(u32) -> std::future::Ready<Result<u32, std::convert::Infallible>> + Clone,
    > {
        tower::service_fn(|n: u32| std::future::ready(Ok(n)))
    }

    #[tokio::test(start_paused = true)]
    async fn clones_share_one_budget() {
        let limiter = RateLimiter::new(10.0, 2).unwrap();
        let layer = RateLimitLayer::new(limiter);
        let mut a = layer.layer(echo());
        let mut b = a.clone();
        assert_eq!(a.ready().await.unwrap().call(1).await.unwrap(), 1);
        assert_eq!(b.ready().await.unwrap().call(2).await.unwrap(), 2);
        // The burst of 2 is spent, for both.
        let mut ready_a = task::spawn(a.ready());
        assert_pending!(ready_a.poll());
        let mut ready_b = task::spawn(b.ready());
        assert_pending!(ready_b.poll());
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!(ready_a.is_woken());
        assert_ready_ok!(ready_a.poll());
        // One permit came back in 100 ms, and `a` took it.
        assert_pending!(ready_b.poll());
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_a_pending_poll_ready_takes_no_permit() {
        let limiter = RateLimiter::new(10.0, 1).unwrap();
        let mut svc = RateLimitLayer::new(limiter.clone()).layer(echo());
        svc.ready().await.unwrap().call(1).await.unwrap();
        {
            let mut pending = task::spawn(svc.ready());
            assert_pending!(pending.poll());
        }
        drop(svc);
        tokio::time::advance(Duration::from_millis(100)).await;
        // The permit that came back is still there.
        limiter.try_acquire(1).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn clone_does_not_inherit_a_reserved_permit() {
        let limiter = RateLimiter::new(10.0, 1).unwrap();
        let mut a = RateLimitLayer::new(limiter).layer(echo());
        a.ready().await.unwrap();
        let mut b = a.clone();
        let mut ready_b = task::spawn(b.ready());
        assert_pending!(ready_b.poll());
        assert_eq!(a.call(7).await.unwrap(), 7);
    }
}
