//! One entry for every request, from the in-process connector and from `weir serve`:
//! tells the services apart (as LocalStack's gateway does) and hands the request to the
//! one it is for.
//!
//! A request is for SQS when it carries `X-Amz-Target: AmazonSQS.<Operation>`;
//! otherwise the service named in its SigV4 credential scope
//! (`Credential=<key>/<date>/<region>/<service>/aws4_request`) decides: `sns` requests
//! (the query protocol, `Action=Publish&...`) go to the in-process SNS, and `s3`
//! requests (REST-XML, path-style `/{bucket}/{key}`) to the in-process S3. An unsigned
//! request is for SNS when its `Action` is one only SNS has.

use crate::engine::{Ctx, Engine, EngineResponse};
use crate::error::{ErrorKind, SqsError};
use crate::{query, request_log};

/// The AWS services a request can be for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Sqs,
    Sns,
    S3,
    Other,
}

/// The parts of a SigV4 credential scope weir-local reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scope<'a> {
    pub(crate) access_key: &'a str,
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
}

/// Reads `Credential=<key>/<date>/<region>/<service>/aws4_request` out of a SigV4
/// `Authorization` header.
pub(crate) fn scope(authorization: Option<&str>) -> Option<Scope<'_>> {
    let auth = authorization?;
    // The SDKs put Credential first; skip the substring search then.
    let cred = match auth.strip_prefix("AWS4-HMAC-SHA256 Credential=") {
        Some(cred) => cred,
        None => auth.split("Credential=").nth(1)?,
    };
    let cred = cred.split([',', ' ']).next().unwrap_or(cred);
    let mut parts = cred.split('/');
    let access_key = parts.next().filter(|s| !s.is_empty())?;
    let _date = parts.next();
    let region = parts.next().unwrap_or_default();
    let service = parts.next().unwrap_or_default();
    Some(Scope {
        access_key,
        region,
        service,
    })
}

/// One HTTP request, borrowed from whichever side received it.
#[derive(Debug)]
pub(crate) struct Incoming<'a> {
    /// `GET`, `PUT`, `POST`, ...
    pub(crate) method: &'a str,
    /// The path, without the query.
    pub(crate) path: &'a str,
    /// The query string, without the `?` (empty when there is none).
    pub(crate) query: &'a str,
    /// Every header, names as sent.
    pub(crate) headers: Vec<(&'a str, &'a str)>,
    pub(crate) body: &'a [u8],
    /// Where URLs in answers point: the in-process endpoint, or the host a client of
    /// `weir serve` reached.
    pub(crate) base_url: &'a str,
}

impl<'a> Incoming<'a> {
    /// Splits a URI or a path-and-query into its path and query.
    pub(crate) fn split_uri(uri: &'a str) -> (&'a str, &'a str) {
        let without_scheme = uri
            .split_once("://")
            .map_or(uri, |(_, rest)| rest.find('/').map_or("/", |i| &rest[i..]));
        without_scheme
            .split_once('?')
            .unwrap_or((without_scheme, ""))
    }

    /// The value of a header, matched case-insensitively.
    pub(crate) fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The SigV4 credential scope, when the request is signed.
    pub(crate) fn scope(&self) -> Option<Scope<'a>> {
        scope(self.header("authorization"))
    }

    /// Which service the request is for.
    pub(crate) fn service(&self) -> Service {
        if self
            .header("x-amz-target")
            .is_some_and(|t| t.starts_with("AmazonSQS."))
        {
            return Service::Sqs;
        }
        match self.scope().map(|s| s.service) {
            // An unsigned request (an UnsubscribeURL opened in a browser) is for SNS
            // when it names an action only SNS has.
            None if query::action(self).is_some_and(|a| {
                crate::sns::OPERATIONS.contains(&a) && !crate::OPERATIONS.contains(&a)
            }) =>
            {
                Service::Sns
            }
            Some("sqs") | None => Service::Sqs,
            Some("sns") => Service::Sns,
            Some("s3") => Service::S3,
            Some(_) => Service::Other,
        }
    }
}

/// Answers one request, whichever service it is for.
pub(crate) async fn route(engine: &Engine, req: &Incoming<'_>) -> EngineResponse {
    let started = request_log::start();
    let resp = answer(engine, req).await;
    if let Some(started) = started {
        request_log::record(req, &resp, started);
    }
    resp
}

async fn answer(engine: &Engine, req: &Incoming<'_>) -> EngineResponse {
    match req.service() {
        Service::Sqs => sqs(engine, req).await,
        Service::Sns => crate::sns::handle(engine, req),
        Service::S3 => crate::s3::handle(engine, req),
        Service::Other => EngineResponse::error(&SqsError::new(
            ErrorKind::UnknownOperation,
            format!(
                "weir-local does not answer this service ({:?}); it answers SQS, SNS and S3.",
                req.scope().map(|s| s.service).unwrap_or_default()
            ),
        )),
    }
}

async fn sqs(engine: &Engine, req: &Incoming<'_>) -> EngineResponse {
    let Some(target) = req.header("x-amz-target") else {
        if let Some(action) = query::action(req) {
            return query::refusal(action, &crate::checksum::fast_uuid_string());
        }
        return EngineResponse::error(&SqsError::new(
            ErrorKind::UnknownOperation,
            "weir-local speaks the SQS JSON protocol only: send X-Amz-Target: AmazonSQS.<Operation> with a JSON body.",
        ));
    };
    let scope = req.scope();
    let sender = scope.map_or(engine.account.as_str(), |s| s.access_key);
    // As LocalStack does: a 12-digit access key id is the account the request acts in;
    // any other key acts in the engine's account.
    let account = scope
        .map(|s| s.access_key)
        .filter(|k| k.len() == 12 && k.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or(&engine.account);
    let region = scope
        .map(|s| s.region)
        .filter(|r| !r.is_empty())
        .unwrap_or(&engine.region);
    let ctx = Ctx {
        base_url: req.base_url,
        sender_id: sender,
        account,
        region,
        trace_header: req.header("x-amzn-trace-id"),
    };
    engine.handle(target, req.body, &ctx).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_read_from_sigv4_header() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=abc";
        let s = scope(Some(h)).unwrap();
        assert_eq!(
            (s.access_key, s.region, s.service),
            ("AKIDEXAMPLE", "us-east-1", "sqs")
        );
        let reordered = "AWS4-HMAC-SHA256 SignedHeaders=host, Credential=AKID2/20260101/eu-west-1/sns/aws4_request, Signature=abc";
        let s = scope(Some(reordered)).unwrap();
        assert_eq!(
            (s.access_key, s.region, s.service),
            ("AKID2", "eu-west-1", "sns")
        );
        assert_eq!(scope(Some("garbage")), None);
        assert_eq!(scope(None), None);
    }

    #[test]
    fn uris_split_into_path_and_query() {
        assert_eq!(
            Incoming::split_uri("http://s3.localhost/bucket/key?uploads"),
            ("/bucket/key", "uploads")
        );
        assert_eq!(Incoming::split_uri("/q?x=1"), ("/q", "x=1"));
        assert_eq!(Incoming::split_uri("http://sqs.localhost"), ("/", ""));
        assert_eq!(Incoming::split_uri("/"), ("/", ""));
    }

    #[test]
    fn services_are_told_apart() {
        let sign = |svc: &str| {
            format!("AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/{svc}/aws4_request")
        };
        let req = |headers: Vec<(&'static str, String)>| {
            let headers: &'static [(&'static str, String)] = Box::leak(headers.into_boxed_slice());
            Incoming {
                method: "POST",
                path: "/",
                query: "",
                headers: headers.iter().map(|(k, v)| (*k, v.as_str())).collect(),
                body: b"",
                base_url: "http://localhost",
            }
        };
        assert_eq!(
            req(vec![("X-Amz-Target", "AmazonSQS.ListQueues".into())]).service(),
            Service::Sqs
        );
        assert_eq!(
            req(vec![("authorization", sign("sns"))]).service(),
            Service::Sns
        );
        assert_eq!(
            req(vec![("authorization", sign("s3"))]).service(),
            Service::S3
        );
        assert_eq!(
            req(vec![("authorization", sign("sqs"))]).service(),
            Service::Sqs
        );
        assert_eq!(
            req(vec![("authorization", sign("kms"))]).service(),
            Service::Other
        );
        assert_eq!(req(vec![]).service(), Service::Sqs);
        let unsigned = |query: &'static str| Incoming {
            method: "GET",
            path: "/",
            query,
            headers: Vec::new(),
            body: b"",
            base_url: "http://localhost",
        };
        assert_eq!(
            unsigned("Action=Unsubscribe&SubscriptionArn=x").service(),
            Service::Sns
        );
        assert_eq!(unsigned("Action=SendMessage").service(), Service::Sqs);
        // AddPermission is both SQS's and SNS's: unsigned, it stays SQS's.
        assert_eq!(unsigned("Action=AddPermission").service(), Service::Sqs);
    }
}
