//! The `weir` command-line tool: look at, feed, drain and measure Amazon SQS queues.
//!
//! ```text
//! weir queues  [--prefix P]
//! weir create  NAME [--fifo] [--dlq NAME --max-receive N] [--visibility S]
//! weir send    QUEUE [--body S | --file F | (stdin, one message per line)]
//!              [--group G] [--dedup D] [--delay S] [--attr k=v ...]
//!              [--s3-bucket B [--s3-always] [--s3-prefix P]]
//! weir publish TOPIC [--message M | --file F | (stdin, one message per line)]
//!              [--subject S] [--group G] [--dedup D] [--attr k=v ...]
//! weir subscribe TOPIC QUEUE [--raw] [--filter-policy JSON]
//!              [--filter-scope attributes|body] [--create]
//! weir peek    QUEUE [-n N] [--s3-bucket B]
//! weir stats   QUEUE [--watch]
//! weir redrive DLQ [--to SRC] [--rate N]
//! weir purge   QUEUE [--yes]
//! weir serve   [--port 4566] [--host 127.0.0.1] [--account-id 000000000000]
//!              [--queue-deleted-recently true|false] [--log]
//! weir bench   [--messages N] [--payload-bytes B] [--producers P] [--concurrency C]
//!              [--rate R] [--handler-ms D] [--fifo --groups G] [--baseline raw]
//! ```
//!
//! Global options: `--endpoint-url U` (overrides `AWS_ENDPOINT_URL` and profiles),
//! `--region R`, `--local` (a fresh in-process SQS for this one command: each command
//! starts from an empty SQS, so it serves `bench` and `serve`), `--json` (machine output
//! on stdout, for every command).
//!
//! Endpoint, region and credentials otherwise come from aws-config's standard chain
//! (environment, profiles, `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_SQS`).
//!
//! # Errors and exit codes
//!
//! Each error is one line on stderr, with the SQS error code first when SQS gave one:
//! `weir: AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.`
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | SQS or runtime error (an error answer, an unreachable endpoint, I/O) |
//! | 2 | usage error: bad arguments, or input SQS would refuse (too large, FIFO options on a standard queue...), refused before any call |
//! | 3 | refused: `purge` without confirmation (no `--yes` and no terminal to ask on, or not answered `y`) |
//! | 4 | `bench` lost messages (a message sent was never processed) |
//! | 130 | interrupted by Ctrl-C or SIGTERM (`bench`, `redrive`) |
//!
//! Logs are off unless `RUST_LOG` is set (e.g. `RUST_LOG=weir_sqs=debug`), or
//! `serve --log` turns on the request log (`weir_local::request` at `info`).
//!
//! # Notes per command
//!
//! - `peek` receives with visibility 0: it raises the receive count of what it shows and
//!   can move messages to the dead-letter queue; it warns on stderr every time.
//! - `send --s3-bucket B` puts a body over the queue's `MaximumMessageSize` (or every
//!   body, `--s3-always`) in S3 and sends a pointer, in the format of AWS's extended
//!   clients (Java, Python); `peek --s3-bucket B` shows such a message's payload (its
//!   size and its start) instead of the pointer. The bucket is checked (`HeadBucket`)
//!   before any SQS call. The S3 client comes from the same chain as the SQS one
//!   (path-style when an endpoint is set; `--local`'s in-process S3).
//! - `stats` prints the oldest message's age as n/a: SQS's API has no call for it
//!   (CloudWatch's `ApproximateAgeOfOldestMessage` has it; weir does not read CloudWatch).
//! - `redrive` uses a message move task and falls back to a manual move (receive, send,
//!   delete) when the endpoint has none.
//! - `bench` produces with `Producer::send_batch_with` (P tasks, batches of 10) and
//!   consumes with a `weir_worker::Worker`; it reports throughput, end-to-end latency
//!   percentiles, SQS requests per message by operation (counted by an SDK interceptor),
//!   duplicates, losses and CPU seconds (`/proc/self/stat`), and with `--baseline raw`
//!   the same for a raw aws-sdk-sqs loop, as ratios. See the crate's README.

mod bench;
mod client;
mod commands;
mod error;
mod output;
mod s3;
mod sns;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::client::Endpoint;
use crate::error::{CliError, EXIT_OK};

const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    SQS or runtime error (the error line carries the SQS error code)
  2    usage error, or input SQS would refuse (checked before any call)
  3    refused (purge without --yes and no terminal, or not confirmed)
  4    bench: messages were lost
  130  interrupted (Ctrl-C / SIGTERM)

Endpoint and credentials come from aws-config (AWS_ENDPOINT_URL, AWS_PROFILE, ...);
--endpoint-url overrides them. With --local each command runs against a fresh, empty
in-process SQS (useful for bench and serve).";

/// Look at, feed, drain and measure Amazon SQS queues.
#[derive(Debug, Parser)]
#[command(name = "weir", version, after_help = EXIT_CODES)]
struct Cli {
    /// SQS endpoint URL (overrides AWS_ENDPOINT_URL and profiles).
    #[arg(long, global = true, value_name = "URL", conflicts_with = "local")]
    endpoint_url: Option<String>,
    /// AWS region (default: from the environment or profile; us-east-1 with --endpoint-url).
    /// For serve: the region of requests that carry none (default us-east-1).
    #[arg(long, global = true)]
    region: Option<String>,
    /// Run against a fresh in-process SQS (empty at every command).
    #[arg(long, global = true)]
    local: bool,
    /// Machine-readable output (JSON) on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List queues (URLs).
    Queues {
        /// Only queues whose name starts with this.
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Create a queue (and a dead-letter queue) if missing; report drift if it exists.
    Create(CreateArgs),
    /// Send messages: --body, --file, or one message per stdin line (batched).
    Send(SendArgs),
    /// Publish messages to an SNS topic: --message, --file, or one per stdin line (batched).
    Publish(PublishArgs),
    /// Subscribe a queue to an SNS topic (with the queue policy that lets the topic send).
    #[command(
        long_about = "Subscribe a queue to an SNS topic, unless it already is.\n\nMerges the \
        statement that lets the topic send (sns.amazonaws.com, sqs:SendMessage, aws:SourceArn \
        = the topic) into the queue's policy, keeping its other statements, then subscribes \
        with RawMessageDelivery and the filter policy. An existing subscription is not \
        changed: how it differs is reported as drift. With --create, the topic and the queue \
        are created first if missing (FIFO when their names end in .fifo)."
    )]
    Subscribe(SubscribeArgs),
    /// Show messages without consuming them (raises their receive count: see --help).
    #[command(
        long_about = "Show messages without consuming them.\n\nPeek receives with a \
        visibility timeout of 0, so the messages stay available. SQS has no true peek: each \
        peek raises the messages' receive count, and can push them to the dead-letter queue \
        once it passes maxReceiveCount."
    )]
    Peek {
        /// Queue name, URL or ARN.
        queue: String,
        /// How many messages at most (1-10).
        #[arg(short = 'n', long = "max", default_value_t = 1,
              value_parser = clap::value_parser!(u8).range(1..=10))]
        n: u8,
        /// Fetch the payloads of messages offloaded to S3 (the extended clients' pointer)
        /// and show them instead of the pointer. Pointers name their bucket; this one is
        /// checked first.
        #[arg(long, value_name = "BUCKET")]
        s3_bucket: Option<String>,
    },
    /// Queue depth: visible, in flight, delayed, and the dead-letter queue's depth.
    #[command(
        long_about = "Queue depth: visible, in flight and delayed messages (SQS's approximate \
        counts), and the depth of the dead-letter queue named by the RedrivePolicy.\n\nThe age \
        of the oldest message is shown as n/a: SQS's API does not expose it (only the \
        CloudWatch metric ApproximateAgeOfOldestMessage does, which weir does not read)."
    )]
    Stats {
        /// Queue name, URL or ARN.
        queue: String,
        /// Refresh every 2 seconds until Ctrl-C.
        #[arg(long)]
        watch: bool,
    },
    /// Move messages out of a dead-letter queue (to their sources, or to --to).
    #[command(
        long_about = "Move messages out of a dead-letter queue, back to their source queues or \
        to --to, with progress. Uses an SQS message move task (StartMessageMoveTask, polled \
        with ListMessageMoveTasks); if the endpoint has no move tasks, moves them by hand \
        (receive, send, delete; a failure may duplicate a message, never lose one). Ctrl-C \
        cancels the move task."
    )]
    Redrive {
        /// The dead-letter queue (name, URL or ARN).
        dlq: String,
        /// Destination queue (default: each message's source queue).
        #[arg(long)]
        to: Option<String>,
        /// Messages per second at most (1-500 for move tasks).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        rate: Option<u32>,
    },
    /// Delete every message in a queue (asks first unless --yes).
    Purge {
        /// Queue name, URL or ARN.
        queue: String,
        /// Do not ask. Without --yes and without a terminal, purge refuses (exit 3).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Serve the in-process SQS, SNS and S3 (path-style) on one HTTP port until Ctrl-C or
    /// SIGTERM.
    Serve {
        /// Port (0 for any free port; the URL is printed).
        #[arg(long, default_value_t = 4566)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Account id of queue URLs and ARNs (12 digits). A request signed with a 12-digit
        /// access key id acts in that account instead.
        #[arg(long, default_value = "000000000000", value_parser = account_id)]
        account_id: String,
        /// Refuse for 60 s to re-create a queue just deleted (QueueDeletedRecently), as
        /// AWS does; false lets a test suite re-create a queue at once.
        #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
        queue_deleted_recently: bool,
        /// Log each request on stderr: operation, queue, status, error code, milliseconds
        /// (the same as RUST_LOG=weir_local::request=info).
        #[arg(long)]
        log: bool,
    },
    /// Measure weir's producer and worker against the endpoint (or --local).
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// Queue name (FIFO queue names end in .fifo).
    name: String,
    /// A FIFO queue.
    #[arg(long)]
    fifo: bool,
    /// Dead-letter queue name (created if missing, with a redrive policy on NAME).
    #[arg(long)]
    dlq: Option<String>,
    /// Receives before a message moves to the dead-letter queue (1-1000).
    #[arg(long, requires = "dlq", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    max_receive: u32,
    /// Visibility timeout in seconds (0-43200).
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u32).range(0..=43_200))]
    visibility: Option<u32>,
}

#[derive(Debug, Args)]
struct SendArgs {
    /// Queue name, URL or ARN.
    queue: String,
    /// The message body.
    #[arg(long, conflicts_with = "file")]
    body: Option<String>,
    /// Send this file's content as one message.
    #[arg(long)]
    file: Option<PathBuf>,
    /// FIFO message group id.
    #[arg(long)]
    group: Option<String>,
    /// FIFO deduplication id (with stdin lines, line n gets D-n).
    #[arg(long)]
    dedup: Option<String>,
    /// Delay in seconds (0-900; standard queues only).
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u32).range(0..=900))]
    delay: Option<u32>,
    /// A string message attribute, name=value (repeatable).
    #[arg(long = "attr", value_name = "K=V", value_parser = parse_attr)]
    attrs: Vec<(String, String)>,
    /// Put bodies over the queue's MaximumMessageSize in this S3 bucket and send a
    /// pointer instead (the format of AWS's extended clients for Java and Python).
    #[arg(long, value_name = "BUCKET")]
    s3_bucket: Option<String>,
    /// Send every body through S3, whatever its size.
    #[arg(long, requires = "s3_bucket")]
    s3_always: bool,
    /// Prefix of the S3 keys (the key is the prefix and a UUID).
    #[arg(long, value_name = "P", requires = "s3_bucket")]
    s3_prefix: Option<String>,
}

impl SendArgs {
    fn s3(&self) -> s3::S3Options {
        s3::S3Options {
            bucket: self.s3_bucket.clone(),
            prefix: self.s3_prefix.clone(),
            always: self.s3_always,
        }
    }
}

#[derive(Debug, Args)]
struct PublishArgs {
    /// Topic name or ARN.
    topic: String,
    /// The message.
    #[arg(long, conflicts_with = "file")]
    message: Option<String>,
    /// Publish this file's content as one message.
    #[arg(long)]
    file: Option<PathBuf>,
    /// The subject (fewer than 100 characters).
    #[arg(long)]
    subject: Option<String>,
    /// FIFO message group id.
    #[arg(long)]
    group: Option<String>,
    /// FIFO deduplication id (with stdin lines, line n gets D-n).
    #[arg(long)]
    dedup: Option<String>,
    /// A string message attribute, name=value (repeatable).
    #[arg(long = "attr", value_name = "K=V", value_parser = parse_attr)]
    attrs: Vec<(String, String)>,
}

/// What a filter policy looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FilterScopeArg {
    /// Message attributes (SNS's default).
    Attributes,
    /// The message body (JSON).
    Body,
}

#[derive(Debug, Args)]
struct SubscribeArgs {
    /// Topic name or ARN.
    topic: String,
    /// Queue name, URL or ARN.
    queue: String,
    /// Raw message delivery: the queue gets the message itself, not an SNS notification.
    #[arg(long)]
    raw: bool,
    /// A filter policy (JSON): only messages it accepts reach the queue.
    #[arg(long, value_name = "JSON")]
    filter_policy: Option<String>,
    /// What the filter policy looks at.
    #[arg(long, value_enum, default_value_t = FilterScopeArg::Attributes, requires = "filter_policy")]
    filter_scope: FilterScopeArg,
    /// Create the topic and the queue if missing.
    #[arg(long)]
    create: bool,
}

/// What `bench --baseline` compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Baseline {
    /// A raw aws-sdk-sqs loop: 8 tasks of ReceiveMessage(10) then DeleteMessageBatch.
    Raw,
}

/// `weir bench` options.
#[derive(Debug, Clone, Args)]
pub(crate) struct BenchArgs {
    /// Messages to send and process, per phase (default 10 000). With --drain: stop
    /// after this many (default: when the queue is empty).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) messages: Option<u64>,
    /// Only drain QUEUE (name, URL or ARN), which already holds messages: no queue is
    /// created and nothing is sent; the worker consumes until the queue is empty.
    #[arg(long, value_name = "QUEUE",
          conflicts_with_all = ["baseline", "fifo", "prefill", "keep_queue", "rounds", "producers", "payload_bytes"])]
    pub(crate) drain: Option<String>,
    /// Body size in bytes (at least 64: the body carries an id and the send time).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(64..=262_144))]
    pub(crate) payload_bytes: u32,
    /// Producer tasks (each sends batches of 10 with send_batch).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub(crate) producers: u32,
    /// The worker's concurrency: messages held at once (running or waiting for their ack).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) concurrency: u32,
    /// The worker's pollers: receives in flight at once (default: the worker's own).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub(crate) pollers: Option<u32>,
    /// Messages per second at most, received (a shared GCRA limiter before each receive).
    #[arg(long)]
    pub(crate) rate: Option<f64>,
    /// Handler time per message, in milliseconds (a sleep).
    #[arg(long, default_value_t = 0)]
    pub(crate) handler_ms: u64,
    /// Use a FIFO queue.
    #[arg(long)]
    pub(crate) fifo: bool,
    /// FIFO message groups.
    #[arg(long, default_value_t = 16, requires = "fifo",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) groups: u32,
    /// Also run a baseline in the same process, on a queue of its own, and print ratios.
    #[arg(long, value_enum)]
    pub(crate) baseline: Option<Baseline>,
    /// Rounds of every phase. With --baseline, odd rounds run the baseline first (whichever
    /// runs second is slower), and the ratios are geometric means over the rounds.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub(crate) rounds: u32,
    /// Give up when nothing is processed for this many seconds (reports what is lost).
    #[arg(long, default_value_t = 60)]
    pub(crate) stall_secs: u64,
    /// Send every message before the consumers start: throughput, CPU and requests then
    /// measure the consumers alone (sending is reported apart), and latency is time
    /// spent waiting in the queue.
    #[arg(long)]
    pub(crate) prefill: bool,
    /// Keep the bench queue afterwards (default: delete it).
    #[arg(long)]
    pub(crate) keep_queue: bool,
}

fn parse_attr(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not name=value")),
    }
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to stdout as clap renders them (exit 0).
        Err(e) if !e.use_stderr() => e.exit(),
        // Usage errors: one line, like every other error (exit 2).
        Err(e) => {
            eprintln!(
                "weir: {} (see weir --help)",
                one_line_usage_error(&e.render().to_string())
            );
            std::process::exit(error::EXIT_USAGE);
        }
    };
    init_logs(matches!(cli.command, Command::Serve { log: true, .. }));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("weir: cannot start the runtime: {e}");
            std::process::exit(error::EXIT_ERROR);
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("weir: {e}");
            e.exit_code()
        }
    };
    // Don't wait for stray blocking tasks (a stdin read) on the way out.
    runtime.shutdown_background();
    std::process::exit(code);
}

/// clap's error text up to its usage section, on one line, without the `error:` prefix.
fn one_line_usage_error(rendered: &str) -> String {
    let text: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    text.join(" ").trim_start_matches("error: ").to_owned()
}

/// Logs go to stderr when `RUST_LOG` asks for them; `request_log` (`serve --log`) adds
/// weir-local's request log to whatever `RUST_LOG` says.
fn init_logs(request_log: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match EnvFilter::try_from_env("RUST_LOG") {
        Ok(filter) => filter,
        Err(_) if request_log => EnvFilter::new("warn"),
        Err(_) => return,
    };
    let filter = match "weir_local::request=info".parse() {
        Ok(directive) if request_log => filter.add_directive(directive),
        _ => filter,
    };
    // Colours only on a terminal: a log file or a pipe gets plain text.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

/// `--account-id`: AWS account ids are 12 digits.
fn account_id(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(format!("an account id is 12 digits, got {s:?}"))
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let endpoint = Endpoint {
        url: cli.endpoint_url,
        region: cli.region,
        local: cli.local,
    };
    let json = cli.json;
    match cli.command {
        Command::Serve {
            port,
            host,
            account_id,
            queue_deleted_recently,
            log: _,
        } => {
            let sqs = weir::local::LocalSqs::builder()
                .account_id(account_id)
                .region(endpoint.region.as_deref().unwrap_or("us-east-1"))
                .queue_deleted_recently(queue_deleted_recently)
                .build();
            commands::serve(sqs, &host, port, json).await
        }
        Command::Bench(args) => bench::run(&endpoint, &args, json).await,
        command => {
            let counter = client::RequestCounter::default();
            let (client, local) = client::build(&endpoint, &counter).await;
            let out = output::Out::new(json);
            match command {
                Command::Publish(a) => {
                    let sns = client::build_sns(&endpoint, local.as_ref()).await;
                    sns::publish(&sns, &a, &out).await
                }
                Command::Subscribe(a) => {
                    let sns = client::build_sns(&endpoint, local.as_ref()).await;
                    sns::subscribe(&sns, &client, &a, &out).await
                }
                Command::Queues { prefix } => {
                    commands::queues(&client, prefix.as_deref(), &out).await
                }
                Command::Create(a) => commands::create(&client, &a, &out).await,
                Command::Send(a) => {
                    let uploads = s3::Uploads::default();
                    let offload = match a.s3_bucket {
                        Some(_) => {
                            let s3 = client::build_s3(&endpoint, local.as_ref(), &uploads).await;
                            s3::offload(s3, &a.s3()).await?
                        }
                        None => None,
                    };
                    commands::send(&client, &a, offload, &uploads, &out).await
                }
                Command::Peek {
                    queue,
                    n,
                    s3_bucket,
                } => {
                    let offload = match s3_bucket {
                        Some(bucket) => {
                            let uploads = s3::Uploads::default();
                            let s3 = client::build_s3(&endpoint, local.as_ref(), &uploads).await;
                            let options = s3::S3Options {
                                bucket: Some(bucket),
                                ..s3::S3Options::default()
                            };
                            s3::offload(s3, &options).await?
                        }
                        None => None,
                    };
                    commands::peek(&client, &queue, n, offload, &out).await
                }
                Command::Stats { queue, watch } => {
                    commands::stats(&client, &queue, watch, &out).await
                }
                Command::Redrive { dlq, to, rate } => {
                    commands::redrive(&client, &dlq, to.as_deref(), rate, &out).await
                }
                Command::Purge { queue, yes } => commands::purge(&client, &queue, yes, &out).await,
                Command::Serve { .. } | Command::Bench(_) => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn attributes_parse_as_name_equals_value() {
        assert_eq!(parse_attr("k=v=w"), Ok(("k".into(), "v=w".into())));
        assert!(parse_attr("=v").is_err());
        assert!(parse_attr("novalue").is_err());
    }

    #[test]
    fn usage_errors_fit_on_one_line() {
        let e = Cli::try_parse_from(["weir", "peek"]).unwrap_err();
        let line = one_line_usage_error(&e.render().to_string());
        assert!(!line.contains('\n'));
        assert!(line.contains("<QUEUE>"), "{line}");
        assert!(!line.starts_with("error"), "{line}");
    }
}
