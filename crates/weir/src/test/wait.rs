//! Waiting for a condition on tokio's clock.

use std::future::Future;
use std::time::Duration;

use tokio::time::{Instant, sleep};

/// Polls `condition` every 10 ms of tokio time until it is true, for at most `timeout`.
/// Returns whether it became true. On a paused clock the wait costs no real time.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// let start = tokio::time::Instant::now();
/// let met = weir::test::eventually(Duration::from_secs(60), || async {
///     start.elapsed() >= Duration::from_secs(30)
/// })
/// .await;
/// assert!(met);
/// # }
/// ```
pub async fn eventually<F, Fut>(timeout: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        sleep(Duration::from_millis(10)).await;
    }
}
