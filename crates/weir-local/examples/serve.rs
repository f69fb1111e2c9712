//! Serves an in-process SQS over HTTP until the process is stopped.
//!
//! `cargo run -p weir-local --example serve -- 127.0.0.1:9324`, then for instance
//! `aws --endpoint-url http://127.0.0.1:9324 sqs create-queue --queue-name jobs`.

use std::net::SocketAddr;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9324".to_owned())
        .parse()?;
    let sqs = weir_local::LocalSqs::new();
    let server = sqs.serve(addr).await?;
    eprintln!("weir-local SQS listening on {}", server.endpoint_url());
    std::future::pending::<()>().await;
    Ok(())
}
