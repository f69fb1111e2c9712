//! What the `weir` binary's end-to-end tests share: the command with test credentials,
//! and `weir serve` on a free port (SQS, SNS and S3 on one port).
//!
//! Each test binary uses part of it.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

pub const WEIR: &str = env!("CARGO_BIN_EXE_weir");

/// A `weir` command with test credentials and nothing from the caller's AWS setup.
pub fn weir() -> Command {
    let mut c = Command::new(WEIR);
    c.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_SQS")
        .env_remove("AWS_ENDPOINT_URL_SNS")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env_remove("AWS_PROFILE")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    c
}

/// `weir serve --port 0`, stopped (killed) when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Server {
    pub fn start() -> Self {
        Self::start_with(&[], Stdio::null())
    }

    /// `weir serve --port 0 --json` plus `flags`, its stderr going to `stderr`.
    pub fn start_with(flags: &[&str], stderr: Stdio) -> Self {
        let mut child = weir()
            .args(["serve", "--port", "0", "--json"])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("weir serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let v: Value = serde_json::from_str(&line).expect("serve prints JSON");
        let url = v["endpoint_url"].as_str().expect("endpoint_url").to_owned();
        Self { child, url }
    }

    /// Stops the server now (as dropping it does).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `weir --endpoint-url <server> args...`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = weir();
        c.arg("--endpoint-url").arg(&self.url).args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("weir runs")
    }

    /// [`run`](Self::run) with `stdin` written to the command's standard input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("weir runs");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(stdin.as_bytes())
            .expect("stdin takes the input");
        child.wait_with_output().expect("weir ends")
    }

    /// The stdout of a command that must succeed.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "weir {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// `weir --json args...`, which must succeed, parsed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.ok(&a)).expect("JSON output")
    }

    /// Visible messages in `queue`, from `weir stats`.
    pub fn visible(&self, queue: &str) -> u64 {
        self.json(&["stats", queue])["visible"]
            .as_u64()
            .expect("visible")
    }

    /// One S3 request (path-style, no body), signed only as far as weir serve reads a
    /// signature: its SigV4 scope names the service. Returns the status code.
    pub fn s3(&self, method: &str, path: &str) -> u16 {
        let addr = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/s3/aws4_request, \
             SignedHeaders=host, Signature=00\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).expect("write");
        let mut resp = Vec::new();
        stream.read_to_end(&mut resp).expect("read");
        let status = String::from_utf8_lossy(&resp);
        status
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One unsigned JSON-protocol request to `url` (`host:port` after `http://`), as a
/// client without credentials sends it: (status line, body).
pub fn unsigned(url: &str, target: &str, body: &str) -> (String, String) {
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AmazonSQS.{target}\r\n\
         Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).expect("write");
    let mut resp = String::new();
    stream.read_to_string(&mut resp).expect("read");
    let status = resp.lines().next().unwrap_or_default().to_owned();
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A command's stderr, line by line.
pub fn stderr_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The one stderr line of a failed command, and its exit code.
pub fn failure(out: &Output) -> (i32, String) {
    let err = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    (out.status.code().expect("an exit code"), err)
}
