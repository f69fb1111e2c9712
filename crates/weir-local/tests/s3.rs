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

/// A body the SDK can't read in one piece, so it sends it aws-chunked with a CRC32
/// trailer (an in-memory `ByteStream` gets an `x-amz-checksum-crc32` header instead).
fn streamed(body: Vec<u8>) -> ByteStream {
    let full = http_body_util::Full::new(bytes::Bytes::from(body));
    ByteStream::new(aws_smithy_types::body::SdkBody::from_body_1_x(full))
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
    let sizes = [("two", 2 * MIB), ("twenty", 20 * MIB), ("odd", 3 * MIB + 7)];
    for ((key, len), chunked) in sizes.into_iter().flat_map(|s| [(s, false), (s, true)]) {
        let body = payload(len, u32::try_from(len).unwrap());
        let stream = if chunked {
            streamed(body.clone())
        } else {
            ByteStream::from(body.clone())
        };
        let put = s3
            .put_object()
            .bucket("big")
            .key(key)
            .body(stream)
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
            .body(streamed(chunk.to_vec()))
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

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn bucket_lifecycle_and_errors() {
    let local = LocalSqs::new();
    let s3 = local.s3_client();
    bucket(&s3, "life").await;
    // us-east-1 answers 200 to re-creating your own bucket, as S3 does there...
    bucket(&s3, "life").await;
    // ...and every other region BucketAlreadyOwnedByYou.
    let eu = Client::from_conf(
        local
            .s3_config_builder()
            .region(aws_sdk_s3::config::Region::new("eu-west-1"))
            .build(),
    );
    let err = eu.create_bucket().bucket("life").send().await.unwrap_err();
    let raw = err.raw_response().map(|r| r.status().as_u16());
    assert!(err.into_service_error().is_bucket_already_owned_by_you());
    assert_eq!(raw, Some(409));
    for bad in ["ab", "Upper", "a..b", "192.168.5.4", "under_score"] {
        let err = s3.create_bucket().bucket(bad).send().await.unwrap_err();
        assert_eq!(
            code(&err.into_service_error()),
            "InvalidBucketName",
            "{bad}"
        );
    }
    let head = s3.head_bucket().bucket("life").send().await.unwrap();
    assert_eq!(head.bucket_region(), Some("us-east-1"));
    let err = s3.head_bucket().bucket("nothere").send().await.unwrap_err();
    assert!(err.into_service_error().is_not_found());
    s3.put_object()
        .bucket("life")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let err = s3
        .delete_bucket()
        .bucket("life")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "BucketNotEmpty");
    s3.delete_object()
        .bucket("life")
        .key("k")
        .send()
        .await
        .unwrap();
    s3.delete_bucket().bucket("life").send().await.unwrap();
    let err = s3
        .delete_bucket()
        .bucket("life")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "NoSuchBucket");
}

async fn upload(s3: &Client, key: &str, parts: &[&[u8]]) -> (String, Vec<CompletedPart>) {
    let id = s3
        .create_multipart_upload()
        .bucket("parts")
        .key(key)
        .send()
        .await
        .unwrap();
    let id = id.upload_id().unwrap().to_owned();
    let mut done = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let n = i32::try_from(i + 1).unwrap();
        let up = s3
            .upload_part()
            .bucket("parts")
            .key(key)
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(p.to_vec()))
            .send()
            .await
            .unwrap();
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(up.e_tag().unwrap())
                .build(),
        );
    }
    (id, done)
}

async fn complete_err(
    s3: &Client,
    key: &str,
    id: &str,
    parts: Vec<CompletedPart>,
) -> (String, String) {
    let err = s3
        .complete_multipart_upload()
        .bucket("parts")
        .key(key)
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    (code(&err), err.message().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn multipart_errors() {
    let s3 = LocalSqs::new().s3_client();
    bucket(&s3, "parts").await;
    let five = payload(5 * MIB, 1);
    let (id, parts) = upload(&s3, "k", &[b"small", b"last"]).await;
    // Every part but the last must be 5 MiB or more.
    assert_eq!(
        complete_err(&s3, "k", &id, parts.clone()).await.0,
        "EntityTooSmall"
    );
    let reversed = vec![parts[1].clone(), parts[0].clone()];
    assert_eq!(
        complete_err(&s3, "k", &id, reversed).await.0,
        "InvalidPartOrder"
    );
    let wrong = vec![
        CompletedPart::builder()
            .part_number(1)
            .e_tag("\"00\"")
            .build(),
    ];
    assert_eq!(complete_err(&s3, "k", &id, wrong).await.0, "InvalidPart");
    let unknown = vec![
        CompletedPart::builder()
            .part_number(3)
            .e_tag(parts[0].e_tag().unwrap())
            .build(),
    ];
    assert_eq!(complete_err(&s3, "k", &id, unknown).await.0, "InvalidPart");
    // A single small part is a whole object (the last part has no minimum).
    let one = vec![parts[1].clone()];
    s3.complete_multipart_upload()
        .bucket("parts")
        .key("k")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(one))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(get(&s3, "parts", "k").await, b"last");
    assert_eq!(
        complete_err(&s3, "k", &id, parts.clone()).await.0,
        "NoSuchUpload"
    );
    let err = s3
        .upload_part()
        .bucket("parts")
        .key("k")
        .upload_id("nope")
        .part_number(1)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "NoSuchUpload");
    let (id, parts) = upload(&s3, "big", &[&five, b"tail"]).await;
    for n in [0, 10_001] {
        let err = s3
            .upload_part()
            .bucket("parts")
            .key("big")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(code(&err), "InvalidArgument", "{n}");
    }
    // Aborting ends the upload; its parts are gone.
    s3.abort_multipart_upload()
        .bucket("parts")
        .key("big")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(complete_err(&s3, "big", &id, parts).await.0, "NoSuchUpload");
    let err = s3
        .abort_multipart_upload()
        .bucket("parts")
        .key("big")
        .upload_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_no_such_upload());
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn list_objects_v2_pages_by_prefix_and_token() {
    let s3 = LocalSqs::new().s3_client();
    bucket(&s3, "listing").await;
    for i in 0..25 {
        let key = format!("p/{i:02}");
        s3.put_object()
            .bucket("listing")
            .key(key)
            .body(ByteStream::from_static(b"abc"))
            .send()
            .await
            .unwrap();
    }
    for key in ["other", "p2/x", "p/sub/a", "p/sub/b"] {
        s3.put_object()
            .bucket("listing")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let mut keys = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket("listing")
            .prefix("p/")
            .max_keys(10)
            .set_continuation_token(token.take())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.key_count().unwrap() <= 10);
        keys.extend(page.contents().iter().map(|o| o.key().unwrap().to_owned()));
        if !page.is_truncated().unwrap() {
            break;
        }
        token = page.next_continuation_token().map(str::to_owned);
    }
    assert_eq!(pages, 3);
    assert_eq!(keys.len(), 27);
    assert!(keys.iter().all(|k| k.starts_with("p/")));
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
    let first = s3
        .list_objects_v2()
        .bucket("listing")
        .prefix("p/0")
        .send()
        .await
        .unwrap();
    let o = &first.contents()[0];
    assert_eq!((o.key(), o.size()), (Some("p/00"), Some(3)));
    assert_eq!(o.e_tag().unwrap(), format!("\"{}\"", hex_md5(b"abc")));
    let grouped = s3
        .list_objects_v2()
        .bucket("listing")
        .prefix("p/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = grouped
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["p/sub/"]);
    assert_eq!(grouped.contents().len(), 25);
    let after = s3
        .list_objects_v2()
        .bucket("listing")
        .start_after("p/sub/a")
        .send()
        .await
        .unwrap();
    let rest: Vec<_> = after.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(rest, ["p/sub/b", "p2/x"]);
    let err = s3
        .list_objects_v2()
        .bucket("absent")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_no_such_bucket());
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn ranges_and_checksums() {
    let s3 = LocalSqs::new().s3_client();
    bucket(&s3, "ranges").await;
    s3.put_object()
        .bucket("ranges")
        .key("k")
        .body(ByteStream::from_static(b"0123456789"))
        .send()
        .await
        .unwrap();
    let part = s3
        .get_object()
        .bucket("ranges")
        .key("k")
        .range("bytes=2-4")
        .send()
        .await
        .unwrap();
    assert_eq!(part.content_range(), Some("bytes 2-4/10"));
    assert_eq!(&part.body.collect().await.unwrap().into_bytes()[..], b"234");
    let tail = s3
        .get_object()
        .bucket("ranges")
        .key("k")
        .range("bytes=-3")
        .send()
        .await
        .unwrap();
    assert_eq!(&tail.body.collect().await.unwrap().into_bytes()[..], b"789");
    let err = s3
        .get_object()
        .bucket("ranges")
        .key("k")
        .range("bytes=20-30")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err.into_service_error()), "InvalidRange");
    // A Content-MD5 that doesn't match the body is BadDigest, and nothing is stored.
    let err = s3
        .put_object()
        .bucket("ranges")
        .key("bad")
        .content_md5("1B2M2Y8AsgTpgAmY7PhCfg==")
        .body(ByteStream::from_static(b"not empty"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err.into_service_error()), "BadDigest");
    let err = s3
        .head_object()
        .bucket("ranges")
        .key("bad")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found());
}

/// Records the body encoding of each request on its way to the in-process S3.
#[derive(Debug, Clone)]
struct Recorder {
    inner: weir_local::LocalConnector,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

impl aws_smithy_runtime_api::client::http::HttpConnector for Recorder {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        let h = |n: &str| request.headers().get(n).unwrap_or_default().to_owned();
        let entry = (h("content-encoding"), h("x-amz-trailer"));
        self.seen.lock().unwrap().push(entry);
        self.inner.call(request)
    }
}

impl aws_smithy_runtime_api::client::http::HttpClient for Recorder {
    fn http_connector(
        &self,
        _: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(self.clone())
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn the_sdk_sends_aws_chunked_bodies_with_a_crc32_trailer() {
    let local = LocalSqs::new();
    let recorder = Recorder {
        inner: local.http_client(),
        seen: std::sync::Arc::default(),
    };
    let s3 = Client::from_conf(
        local
            .s3_config_builder()
            .http_client(recorder.clone())
            .build(),
    );
    bucket(&s3, "chunks").await;
    let body = payload(MIB + 1, 3);
    s3.put_object()
        .bucket("chunks")
        .key("k")
        .body(streamed(body.clone()))
        .send()
        .await
        .unwrap();
    let put = recorder.seen.lock().unwrap().last().cloned().unwrap();
    assert!(put.0.contains("aws-chunked"), "{put:?}");
    assert_eq!(put.1, "x-amz-checksum-crc32");
    assert!(get(&s3, "chunks", "k").await == body);
}

#[tokio::test]
async fn s3_over_weir_serve_shares_the_port_with_sqs() {
    let local = LocalSqs::new();
    let server = local.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "t",
        ))
        .endpoint_url(server.endpoint_url())
        .force_path_style(true)
        .build();
    let s3 = Client::from_conf(conf);
    bucket(&s3, "served").await;
    let body = payload(2 * MIB, 9);
    s3.put_object()
        .bucket("served")
        .key("k")
        .metadata("m", "v")
        .body(streamed(body.clone()))
        .send()
        .await
        .unwrap();
    assert!(get(&s3, "served", "k").await == body);
    let head = s3
        .head_object()
        .bucket("served")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.content_length(),
        Some(i64::try_from(body.len()).unwrap())
    );
    assert_eq!(
        head.metadata().unwrap().get("m").map(String::as_str),
        Some("v")
    );
    let err = s3
        .head_object()
        .bucket("served")
        .key("none")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found());
    let err = s3
        .get_object()
        .bucket("served")
        .key("none")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_no_such_key());
    // The in-process client sees the same bucket, and SQS answers on the same port.
    assert!(get(&local.s3_client(), "served", "k").await == body);
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "test", "test", None, None, "t",
            ))
            .endpoint_url(server.endpoint_url())
            .build(),
    );
    sqs.create_queue()
        .queue_name("beside")
        .send()
        .await
        .unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn fault_rules_name_s3_operations_and_answer_in_s3_xml() {
    use weir_local::FaultRule;
    let local = LocalSqs::new();
    let s3 = Client::from_conf(
        local
            .s3_config_builder()
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .build(),
    );
    bucket(&s3, "faulty").await;
    local.faults().inject(
        FaultRule::error(503, "SlowDown", "injected")
            .operation("PutObject")
            .times(1),
    );
    let put = || {
        s3.put_object()
            .bucket("faulty")
            .key("k")
            .body(ByteStream::from_static(b"x"))
            .send()
    };
    let err = put().await.unwrap_err().into_service_error();
    assert_eq!(
        (code(&err).as_str(), err.message()),
        ("SlowDown", Some("injected"))
    );
    put().await.unwrap();
    assert_eq!(get(&s3, "faulty", "k").await, b"x");
}
