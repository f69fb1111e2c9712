//! Python for the interop suites (`tests/interop.rs`, `tests/interop_extended.rs`):
//! finding a Python that has what a suite imports, and running boto3 snippets against
//! LocalStack.
//!
//! The Python is `WEIR_PYTHON`, else LocalStack's host-mode venv (`localstack/.venv`,
//! which `localstack/up` installs with boto3, and into which `scripts/test` installs
//! `integration-tests/requirements-interop.txt`), else `python3`.

use std::path::PathBuf;
use std::process::Command;

use crate::localstack_endpoint;

/// A Python that can `import` every module in `modules` (comma-separated, as Python's
/// `import` takes them), or a panic that says how to get one (`hint`).
///
/// # Panics
///
/// When no candidate imports them.
#[must_use]
pub fn python_with(modules: &str, hint: &str) -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../localstack/.venv/bin/python");
    let candidates = std::env::var_os("WEIR_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([venv, PathBuf::from("python3")]);
    for py in candidates {
        let ok = Command::new(&py)
            .args(["-c", &format!("import {modules}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return py;
        }
    }
    panic!("no Python that can `import {modules}` found: {hint}");
}

/// A Python that can import boto3.
///
/// # Panics
///
/// When there is none: the message says how to get one.
#[must_use]
pub fn python() -> PathBuf {
    python_with(
        "boto3",
        "run localstack/up (its host-mode venv has boto3), or set WEIR_PYTHON to a Python \
         that can `import boto3`",
    )
}

/// Runs `script` with `python`, LocalStack's endpoint and test credentials in the
/// environment (`WEIR_ENDPOINT`, and the `AWS_*` variables clients that take no
/// arguments read) and `WEIR_QUEUE_URL` = `url`; returns what it printed.
///
/// # Panics
///
/// When the script fails: the message carries its stderr.
pub fn run(python: &std::path::Path, url: &str, script: &str) -> String {
    let endpoint = localstack_endpoint();
    let out = Command::new(python)
        .args(["-c", script])
        .env("WEIR_ENDPOINT", &endpoint)
        .env("WEIR_QUEUE_URL", url)
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "Python snippet failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The lines that give a snippet `sqs` (a boto3 SQS client for LocalStack) and `url`.
const BOTO3_PRELUDE: &str = "\
sqs = boto3.client('sqs', endpoint_url=os.environ['WEIR_ENDPOINT'], region_name='us-east-1',
                   aws_access_key_id='test', aws_secret_access_key='test')
url = os.environ['WEIR_QUEUE_URL']
";

/// Runs a plain boto3 snippet with `sqs` (a client for LocalStack), `url`, `json` and
/// `os` in scope, and returns what it printed.
///
/// # Panics
///
/// When there is no Python with boto3, or the snippet fails.
pub fn boto3(url: &str, snippet: &str) -> String {
    let script = format!("import json, os, boto3\n{BOTO3_PRELUDE}{snippet}\n");
    run(&python(), url, &script)
}

/// Runs a snippet with awslabs' SQS extended client (`amazon-sqs-extended-client`,
/// which patches boto3's sessions on import): `sqs` is an SQS client with
/// `large_payload_support = bucket`, `s3` a plain S3 client, `url`, `bucket`, `json`
/// and `os` are in scope. The client's own S3 client takes no arguments, so it reads
/// the endpoint and credentials [`run`] puts in the environment.
///
/// # Panics
///
/// When there is no Python with the extended client, or the snippet fails.
pub fn boto3_extended(url: &str, bucket: &str, snippet: &str) -> String {
    let py = python_with(
        "boto3, sqs_extended_client",
        "install integration-tests/requirements-interop.txt into localstack/.venv \
         (scripts/test does it after localstack/up: localstack/.venv/bin/pip install \
         -r integration-tests/requirements-interop.txt), or set WEIR_PYTHON",
    );
    let script = format!(
        "import json, os, boto3, sqs_extended_client\n{BOTO3_PRELUDE}\
         bucket = {bucket:?}\nsqs.large_payload_support = bucket\n\
         s3 = boto3.client('s3', endpoint_url=os.environ['WEIR_ENDPOINT'], region_name='us-east-1',\n\
         \x20                 aws_access_key_id='test', aws_secret_access_key='test')\n{snippet}\n"
    );
    run(&py, url, &script)
}
