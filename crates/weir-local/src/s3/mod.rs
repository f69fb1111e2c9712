//! The in-process S3: enough of it for large-payload offloading and its tests.
//!
//! Requests arrive path-style (`/{bucket}/{key}?{query}`, see [`wire`]); buckets live
//! in one namespace per engine, whatever the account and region of the request, as
//! bucket names are global per partition on AWS. Objects are `Bytes` in memory.

mod buckets;
mod checksum;
mod chunked;
mod input;
mod list;
mod multipart;
mod objects;
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;

use crate::engine::{Engine, EngineResponse};
use crate::gateway::Incoming;
use wire::{S3Error, S3Request, S3Result};

/// Largest single PUT, 5 GiB (`EntityTooLarge` above it).
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html>
pub(crate) const MAX_PUT_BODY: u64 = 5 * 1024 * 1024 * 1024;

/// The S3 operations this engine answers.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateBucket",
    "HeadBucket",
    "DeleteBucket",
    "ListObjectsV2",
    "PutObject",
    "GetObject",
    "HeadObject",
    "DeleteObject",
    "DeleteObjects",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
];

/// A stored object.
#[derive(Debug, Clone)]
pub(crate) struct Object {
    pub(crate) body: Bytes,
    /// Quoted, as sent in the `ETag` header.
    pub(crate) etag: String,
    pub(crate) content_type: Option<String>,
    /// `x-amz-meta-*`, names without the prefix.
    pub(crate) metadata: Vec<(String, String)>,
    pub(crate) last_modified_ms: u64,
}

/// One uploaded part.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub(crate) body: Bytes,
    pub(crate) md5: [u8; 16],
}

/// A multipart upload in progress.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) key: String,
    pub(crate) content_type: Option<String>,
    pub(crate) metadata: Vec<(String, String)>,
    pub(crate) parts: BTreeMap<u32, Part>,
}

/// A bucket.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    pub(crate) region: String,
    pub(crate) objects: BTreeMap<String, Object>,
    pub(crate) uploads: HashMap<String, Upload>,
}

/// Every bucket of the engine.
#[derive(Debug, Default)]
pub(crate) struct S3State {
    buckets: Mutex<BTreeMap<String, Bucket>>,
}

impl S3State {
    /// The buckets, locked (never across an `.await`).
    pub(crate) fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Bucket>> {
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn bucket_count(&self) -> usize {
        self.lock().len()
    }

    /// Runs `f` on an existing bucket, else `NoSuchBucket`.
    pub(crate) fn with_bucket<T>(
        &self,
        name: &str,
        f: impl FnOnce(&mut Bucket) -> S3Result<T>,
    ) -> S3Result<T> {
        let mut buckets = self.lock();
        let bucket = buckets
            .get_mut(name)
            .ok_or_else(|| S3Error::no_such_bucket(name))?;
        f(bucket)
    }
}

/// The operation a request is, by method, path and query (`PutObject`, `UploadPart`).
pub(crate) fn operation(req: &Incoming<'_>) -> &'static str {
    let r = S3Request::parse(req);
    let object = !r.key.is_empty();
    match (req.method.to_ascii_uppercase().as_str(), object) {
        ("PUT", false) => "CreateBucket",
        ("HEAD", false) => "HeadBucket",
        ("DELETE", false) => "DeleteBucket",
        ("GET", false) if r.bucket.is_empty() => "ListBuckets",
        ("GET", false) => "ListObjectsV2",
        ("POST", false) if r.has("delete") => "DeleteObjects",
        ("PUT", true) if r.has("uploadId") => "UploadPart",
        ("PUT", true) => "PutObject",
        ("GET", true) => "GetObject",
        ("HEAD", true) => "HeadObject",
        ("DELETE", true) if r.has("uploadId") => "AbortMultipartUpload",
        ("DELETE", true) => "DeleteObject",
        ("POST", true) if r.has("uploads") => "CreateMultipartUpload",
        ("POST", true) if r.has("uploadId") => "CompleteMultipartUpload",
        _ => "Unknown",
    }
}

/// The bucket a request names, for the request log.
pub(crate) fn bucket_of(req: &Incoming<'_>) -> String {
    S3Request::parse(req).bucket
}

/// Answers one S3 request.
pub(crate) fn handle(engine: &Engine, inc: &Incoming<'_>) -> EngineResponse {
    let req = S3Request::parse(inc);
    let head = req.is_head();
    let answer = match operation(inc) {
        "CreateBucket" => buckets::create(engine, &req),
        "HeadBucket" => buckets::head(engine, &req),
        "DeleteBucket" => buckets::delete(engine, &req),
        "ListObjectsV2" => list::list_objects_v2(engine, &req),
        "PutObject" => objects::put(engine, &req),
        "GetObject" | "HeadObject" => objects::get(engine, &req),
        "DeleteObject" => objects::delete(engine, &req),
        "DeleteObjects" => objects::delete_many(engine, &req),
        "CreateMultipartUpload" => multipart::create(engine, &req),
        "UploadPart" => multipart::upload_part(engine, &req),
        "CompleteMultipartUpload" => multipart::complete(engine, &req),
        "AbortMultipartUpload" => multipart::abort(engine, &req),
        other => Err(S3Error::new(
            501,
            "NotImplemented",
            format!(
                "weir-local's S3 does not implement {other} ({} {}); it answers {}.",
                inc.method,
                inc.path,
                OPERATIONS.join(", ")
            ),
        )),
    };
    answer.unwrap_or_else(|e| e.into_response(head))
}

/// An injected fault's error, in S3's XML.
pub(crate) fn injected(status: u16, code: &str, message: &str, head: bool) -> EngineResponse {
    S3Error::new(status, code.to_owned(), message).into_response(head)
}
