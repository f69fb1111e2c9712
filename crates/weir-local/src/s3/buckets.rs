//! CreateBucket, HeadBucket and DeleteBucket.

use crate::engine::{Engine, EngineResponse};

use super::Bucket;
use super::wire::{self, S3Error, S3Request, S3Result};

/// Whether S3 takes `name` for a general purpose bucket: 3 to 63 lowercase letters,
/// digits, dots and hyphens, beginning and ending with a letter or digit, no two
/// adjacent dots, not an IP address, and none of the reserved prefixes and suffixes.
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>
pub(crate) fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    let edge = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
        && edge(b.first())
        && edge(b.last())
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
        && !["xn--", "sthree-", "amzn-s3-demo-"]
            .iter()
            .any(|p| name.starts_with(p))
        && !["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// The region a request is signed for, else the engine's.
fn region_of<'a>(engine: &'a Engine, req: &S3Request<'_, 'a>) -> &'a str {
    req.inc
        .scope()
        .map(|s| s.region)
        .filter(|r| !r.is_empty())
        .unwrap_or(&engine.region)
}

/// `PUT /{bucket}`. Creating a bucket you already own is `BucketAlreadyOwnedByYou`
/// (409), except in us-east-1, where S3 answers 200 for compatibility (as LocalStack
/// 4.12 does too).
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html>
pub(crate) fn create(engine: &Engine, req: &S3Request<'_, '_>) -> S3Result<EngineResponse> {
    if !valid_name(&req.bucket) {
        return Err(S3Error::new(
            400,
            "InvalidBucketName",
            "The specified bucket is not valid.",
        )
        .with("BucketName", req.bucket.as_str()));
    }
    let region = region_of(engine, req);
    let mut buckets = engine.s3.lock();
    if buckets.contains_key(&req.bucket) && region != "us-east-1" {
        return Err(S3Error::new(
            409,
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
        )
        .with("BucketName", req.bucket.as_str()));
    }
    buckets.entry(req.bucket.clone()).or_insert_with(|| Bucket {
        region: region.to_owned(),
        ..Bucket::default()
    });
    Ok(wire::empty(
        200,
        vec![("location", format!("/{}", req.bucket))],
    ))
}

/// `HEAD /{bucket}`: 200 with the bucket's region, else a body-less 404.
pub(crate) fn head(engine: &Engine, req: &S3Request<'_, '_>) -> S3Result<EngineResponse> {
    let region = engine
        .s3
        .with_bucket(&req.bucket, |b| Ok(b.region.clone()))?;
    Ok(wire::empty(200, vec![("x-amz-bucket-region", region)]))
}

/// `DELETE /{bucket}`: 204, or `BucketNotEmpty` while it holds objects (uploads in
/// progress are dropped with it).
pub(crate) fn delete(engine: &Engine, req: &S3Request<'_, '_>) -> S3Result<EngineResponse> {
    let mut buckets = engine.s3.lock();
    let bucket = buckets
        .get(&req.bucket)
        .ok_or_else(|| S3Error::no_such_bucket(&req.bucket))?;
    if !bucket.objects.is_empty() {
        return Err(S3Error::new(
            409,
            "BucketNotEmpty",
            "The bucket you tried to delete is not empty",
        )
        .with("BucketName", req.bucket.as_str()));
    }
    buckets.remove(&req.bucket);
    Ok(wire::empty(204, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in ["abc", "my-bucket.v2", "0a9", &"a".repeat(63)] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Abc",
            "a_b",
            "-ab",
            "ab-",
            "a..b",
            "192.168.5.4",
            "xn--abc",
            "sthree-x",
            "x-s3alias",
            "x--ol-s3",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
