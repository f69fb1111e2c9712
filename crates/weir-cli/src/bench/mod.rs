//! `weir bench`: produce and consume N messages through weir, measure throughput,
//! end-to-end latency, SQS requests per message, duplicates, losses and CPU; optionally
//! against a raw aws-sdk-sqs loop in the same run (`--baseline raw`), over several
//! rounds (`--rounds`); or only drain a queue that already holds messages (`--drain`).
//!
//! The message path of a phase, one file each: `produce` → `consume` (weir's worker or
//! the raw loop), watched by `phase` with a `tracker`; `report` says what was measured.

mod body;
mod consume;
mod cpu;
mod drain;
mod phase;
mod produce;
mod report;
mod tracker;

use std::time::Duration;

use aws_sdk_sqs::Client;
use tokio::sync::watch;
use weir::sqs::{Queue, QueueSpec, RequestCounter};

use crate::client::{self, Endpoint};
use crate::commands::shutdown_signal;
use crate::error::{CliError, Result};
use crate::output::Out;
use crate::{Baseline, BenchArgs};
use report::{Ratios, Report, Round};

/// Messages per phase unless --messages says otherwise.
const DEFAULT_MESSAGES: u64 = 10_000;

/// Which side a phase measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Weir,
    Raw,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Self::Weir => "weir",
            Self::Raw => "raw",
        }
    }

    fn consumer(self) -> &'static str {
        match self {
            Self::Weir => consume::WEIR,
            Self::Raw => consume::RAW,
        }
    }
}

/// Everything a phase needs.
struct Setup {
    client: Client,
    counter: RequestCounter,
    args: BenchArgs,
    messages: u64,
    /// Queue names start with this.
    name: String,
    pad: String,
    out: Out,
    stop: watch::Receiver<bool>,
    /// The in-process SQS (--local), which shares the process's CPU.
    local: bool,
}

impl Setup {
    /// A fresh queue for one phase. A remote SQS keeps serving a long poll whose
    /// client went away, and a message it hands to that poll stays invisible for the
    /// visibility timeout: with a queue each, no phase can stall the next.
    async fn create_queue(&self, kind: Kind, round: u32) -> Result<Queue> {
        let name = format!("{}-{round}-{}", self.name, kind.label());
        let spec = if self.args.fifo {
            QueueSpec::fifo(format!("{name}.fifo"))
        } else {
            QueueSpec::standard(name)
        };
        let spec = spec.visibility(Duration::from_secs(30));
        Ok(spec.ensure(&self.client).await?.queue)
    }
}

/// `weir bench`.
pub(crate) async fn run(endpoint: &Endpoint, args: &BenchArgs, json: bool) -> Result<()> {
    if let Some(r) = args.rate
        && !(r.is_finite() && r > 0.0)
    {
        return Err(CliError::Usage(format!(
            "--rate {r}: must be a positive number"
        )));
    }
    let out = Out::new(json);
    let counter = RequestCounter::default();
    let (client, _local) = client::build(endpoint, &counter).await;
    let (stop_tx, stop) = watch::channel(false);
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let label = endpoint_label(endpoint);
    let result = match &args.drain {
        Some(queue) => drain::run(&client, &counter, queue, args, &label, &out, stop).await,
        None => {
            let id = uuid::Uuid::new_v4().simple().to_string();
            let messages = args.messages.unwrap_or(DEFAULT_MESSAGES);
            let setup = Setup {
                client,
                counter,
                args: args.clone(),
                messages,
                name: format!("weir-bench-{}", &id[..12]),
                pad: body::padding(args.payload_bytes, messages),
                out,
                stop,
                local: endpoint.local,
            };
            rounds(&setup, label).await
        }
    };
    signal.abort();
    result
}

fn endpoint_label(endpoint: &Endpoint) -> String {
    if endpoint.local {
        "in-process (--local)".to_owned()
    } else {
        endpoint
            .url
            .clone()
            .unwrap_or_else(|| "aws-config default".to_owned())
    }
}

/// The rounds, the report, and the exit: lost messages fail the run.
async fn rounds(s: &Setup, endpoint: String) -> Result<()> {
    let baseline = s.args.baseline == Some(Baseline::Raw);
    let mut rounds = Vec::new();
    let mut last = None;
    for round in 0..s.args.rounds {
        // Whichever phase runs second runs slower: odd rounds run the baseline first.
        let order: &[Kind] = match (baseline, round % 2 == 1) {
            (false, _) => &[Kind::Weir],
            (true, false) => &[Kind::Weir, Kind::Raw],
            (true, true) => &[Kind::Raw, Kind::Weir],
        };
        let (mut weir, mut raw) = (None, None);
        for &kind in order {
            let phase = phase::run(s, kind, round).await?;
            let interrupted = phase.interrupted;
            match kind {
                Kind::Weir => weir = Some(phase),
                Kind::Raw => raw = Some(phase),
            }
            if interrupted {
                break;
            }
        }
        let Some(weir) = weir else { break };
        rounds.push(Round {
            first: order[0].label(),
            weir: (&weir).into(),
            raw: raw.as_ref().map(Into::into),
        });
        let interrupted = weir.interrupted || raw.as_ref().is_some_and(|r| r.interrupted);
        last = Some((weir, raw));
        if interrupted {
            break;
        }
    }
    let (weir, raw) = last.ok_or(CliError::Interrupted)?;
    let report = report(s, endpoint, weir, raw, rounds);
    if s.out.json() {
        s.out
            .value(&serde_json::to_value(&report).map_err(CliError::other)?);
    } else {
        report::print_report(&s.out, &report);
    }
    let lost = report.weir.lost + report.raw.as_ref().map_or(0, |r| r.lost);
    if report.weir.interrupted || report.raw.as_ref().is_some_and(|r| r.interrupted) {
        Err(CliError::Interrupted)
    } else if lost > 0 {
        Err(CliError::Lost(lost))
    } else {
        Ok(())
    }
}

fn report(
    s: &Setup,
    endpoint: String,
    weir: report::Phase,
    raw: Option<report::Phase>,
    rounds: Vec<Round>,
) -> Report {
    let mut notes = vec![
        "cpu counts the whole process (producers and consumers together)".to_owned(),
        "latency: from the producer stamping the body to the handler seeing it (wall clock)"
            .to_owned(),
        "each phase has a queue of its own, created before it and deleted after it".to_owned(),
    ];
    if s.local {
        notes.push("with --local, cpu includes the in-process SQS itself".to_owned());
    }
    if raw.is_some() {
        notes.push(
            "raw: P tasks of SendMessageBatch(10) and 8 tasks of ReceiveMessage(10, 20 s \
             wait) then DeleteMessageBatch; --rate does not apply to it"
                .to_owned(),
        );
    }
    Report {
        endpoint,
        fifo: s.args.fifo,
        groups: s.args.fifo.then_some(s.args.groups),
        messages: s.messages,
        payload_bytes: s.args.payload_bytes,
        producers: s.args.producers,
        concurrency: s.args.concurrency,
        pollers: s.args.pollers,
        rate: s.args.rate,
        handler_ms: s.args.handler_ms,
        prefill: s.args.prefill,
        ratios: Ratios::over(&rounds),
        weir,
        raw,
        rounds,
        notes,
    }
}
