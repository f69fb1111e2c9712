//! The weir worker runtime: poll, process and ack SQS messages at a controlled rate.
//!
//! A worker receives only as many messages as it has free slots, after the rate limiter
//! grants them, and every message it receives ends acked, retried, dead-lettered or
//! released: on failure, at shutdown, and when the process dies.
