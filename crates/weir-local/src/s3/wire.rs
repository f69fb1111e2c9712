//! S3's REST-XML wire: the bucket, key and query of a path-style request, and the XML
//! of answers and errors as aws-sdk-s3 parses them (`protocol_serde::shape_*`).
//!
//! Errors are `<Error><Code>..</Code><Message>..</Message>..<RequestId>..</RequestId></Error>`
//! with the status S3 gives the code
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList>);
//! an error to a HEAD request has no body, and the SDK maps its 404 to `NotFound`.

use std::borrow::Cow;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use bytes::Bytes;

use crate::engine::EngineResponse;
use crate::gateway::Incoming;

/// An S3 error: status, code, message and the extra elements S3 adds (`Key`,
/// `BucketName`, `UploadId`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Error {
    pub(crate) status: u16,
    pub(crate) code: Cow<'static, str>,
    pub(crate) message: String,
    extra: Vec<(&'static str, String)>,
}

pub(crate) type S3Result<T> = Result<T, S3Error>;

impl S3Error {
    pub(crate) fn new(
        status: u16,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            extra: Vec::new(),
        }
    }

    /// Adds an element after `Message` (`<Key>`, `<BucketName>`, ...).
    pub(crate) fn with(mut self, tag: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((tag, value.into()));
        self
    }

    pub(crate) fn no_such_bucket(bucket: &str) -> Self {
        Self::new(404, "NoSuchBucket", "The specified bucket does not exist")
            .with("BucketName", bucket)
    }

    pub(crate) fn no_such_key(key: &str) -> Self {
        Self::new(404, "NoSuchKey", "The specified key does not exist.").with("Key", key)
    }

    pub(crate) fn no_such_upload(upload_id: &str) -> Self {
        Self::new(
            404,
            "NoSuchUpload",
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        )
        .with("UploadId", upload_id)
    }

    pub(crate) fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> Self {
        Self::new(400, "InvalidArgument", message)
            .with("ArgumentName", name)
            .with("ArgumentValue", value)
    }

    pub(crate) fn malformed_xml() -> Self {
        Self::new(
            400,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
        )
    }

    /// The error as S3 answers it; `head` drops the body, as S3 does for HEAD.
    pub(crate) fn into_response(self, head: bool) -> EngineResponse {
        let request_id = crate::checksum::fast_uuid_string();
        let headers = base_headers(&request_id, "application/xml");
        if head {
            return EngineResponse::new(self.status, headers, Bytes::new());
        }
        let mut xml = format!(
            "{PROLOG}<Error><Code>{}</Code><Message>{}</Message>",
            escape(&self.code),
            escape(&self.message)
        );
        for (tag, value) in &self.extra {
            xml.push_str(&format!("<{tag}>{}</{tag}>", escape(value)));
        }
        xml.push_str(&format!("<RequestId>{request_id}</RequestId></Error>"));
        EngineResponse::new(self.status, headers, xml.into_bytes())
    }
}

/// The XML declaration S3 starts its documents with.
pub(crate) const PROLOG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// The headers of every answer: content type and S3's two request ids.
pub(crate) fn base_headers(request_id: &str, content_type: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", content_type.to_owned()),
        ("x-amz-request-id", request_id.to_owned()),
        ("x-amz-id-2", request_id.to_owned()),
    ]
}

/// A 200 with an XML document.
pub(crate) fn xml(body: &str) -> EngineResponse {
    let request_id = crate::checksum::fast_uuid_string();
    let mut doc = String::with_capacity(PROLOG.len() + body.len());
    doc.push_str(PROLOG);
    doc.push_str(body);
    EngineResponse::new(
        200,
        base_headers(&request_id, "application/xml"),
        doc.into_bytes(),
    )
}

/// A body-less answer with extra headers (`ETag`, `Location`, ...).
pub(crate) fn empty(status: u16, extra: Vec<(&'static str, String)>) -> EngineResponse {
    let request_id = crate::checksum::fast_uuid_string();
    let mut headers = base_headers(&request_id, "application/xml");
    headers.extend(extra);
    EngineResponse::new(status, headers, Bytes::new())
}

/// Escapes text for an XML element or attribute.
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'', '\r']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Epoch milliseconds as ISO 8601 (`2026-01-01T00:00:00.000Z`), for XML.
pub(crate) fn iso8601(ms: u64) -> String {
    let dt = DateTime::from_millis(i64::try_from(ms).unwrap_or(i64::MAX));
    dt.fmt(Format::DateTime).unwrap_or_default()
}

/// Epoch milliseconds as an HTTP date (`Thu, 01 Jan 2026 00:00:00 GMT`), for headers.
pub(crate) fn http_date(ms: u64) -> String {
    let dt = DateTime::from_secs(i64::try_from(ms / 1000).unwrap_or(i64::MAX));
    dt.fmt(Format::HttpDate).unwrap_or_default()
}

/// Decodes `%XX` escapes in a path segment (`+` stays a plus sign, unlike in forms).
pub(crate) fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A path-style S3 request: `/{bucket}/{key}?{query}`.
#[derive(Debug)]
pub(crate) struct S3Request<'r, 'a> {
    pub(crate) inc: &'r Incoming<'a>,
    /// The bucket, decoded (empty for `GET /`, ListBuckets).
    pub(crate) bucket: String,
    /// The key, decoded (empty for bucket operations).
    pub(crate) key: String,
    query: Vec<(String, String)>,
}

impl<'r, 'a> S3Request<'r, 'a> {
    pub(crate) fn parse(inc: &'r Incoming<'a>) -> Self {
        let path = inc.path.strip_prefix('/').unwrap_or(inc.path);
        let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
        let query = form_urlencoded::parse(inc.query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self {
            inc,
            bucket: percent_decode(bucket),
            key: percent_decode(key),
            query,
        }
    }

    pub(crate) fn is_head(&self) -> bool {
        self.inc.method.eq_ignore_ascii_case("HEAD")
    }

    /// A query parameter's value (`""` for a bare `?uploads`).
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.param(name).is_some()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&'a str> {
        self.inc.header(name)
    }

    /// The `x-amz-meta-*` headers, names lower-cased without the prefix, sorted.
    pub(crate) fn user_metadata(&self) -> Vec<(String, String)> {
        let mut meta: Vec<(String, String)> = self
            .inc
            .headers
            .iter()
            .filter_map(|(k, v)| {
                let lower = k.to_ascii_lowercase();
                let name = lower.strip_prefix("x-amz-meta-")?.to_owned();
                Some((name, (*v).to_owned()))
            })
            .collect();
        meta.sort();
        meta
    }
}

/// `"<hex>"`: S3's ETag of a body, its quoted hex MD5.
pub(crate) fn quoted(hex: &str) -> String {
    format!("\"{hex}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_paths_decoded() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert!(matches!(escape("plain"), Cow::Borrowed("plain")));
        assert_eq!(percent_decode("a%20b+c%2Fd"), "a b+c/d");
        assert_eq!(percent_decode("bad%zz%4"), "bad%zz%4");
    }

    #[test]
    fn errors_carry_code_message_and_extras() {
        let r = S3Error::no_such_key("a&b").into_response(false);
        assert_eq!(r.status(), 404);
        let body = String::from_utf8(r.body().to_vec()).unwrap();
        assert!(body.contains("<Code>NoSuchKey</Code>"), "{body}");
        assert!(body.contains("<Key>a&amp;b</Key>"), "{body}");
        assert!(body.contains("<RequestId>"), "{body}");
        let head = S3Error::no_such_key("k").into_response(true);
        assert_eq!((head.status(), head.body().len()), (404, 0));
    }

    #[test]
    fn dates_are_formatted_as_s3_does() {
        assert_eq!(iso8601(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
        assert_eq!(
            http_date(1_767_225_600_123),
            "Thu, 01 Jan 2026 00:00:00 GMT"
        );
    }
}
