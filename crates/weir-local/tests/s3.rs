//! The in-process S3 through a real `aws_sdk_s3::Client` (flexible checksums and
//! aws-chunked bodies on, as the SDK sends them by default), on paused time.

#![allow(clippy::unwrap_used)]

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use md5::{Digest, Md5};
use weir_local::LocalSqs;

const MIB: usize = 1024 * 1024;

/// A body whose bytes differ everywhere (a shifted or dropped chunk shows).
fn payload(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect()
}

fn hex_md5(b: &[u8]) -> String {
    Md5::digest(b).iter().map(|b| format!("{b:02x}")).collect()
}

async fn bucket(s3: &Client, name: &str) {
    s3.create_bucket().bucket(name).send().await.unwrap();
}

async fn get(s3: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

fn code<E: ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn put_get_head_delete_round_trip() {
    let s3 = LocalSqs::new().s3_client();
    bucket(&s3, "payloads").await;
    let put = s3
        .put_object()
        .bucket("payloads")
        .key("a/b c+d.json")
        .content_type("application/json")
        .metadata("origin", "weir")
        .body(ByteStream::from_static(b"{\"x\":1}"))
        .send()
        .await
        .unwrap();
    let etag = format!("\"{}\"", hex_md5(b"{\"x\":1}"));
    assert_eq!(put.e_tag(), Some(etag.as_str()));
    assert_eq!(get(&s3, "payloads", "a/b c+d.json").await, b"{\"x\":1}");
    let head = s3
        .head_object()
        .bucket("payloads")
        .key("a/b c+d.json")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(7));
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    assert_eq!(head.content_type(), Some("application/json"));
    assert_eq!(
        head.metadata().unwrap().get("origin").map(String::as_str),
        Some("weir")
    );
    assert!(head.last_modified().is_some());
    s3.delete_object()
        .bucket("payloads")
        .key("a/b c+d.json")
        .send()
        .await
        .unwrap();
    let err = s3
        .get_object()
        .bucket("payloads")
        .key("a/b c+d.json")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_key(), "{err:?}");
    let err = s3
        .head_object()
        .bucket("payloads")
        .key("a/b c+d.json")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_not_found(), "{err:?}");
    // Deleting a missing key succeeds, as on S3.
    s3.delete_object()
        .bucket("payloads")
        .key("never")
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn large_single_puts_are_byte_exact() {
    let s3 = LocalSqs::new().s3_client();
    bucket(&s3, "big").await;
    for (key, len) in [("two", 2 * MIB), ("twenty", 20 * MIB), ("odd", 3 * MIB + 7)] {
        let body = payload(len, u32::try_from(len).unwrap());
        let put = s3
            .put_object()
            .bucket("big")
            .key(key)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(put.e_tag().unwrap(), format!("\"{}\"", hex_md5(&body)));
        let got = get(&s3, "big", key).await;
        assert_eq!(got.len(), body.len(), "{key}");
        assert!(got == body, "{key}: bytes differ");
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn missing_buckets_are_no_such_bucket() {
    let s3 = LocalSqs::new().s3_client();
    let err = s3
        .put_object()
        .bucket("nope")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "NoSuchBucket");
    let err = s3
        .get_object()
        .bucket("nope")
        .key("k")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "NoSuchBucket");
    let raw = err.meta().clone();
    assert_eq!(raw.message(), Some("The specified bucket does not exist"));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn multipart_uploads_assemble_byte_exact() {
    let s3 = LocalSqs::new().s3_client();
    bucket(&s3, "mpu").await;
    let body = payload(20 * MIB + 123, 7);
    let created = s3
        .create_multipart_upload()
        .bucket("mpu")
        .key("obj")
        .content_type("application/octet-stream")
        .metadata("kind", "offload")
        .send()
        .await
        .unwrap();
    let id = created.upload_id().unwrap();
    let mut parts = Vec::new();
    let mut md5s = Vec::new();
    for (i, chunk) in body.chunks(5 * MIB).enumerate() {
        let n = i32::try_from(i + 1).unwrap();
        let up = s3
            .upload_part()
            .bucket("mpu")
            .key("obj")
            .upload_id(id)
            .part_number(n)
            .body(ByteStream::from(chunk.to_vec()))
            .send()
            .await
            .unwrap();
        assert_eq!(up.e_tag().unwrap(), format!("\"{}\"", hex_md5(chunk)));
        md5s.extend(Md5::digest(chunk));
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(up.e_tag().unwrap())
                .build(),
        );
    }
    let done = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("obj")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts.clone()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let etag = format!("\"{}-{}\"", hex_md5(&md5s), parts.len());
    assert_eq!(done.e_tag(), Some(etag.as_str()));
    let got = get(&s3, "mpu", "obj").await;
    assert!(got == body, "bytes differ");
    let head = s3
        .head_object()
        .bucket("mpu")
        .key("obj")
        .send()
        .await
        .unwrap();
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    assert_eq!(
        head.metadata().unwrap().get("kind").map(String::as_str),
        Some("offload")
    );
    // The upload is over: completing or aborting it again is NoSuchUpload.
    let err = s3
        .abort_multipart_upload()
        .bucket("mpu")
        .key("obj")
        .upload_id(id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_upload(), "{err:?}");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn delete_objects_reports_every_key_deleted() {
    let s3 = LocalSqs::new().s3_client();
    bucket(&s3, "many").await;
    for key in ["a", "b"] {
        s3.put_object()
            .bucket("many")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let ids = ["a", "missing", "b"].map(|k| ObjectIdentifier::builder().key(k).build().unwrap());
    let out = s3
        .delete_objects()
        .bucket("many")
        .delete(
            Delete::builder()
                .set_objects(Some(ids.to_vec()))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
    assert_eq!(deleted, ["a", "missing", "b"]);
    assert!(out.errors().is_empty());
    let listed = s3.list_objects_v2().bucket("many").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0));
}
