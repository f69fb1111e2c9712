//! Callgrind driver for the SDK round trip the `roundtrip` bench measures: N times
//! send_message_batch(10) + receive_message(10) + delete_message_batch(10) through a
//! real `aws_sdk_sqs::Client` on a current-thread runtime.
//!
//! It is a bench target, not an example: a profiling harness, run with arguments.
//!
//! ```text
//! cargo bench -p weir-local --bench prof -- 2000 --phases --min     # native timings
//! CARGO_PROFILE_BENCH_DEBUG=line-tables-only cargo bench -p weir-local --bench prof --no-run
//! #   (prints the binary: target/release/deps/prof-<hash>)
//! valgrind --tool=callgrind --toggle-collect='prof::measured' \
//!     --callgrind-out-file=/tmp/cg.out target/release/deps/prof-<hash> 1000
//! callgrind_annotate --inclusive=yes /tmp/cg.out | head -80
//! ```
//!
//! `prof 1000 canned` replays recorded responses instead of running the engine (see
//! `benches/support/canned.rs`): the difference between the two runs is weir-local's
//! share. The 20 warm-up round trips are inside the toggle too: divide by N + 20.
//! Valgrind hides SHA-NI from the program, so SHA-256 (SigV4) runs its portable code
//! under callgrind and counts several times the instructions it costs natively.

#![allow(missing_docs)]

#[path = "support/canned.rs"]
mod canned;
#[path = "../benches/support/workload.rs"]
mod workload;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeDeserializationInterceptorContextRef,
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use tokio::time::Instant;
use workload::{concurrent_round, entries, roundtrip};

/// Native wall time of each orchestrator phase, per operation, from interceptor hooks
/// placed around serialization, signing, transmit (the connector: weir-local) and
/// deserialization; "other" is the rest of the call (config, identity, endpoint,
/// interceptors, user agent, retry bookkeeping).
#[derive(Debug, Default, Clone)]
struct Phases {
    state: Arc<Mutex<PhaseState>>,
}

#[derive(Debug, Default)]
struct PhaseState {
    started: Option<Instant>,
    mark: Option<Instant>,
    /// operation -> (calls, [serialize, sign, transmit, deserialize, total])
    totals: BTreeMap<String, (u32, [Duration; 5])>,
    current: [Duration; 5],
}

impl Phases {
    fn with<R>(&self, f: impl FnOnce(&mut PhaseState) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }
    fn begin(&self) {
        self.with(|s| s.mark = Some(Instant::now()));
    }
    fn end(&self, i: usize) {
        let now = Instant::now();
        self.with(|s| {
            if let Some(m) = s.mark.take() {
                s.current[i] += now - m;
            }
        });
    }
    fn report(&self) {
        self.with(|s| {
            eprintln!(
                "{:<20} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
                "operation (µs/call)", "serial", "sign", "transmit", "deser", "other", "total"
            );
            for (op, (n, d)) in &s.totals {
                let us = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(*n);
                let other = d[4].saturating_sub(d[0] + d[1] + d[2] + d[3]);
                eprintln!(
                    "{op:<20} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
                    us(d[0]),
                    us(d[1]),
                    us(d[2]),
                    us(d[3]),
                    us(other),
                    us(d[4])
                );
            }
        });
    }
}

impl Intercept for Phases {
    fn name(&self) -> &'static str {
        "Phases"
    }
    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.with(|s| {
            s.started = Some(Instant::now());
            s.current = [Duration::ZERO; 5];
        });
        Ok(())
    }
    fn read_before_serialization(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.begin();
        Ok(())
    }
    fn read_after_serialization(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.end(0);
        Ok(())
    }
    fn read_before_signing(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.begin();
        Ok(())
    }
    fn read_after_signing(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.end(1);
        Ok(())
    }
    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.begin();
        Ok(())
    }
    fn read_after_transmit(
        &self,
        _: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.end(2);
        Ok(())
    }
    fn read_before_deserialization(
        &self,
        _: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.begin();
        Ok(())
    }
    fn read_after_deserialization(
        &self,
        _: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.end(3);
        Ok(())
    }
    fn read_after_execution(
        &self,
        _: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let now = Instant::now();
        let op = cfg
            .load::<Metadata>()
            .map_or("?".to_owned(), |m| m.name().to_owned());
        self.with(|s| {
            if let Some(t) = s.started.take() {
                s.current[4] = now - t;
            }
            let cur = s.current;
            let e = s.totals.entry(op).or_default();
            e.0 += 1;
            for (a, b) in e.1.iter_mut().zip(cur) {
                *a += b;
            }
        });
        Ok(())
    }
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
fn concurrent(n: usize, replay: bool) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sqs = weir_local::LocalSqs::new();
    let setup: Vec<(aws_sdk_sqs::Client, String)> = (0..4)
        .map(|i| {
            let mut conf = sqs.config_builder();
            if replay {
                conf = conf.http_client(canned::Canned::new(&sqs));
            }
            let client = aws_sdk_sqs::Client::from_conf(conf.build());
            let url = rt
                .block_on(client.create_queue().queue_name(format!("prof-{i}")).send())
                .expect("create")
                .queue_url
                .expect("url");
            (client, url)
        })
        .collect();
    let entries = entries();
    let t = Instant::now();
    rt.block_on(async {
        for _ in 0..n {
            concurrent_round(&setup, &entries).await;
        }
    });
    eprintln!(
        "{n} x 4 concurrent round trips: {:?} per iteration",
        t.elapsed() / n as u32
    );
    if args().any(|a| a == "--min") {
        let best = (0..20)
            .map(|_| {
                let t = Instant::now();
                rt.block_on(async {
                    for _ in 0..25 {
                        concurrent_round(&setup, &entries).await;
                    }
                });
                t.elapsed() / 25
            })
            .min()
            .unwrap_or_default();
        eprintln!("best batch: {best:?} per iteration of 4 round trips");
    }
}

/// The command line without the `--bench` flag that `cargo bench` adds.
fn args() -> impl Iterator<Item = String> {
    std::env::args().filter(|a| a != "--bench")
}

fn main() {
    let n: usize = args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    if args().nth(2).as_deref() == Some("concurrent") {
        concurrent(n, args().any(|a| a == "canned"));
        return;
    }
    let replay = args().nth(2).as_deref() == Some("canned");
    let phases = args().any(|a| a == "--phases").then(Phases::default);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sqs = weir_local::LocalSqs::new();
    let mut conf = sqs.config_builder();
    if replay {
        conf = conf.http_client(canned::Canned::new(&sqs));
    }
    if let Some(p) = &phases {
        conf = conf.interceptor(p.clone());
    }
    let client = aws_sdk_sqs::Client::from_conf(conf.build());
    let url = rt
        .block_on(client.create_queue().queue_name("prof").send())
        .expect("create")
        .queue_url
        .expect("url");
    let entries = entries();
    measured(&rt, &client, &url, &entries, 20);
    if let Some(p) = &phases {
        p.with(|s| s.totals.clear());
    }
    let t = Instant::now();
    measured(&rt, &client, &url, &entries, n);
    eprintln!(
        "{n} round trips: {:?} per round trip",
        t.elapsed() / n as u32
    );
    if args().any(|a| a == "--min") {
        // Best of 20 batches of 100: robust to other processes on a shared machine.
        let best = (0..20)
            .map(|_| {
                let t = Instant::now();
                measured(&rt, &client, &url, &entries, 100);
                t.elapsed() / 100
            })
            .min()
            .unwrap_or_default();
        eprintln!("best batch: {best:?} per round trip");
    }
    if let Some(p) = &phases {
        p.report();
    }
}
