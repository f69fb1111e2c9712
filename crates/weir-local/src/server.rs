//! The engine over HTTP/1.1, for the AWS CLI, boto3 or any SDK in another process.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::engine::{Engine, EngineResponse};
use crate::error::{ErrorKind, SqsError};
use crate::gateway;

/// Largest request body the server reads (a full 10-entry batch fits with room to spare).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Largest S3 request body: a single PUT's 5 GiB (S3's own limit, checked again once
/// decoded) plus room for aws-chunked framing. Objects live in memory, so in practice
/// the machine's memory is the limit.
fn max_s3_body() -> usize {
    usize::try_from(crate::s3::MAX_PUT_BODY + 64 * 1024 * 1024).unwrap_or(usize::MAX)
}

/// A running server started by [`LocalSqs::serve`](crate::LocalSqs::serve).
///
/// Dropping the handle leaves the server running until the runtime shuts down; call
/// [`shutdown`](Self::shutdown) to stop it gracefully.
#[derive(Debug)]
pub struct ServeHandle {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ServeHandle {
    /// The address the server listens on (with the real port when you bound port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The endpoint URL to give an SDK or the AWS CLI, e.g. `http://127.0.0.1:4567`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for
    /// every connection to close.
    pub async fn shutdown(self) {
        // An Err means the accept loop is already gone, which is what we want.
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

async fn answer(
    engine: Arc<Engine>,
    base_url: Arc<str>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    // URLs in answers point where the client reached us (the Host header), else the
    // bound address.
    let base_url: Arc<str> = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .map_or(base_url, |h| Arc::from(format!("http://{h}")));
    let (parts, body) = req.into_parts();
    let s3 = gateway::scope(
        parts
            .headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    )
    .is_some_and(|s| s.service == "s3");
    let limit = if s3 { max_s3_body() } else { MAX_BODY };
    let resp = match Limited::new(body, limit).collect().await {
        Ok(body) => {
            let body = body.to_bytes();
            let uri = parts.uri.to_string();
            let (path, query) = gateway::Incoming::split_uri(&uri);
            let incoming = gateway::Incoming {
                method: parts.method.as_str(),
                path,
                query,
                headers: parts
                    .headers
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
                    .collect(),
                body: &body,
                base_url: &base_url,
            };
            gateway::route(&engine, &incoming).await
        }
        Err(e) => EngineResponse::error(&SqsError::new(
            ErrorKind::Serialization,
            format!("could not read the request body (limit {limit} bytes): {e}"),
        )),
    };
    let (status, headers, body) = resp.into_wire();
    let mut out = Response::new(Full::new(body));
    *out.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in headers {
        let name = hyper::header::HeaderName::from_bytes(k.as_bytes());
        if let (Ok(k), Ok(v)) = (name, hyper::header::HeaderValue::from_str(&v)) {
            out.headers_mut().insert(k, v);
        }
    }
    out
}

pub(crate) async fn serve(engine: Arc<Engine>, addr: SocketAddr) -> io::Result<ServeHandle> {
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let base_url: Arc<str> = Arc::from(format!("http://{local_addr}"));
    let (tx, mut rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            tokio::select! {
                changed = rx.changed() => {
                    if changed.is_err() || *rx.borrow() {
                        break;
                    }
                }
                accepted = listener.accept() => {
                    let Ok((stream, _peer)) = accepted else { continue };
                    let engine = engine.clone();
                    let base_url = base_url.clone();
                    let mut stop = rx.clone();
                    conns.spawn(async move {
                        let svc = service_fn(move |req| {
                            let engine = engine.clone();
                            let base_url = base_url.clone();
                            async move { Ok::<_, Infallible>(answer(engine, base_url, req).await) }
                        });
                        let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
                        tokio::pin!(conn);
                        tokio::select! {
                            res = conn.as_mut() => {
                                if let Err(e) = res {
                                    tracing::debug!(error = %e, "weir-local connection ended with an error");
                                }
                            }
                            () = async { let _ = stop.wait_for(|s| *s).await; } => {
                                conn.as_mut().graceful_shutdown();
                                let _ = conn.await;
                            }
                        }
                    });
                }
            }
            while conns.try_join_next().is_some() {}
        }
        while conns.join_next().await.is_some() {}
    });
    Ok(ServeHandle {
        local_addr,
        shutdown: tx,
        task,
    })
}
