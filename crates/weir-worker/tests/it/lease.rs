//! Leases: a long handler's message stays invisible; a lost lease cancels the handler.

use std::task::{Context, Poll};
use std::time::Duration;

use weir_worker::{HandlerError, Lease, Message, Worker, current_cancellation, handler_fn};

use crate::support::{Count, assert_accounted, eventually, run_until, spawn};

/// Counts the drop of the handler's future.
struct OnDrop(Count);
impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.inc();
    }
}

worker_test! {
async fn a_ten_minute_handler_keeps_its_message_invisible(env) {
    let q = env.queue("lease-long", &[]).await;
    env.send(&q, ["1".to_owned()]).await;
    let done = Count::default();
    let d = done.clone();
    // Paused: ten minutes against a 30 s visibility; real time: 7 s against 2 s.
    let (run_for, visibility) = env.pick(
        (Duration::from_secs(600), Duration::from_secs(30)),
        (Duration::from_secs(7), Duration::from_secs(2)),
    );
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |_m: Message<u32>| {
            let d = d.clone();
            async move {
                tokio::time::sleep(run_for).await;
                d.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .visibility_timeout(visibility)
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    // Another consumer keeps looking for the message while the handler runs.
    let mut stolen = 0;
    while done.get() == 0 {
        tokio::time::sleep(visibility / 6).await;
        stolen += env
            .client
            .receive_message()
            .queue_url(q.url())
            .visibility_timeout(0)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default()
            .len();
    }
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!(stolen, 0, "the message never became visible");
    assert!(report.lease_extensions >= env.pick(19, 5), "{report:?}");
    assert_eq!(report.leases_lost, 0);
    assert_eq!(report.acked, 1);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}

worker_test! {
async fn a_refused_extension_cancels_the_handler(env) {
    let q = env.queue("lease-lost", &[]).await;
    env.send(&q, ["1".to_owned()]).await;
    let dropped = Count::default();
    let saw_token = Count::default();
    let (d, s) = (dropped.clone(), saw_token.clone());
    let client = env.client.clone();
    let url = q.url().to_owned();
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u32>| {
            let (d, s, client, url) = (d.clone(), s.clone(), client.clone(), url.clone());
            async move {
                let _guard = OnDrop(d);
                let token = current_cancellation().unwrap();
                let watcher = tokio::spawn(async move {
                    token.cancelled().await;
                    s.inc();
                });
                // Someone else takes the message: our receipt handle goes stale.
                client
                    .change_message_visibility()
                    .queue_url(&url)
                    .receipt_handle(m.receipt_handle())
                    .visibility_timeout(0)
                    .send()
                    .await
                    .unwrap();
                let other = client
                    .receive_message()
                    .queue_url(&url)
                    .visibility_timeout(3600)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(other.messages.unwrap_or_default().len(), 1);
                tokio::time::sleep(Duration::from_secs(600)).await;
                drop(watcher);
                Ok::<_, HandlerError>(())
            }
        }))
        .visibility_timeout(env.pick(Duration::from_secs(20), Duration::from_secs(3)))
        // One slot: the worker's poller waits for it, so only the test steals the message.
        .concurrency(1)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(120), || dropped.get() == 1).await;
    assert_eq!(saw_token.get(), 1, "the handler's token fired");
    assert_eq!(report.leases_lost, 1);
    assert_eq!(report.acked, 0);
    assert_accounted(&report);
}
}

worker_test! {
async fn a_lease_ends_at_its_maximum_length(env) {
    let q = env.queue("lease-max", &[]).await;
    env.send(&q, ["1".to_owned()]).await;
    let dropped = Count::default();
    let acked = Count::default();
    let (d, a) = (dropped.clone(), acked.clone());
    let (visibility, max_total) = env.pick(
        (Duration::from_secs(10), Duration::from_secs(30)),
        (Duration::from_secs(2), Duration::from_secs(6)),
    );
    let worker = Worker::builder(q.clone())
        .handler(handler_fn(move |m: Message<u32>| {
            let (d, a) = (d.clone(), a.clone());
            async move {
                if m.receive_count() == 1 {
                    let _guard = OnDrop(d);
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                a.inc();
                Ok::<_, HandlerError>(())
            }
        }))
        .visibility_timeout(visibility)
        .lease(Lease::new().max_total(max_total))
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let (handle, task) = spawn(worker);
    assert!(eventually(Duration::from_secs(120), || async { acked.get() == 1 }).await);
    let took = start.elapsed();
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!(dropped.get(), 1, "the first handler was cancelled");
    assert!(
        // At most max_total: extensions are whole seconds, so it may end up to one
        // second before.
        took >= max_total - Duration::from_secs(1) && took < max_total + visibility * 2,
        "{took:?}"
    );
    assert_eq!(report.leases_lost, 1);
    assert_eq!(report.acked, 1);
    assert_accounted(&report);
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}

/// Ready only once `open` is set.
struct Gate {
    open: tokio::sync::watch::Receiver<bool>,
    wait: Option<futures_util::future::BoxFuture<'static, ()>>,
    done: Count,
}

impl Clone for Gate {
    fn clone(&self) -> Self {
        Self {
            open: self.open.clone(),
            wait: None,
            done: self.done.clone(),
        }
    }
}

impl tower::Service<Message<u32>> for Gate {
    type Response = ();
    type Error = HandlerError;
    type Future = std::future::Ready<Result<(), HandlerError>>;
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), HandlerError>> {
        if *self.open.borrow() {
            return Poll::Ready(Ok(()));
        }
        let mut rx = self.open.clone();
        let wait = self.wait.get_or_insert_with(|| {
            Box::pin(async move {
                let _ = rx.wait_for(|open| *open).await;
            })
        });
        match wait.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.wait = None;
                Poll::Ready(Ok(()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
    fn call(&mut self, _m: Message<u32>) -> Self::Future {
        self.done.inc();
        std::future::ready(Ok(()))
    }
}

worker_test! {
async fn prefetched_messages_keep_their_lease_while_they_wait(env) {
    let q = env.queue("lease-prefetch", &[]).await;
    env.send(&q, (0..5).map(|i| i.to_string())).await;
    let (open, rx) = tokio::sync::watch::channel(false);
    let done = Count::default();
    let worker = Worker::builder(q.clone())
        .handler(Gate {
            open: rx,
            wait: None,
            done: done.clone(),
        })
        .visibility_timeout(env.pick(Duration::from_secs(20), Duration::from_secs(2)))
        .build()
        .unwrap();
    let (handle, task) = spawn(worker);
    assert!(eventually(Duration::from_secs(10), || async { handle.health().in_flight == 5 }).await);
    for _ in 0..env.pick(12, 4) {
        tokio::time::sleep(env.pick(Duration::from_secs(10), Duration::from_secs(1))).await;
        let (visible, invisible, _) = env.counts(q.url()).await;
        assert_eq!((visible, invisible), (0, 5), "still held while waiting");
    }
    open.send_replace(true);
    assert!(eventually(Duration::from_secs(10), || async { done.get() == 5 }).await);
    handle.shutdown();
    let report = task.await.unwrap();
    assert_eq!(report.acked, 5);
    assert!(report.lease_extensions >= env.pick(5 * 10, 5 * 2), "{report:?}");
    assert_eq!(env.counts(q.url()).await, (0, 0, 0));
}
}
