//! An in-process Amazon SQS, behind a real `aws_sdk_sqs::Client`.
//!
//! `weir-local` answers the SQS JSON protocol (`X-Amz-Target: AmazonSQS.<Operation>`)
//! from memory. It plugs into aws-sdk-sqs as its HTTP client, so the SDK's signing,
//! serialization, retries, checksum validation and error parsing all run exactly as they
//! would against AWS. It is weir's embedded default for examples and tests.
