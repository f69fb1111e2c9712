//! `weir publish` and `weir subscribe` end to end, against `weir serve` (which answers
//! SNS and SQS on one port) on a free port.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

mod support;

use support::{Server, failure};

#[test]
fn subscribe_create_then_publish_reaches_the_queue() {
    let s = Server::start();
    let v = s.json(&["subscribe", "events", "orders", "--raw", "--create"]);
    assert_eq!(v["topic"]["name"], "events");
    assert_eq!(v["topic"]["created"], true);
    assert_eq!(v["subscription"]["created"], true);
    assert_eq!(v["subscription"]["policy_updated"], true);
    assert_eq!(v["queue"]["name"], "orders");

    let v = s.json(&[
        "publish",
        "events",
        "--message",
        "hello",
        "--subject",
        "greeting",
        "--attr",
        "kind=hi",
    ]);
    assert_eq!(v["published"], 1);
    assert_eq!(v["failed"], 0);
    let peek = s.json(&["peek", "orders"]);
    assert_eq!(peek[0]["body"], "hello", "raw delivery: the message itself");
    assert_eq!(peek[0]["attributes"]["kind"], "hi");

    let lines: String = (1..=12).map(|i| format!("line {i}\n")).collect();
    let out = s.run_with_stdin(&["--json", "publish", "events"], &lines);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["published"], 12);
    assert_eq!(v["message_ids"].as_array().unwrap().len(), 12);
    let stats = s.json(&["stats", "orders"]);
    assert_eq!(stats["visible"], 13, "{stats}");
}

#[test]
fn subscribe_again_changes_nothing_and_reports_drift() {
    let s = Server::start();
    s.json(&["subscribe", "events", "orders", "--create"]);
    let v = s.json(&["subscribe", "events", "orders"]);
    assert_eq!(v["subscription"]["created"], false);
    assert_eq!(v["subscription"]["policy_updated"], false);
    assert_eq!(v["drift"], serde_json::json!([]));
    let v = s.json(&[
        "subscribe",
        "arn:aws:sns:us-east-1:000000000000:events",
        "orders",
        "--raw",
        "--filter-policy",
        r#"{"kind":["placed"]}"#,
        "--filter-scope",
        "body",
    ]);
    let attributes: Vec<&str> = v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["attribute"].as_str().unwrap())
        .collect();
    assert_eq!(
        attributes,
        ["FilterPolicy", "FilterPolicyScope", "RawMessageDelivery"],
        "{v}"
    );
    let out = s.run(&["subscribe", "events", "orders", "--raw"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("drift events -> orders: RawMessageDelivery is false but the spec says true"),
        "{text}"
    );
}

#[test]
fn errors_are_one_line_with_the_existing_exit_codes() {
    let s = Server::start();
    let (code, line) = failure(&s.run(&["publish", "missing", "--message", "x"]));
    assert_eq!(code, 1);
    assert!(line.contains("topic not found: missing"), "{line}");

    s.json(&[
        "subscribe",
        "orders.fifo",
        "orders.fifo",
        "--raw",
        "--create",
    ]);
    let (code, line) = failure(&s.run(&["publish", "orders.fifo", "--message", "x"]));
    assert_eq!(code, 2, "refused before any call");
    assert!(line.contains("message group id"), "{line}");
    let v = s.json(&[
        "publish",
        "orders.fifo",
        "--message",
        "x",
        "--group",
        "g",
        "--dedup",
        "d",
    ]);
    assert_eq!(v["published"], 1);

    let long = "s".repeat(100);
    let (code, line) = failure(&s.run(&[
        "publish",
        "orders.fifo",
        "--message",
        "x",
        "--subject",
        &long,
    ]));
    assert_eq!(code, 2);
    assert!(line.contains("subject"), "{line}");
    let (code, line) = failure(&s.run(&[
        "subscribe",
        "orders.fifo",
        "orders.fifo",
        "--filter-policy",
        "not json",
    ]));
    assert_eq!(code, 2);
    assert!(line.contains("filter policy"), "{line}");
    let (code, line) = failure(&s.run(&["subscribe", "events", "orders.fifo", "--create"]));
    assert_eq!(code, 2, "a FIFO queue cannot take a standard topic");
    assert!(line.contains("FIFO queues take FIFO topics only"), "{line}");
    let (code, _) = failure(&s.run(&["subscribe", "events", "q", "--filter-scope", "body"]));
    assert_eq!(code, 2, "--filter-scope needs --filter-policy");
}
