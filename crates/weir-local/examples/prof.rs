//! Callgrind driver for the SDK round trip the `roundtrip` bench measures: N times
//! send_message_batch(10) + receive_message(10) + delete_message_batch(10) through a
//! real `aws_sdk_sqs::Client` on a current-thread runtime.
//!
//! ```text
//! CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release -p weir-local --example prof
//! valgrind --tool=callgrind --toggle-collect='prof::measured' \
//!     --callgrind-out-file=/tmp/cg.out target/release/examples/prof 1000
//! callgrind_annotate --inclusive=yes /tmp/cg.out | head -80
//! ```
//!
//! `prof 1000 canned` replays recorded responses instead of running the engine (see
//! `benches/support/canned.rs`): the difference between the two runs is weir-local's
//! share. The 20 warm-up round trips are inside the toggle too: divide by N + 20.
//! Valgrind hides SHA-NI from the program, so SHA-256 (SigV4) runs its portable code
//! under callgrind and counts several times the instructions it costs natively.

#![allow(missing_docs)]

#[path = "../benches/support/canned.rs"]
mod canned;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};

async fn roundtrip(
    client: &aws_sdk_sqs::Client,
    url: &str,
    entries: &[SendMessageBatchRequestEntry],
) {
    client
        .send_message_batch()
        .queue_url(url)
        .set_entries(Some(entries.to_vec()))
        .send()
        .await
        .expect("send");
    let got = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    let del: Vec<_> = got
        .messages()
        .iter()
        .enumerate()
        .map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .build()
                .expect("entry")
        })
        .collect();
    assert_eq!(del.len(), 10);
    client
        .delete_message_batch()
        .queue_url(url)
        .set_entries(Some(del))
        .send()
        .await
        .expect("delete");
}

#[inline(never)]
fn measured(
    rt: &tokio::runtime::Runtime,
    client: &aws_sdk_sqs::Client,
    url: &str,
    entries: &[SendMessageBatchRequestEntry],
    n: usize,
) {
    rt.block_on(async {
        for _ in 0..n {
            roundtrip(client, url, entries).await;
        }
    });
}

/// The `concurrent4` bench's pattern: per iteration, four clients (own queues) each do
/// one round trip as a spawned task on a two-worker runtime, then all are joined.
fn concurrent(n: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sqs = weir_local::LocalSqs::new();
    let setup: Vec<(aws_sdk_sqs::Client, String)> = (0..4)
        .map(|i| {
            let client = sqs.client();
            let url = rt
                .block_on(client.create_queue().queue_name(format!("prof-{i}")).send())
                .expect("create")
                .queue_url
                .expect("url");
            (client, url)
        })
        .collect();
    let entries = entries();
    let t = tokio::time::Instant::now();
    rt.block_on(async {
        for _ in 0..n {
            let tasks: Vec<_> = setup
                .iter()
                .cloned()
                .map(|(client, url)| {
                    let entries = entries.clone();
                    tokio::spawn(async move { roundtrip(&client, &url, &entries).await })
                })
                .collect();
            for t in tasks {
                t.await.expect("task");
            }
        }
    });
    eprintln!(
        "{n} x 4 concurrent round trips: {:?} per iteration",
        t.elapsed() / n as u32
    );
}

fn entries() -> Vec<SendMessageBatchRequestEntry> {
    (0..10)
        .map(|i| {
            SendMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .message_body(format!("benchmark message body number {i}"))
                .build()
                .expect("entry")
        })
        .collect()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    if std::env::args().nth(2).as_deref() == Some("concurrent") {
        concurrent(n);
        return;
    }
    let replay = std::env::args().nth(2).as_deref() == Some("canned");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sqs = weir_local::LocalSqs::new();
    let client = if replay {
        let conf = sqs.config_builder().http_client(canned::Canned::new(&sqs));
        aws_sdk_sqs::Client::from_conf(conf.build())
    } else {
        sqs.client()
    };
    let url = rt
        .block_on(client.create_queue().queue_name("prof").send())
        .expect("create")
        .queue_url
        .expect("url");
    let entries = entries();
    measured(&rt, &client, &url, &entries, 20);
    let t = tokio::time::Instant::now();
    measured(&rt, &client, &url, &entries, n);
    eprintln!(
        "{n} round trips: {:?} per round trip",
        t.elapsed() / n as u32
    );
}
