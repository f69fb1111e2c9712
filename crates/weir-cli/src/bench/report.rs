//! What `weir bench` reports: each phase's figures, the ratios to the baseline over
//! the rounds, and how they print.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use weir::sqs::RequestCounter;
use weir::worker::WorkerReport;

use crate::output::Out;

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Latency {
    pub(super) p50_ms: f64,
    pub(super) p90_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) max_ms: f64,
}

/// What processing cost: SQS requests (counted by the SDK interceptor, retries
/// included) and CPU, per message processed.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Costs {
    pub(super) requests: BTreeMap<String, u64>,
    pub(super) requests_total: u64,
    pub(super) requests_per_message: f64,
    pub(super) requests_per_message_by_operation: BTreeMap<String, f64>,
    pub(super) cpu_seconds: Option<f64>,
    pub(super) cpu_us_per_message: Option<f64>,
}

impl Costs {
    pub(super) fn measure(counter: &RequestCounter, processed: u64, cpu: Option<Duration>) -> Self {
        let requests = counter.snapshot();
        let per = |x: u64| {
            if processed == 0 {
                0.0
            } else {
                x as f64 / processed as f64
            }
        };
        let total: u64 = requests.values().sum();
        let cpu = cpu.map(|c| c.as_secs_f64());
        Self {
            requests_per_message_by_operation: requests
                .iter()
                .map(|(k, v)| (k.clone(), per(*v)))
                .collect(),
            requests,
            requests_total: total,
            requests_per_message: per(total),
            cpu_seconds: cpu,
            cpu_us_per_message: cpu.map(|c| per(1) * c * 1e6),
        }
    }

    pub(super) fn print(&self, out: &Out) {
        let by_op: Vec<String> = self
            .requests_per_message_by_operation
            .iter()
            .map(|(k, v)| format!("{k} {v:.3}"))
            .collect();
        out.line(format!(
            "  requests/msg  {:.3} ({})",
            self.requests_per_message,
            by_op.join(", ")
        ));
        match (self.cpu_seconds, self.cpu_us_per_message) {
            (Some(c), Some(per)) => out.line(format!("  cpu           {c:.2} s ({per:.1} µs/msg)")),
            _ => out.line("  cpu           n/a (needs /proc/self/task/*/schedstat)"),
        }
    }
}

/// One phase's figures.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Phase {
    pub(super) name: String,
    /// How messages were consumed.
    pub(super) consumer: String,
    /// The phase's own queue.
    pub(super) queue: String,
    pub(super) messages: u64,
    pub(super) sent: u64,
    pub(super) send_errors: u64,
    pub(super) processed: u64,
    pub(super) duplicates: u64,
    /// Sent and never processed, when the run went to its end (or stalled); 0 when
    /// interrupted, where `unprocessed` says what was left.
    pub(super) lost: u64,
    /// Sent and not processed when the phase ended.
    pub(super) unprocessed: u64,
    pub(super) interrupted: bool,
    pub(super) elapsed_seconds: f64,
    /// When the last send returned (from the start).
    pub(super) send_seconds: Option<f64>,
    /// Messages sent per second, while sending.
    pub(super) send_throughput_msg_per_s: Option<f64>,
    pub(super) throughput_msg_per_s: f64,
    pub(super) latency: Latency,
    #[serde(flatten)]
    pub(super) costs: Costs,
    /// The worker's own report (weir phase only).
    pub(super) worker: Option<BTreeMap<&'static str, u64>>,
}

/// A phase in a line of the rounds table.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Brief {
    pub(super) throughput_msg_per_s: f64,
    pub(super) requests_per_message: f64,
    pub(super) cpu_us_per_message: Option<f64>,
}

impl From<&Phase> for Brief {
    fn from(p: &Phase) -> Self {
        Self {
            throughput_msg_per_s: p.throughput_msg_per_s,
            requests_per_message: p.costs.requests_per_message,
            cpu_us_per_message: p.costs.cpu_us_per_message,
        }
    }
}

/// One round: weir, and the baseline if asked for.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Round {
    /// Which phase ran first.
    pub(super) first: &'static str,
    pub(super) weir: Brief,
    pub(super) raw: Option<Brief>,
}

/// weir over raw. Over several rounds each is the geometric mean of the rounds'
/// ratios: the phase that runs second runs slower, and alternating the order and
/// taking the geometric mean cancels that.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Ratios {
    /// weir's throughput over raw's (above 1: weir is faster).
    pub(super) throughput: f64,
    /// weir's best round over raw's best round.
    pub(super) throughput_best_vs_best: f64,
    /// weir's CPU per message over raw's (below 1: weir uses less).
    pub(super) cpu_per_message: Option<f64>,
    /// weir's requests per message over raw's.
    pub(super) requests_per_message: f64,
}

impl Ratios {
    /// The ratios over `rounds`, `None` without a baseline.
    pub(super) fn over(rounds: &[Round]) -> Option<Self> {
        let pairs: Vec<(&Brief, &Brief)> = rounds
            .iter()
            .map(|r| r.raw.as_ref().map(|raw| (&r.weir, raw)))
            .collect::<Option<_>>()?;
        let ratio = |f: fn(&Brief) -> Option<f64>| {
            let xs: Option<Vec<f64>> = pairs
                .iter()
                .map(|(w, r)| Some(f(w)? / f(r)?.max(f64::MIN_POSITIVE)))
                .collect();
            xs.filter(|xs| !xs.is_empty()).map(|xs| geomean(&xs))
        };
        let best = |side: fn(&(&Brief, &Brief)) -> f64| pairs.iter().map(side).fold(0.0, f64::max);
        Some(Self {
            throughput: ratio(|b| Some(b.throughput_msg_per_s))?,
            throughput_best_vs_best: best(|p| p.0.throughput_msg_per_s)
                / best(|p| p.1.throughput_msg_per_s).max(f64::MIN_POSITIVE),
            cpu_per_message: ratio(|b| b.cpu_us_per_message),
            requests_per_message: ratio(|b| Some(b.requests_per_message))?,
        })
    }
}

fn geomean(xs: &[f64]) -> f64 {
    (xs.iter()
        .map(|x| x.max(f64::MIN_POSITIVE).ln())
        .sum::<f64>()
        / xs.len() as f64)
        .exp()
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Report {
    pub(super) endpoint: String,
    pub(super) fifo: bool,
    pub(super) groups: Option<u32>,
    pub(super) messages: u64,
    pub(super) payload_bytes: u32,
    pub(super) producers: u32,
    pub(super) concurrency: u32,
    pub(super) pollers: Option<u32>,
    pub(super) rate: Option<f64>,
    pub(super) handler_ms: u64,
    /// Every message was sent before the consumers started.
    pub(super) prefill: bool,
    /// The last round's phases.
    pub(super) weir: Phase,
    pub(super) raw: Option<Phase>,
    /// Every round, in order (one line each).
    pub(super) rounds: Vec<Round>,
    pub(super) ratios: Option<Ratios>,
    pub(super) notes: Vec<String>,
}

/// The worker's report as counters.
pub(super) fn worker_summary(r: &WorkerReport) -> BTreeMap<&'static str, u64> {
    BTreeMap::from([
        ("received", r.received),
        ("acked", r.acked),
        ("retried", r.retried),
        ("dead_lettered", r.dead_lettered),
        ("decode_failures", r.decode_failures),
        ("possible_duplicates", r.possible_duplicates),
        ("ack_failures", r.ack_failures),
        ("empty_polls", r.empty_polls),
        ("poll_errors", r.poll_errors),
        ("polls_cancelled", r.polls_cancelled),
        ("sqs_requests", r.sqs_requests),
    ])
}

pub(super) fn print_latency(out: &Out, label: &str, l: &Latency) {
    out.line(format!(
        "  {label:<13} p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
    ));
}

fn print_phase(out: &Out, p: &Phase) {
    out.line(format!("{} ({}, queue {})", p.name, p.consumer, p.queue));
    out.line(format!(
        "  throughput    {:.0} msg/s ({} processed in {:.2} s)",
        p.throughput_msg_per_s, p.processed, p.elapsed_seconds
    ));
    if let (Some(secs), Some(rate)) = (p.send_seconds, p.send_throughput_msg_per_s) {
        out.line(format!(
            "  sending       {rate:.0} msg/s (all sent in {secs:.2} s)"
        ));
    }
    print_latency(out, "latency", &p.latency);
    p.costs.print(out);
    let unprocessed = if p.unprocessed > p.lost {
        format!("  unprocessed {}", p.unprocessed)
    } else {
        String::new()
    };
    out.line(format!(
        "  messages      sent {}  send errors {}  duplicates {}  lost {}{}{unprocessed}",
        p.sent,
        p.send_errors,
        p.duplicates,
        p.lost,
        if p.interrupted { "  (interrupted)" } else { "" },
    ));
}

fn print_round(out: &Out, i: usize, r: &Round) {
    let brief = |b: &Brief| {
        format!(
            "{:>8.0} msg/s {:.3} req/msg {}",
            b.throughput_msg_per_s,
            b.requests_per_message,
            b.cpu_us_per_message
                .map_or_else(|| "n/a".to_owned(), |c| format!("{c:.1} µs cpu/msg"))
        )
    };
    let raw = r.raw.as_ref().map(|b| format!(" | raw {}", brief(b)));
    out.line(format!(
        "  round {i} ({} first): weir {}{}",
        r.first,
        brief(&r.weir),
        raw.unwrap_or_default()
    ));
}

pub(super) fn print_report(out: &Out, r: &Report) {
    out.line(format!(
        "weir bench: {} messages of {} B, {} producers, concurrency {}, {} queue{}, endpoint {}",
        r.messages,
        r.payload_bytes,
        r.producers,
        r.concurrency,
        if r.fifo { "FIFO" } else { "standard" },
        r.groups
            .map(|g| format!(" ({g} groups)"))
            .unwrap_or_default(),
        r.endpoint
    ));
    if r.prefill {
        out.line("prefilled: every message was sent before the consumers started; time, cpu and requests count the consumers alone");
    }
    if let Some(rate) = r.rate {
        out.line(format!("rate limit {rate} msg/s (received)"));
    }
    if r.rounds.len() > 1 {
        out.line(format!("{} rounds", r.rounds.len()));
        for (i, round) in r.rounds.iter().enumerate() {
            print_round(out, i, round);
        }
        out.line("the last round:");
    }
    print_phase(out, &r.weir);
    if let Some(raw) = &r.raw {
        print_phase(out, raw);
    }
    if let Some(x) = &r.ratios {
        let over = if r.rounds.len() > 1 {
            " (geometric means over the rounds)"
        } else {
            ""
        };
        out.line(format!("weir / raw{over}"));
        out.line(format!(
            "  throughput    x{:.2} (best vs best x{:.2})",
            x.throughput, x.throughput_best_vs_best
        ));
        match x.cpu_per_message {
            Some(c) => out.line(format!("  cpu/msg       x{c:.2}")),
            None => out.line("  cpu/msg       n/a"),
        }
        out.line(format!("  requests/msg  x{:.2}", x.requests_per_message));
    }
    for n in &r.notes {
        out.line(format!("note: {n}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brief(throughput: f64, cpu: f64) -> Brief {
        Brief {
            throughput_msg_per_s: throughput,
            requests_per_message: 0.2,
            cpu_us_per_message: Some(cpu),
        }
    }

    #[test]
    fn ratios_are_geometric_means_over_rounds() {
        let rounds = [
            Round {
                first: "weir",
                weir: brief(80.0, 12.0),
                raw: Some(brief(100.0, 10.0)),
            },
            Round {
                first: "raw",
                weir: brief(125.0, 10.0),
                raw: Some(brief(100.0, 10.0)),
            },
        ];
        let x = Ratios::over(&rounds).unwrap();
        // sqrt(0.8 * 1.25) = 1
        assert!((x.throughput - 1.0).abs() < 1e-9, "{x:?}");
        assert!((x.throughput_best_vs_best - 1.25).abs() < 1e-9, "{x:?}");
        assert!(
            (x.cpu_per_message.unwrap() - 1.2f64.sqrt()).abs() < 1e-9,
            "{x:?}"
        );
        assert!((x.requests_per_message - 1.0).abs() < 1e-9, "{x:?}");
    }

    #[test]
    fn no_baseline_no_ratios() {
        let rounds = [Round {
            first: "weir",
            weir: brief(80.0, 12.0),
            raw: None,
        }];
        assert!(Ratios::over(&rounds).is_none());
    }
}
