//! Every command but `bench`.

use std::io::IsTerminal;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::Client;
use serde_json::{Value, json};
use weir::sqs::redrive::{self, ManualMove, MoveTask};
use weir::sqs::s3::Offload;
use weir::sqs::{
    AttributeDrift, AttributeValue, DlqSpec, Error as SqsError, Producer, Queue, QueueDepth,
    QueueSpec, RawString, ReceiveOptions, SendOptions,
};

use crate::error::{CliError, Result};
use crate::output::Out;
use crate::{CreateArgs, SendArgs};

/// Resolves when Ctrl-C or (on Unix) SIGTERM arrives.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn sdk<E>(
    op: &'static str,
) -> impl FnOnce(aws_sdk_sqs::error::SdkError<E, aws_sdk_sqs::config::http::HttpResponse>) -> CliError
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| CliError::Sqs(SqsError::from_sdk(op, e))
}

fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `weir queues`.
pub(crate) async fn queues(client: &Client, prefix: Option<&str>, out: &Out) -> Result<()> {
    let mut urls = Vec::new();
    let mut next = None;
    loop {
        let page = client
            .list_queues()
            .set_queue_name_prefix(prefix.map(str::to_owned))
            .max_results(1000)
            .set_next_token(next)
            .send()
            .await
            .map_err(sdk("ListQueues"))?;
        urls.extend(page.queue_urls().iter().cloned());
        next = page.next_token;
        if next.is_none() {
            break;
        }
    }
    urls.sort();
    if out.json() {
        let list: Vec<Value> = urls
            .iter()
            .map(|u| json!({ "name": u.rsplit('/').next().unwrap_or(u), "url": u }))
            .collect();
        out.value(&Value::Array(list));
    } else {
        for u in &urls {
            out.line(u);
        }
    }
    Ok(())
}

pub(crate) fn queue_json(q: &Queue) -> Value {
    json!({ "name": q.name(), "url": q.url(), "arn": q.arn(), "fifo": q.is_fifo() })
}

/// `weir create`.
pub(crate) async fn create(client: &Client, a: &CreateArgs, out: &Out) -> Result<()> {
    let fifo = a.fifo || a.name.ends_with(".fifo");
    let mut spec = if fifo {
        QueueSpec::fifo(&a.name)
    } else {
        QueueSpec::standard(&a.name)
    };
    if let Some(v) = a.visibility {
        spec = spec.visibility(Duration::from_secs(v.into()));
    }
    if let Some(dlq) = &a.dlq {
        spec = spec.dead_letter_spec(DlqSpec {
            name: Some(dlq.clone()),
            max_receive_count: a.max_receive,
            retention: None,
            redrive_allow: None,
        });
    }
    let t = spec.ensure(client).await?;
    if out.json() {
        let drift = drift_json(&t.drift);
        out.value(&json!({
            "queue": queue_json(&t.queue),
            "dlq": t.dlq.as_ref().map(queue_json),
            "drift": drift,
        }));
    } else {
        out.line(format!("queue {}", t.queue.url()));
        if let Some(dlq) = &t.dlq {
            out.line(format!("dlq   {}", dlq.url()));
        }
        for d in &t.drift {
            out.line(format!("drift {d} (weir does not change existing queues)"));
        }
    }
    Ok(())
}

/// Drift entries as JSON objects (`create`, `subscribe`).
pub(crate) fn drift_json(drift: &[AttributeDrift]) -> Vec<Value> {
    drift
        .iter()
        .map(|d| {
            json!({ "queue": d.queue, "attribute": d.attribute,
                    "expected": d.expected, "actual": d.actual })
        })
        .collect()
}

/// Prints each failed message (one line each) after `ok` succeeded, and turns them
/// into the command's error: a lone failure is itself, more are summed up (`send`,
/// `publish`; `done` is the verb: "sent", "published").
pub(crate) fn report_failures(ok: usize, errors: Vec<(usize, SqsError)>, done: &str) -> Result<()> {
    let total = errors.len();
    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some((_, e)) if total == 1 && ok == 0 => Err(e.into()),
        Some((i, first)) => {
            let first = CliError::from(first);
            let code = first.exit_code();
            eprintln!("weir: message {}: {first}", i + 1);
            for (i, e) in errors {
                eprintln!("weir: message {}: {}", i + 1, CliError::from(e));
            }
            Err(CliError::Reported(
                code,
                format!("{total} of {} messages not {done}", ok + total),
            ))
        }
    }
}

pub(crate) async fn read_input(file: Option<std::path::PathBuf>) -> Result<Vec<String>> {
    let stdin_tty = file.is_none() && std::io::stdin().is_terminal();
    if stdin_tty {
        eprintln!("weir: reading messages from stdin, one per line (Ctrl-D to end)");
    }
    tokio::task::spawn_blocking(move || -> Result<Vec<String>> {
        match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
                Ok(vec![text])
            }
            None => {
                let mut lines = Vec::new();
                for line in std::io::stdin().lines() {
                    let line = line?;
                    // SQS refuses empty bodies; blank lines separate nothing.
                    if !line.is_empty() {
                        lines.push(line);
                    }
                }
                Ok(lines)
            }
        }
    })
    .await
    .map_err(CliError::other)?
}

/// `weir send`.
pub(crate) async fn send(
    client: &Client,
    a: &SendArgs,
    offload: Option<Offload>,
    uploads: &crate::s3::Uploads,
    out: &Out,
) -> Result<()> {
    let queue = Queue::open(client, &a.queue).await?;
    let from_stdin = a.body.is_none() && a.file.is_none();
    let bodies = match &a.body {
        Some(b) => vec![b.clone()],
        None => read_input(a.file.clone()).await?,
    };
    if bodies.is_empty() {
        return Err(CliError::Usage("nothing to send (stdin was empty)".into()));
    }
    let mut base = SendOptions::default();
    if let Some(d) = a.delay {
        base = base.with_delay(Duration::from_secs(d.into()));
    }
    if let Some(g) = &a.group {
        base = base.with_group_id(g);
    }
    for (k, v) in &a.attrs {
        base = base.with_attribute(k, AttributeValue::string(v));
    }
    let options: Vec<SendOptions> = (0..bodies.len())
        .map(|i| {
            let mut o = base.clone();
            if let Some(d) = &a.dedup {
                o.dedup_id = Some(if from_stdin && bodies.len() > 1 {
                    format!("{d}-{}", i + 1)
                } else {
                    d.clone()
                });
            }
            o
        })
        .collect();
    let mut builder = Producer::builder(queue).codec(RawString);
    if let Some(o) = offload {
        builder = builder.offload(o);
    }
    let producer: Producer<String, RawString> = builder.build()?;
    let results = if bodies.len() == 1 {
        vec![producer.send_with(&bodies[0], options[0].clone()).await]
    } else {
        producer.send_batch_with(bodies.iter().zip(options)).await
    };
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(o) => ids.push(o.message_id().to_owned()),
            Err(e) => errors.push((i, e)),
        }
    }
    if out.json() {
        let mut doc = json!({ "sent": ids.len(), "failed": errors.len(), "message_ids": ids });
        if a.s3_bucket.is_some() {
            doc["s3_objects"] = uploads.json();
        }
        out.value(&doc);
    } else {
        for id in &ids {
            out.line(id);
        }
        for o in uploads.objects() {
            let size = o.size.map_or_else(String::new, |n| format!(" ({n} bytes)"));
            out.note(format!(
                "payload offloaded to s3://{}/{}{size}",
                o.bucket, o.key
            ));
        }
    }
    report_failures(ids.len(), errors, "sent")
}

/// `weir peek`.
pub(crate) async fn peek(
    client: &Client,
    queue: &str,
    n: u8,
    offload: Option<Offload>,
    out: &Out,
) -> Result<()> {
    let queue = Queue::open(client, queue).await?;
    out.warn(
        "peek receives with visibility 0: it raises each message's receive count, \
         and can move messages to the dead-letter queue past maxReceiveCount",
    );
    let fetching = offload.is_some();
    let consumer = crate::s3::consumer(queue, offload);
    let messages = consumer
        .receive(
            &ReceiveOptions::default()
                .with_max_messages(usize::from(n))
                .with_visibility(Duration::ZERO)
                .with_wait(Duration::from_secs(1)),
        )
        .await?;
    if out.json() {
        let list: Vec<Value> = messages
            .iter()
            .map(|m| {
                let attrs: serde_json::Map<String, Value> = m
                    .attributes()
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v.as_str())))
                    .collect();
                let mut doc = json!({
                    "message_id": m.message_id(),
                    "receive_count": m.receive_count(),
                    "sent_at_ms": m.sent_at().map(unix_millis),
                    "group_id": m.group_id(),
                    "attributes": attrs,
                    "body": m.raw_body(),
                });
                if let Value::Object(fields) = &mut doc {
                    crate::s3::peek_json(m, fields);
                }
                doc
            })
            .collect();
        out.value(&Value::Array(list));
    } else {
        if messages.is_empty() {
            out.line("(no visible messages)");
        }
        for m in &messages {
            let age = m
                .sent_at()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .map_or_else(|| "?".to_owned(), |d| format!("{}s", d.as_secs()));
            let group = m
                .group_id()
                .map(|g| format!(" group={g}"))
                .unwrap_or_default();
            out.line(format!(
                "{} receives={} age={age}{group}",
                m.message_id(),
                m.receive_count()
            ));
            for (k, v) in m.attributes() {
                out.line(format!("  {k}={}", v.as_str().unwrap_or("(binary)")));
            }
            for line in crate::s3::peek_lines(m, fetching) {
                out.line(line);
            }
        }
    }
    Ok(())
}

/// The DLQ named by a queue's RedrivePolicy, if any.
fn dlq_arn(queue: &Queue) -> Option<String> {
    let policy: Value = serde_json::from_str(queue.attributes().redrive_policy()?).ok()?;
    policy
        .get("deadLetterTargetArn")?
        .as_str()
        .map(str::to_owned)
}

struct Stats {
    depth: QueueDepth,
    dlq: Option<(String, Option<QueueDepth>)>,
}

async fn read_stats(client: &Client, queue: &Queue) -> Result<Stats> {
    let depth = queue.depth().await?;
    let dlq = match dlq_arn(queue) {
        None => None,
        Some(arn) => {
            let name = arn.rsplit(':').next().unwrap_or(&arn).to_owned();
            let d = match Queue::from_arn(client, &arn).await {
                Ok(q) => Some(q.depth().await?),
                Err(SqsError::QueueNotFound(_)) => None,
                Err(e) => return Err(e.into()),
            };
            Some((name, d))
        }
    };
    Ok(Stats { depth, dlq })
}

fn stats_json(queue: &Queue, s: &Stats) -> Value {
    json!({
        "queue": queue.name(),
        "visible": s.depth.visible,
        "in_flight": s.depth.in_flight,
        "delayed": s.depth.delayed,
        "oldest_age_seconds": Value::Null,
        "dlq": s.dlq.as_ref().map(|(name, d)| json!({
            "name": name,
            "exists": d.is_some(),
            "visible": d.map(|d| d.visible),
            "in_flight": d.map(|d| d.in_flight),
            "delayed": d.map(|d| d.delayed),
        })),
    })
}

fn stats_line(s: &Stats) -> String {
    let dlq = match &s.dlq {
        None => "none".to_owned(),
        Some((name, None)) => format!("{name} (missing)"),
        Some((name, Some(d))) => format!("{name} {}", d.visible + d.in_flight + d.delayed),
    };
    format!(
        "visible {}  in flight {}  delayed {}  oldest n/a  dlq {dlq}",
        s.depth.visible, s.depth.in_flight, s.depth.delayed
    )
}

/// `weir stats`.
pub(crate) async fn stats(client: &Client, queue: &str, watch: bool, out: &Out) -> Result<()> {
    let queue = Queue::open(client, queue).await?;
    if !watch {
        let s = read_stats(client, &queue).await?;
        if out.json() {
            out.value(&stats_json(&queue, &s));
        } else {
            out.line(format!("queue      {}", queue.url()));
            out.line(format!("visible    {}", s.depth.visible));
            out.line(format!("in flight  {}", s.depth.in_flight));
            out.line(format!("delayed    {}", s.depth.delayed));
            out.line("oldest     n/a (SQS's API does not expose it; CloudWatch does)");
            match &s.dlq {
                None => out.line("dlq        none (no RedrivePolicy)"),
                Some((name, None)) => out.line(format!("dlq        {name} (missing)")),
                Some((name, Some(d))) => out.line(format!(
                    "dlq        {name}: {} visible, {} in flight, {} delayed",
                    d.visible, d.in_flight, d.delayed
                )),
            }
        }
        return Ok(());
    }
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return Ok(()),
            _ = tick.tick() => {
                let s = read_stats(client, &queue).await?;
                if out.json() {
                    out.value(&stats_json(&queue, &s));
                } else {
                    out.line(stats_line(&s));
                }
            }
        }
    }
}

/// Whether an error says the endpoint has no message move tasks.
fn no_move_tasks(e: &SqsError) -> bool {
    let code = e.code().unwrap_or_default();
    matches!(
        code,
        "UnsupportedOperation"
            | "AWS.SimpleQueueService.UnsupportedOperation"
            | "InvalidAction"
            | "UnknownOperationException"
            | "UnknownOperation"
            | "NotImplemented"
            | "InternalFailure"
    ) || matches!(e, SqsError::Sqs(s) if s.status() == Some(501) || s.status() == Some(404))
}

/// `weir redrive`.
pub(crate) async fn redrive(
    client: &Client,
    dlq: &str,
    to: Option<&str>,
    rate: Option<u32>,
    out: &Out,
) -> Result<()> {
    let dlq = Queue::open(client, dlq).await?;
    let dest = match to {
        Some(t) => Some(Queue::open(client, t).await?),
        None => None,
    };
    let depth = dlq.depth().await?;
    let total = depth.visible + depth.in_flight + depth.delayed;
    let dest_arn = dest.as_ref().and_then(Queue::arn).map(str::to_owned);
    match redrive::start(&dlq, dest_arn.as_deref(), rate).await {
        Ok(handle) => move_task(&dlq, &handle, total, out).await,
        Err(e) if no_move_tasks(&e) => {
            out.warn(format!(
                "the endpoint has no message move tasks ({}); moving messages by hand",
                CliError::from(e)
            ));
            let dest = match dest {
                Some(d) => d,
                None => source_queue(client, &dlq).await?,
            };
            manual_move(&dlq, &dest, rate, total, out).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn move_task(dlq: &Queue, handle: &str, total: u64, out: &Out) -> Result<()> {
    let bar = out.progress(Some(total), "moved");
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let stop = shutdown_signal();
    tokio::pin!(stop);
    let task: MoveTask = loop {
        tokio::select! {
            () = &mut stop => {
                bar.abandon();
                let moved = redrive::cancel(dlq, handle).await?;
                out.warn(format!("move task cancelled after {moved} message(s)"));
                return Err(CliError::Interrupted);
            }
            _ = tick.tick() => {
                let tasks = redrive::list(dlq).await?;
                // Most recent first: ours, which was just started.
                let Some(t) = tasks.into_iter().next() else { continue };
                if let Some(n) = t.to_move {
                    bar.set_length(u64::try_from(n).unwrap_or(0));
                }
                bar.set_position(u64::try_from(t.moved).unwrap_or(0));
                if !matches!(t.status.as_deref(), Some("RUNNING" | "CANCELLING")) {
                    break t;
                }
            }
        }
    };
    bar.finish_and_clear();
    let status = task.status.clone().unwrap_or_default();
    if out.json() {
        out.value(&json!({
            "method": "move-task",
            "status": status,
            "moved": task.moved,
            "failed": Value::Null,
            "failure_reason": task.failure_reason,
        }));
    } else {
        out.line(format!("{status}: moved {} message(s)", task.moved));
    }
    match status.as_str() {
        "COMPLETED" => Ok(()),
        _ => Err(CliError::Other(format!(
            "move task {status}: {}",
            task.failure_reason.as_deref().unwrap_or("no reason given")
        ))),
    }
}

/// The only source queue of a DLQ (`ListDeadLetterSourceQueues`).
async fn source_queue(client: &Client, dlq: &Queue) -> Result<Queue> {
    let out = client
        .list_dead_letter_source_queues()
        .queue_url(dlq.url())
        .send()
        .await
        .map_err(sdk("ListDeadLetterSourceQueues"))?;
    match out.queue_urls() {
        [one] => Ok(Queue::from_url(client, one).await?),
        [] => Err(CliError::Usage(format!(
            "{} is no queue's dead-letter queue: give --to",
            dlq.name()
        ))),
        many => Err(CliError::Usage(format!(
            "{} is the dead-letter queue of {} queues: give --to",
            dlq.name(),
            many.len()
        ))),
    }
}

async fn manual_move(
    dlq: &Queue,
    dest: &Queue,
    rate: Option<u32>,
    total: u64,
    out: &Out,
) -> Result<()> {
    const CHUNK: u64 = 100;
    let bar = out.progress(Some(total), "moved");
    let (mut moved, mut failed) = (0u64, 0u64);
    let options = ManualMove {
        max_per_second: rate,
        limit: Some(CHUNK),
        ..ManualMove::default()
    };
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let report = tokio::select! {
            () = &mut stop => {
                bar.abandon();
                out.warn(format!("stopped after moving {moved} message(s)"));
                return Err(CliError::Interrupted);
            }
            r = redrive::manual(dlq, dest, &options) => r?,
        };
        moved += report.moved;
        failed += report.failed;
        bar.set_position(moved + failed);
        if report.moved + report.failed < CHUNK {
            break;
        }
    }
    bar.finish_and_clear();
    if out.json() {
        out.value(
            &json!({ "method": "manual", "status": "COMPLETED", "moved": moved, "failed": failed }),
        );
    } else {
        out.line(format!(
            "moved {moved} message(s) to {} by hand, {failed} failed",
            dest.name()
        ));
    }
    if failed > 0 {
        return Err(CliError::Other(format!(
            "{failed} message(s) could not be moved"
        )));
    }
    Ok(())
}

/// `weir purge`.
pub(crate) async fn purge(client: &Client, queue: &str, yes: bool, out: &Out) -> Result<()> {
    let q = Queue::open(client, queue).await?;
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Refused(format!(
                "refusing to purge {} without --yes (no terminal to ask on)",
                q.name()
            )));
        }
        eprint!("Delete every message in {}? [y/N] ", q.url());
        let answer = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|_| line)
        })
        .await
        .map_err(CliError::other)??;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            return Err(CliError::Refused(format!("{} not purged", q.name())));
        }
    }
    q.purge().await?;
    if out.json() {
        out.value(&json!({ "purged": q.url() }));
    } else {
        out.line(format!("purged {}", q.url()));
    }
    Ok(())
}

/// `weir serve`.
pub(crate) async fn serve(
    sqs: weir::local::LocalSqs,
    host: &str,
    port: u16,
    json: bool,
) -> Result<()> {
    let addr: SocketAddr = (host, port)
        .to_socket_addrs()
        .map_err(|e| CliError::Usage(format!("--host {host}: {e}")))?
        .next()
        .ok_or_else(|| CliError::Usage(format!("--host {host}: no address")))?;
    let server = sqs
        .serve(addr)
        .await
        .map_err(|e| CliError::Other(format!("cannot listen on {addr}: {e}")))?;
    let out = Out::new(json);
    if json {
        out.value(&json!({
            "endpoint_url": server.endpoint_url(),
            "account_id": sqs.account_id(),
            "region": sqs.region(),
        }));
    } else {
        out.line(server.endpoint_url());
        eprintln!(
            "weir: serving an in-process SQS on {} (account {}, region {}; Ctrl-C or SIGTERM stops it)\n\
             weir: try: weir --endpoint-url {} create orders",
            server.endpoint_url(),
            sqs.account_id(),
            sqs.region(),
            server.endpoint_url()
        );
    }
    shutdown_signal().await;
    eprintln!("weir: stopping");
    server.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir::sqs::error::{SqsError as SqsCallError, SqsErrorKind};

    fn sqs_error(code: &str, status: u16) -> SqsError {
        SqsError::Sqs(SqsCallError::new(
            "StartMessageMoveTask",
            SqsErrorKind::Service,
            Some(code.to_owned()),
            None,
            Some(status),
        ))
    }

    #[test]
    fn only_unsupported_operations_fall_back_to_a_manual_move() {
        assert!(no_move_tasks(&sqs_error("UnsupportedOperation", 400)));
        assert!(no_move_tasks(&sqs_error("Whatever", 501)));
        assert!(!no_move_tasks(&sqs_error("InvalidParameterValue", 400)));
        assert!(!no_move_tasks(&sqs_error("AccessDenied", 403)));
    }

    #[tokio::test]
    async fn the_manual_move_empties_the_dlq_into_the_destination() {
        let sqs = weir::local::LocalSqs::new();
        let client = sqs.client();
        let t = QueueSpec::standard("src")
            .dead_letter(3)
            .ensure(&client)
            .await
            .unwrap();
        let dlq = t.dlq.unwrap();
        let producer: Producer<String, RawString> = Producer::builder(dlq.clone())
            .codec(RawString)
            .build()
            .unwrap();
        let bodies: Vec<String> = (0..250).map(|i| format!("m{i}")).collect();
        assert!(producer.send_batch(&bodies).await.iter().all(Result::is_ok));

        // Without --to, the DLQ's only source queue is the destination.
        let dest = source_queue(&client, &dlq).await.unwrap();
        assert_eq!(dest.name(), "src");
        manual_move(&dlq, &dest, None, 250, &Out::new(true))
            .await
            .unwrap();
        assert_eq!(dlq.depth().await.unwrap().visible, 0);
        assert_eq!(dest.depth().await.unwrap().visible, 250);
    }

    #[tokio::test]
    async fn a_queue_that_is_nobodys_dlq_needs_to() {
        let sqs = weir::local::LocalSqs::new();
        let client = sqs.client();
        let q = QueueSpec::standard("lonely")
            .ensure(&client)
            .await
            .unwrap()
            .queue;
        let err = source_queue(&client, &q).await.unwrap_err();
        assert_eq!(err.exit_code(), crate::error::EXIT_USAGE);
        assert!(err.to_string().contains("--to"), "{err}");
    }
}
