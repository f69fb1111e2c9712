//! [`BatchingProducer<T>`]: buffers sends and flushes them as `SendMessageBatch` calls.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use crate::codec::{Encode, Json};
use crate::error::{Error, Result};
use crate::producer::{Prepared, Producer, SendOptions, SendOutput};
use crate::validate::MAX_BATCH_ENTRIES;

struct Request {
    prepared: Prepared,
    reply: oneshot::Sender<Result<SendOutput>>,
}

/// The result of one buffered send, resolved when its batch call has answered.
#[must_use = "the send's result is only known by awaiting it"]
pub struct PendingSend {
    rx: oneshot::Receiver<Result<SendOutput>>,
}

impl fmt::Debug for PendingSend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingSend").finish_non_exhaustive()
    }
}

impl Future for PendingSend {
    type Output = Result<SendOutput>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|r| {
            r.unwrap_or_else(|_| {
                Err(Error::invalid(
                    "batching producer",
                    "the flusher stopped before sending this message",
                ))
            })
        })
    }
}

/// Buffers sends and flushes them as `SendMessageBatch` calls: at 10 entries, at the
/// queue's size limit, or after the linger (10 ms by default), whichever comes first.
///
/// The buffer is bounded: when it is full, [`enqueue`](Self::enqueue) and
/// [`send`](Self::send) wait, so a fast caller feels back pressure. [`close`](Self::close)
/// flushes what is left and waits for it; dropping the producer flushes in the
/// background. Share it with an `Arc`.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> weir_sqs::Result<()> {
/// # let client = weir_local::LocalSqs::new().client();
/// # weir_sqs::QueueSpec::standard("events").ensure(&client).await?;
/// use weir_sqs::{BatchingProducer, Producer, Queue};
///
/// let queue = Queue::open(&client, "events").await?;
/// let batching = BatchingProducer::new(Producer::<u32>::new(queue));
/// let mut pending = Vec::new();
/// for i in 0..100 {
///     pending.push(batching.enqueue(&i).await?); // waits only when the buffer is full
/// }
/// for p in pending {
///     p.await?; // each message's own result
/// }
/// batching.close().await;
/// # Ok(()) }
/// ```
pub struct BatchingProducer<T, C = Json> {
    producer: Producer<T, C>,
    tx: mpsc::Sender<Request>,
    task: JoinHandle<()>,
}

impl<T, C> fmt::Debug for BatchingProducer<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchingProducer")
            .field("producer", &self.producer)
            .field("buffer_free", &self.tx.capacity())
            .finish_non_exhaustive()
    }
}

/// Builds a [`BatchingProducer`].
#[must_use]
pub struct BatchingProducerBuilder<T, C = Json> {
    producer: Producer<T, C>,
    linger: Duration,
    buffer: usize,
    max_in_flight: usize,
}

impl<T, C> fmt::Debug for BatchingProducerBuilder<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchingProducerBuilder")
            .field("linger", &self.linger)
            .field("buffer", &self.buffer)
            .field("max_in_flight", &self.max_in_flight)
            .finish_non_exhaustive()
    }
}

impl<T, C> BatchingProducerBuilder<T, C>
where
    T: 'static,
    C: Encode<T>,
{
    /// How long a partial batch waits for more messages (default 10 ms).
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// How many messages the buffer holds before senders wait (default 1,000).
    pub fn buffer(mut self, messages: usize) -> Self {
        self.buffer = messages;
        self
    }

    /// How many batch calls may run at once (default 8; FIFO queues use 1, to keep the
    /// order within groups).
    pub fn max_in_flight(mut self, calls: usize) -> Self {
        self.max_in_flight = calls;
        self
    }

    /// Starts the flusher task.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (the flusher is a spawned task).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the buffer or the in-flight bound is 0, or the linger
    /// is over 1 hour.
    pub fn build(self) -> Result<BatchingProducer<T, C>> {
        if self.buffer == 0 {
            return Err(Error::invalid("buffer", "must hold at least 1 message"));
        }
        if self.max_in_flight == 0 {
            return Err(Error::invalid("max in flight", "must be at least 1"));
        }
        if self.linger > Duration::from_secs(3600) {
            return Err(Error::invalid(
                "linger",
                format!("{:?} is over the limit of 3600 s", self.linger),
            ));
        }
        let in_flight = if self.producer.queue().is_fifo() {
            1
        } else {
            self.max_in_flight
        };
        let (tx, rx) = mpsc::channel(self.buffer);
        let task = tokio::spawn(flusher(self.producer.clone(), rx, self.linger, in_flight));
        Ok(BatchingProducer {
            producer: self.producer,
            tx,
            task,
        })
    }
}

impl<T, C> BatchingProducer<T, C>
where
    T: 'static,
    C: Encode<T>,
{
    /// A batching producer with the defaults (10 ms linger, 1,000-message buffer,
    /// 8 calls in flight).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (the flusher is a spawned task).
    #[must_use]
    pub fn new(producer: Producer<T, C>) -> Self {
        let in_flight = if producer.queue().is_fifo() { 1 } else { 8 };
        let (tx, rx) = mpsc::channel(1000);
        let task = tokio::spawn(flusher(
            producer.clone(),
            rx,
            Duration::from_millis(10),
            in_flight,
        ));
        Self { producer, tx, task }
    }

    /// A builder for the linger, buffer and in-flight bounds.
    pub fn builder(producer: Producer<T, C>) -> BatchingProducerBuilder<T, C> {
        BatchingProducerBuilder {
            producer,
            linger: Duration::from_millis(10),
            buffer: 1000,
            max_in_flight: 8,
        }
    }

    /// Buffers one message, waiting while the buffer is full; returns a future for its
    /// result.
    ///
    /// # Errors
    ///
    /// The checks of [`Producer::send_with`] (codec, size, FIFO rules), before buffering.
    pub async fn enqueue_with(&self, value: &T, options: SendOptions) -> Result<PendingSend> {
        let prepared = self.producer.prepare(value, options)?;
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request { prepared, reply })
            .await
            .map_err(|_| Error::invalid("batching producer", "the flusher has stopped"))?;
        Ok(PendingSend { rx })
    }

    /// Buffers one message with default options; see [`enqueue_with`](Self::enqueue_with).
    ///
    /// # Errors
    ///
    /// As [`enqueue_with`](Self::enqueue_with).
    pub async fn enqueue(&self, value: &T) -> Result<PendingSend> {
        self.enqueue_with(value, SendOptions::default()).await
    }

    /// Sends one message through the buffer and waits for its own result.
    ///
    /// # Errors
    ///
    /// The checks of [`Producer::send_with`], then the result of its batch entry.
    pub async fn send(&self, value: &T) -> Result<SendOutput> {
        self.enqueue(value).await?.await
    }

    /// [`send`](Self::send) with options.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn send_with(&self, value: &T, options: SendOptions) -> Result<SendOutput> {
        self.enqueue_with(value, options).await?.await
    }

    /// Flushes everything buffered, waits for every call to answer, and stops.
    pub async fn close(self) {
        drop(self.tx);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "batching producer flusher failed");
        }
    }
}

/// Collects requests into batches and sends them, at most `in_flight` calls at once.
async fn flusher<T, C>(
    producer: Producer<T, C>,
    mut rx: mpsc::Receiver<Request>,
    linger: Duration,
    in_flight: usize,
) where
    T: 'static,
    C: Encode<T>,
{
    let max_bytes = producer.queue().attributes().max_message_size();
    let permits = Arc::new(Semaphore::new(in_flight));
    let mut calls = JoinSet::new();
    let mut carry: Option<Request> = None;
    loop {
        let first = match carry.take() {
            Some(r) => r,
            None => match rx.recv().await {
                Some(r) => r,
                None => break,
            },
        };
        let deadline = tokio::time::Instant::now() + linger;
        let mut bytes = first.prepared.size;
        let mut buf = vec![first];
        let mut closed = false;
        while buf.len() < MAX_BATCH_ENTRIES {
            tokio::select! {
                biased;
                next = rx.recv() => match next {
                    Some(r) if bytes + r.prepared.size > max_bytes => {
                        carry = Some(r);
                        break;
                    }
                    Some(r) => {
                        bytes += r.prepared.size;
                        buf.push(r);
                    }
                    None => {
                        closed = true;
                        break;
                    }
                },
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        // Bound the calls in flight: waiting here stops draining the channel, so the
        // bounded buffer pushes back on senders.
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break;
        };
        let p = producer.clone();
        calls.spawn(async move {
            let (prepared, replies): (Vec<Prepared>, Vec<_>) =
                buf.into_iter().map(|r| (r.prepared, r.reply)).unzip();
            let results = p.send_prepared_batch(prepared).await;
            drop(permit);
            for (reply, r) in replies.into_iter().zip(results) {
                // The caller may have dropped its PendingSend: nothing to tell.
                let _ = reply.send(r);
            }
        });
        // Reap finished calls so the set does not grow.
        while calls.try_join_next().is_some() {}
        if closed && carry.is_none() {
            break;
        }
    }
    while calls.join_next().await.is_some() {}
}
