//! The in-process HTTP connector the SDK sends its requests through.

use std::sync::Arc;

use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use http_body_util::BodyExt;

use crate::engine::{Engine, EngineResponse};
use crate::fault::FaultAction;
use crate::gateway::{self, Incoming, Service};
use crate::latency::Latency;

/// An [`HttpClient`] and [`HttpConnector`] that answers SQS requests from memory.
///
/// [`LocalSqs::client`](crate::LocalSqs::client) installs it; use
/// [`LocalSqs::http_client`](crate::LocalSqs::http_client) to wrap it (for example in a
/// fault-injecting connector) before handing it to an SDK config.
#[derive(Debug, Clone)]
pub struct LocalConnector {
    pub(crate) engine: Arc<Engine>,
    pub(crate) latency: Option<Latency>,
}

pub(crate) fn to_http_response(resp: EngineResponse) -> Result<HttpResponse, ConnectorError> {
    let (status, headers, body) = resp.into_wire();
    let status = StatusCode::try_from(status).map_err(|e| ConnectorError::other(e.into(), None))?;
    let mut out = HttpResponse::new(status, SdkBody::from(body));
    for (k, v) in headers {
        out.headers_mut().insert(k, v);
    }
    Ok(out)
}

impl HttpConnector for LocalConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let engine = self.engine.clone();
        let latency = self.latency.map(|l| l.draw());
        HttpConnectorFuture::new(async move {
            if let Some((there, _)) = latency {
                tokio::time::sleep(there).await;
            }
            // The request lives in this future: target, sender and body are borrowed
            // from it rather than copied.
            let mut request = request;
            let mut body = request.take_body();
            if body.bytes().is_none() {
                let streamed = std::mem::replace(&mut body, SdkBody::empty())
                    .collect()
                    .await
                    .map_err(ConnectorError::io)?
                    .to_bytes();
                body = SdkBody::from(streamed);
            }
            let body = body.bytes().unwrap_or_default();
            let (path, query) = Incoming::split_uri(request.uri());
            let incoming = Incoming {
                method: request.method(),
                path,
                query,
                headers: request.headers().iter().collect(),
                body,
                base_url: &engine.base_url,
            };
            // Faults name operations: SQS's by their target, SNS's by their Action, S3's
            // by what method, path and query make them (PutObject, UploadPart).
            let service = incoming.service();
            let op = match service {
                Service::Sns => crate::query::action(&incoming).unwrap_or_default(),
                Service::S3 => crate::s3::operation(&incoming),
                Service::Sqs | Service::Other => {
                    let target = incoming.header("x-amz-target").unwrap_or_default();
                    target.strip_prefix("AmazonSQS.").unwrap_or(target)
                }
            };
            let fault = engine.faults.pick(op);
            match &fault {
                Some(FaultAction::Error {
                    status,
                    code,
                    message,
                }) => {
                    let head = incoming.method.eq_ignore_ascii_case("HEAD");
                    return to_http_response(match service {
                        Service::Sns => crate::sns::injected(*status, code, message),
                        Service::S3 => crate::s3::injected(*status, code, message, head),
                        Service::Sqs | Service::Other => {
                            EngineResponse::injected(*status, code, message)
                        }
                    });
                }
                Some(FaultAction::DropConnection) => {
                    return Err(ConnectorError::io(
                        "weir-local: injected dropped connection".into(),
                    ));
                }
                Some(FaultAction::Latency(d)) => tokio::time::sleep(*d).await,
                Some(FaultAction::LoseResponse) | None => {}
            }
            let resp = gateway::route(&engine, &incoming).await;
            if fault == Some(FaultAction::LoseResponse) {
                return Err(ConnectorError::timeout(
                    "weir-local: injected lost response".into(),
                ));
            }
            if let Some((_, back)) = latency {
                tokio::time::sleep(back).await;
            }
            to_http_response(resp)
        })
    }
}

impl HttpClient for LocalConnector {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("weir-local", None))
    }
}
