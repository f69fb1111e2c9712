//! Feeds arbitrary (target, body) pairs to the weir-local engine: any input must get an
//! answer with a status below 500, never a panic.
//!
//! Run with `cargo +nightly fuzz run handle` from the worktree root.

#![no_main]

use libfuzzer_sys::fuzz_target;

const OPS: &[&str] = weir_local::OPERATIONS;

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let op = OPS[usize::from(first) % OPS.len()];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let sqs = weir_local::LocalSqs::new();
        sqs.handle("AmazonSQS.CreateQueue", br#"{"QueueName":"q"}"#).await;
        sqs.handle(
            "AmazonSQS.CreateQueue",
            br#"{"QueueName":"q.fifo","Attributes":{"FifoQueue":"true","ContentBasedDeduplication":"true"}}"#,
        )
        .await;
        let resp = sqs.handle(&format!("AmazonSQS.{op}"), body).await;
        assert!(resp.status() < 500, "{op}: {}", resp.status());
    });
});
