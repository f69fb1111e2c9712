//! `weir send --s3-bucket` and `weir peek --s3-bucket` end to end, against `weir serve`
//! (which answers S3 path-style beside SQS on one port) on a free port.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::Value;

const POINTER_CLASS: &str = "software.amazon.payloadoffloading.PayloadS3Pointer";

mod support;

use support::Server;

/// A file of `len` bytes (a recognisable start, then filler), removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, len: usize) -> (Self, String) {
        let mut text = String::from("{\"report\":\"start of the payload\",\"rows\":\"");
        text.push_str(&"r".repeat(len - text.len() - 2));
        text.push_str("\"}");
        let path = std::env::temp_dir().join(format!("weir-cli-s3-{}-{name}", std::process::id()));
        std::fs::write(&path, &text).unwrap();
        (Self(path), text)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const TWO_MIB: usize = 2 * 1024 * 1024;

#[test]
fn a_large_file_goes_through_s3_and_peek_shows_its_payload() {
    let s = Server::start();
    assert_eq!(s.s3("PUT", "/payloads"), 200);
    s.ok(&["create", "reports"]);
    let (file, text) = TempFile::new("big", TWO_MIB);

    let sent = s.json(&[
        "send",
        "reports",
        "--file",
        file.path(),
        "--s3-bucket",
        "payloads",
    ]);
    assert_eq!(sent["sent"], 1);
    let objects = sent["s3_objects"].as_array().unwrap();
    assert_eq!(objects.len(), 1, "{sent}");
    assert_eq!(objects[0]["bucket"], "payloads");
    assert_eq!(objects[0]["payload_size"], TWO_MIB);
    let key = objects[0]["key"].as_str().unwrap().to_owned();
    assert_eq!(
        s.s3("HEAD", &format!("/payloads/{key}")),
        200,
        "the object is in S3"
    );

    // --json: the payload, its size and the pointer.
    let peeked = s.json(&["peek", "reports", "--s3-bucket", "payloads"]);
    let m = &peeked[0];
    assert_eq!(m["message_id"], sent["message_ids"][0]);
    assert_eq!(m["body"].as_str().unwrap(), text);
    assert_eq!(m["payload_size"], TWO_MIB);
    assert_eq!(m["payload_resolved"], true);
    assert_eq!(
        m["s3_pointer"],
        serde_json::json!({ "bucket": "payloads", "key": key })
    );
    assert_eq!(m["attributes"]["ExtendedPayloadSize"], TWO_MIB.to_string());

    // Text: where the payload is, its size, and its start (not 2 MiB of it).
    let shown = s.ok(&["peek", "reports", "--s3-bucket", "payloads"]);
    assert!(
        shown.contains(&format!(
            "payload from s3://payloads/{key}: {TWO_MIB} bytes"
        )),
        "{shown}"
    );
    assert!(
        shown.contains("  {\"report\":\"start of the payload\""),
        "{shown}"
    );
    assert!(
        shown.len() < 4096,
        "only the start is shown: {} bytes",
        shown.len()
    );

    // Without --s3-bucket: the pointer, as SQS holds it.
    let raw = s.json(&["peek", "reports"]);
    let body = raw[0]["body"].as_str().unwrap();
    let pointer: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        pointer,
        serde_json::json!([POINTER_CLASS, { "s3BucketName": "payloads", "s3Key": key }])
    );
    assert_eq!(raw[0]["payload_resolved"], false);
    assert_eq!(raw[0]["payload_size"], TWO_MIB);
    assert_eq!(raw[0]["s3_pointer"]["key"], key.as_str());
    let shown = s.ok(&["peek", "reports"]);
    assert!(shown.contains("give --s3-bucket to show it"), "{shown}");
    assert!(shown.contains(POINTER_CLASS), "{shown}");
}

#[test]
fn s3_always_and_prefix_offload_small_bodies_and_the_rest_stay_in_sqs() {
    let s = Server::start();
    assert_eq!(s.s3("PUT", "/payloads"), 200);
    s.ok(&["create", "small"]);

    let kept = s.json(&["send", "small", "--body", "tiny", "--s3-bucket", "payloads"]);
    assert_eq!(
        kept["s3_objects"],
        serde_json::json!([]),
        "under the threshold: no S3"
    );
    let peeked = s.json(&["peek", "small", "--s3-bucket", "payloads"]);
    assert_eq!(peeked[0]["body"], "tiny");
    assert_eq!(peeked[0]["s3_pointer"], Value::Null);
    assert_eq!(peeked[0]["payload_size"], 4);
    s.ok(&["purge", "small", "--yes"]);

    let always = s.json(&[
        "send",
        "small",
        "--body",
        "tiny",
        "--s3-bucket",
        "payloads",
        "--s3-always",
        "--s3-prefix",
        "orders/",
    ]);
    let key = always["s3_objects"][0]["key"].as_str().unwrap();
    assert!(key.starts_with("orders/"), "{key}");
    let peeked = s.json(&["peek", "small", "--s3-bucket", "payloads"]);
    assert_eq!(peeked[0]["body"], "tiny");
    assert_eq!(peeked[0]["s3_pointer"]["key"], key);
    assert_eq!(peeked[0]["payload_size"], 4);
}

#[test]
fn a_missing_bucket_fails_before_any_sqs_call() {
    let s = Server::start();
    // The queue does not exist either: the bucket's error comes first, so the bucket is
    // checked before SQS is asked anything.
    for args in [
        &[
            "send",
            "no-such-queue",
            "--body",
            "x",
            "--s3-bucket",
            "no-such-bucket",
        ][..],
        &["peek", "no-such-queue", "--s3-bucket", "no-such-bucket"][..],
    ] {
        let out = s.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.starts_with("weir: NoSuchBucket: "), "{err}");
        assert!(
            err.contains("no-such-bucket") && !err.contains("no-such-queue"),
            "{err}"
        );
    }

    // A key prefix the extended clients refuse is a usage error (exit 2), before any call.
    let out = s.run(&[
        "send",
        "no-such-queue",
        "--body",
        "x",
        "--s3-bucket",
        "no-such-bucket",
        "--s3-prefix",
        "../up",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("S3 key prefix"));

    // --s3-always without a bucket: clap's usage error, on one line.
    let out = s.run(&["send", "q", "--body", "x", "--s3-always"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--s3-bucket"), "{err}");
}
