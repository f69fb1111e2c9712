//! End-to-end tests of the `weir` binary, against `weir serve` on a free port.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

mod support;

use support::{Server, stderr_lines, unsigned, weir};

#[test]
fn create_send_peek_stats_and_purge() {
    let s = Server::start();
    let created = s.json(&[
        "create",
        "orders",
        "--dlq",
        "orders-dlq",
        "--max-receive",
        "3",
    ]);
    assert_eq!(created["queue"]["name"], "orders");
    assert_eq!(created["dlq"]["name"], "orders-dlq");

    // --body
    let sent = s.json(&["send", "orders", "--body", "hello", "--attr", "tenant=acme"]);
    assert_eq!(sent["sent"], 1);
    // --file
    let dir = std::env::temp_dir().join(format!("weir-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body.json");
    std::fs::write(&file, "{\"from\":\"file\"}").unwrap();
    s.ok(&["send", "orders", "--file", file.to_str().unwrap()]);
    // stdin, one message per line (blank lines skipped)
    let mut child = s
        .cmd(&["--json", "send", "orders"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"one\ntwo\n\nthree\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sent"], 3);
    assert_eq!(v["message_ids"].as_array().unwrap().len(), 3);

    // Peek shows them, warns, and leaves them in the queue.
    let out = s.run(&["--json", "peek", "orders", "-n", "10"]);
    assert!(out.status.success());
    let peeked: Value = serde_json::from_slice(&out.stdout).unwrap();
    let bodies: Vec<&str> = peeked
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies.len(), 5);
    for b in ["hello", "{\"from\":\"file\"}", "one", "two", "three"] {
        assert!(bodies.contains(&b), "{b} not in {bodies:?}");
    }
    let hello = peeked
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"] == "hello")
        .unwrap();
    assert_eq!(hello["attributes"]["tenant"], "acme");
    assert!(String::from_utf8_lossy(&out.stderr).contains("receive count"));

    let stats = s.json(&["stats", "orders"]);
    assert_eq!(stats["visible"], 5);
    assert_eq!(stats["in_flight"], 0);
    assert_eq!(stats["delayed"], 0);
    assert_eq!(stats["oldest_age_seconds"], Value::Null);
    assert_eq!(stats["dlq"]["name"], "orders-dlq");
    assert_eq!(stats["dlq"]["visible"], 0);

    // No terminal, no --yes: refused, nothing purged.
    let out = s.run(&["purge", "orders"]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr_lines(&out);
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(err[0].starts_with("weir: refusing"), "{err:?}");
    assert_eq!(s.visible("orders"), 5);

    let purged = s.json(&["purge", "orders", "--yes"]);
    assert!(purged["purged"].as_str().unwrap().ends_with("/orders"));
    assert_eq!(s.visible("orders"), 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn create_is_idempotent_and_reports_drift() {
    let s = Server::start();
    let first = s.json(&["create", "jobs", "--visibility", "30"]);
    assert_eq!(first["drift"].as_array().unwrap().len(), 0);
    let again = s.json(&["create", "jobs", "--visibility", "30"]);
    assert_eq!(again["queue"]["url"], first["queue"]["url"]);
    assert_eq!(again["drift"].as_array().unwrap().len(), 0);
    let drift = s.json(&["create", "jobs", "--visibility", "60"]);
    let d = &drift["drift"][0];
    assert_eq!(d["attribute"], "VisibilityTimeout");
    assert_eq!(d["expected"], "60");
    assert_eq!(d["actual"], "30");
    let listed = s.json(&["queues", "--prefix", "jo"]);
    assert_eq!(listed[0]["name"], "jobs");
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[test]
fn redrive_moves_dead_letters_back() {
    let s = Server::start();
    s.ok(&["create", "work", "--dlq", "work-dlq", "--max-receive", "1"]);
    s.ok(&["send", "work", "--body", "poison"]);
    // Each peek is a receive: the second one moves it past maxReceiveCount.
    s.ok(&["peek", "work"]);
    s.ok(&["peek", "work"]);
    let stats = s.json(&["stats", "work"]);
    assert_eq!(stats["visible"], 0);
    assert_eq!(stats["dlq"]["visible"], 1);
    let moved = s.json(&["redrive", "work-dlq"]);
    assert_eq!(moved["status"], "COMPLETED");
    assert_eq!(moved["moved"], 1);
    assert_eq!(s.visible("work"), 1);
    assert_eq!(s.visible("work-dlq"), 0);
}

#[test]
fn an_unknown_queue_is_one_error_line_with_the_sqs_code_and_exit_1() {
    let s = Server::start();
    for args in [
        &["stats", "nope"][..],
        &["send", "nope", "--body", "x"],
        &["peek", "nope"],
        &["purge", "nope", "--yes"],
    ] {
        let out = s.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr_lines(&out);
        assert_eq!(err.len(), 1, "{args:?}: {err:?}");
        assert!(
            err[0].starts_with("weir: AWS.SimpleQueueService.NonExistentQueue: "),
            "{args:?}: {err:?}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn usage_errors_exit_2() {
    let s = Server::start();
    s.ok(&["create", "std"]);
    for args in [
        &["bogus"][..],
        &["send"],
        &["send", "std", "--body", "a", "--file", "f"],
        &["peek", "std", "-n", "11"],
        &["send", "std", "--body", "a", "--attr", "novalue"],
        &["create", "q", "--max-receive", "3"],
        &["--local", "--endpoint-url", "http://x", "queues"],
        // Refused by weir before any call: a dedup id on a standard queue.
        &["send", "std", "--body", "a", "--dedup", "d"],
    ] {
        let out = s.run(args);
        let err = stderr_lines(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err:?}");
        assert_eq!(err.len(), 1, "{args:?}: {err:?}");
        assert!(err[0].starts_with("weir: "), "{args:?}: {err:?}");
    }
    assert_eq!(s.visible("std"), 0);
}

#[test]
fn help_documents_the_exit_codes() {
    let out = weir().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "130"] {
        assert!(
            help.contains(&format!("  {code}")),
            "{code} missing from:\n{help}"
        );
    }
}

#[cfg(unix)]
#[test]
fn serve_stops_cleanly_on_sigterm() {
    let mut s = Server::start();
    s.ok(&["create", "x"]);
    let pid = s.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = s.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn serve_account_and_region_flags_name_queues() {
    let s = Server::start_with(
        &["--account-id", "123456789012", "--region", "eu-west-1"],
        Stdio::null(),
    );
    // A request without a SigV4 scope acts in the server's account and region.
    let (status, body) = unsigned(&s.url, "CreateQueue", r#"{"QueueName":"billing"}"#);
    assert!(status.contains("200"), "{status} {body}");
    let url = serde_json::from_str::<Value>(&body).unwrap()["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(url, format!("{}/123456789012/billing", s.url));
    let attrs = format!(r#"{{"QueueUrl":"{url}","AttributeNames":["QueueArn"]}}"#);
    let (_, body) = unsigned(&s.url, "GetQueueAttributes", &attrs);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["Attributes"]["QueueArn"],
        "arn:aws:sqs:eu-west-1:123456789012:billing"
    );
    // A signed client in the same region sees the queue; one in another region does not.
    let listed = s.json(&["--region", "eu-west-1", "queues"]);
    assert!(listed.to_string().contains("billing"), "{listed}");
    let elsewhere = s.json(&["--region", "us-east-1", "queues"]);
    assert!(!elsewhere.to_string().contains("billing"), "{elsewhere}");
}

#[test]
fn serve_refuses_an_account_id_that_is_not_12_digits() {
    let out = weir()
        .args(["serve", "--port", "0", "--account-id", "1234"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("12 digits"), "{err}");
}

#[test]
fn serve_queue_deleted_recently_is_on_by_default_and_can_be_turned_off() {
    for (flags, recreated) in [
        (&[][..], false),
        (&["--queue-deleted-recently", "false"][..], true),
    ] {
        let s = Server::start_with(flags, Stdio::null());
        let url = s.json(&["create", "again"])["queue"]["url"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, _) = unsigned(&s.url, "DeleteQueue", &format!(r#"{{"QueueUrl":"{url}"}}"#));
        assert!(status.contains("200"), "{status}");
        let out = s.run(&["create", "again"]);
        assert_eq!(out.status.success(), recreated, "{flags:?}");
        if !recreated {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("QueueDeletedRecently"), "{err}");
        }
    }
}

#[cfg(unix)]
#[test]
fn serve_log_prints_one_line_per_request_without_bodies() {
    use std::io::Read;
    let mut s = Server::start_with(&["--log"], Stdio::piped());
    s.ok(&["create", "logged"]);
    s.ok(&["send", "logged", "--body", "secret-body-text"]);
    let pid = s.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    s.child.wait().unwrap();
    let mut log = String::new();
    s.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("SendMessage"))
        .unwrap_or_else(|| panic!("no SendMessage line in {log}"));
    assert!(line.contains("weir_local::request"), "{line}");
    assert!(line.contains("logged"), "{line}");
    assert!(line.contains("status=200"), "{line}");
    assert!(line.contains("ms="), "{line}");
    assert!(log.contains("CreateQueue"), "{log}");
    assert!(!log.contains("secret-body-text"), "{log}");
    assert!(!log.contains("Credential"), "{log}");
}

#[test]
fn bench_local_loses_nothing() {
    let out = weir()
        .args(["bench", "--local", "--messages", "2000", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let weir = &v["weir"];
    assert_eq!(weir["lost"], 0);
    assert_eq!(weir["sent"], 2000);
    assert_eq!(weir["processed"], 2000);
    assert!(weir["throughput_msg_per_s"].as_f64().unwrap() > 0.0);
    assert!(
        weir["latency"]["p99_ms"].as_f64().unwrap() >= weir["latency"]["p50_ms"].as_f64().unwrap()
    );
    // 2000 messages in batches of 10: 200 SendMessageBatch calls.
    assert_eq!(weir["requests"]["SendMessageBatch"], 200);
    assert!(weir["requests"]["ReceiveMessage"].as_u64().unwrap() >= 200);
    assert_eq!(v["raw"], Value::Null);
}

#[test]
fn bench_baseline_raw_prints_ratios() {
    let out = weir()
        .args([
            "bench",
            "--local",
            "--messages",
            "500",
            "--baseline",
            "raw",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["raw"]["lost"], 0);
    assert_eq!(v["raw"]["processed"], 500);
    assert!(v["ratios"]["throughput"].as_f64().unwrap() > 0.0);
    assert!(v["ratios"]["requests_per_message"].as_f64().unwrap() > 0.0);
}

#[test]
fn bench_fifo_keeps_every_message() {
    let out = weir()
        .args([
            "bench",
            "--local",
            "--messages",
            "300",
            "--fifo",
            "--groups",
            "4",
            "--baseline",
            "raw",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["fifo"], true);
    assert_eq!(v["weir"]["lost"], 0);
    assert_eq!(v["weir"]["duplicates"], 0);
    assert_eq!(v["weir"]["processed"], 300);
    // The baseline sends the same ids: its dedup ids must differ from weir's.
    assert_eq!(v["raw"]["processed"], 300);
    assert_eq!(v["raw"]["lost"], 0);
}

#[test]
fn bench_rounds_alternate_the_order_and_average_the_ratios() {
    let out = weir()
        .args([
            "bench",
            "--local",
            "--messages",
            "300",
            "--baseline",
            "raw",
            "--rounds",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rounds = v["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2);
    assert_eq!(rounds[0]["first"], "weir");
    assert_eq!(rounds[1]["first"], "raw");
    for r in rounds {
        assert!(r["weir"]["throughput_msg_per_s"].as_f64().unwrap() > 0.0);
        assert!(r["raw"]["throughput_msg_per_s"].as_f64().unwrap() > 0.0);
    }
    // Each phase had a queue of its own.
    assert_ne!(v["weir"]["queue"], v["raw"]["queue"]);
    assert_eq!(v["weir"]["lost"], 0);
    assert_eq!(v["raw"]["processed"], 300);
    let x = &v["ratios"];
    assert!(x["throughput"].as_f64().unwrap() > 0.0);
    assert!(x["throughput_best_vs_best"].as_f64().unwrap() > 0.0);
}

/// Sends `n` numbered messages to `queue` on `s` through `weir send`'s stdin.
fn send_lines(s: &Server, queue: &str, n: usize) {
    let mut child = s
        .cmd(&["--json", "send", queue])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("weir send starts");
    let lines: String = (0..n).map(|i| format!("{{\"n\":{i}}}\n")).collect();
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(lines.as_bytes())
        .expect("stdin takes the lines");
    let out = child.wait_with_output().expect("weir send ends");
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert_eq!(v["sent"], n);
}

#[test]
fn bench_drain_empties_an_existing_queue() {
    let s = Server::start();
    s.ok(&["create", "backlog"]);
    send_lines(&s, "backlog", 250);
    let v = s.json(&["bench", "--drain", "backlog", "--concurrency", "20"]);
    assert_eq!(v["processed"], 250);
    assert_eq!(v["stopped"], "empty");
    assert_eq!(v["worker"]["acked"], 250);
    assert!(v["throughput_msg_per_s"].as_f64().unwrap() > 0.0);
    assert!(v["queue_wait"]["max_ms"].as_f64().unwrap() > 0.0);
    // Nothing was sent: the requests are receives, deletes and the empty checks.
    assert!(v["requests"].get("SendMessageBatch").is_none(), "{v}");
    assert!(v["requests"]["DeleteMessageBatch"].as_u64().unwrap() >= 25);
    assert_eq!(s.visible("backlog"), 0);
}

#[test]
fn bench_drain_stops_at_the_limit_and_leaves_the_rest() {
    let s = Server::start();
    s.ok(&["create", "backlog"]);
    send_lines(&s, "backlog", 200);
    let v = s.json(&[
        "bench",
        "--drain",
        "backlog",
        "--messages",
        "30",
        "--concurrency",
        "10",
    ]);
    assert_eq!(v["stopped"], "limit");
    let processed = v["processed"].as_u64().unwrap();
    assert!((30..200).contains(&processed), "{v}");
    // What the worker held when it stopped is released: every message is processed
    // or back in the queue.
    assert_eq!(v["worker"]["acked"], processed);
    assert_eq!(s.visible("backlog"), 200 - processed);
}

#[test]
fn bench_drain_refuses_what_only_a_produced_run_has() {
    let out = weir()
        .args(["bench", "--local", "--drain", "q", "--baseline", "raw"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--baseline"), "{err}");
}
