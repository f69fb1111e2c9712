//! A test kit: run messages through a real [`Worker`](crate::worker::Worker) on the
//! in-process SQS, and get each message's fate back (feature `test-util`).
//!
//! [`TestQueue`] makes a queue and its dead-letter queue on a fresh
//! [`LocalSqs`](crate::local::LocalSqs), sends what a test needs, and
//! [`TestQueue::run`] runs a worker until it has nothing left to do. What it returns
//! comes from SQS, not from the handler: a message is [`Outcome::Acked`] when it was
//! deleted and no dead-letter copy exists, [`Outcome::DeadLettered`] when its copy is
//! in the dead-letter queue, [`Outcome::Retried`] when SQS delivers it again later (and
//! when), [`Outcome::Released`] when shutdown gave it back at once.
//!
//! The worker is the one a service builds, with its layers, retry policy and limits:
//! the kit only chooses the queue. Run tests on a paused clock
//! (`#[tokio::test(start_paused = true)]`): retries an hour away are found at once.
//! On a real clock the kit waits for them in real time.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use weir::prelude::*;
//! use weir::test::{Outcome, TestQueue};
//!
//! let queue = TestQueue::standard().await?;
//! queue.send(&1_u64).await?;
//! queue.send(&0_u64).await?;
//!
//! let worker = Worker::builder(queue.queue().clone())
//!     .handler(handler_fn(|msg: Message<u64>| async move {
//!         match msg.body() {
//!             Ok(0) => Err(HandlerError::reject("zero is not an order")),
//!             Ok(_) => Ok(()),
//!             Err(e) => Err(HandlerError::reject(e.to_string())),
//!         }
//!     }))
//!     .dead_letter(queue.dlq())
//!     .build()?;
//! let run = queue.run(worker).await?;
//! assert_eq!(run.outcomes[0], Outcome::Acked);
//! assert!(matches!(&run.outcomes[1], Outcome::DeadLettered { reason, .. } if reason == "rejected"));
//! # Ok(())
//! # }
//! ```

mod names;
mod outcome;
mod queue;
mod run;
mod wait;

pub use names::unique_name;
pub use outcome::{Outcome, TestRun};
pub use queue::TestQueue;
pub use wait::eventually;
