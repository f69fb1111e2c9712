//! The public surface: builder validation, the Handler trait, the Router.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::types::MessageAttributeValue;
use serde::Deserialize;
use weir_sqs::{Queue, QueueAttributes};
use weir_worker::{
    AckBatching, Handler, HandlerError, Lease, Message, RetryPolicy, Router, Worker, async_trait,
    dlq_attributes, handler_fn, handler_service,
};

use crate::support::{Count, assert_accounted, attrs_of, env, run_until};

fn noop() -> weir_worker::HandlerFn<
    impl FnMut(Message<u32>) -> std::future::Ready<Result<(), HandlerError>> + Clone,
> {
    handler_fn(|_m: Message<u32>| std::future::ready(Ok(())))
}

#[tokio::test]
async fn build_refuses_bad_settings_naming_the_limit() {
    let client = weir_local::LocalSqs::new().client();
    let q = Queue::with_attributes(client, "http://sqs.invalid/1/q", QueueAttributes::default());
    let err = |r: Result<Worker<u32>, weir_worker::BuildError>| r.unwrap_err();
    let b = || Worker::builder(q.clone()).handler(noop());
    let e = err(b().concurrency(0).build());
    assert_eq!(e.setting(), "concurrency");
    assert!(e.to_string().contains("10000"), "{e}");
    assert_eq!(
        err(b().concurrency(5).pollers(6).build()).setting(),
        "pollers"
    );
    let e = err(b().wait_time(Duration::from_secs(21)).build());
    assert!(e.to_string().contains("20 s"), "{e}");
    let e = err(b().visibility_timeout(Duration::from_secs(43_201)).build());
    assert!(e.to_string().contains("43 200"), "{e}");
    assert_eq!(err(b().max_attempts(0).build()).setting(), "max_attempts");
    let e = err(b().ack_batching(AckBatching::new().max_batch(11)).build());
    assert!(e.to_string().contains("1 to 10"), "{e}");
    let e = err(b()
        .visibility_timeout(Duration::from_secs(30))
        .lease(Lease::new().threshold(Duration::from_secs(30)))
        .build());
    assert_eq!(e.setting(), "lease");
    assert_eq!(
        err(b()
            .lease(Lease::new().max_total(Duration::from_secs(50_000)))
            .build())
        .setting(),
        "lease"
    );
    let e = err(b()
        .retry_policy(RetryPolicy::fixed(Duration::from_secs(50_000)))
        .build());
    assert!(e.to_string().contains("12 h"), "{e}");
    assert_eq!(
        err(b().poll_backoff_max(Duration::ZERO).build()).setting(),
        "poll_backoff_max"
    );
    assert!(b().build().is_ok());
}

#[tokio::test]
async fn a_fifo_queue_needs_a_fifo_dlq() {
    let env = env();
    let q = env.fifo("needs.fifo").await;
    let e = Worker::builder(q)
        .handler(noop())
        .dead_letter(weir_worker::DeadLetter::new("http://x/1/plain"))
        .build()
        .unwrap_err();
    assert_eq!(e.setting(), "dead_letter");
    assert!(e.to_string().contains("FIFO"));
}

struct Totals {
    sum: Arc<Mutex<u32>>,
}

#[async_trait]
impl Handler<u32> for Totals {
    async fn handle(&self, msg: Message<u32>) -> Result<(), HandlerError> {
        *self.sum.lock().unwrap() += msg
            .body()
            .map_err(|e| HandlerError::reject(e.to_string()))?;
        Ok(())
    }
}

worker_test! {
async fn a_struct_handler_runs(env) {
    let q = env.queue("trait", &[]).await;
    env.send(&q, (1..=10).map(|i| i.to_string())).await;
    let sum = Arc::new(Mutex::new(0));
    let worker = Worker::builder(q.clone())
        .handler(handler_service(Totals { sum: sum.clone() }))
        .build()
        .unwrap();
    let s = sum.clone();
    let report = run_until(worker, Duration::from_secs(30), move || {
        *s.lock().unwrap() == 55
    })
    .await;
    assert_eq!(report.acked, 10);
}
}

#[derive(Deserialize)]
struct Placed {
    id: u64,
}
#[derive(Deserialize)]
struct Cancelled {
    id: u64,
}

worker_test! {
async fn the_router_dispatches_by_type_tag(env) {
    let (q, dlq) = env.with_dlq("router").await;
    let send = |tag: &'static str, body: &'static str| {
        let client = env.client.clone();
        let url = q.url().to_owned();
        async move {
            client
                .send_message()
                .queue_url(url)
                .message_body(body)
                .message_attributes(
                    "weir.type",
                    MessageAttributeValue::builder()
                        .data_type("String")
                        .string_value(tag)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
    };
    send("Placed", r#"{"id":1}"#).await;
    send("Cancelled", r#"{"id":2}"#).await;
    send("Refunded", r#"{"id":3}"#).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (s1, s2) = (seen.clone(), seen.clone());
    let calls = Count::default();
    let router = Router::new()
        .route(
            "Placed",
            handler_fn(move |m: Message<Placed>| {
                let s = s1.clone();
                async move {
                    s.lock().unwrap().push(("placed", m.body().unwrap().id));
                    Ok::<_, HandlerError>(())
                }
            }),
        )
        .route(
            "Cancelled",
            handler_fn(move |m: Message<Cancelled>| {
                let s = s2.clone();
                async move {
                    s.lock().unwrap().push(("cancelled", m.body().unwrap().id));
                    Ok::<_, HandlerError>(())
                }
            }),
        );
    let c = calls.clone();
    let worker = Worker::builder(q.clone())
        .handler(
            tower::ServiceBuilder::new()
                .map_request(move |m: Message<serde_json::Value>| {
                    c.inc();
                    m
                })
                .service(router),
        )
        .dead_letter(&dlq)
        .build()
        .unwrap();
    let report = run_until(worker, Duration::from_secs(30), || calls.get() == 3).await;
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_unstable();
    assert_eq!(seen, vec![("cancelled", 2), ("placed", 1)]);
    assert_eq!(report.dead_lettered, 1);
    assert_accounted(&report);
    let dead = env.drain(dlq.url()).await;
    assert_eq!(dead.len(), 1);
    assert!(attrs_of(&dead[0])[dlq_attributes::ERROR].contains("Refunded"));
}
}

worker_test! {
async fn the_router_fallback_takes_untagged_messages(env) {
    let q = env.queue("router-fallback", &[]).await;
    env.send(&q, [r#"{"any":"thing"}"#.to_owned()]).await;
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    let router = Router::new()
        .route(
            "Placed",
            handler_fn(|_m: Message<Placed>| async { Ok::<_, HandlerError>(()) }),
        )
        .fallback(handler_fn(move |m: Message<serde_json::Value>| {
            let g = g.clone();
            async move {
                g.lock().unwrap().push(m.body().unwrap()["any"].clone());
                Ok::<_, HandlerError>(())
            }
        }));
    let worker = Worker::builder(q.clone()).handler(router).build().unwrap();
    let g = got.clone();
    let report = run_until(worker, Duration::from_secs(30), move || {
        g.lock().unwrap().len() == 1
    })
    .await;
    assert_eq!(got.lock().unwrap()[0], "thing");
    assert_eq!(report.acked, 1);
}
}

/// What a handler sees of each message's system attributes, by setting.
#[derive(Debug, Default, Clone, PartialEq)]
struct Seen {
    receive_count: u32,
    sent: bool,
    first_received: bool,
    group: Option<String>,
    sequence: bool,
}

async fn seen_by_worker(
    base: &crate::support::Env,
    fifo: bool,
    names: Option<Vec<aws_sdk_sqs::types::MessageSystemAttributeName>>,
) -> Seen {
    let env = base.fresh();
    let q = if fifo {
        env.fifo("attrs.fifo").await
    } else {
        env.queue("attrs", &[]).await
    };
    let group = fifo.then(|| "g".to_owned());
    env.send_grouped(&q, [("7".to_owned(), group)]).await;
    let seen = Arc::new(Mutex::new(None::<Seen>));
    let s = seen.clone();
    // The first delivery is retried, so that the second shows a receive count of 2
    // (the count reads 1 when SQS did not send it).
    let mut builder = Worker::builder(q).handler(handler_fn(move |m: Message<u32>| {
        if m.receive_count() < 2 && s.lock().unwrap().is_none() {
            *s.lock().unwrap() = Some(Seen::default());
            return std::future::ready(Err(HandlerError::retry_after(
                Duration::from_secs(1),
                "once more",
            )));
        }
        *s.lock().unwrap() = Some(Seen {
            receive_count: m.receive_count(),
            sent: m.sent_at().is_some(),
            first_received: m.first_received_at().is_some(),
            group: m.group_id().map(str::to_owned),
            sequence: m.sequence_number().is_some(),
        });
        std::future::ready(Ok::<_, HandlerError>(()))
    }));
    if let Some(names) = names {
        builder = builder.system_attributes(names);
    }
    let worker = builder.build().unwrap();
    let s = seen.clone();
    run_until(worker, Duration::from_secs(30), move || {
        s.lock()
            .unwrap()
            .as_ref()
            .is_some_and(|s| s.receive_count > 0)
    })
    .await;
    seen.lock().unwrap().clone().unwrap()
}

worker_test! {
async fn the_worker_receives_the_system_attributes_it_needs_and_those_asked_for(env) {
    use aws_sdk_sqs::types::MessageSystemAttributeName as Sys;
    // Default, standard queue: the receive count, not the times.
    let default = seen_by_worker(&env, false, None).await;
    assert_eq!(
        default,
        Seen {
            receive_count: 2,
            ..Seen::default()
        }
    );
    // Asking for one attribute still gets the receive count the worker needs.
    let one = seen_by_worker(&env, false, Some(vec![Sys::ApproximateFirstReceiveTimestamp])).await;
    assert_eq!(
        one,
        Seen {
            receive_count: 2,
            first_received: true,
            ..Seen::default()
        }
    );
    let all = seen_by_worker(&env, false, Some(vec![Sys::All])).await;
    assert!(all.sent && all.first_received, "{all:?}");
    // FIFO: the group (needed for ordering) and the sequence number by default; the
    // group even when not asked for.
    let fifo = seen_by_worker(&env, true, None).await;
    assert_eq!(fifo.group.as_deref(), Some("g"));
    assert!(fifo.sequence && !fifo.sent, "{fifo:?}");
    let fifo_none = seen_by_worker(&env, true, Some(vec![])).await;
    assert_eq!(
        fifo_none,
        Seen {
            receive_count: 2,
            group: Some("g".to_owned()),
            ..Seen::default()
        }
    );
}
}
