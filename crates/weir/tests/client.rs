//! `weir::client()` reads the standard AWS environment: endpoint, region, credentials.
//!
//! Setting environment variables inside a running test is `unsafe` (and racy), so the
//! test runs its other half in a child process of this same binary, with the
//! environment set there.

use std::process::Command;

use weir_local::LocalSqs;

const CHILD: &str = "client_in_child_process";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_reads_endpoint_region_and_credentials_from_the_environment() {
    let server = LocalSqs::new().serve(([127, 0, 0, 1], 0).into()).await;
    let server = match server {
        Ok(server) => server,
        Err(e) => panic!("weir-local could not listen on 127.0.0.1: {e}"),
    };
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("no test binary: {e}"));
    let output = Command::new(exe)
        .args([CHILD, "--exact", "--ignored", "--nocapture"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        // The service-specific endpoint wins over the general one, as in every AWS SDK.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ENDPOINT_URL_SQS", server.endpoint_url())
        .env("AWS_REGION", "eu-west-2")
        // weir-local reads a 12-digit access key as the account, as LocalStack does.
        .env("AWS_ACCESS_KEY_ID", "111122223333")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_CONFIG_FILE", "/nonexistent/weir-test")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/weir-test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output();
    let output = output.unwrap_or_else(|e| panic!("could not start the child test: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child test did not run:\n{stdout}"
    );
    server.shutdown().await;
}

/// The child half: run only by the test above, in a process whose environment it set.
#[tokio::test]
#[ignore = "run by client_reads_endpoint_region_and_credentials_from_the_environment"]
async fn client_in_child_process() {
    let client = weir::client().await;
    assert_eq!(
        client.config().region().map(|r| r.as_ref()),
        Some("eu-west-2")
    );
    let created = client.create_queue().queue_name("from-env").send().await;
    let created = created.unwrap_or_else(|e| panic!("CreateQueue through weir::client(): {e:?}"));
    let url = created.queue_url().unwrap_or_default();
    assert!(
        url.ends_with("/queue/eu-west-2/111122223333/from-env"),
        "the queue should live in the environment's region and account: {url}"
    );
}
