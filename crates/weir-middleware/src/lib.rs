//! Tower middleware for services that send or handle SQS messages.
//!
//! A shared rate limit, producer back pressure from queue depth, retries with backoff,
//! timeouts that cancel, and tracing with the OpenTelemetry messaging conventions.
