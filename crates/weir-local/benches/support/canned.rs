//! A connector that replays, per operation, the first response LocalSqs gave: the SDK's
//! cost with no engine behind it (its signing, serialization, retries and response
//! parsing all still run; aws-sdk-sqs 1.119 validates no MD5 digests). Shared by the `roundtrip` bench and the
//! `prof` bench.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

type Recorded = (u16, Vec<(String, String)>, bytes::Bytes);

/// Replays the first response of each `X-Amz-Target`.
#[derive(Debug, Clone)]
pub(crate) struct Canned {
    inner: weir_local::LocalConnector,
    cache: Arc<Mutex<HashMap<String, Recorded>>>,
}

impl Canned {
    /// Records from (and first forwards to) `sqs`.
    pub(crate) fn new(sqs: &weir_local::LocalSqs) -> Self {
        Self {
            inner: sqs.http_client(),
            cache: Arc::default(),
        }
    }
}

fn replay(c: &Recorded) -> Result<HttpResponse, ConnectorError> {
    let status =
        c.0.try_into()
            .map_err(|e| ConnectorError::other(Box::new(e), None))?;
    let mut r = HttpResponse::new(status, SdkBody::from(c.2.clone()));
    for (k, v) in &c.1 {
        r.headers_mut().insert(k.clone(), v.clone());
    }
    Ok(r)
}

impl HttpConnector for Canned {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let target = request
            .headers()
            .get("x-amz-target")
            .unwrap_or_default()
            .to_owned();
        if let Some(c) = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&target)
        {
            return HttpConnectorFuture::ready(replay(c));
        }
        let this = self.clone();
        HttpConnectorFuture::new(async move {
            let resp = this.inner.call(request).await?;
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            let body = bytes::Bytes::copy_from_slice(resp.body().bytes().unwrap_or_default());
            let c = (resp.status().as_u16(), headers, body);
            let out = replay(&c);
            this.cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(target, c);
            out
        })
    }
}

impl HttpClient for Canned {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}
