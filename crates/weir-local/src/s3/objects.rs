//! PutObject, GetObject (and its Range), HeadObject, DeleteObject and DeleteObjects.

use bytes::Bytes;

use crate::engine::{Engine, EngineResponse};

use super::checksum::{self, md5};
use super::wire::{self, S3Error, S3Request, S3Result, escape};
use super::{MAX_PUT_BODY, Object, chunked, input};

/// The most keys one DeleteObjects takes.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>
const MAX_DELETE_KEYS: usize = 1000;

/// The size the request declares for its payload (the decoded size when aws-chunked).
pub(crate) fn declared_size(req: &S3Request<'_, '_>) -> Option<u64> {
    let header = if chunked::is_aws_chunked(req) {
        "x-amz-decoded-content-length"
    } else {
        "content-length"
    };
    req.header(header).and_then(|v| v.trim().parse().ok())
}

/// `EntityTooLarge` when `size` is over `max`.
pub(crate) fn check_size(size: u64, max: u64) -> S3Result<()> {
    if size <= max {
        return Ok(());
    }
    Err(S3Error::new(
        400,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
    )
    .with("ProposedSize", size.to_string())
    .with("MaxSizeAllowed", max.to_string()))
}

/// The flexible checksum sent with a body (header or trailer), to echo back.
pub(crate) fn echoed_checksum(
    req: &S3Request<'_, '_>,
    trailers: &[(String, String)],
) -> Vec<(&'static str, String)> {
    const NAMES: &[&str] = &[
        "x-amz-checksum-crc32",
        "x-amz-checksum-crc32c",
        "x-amz-checksum-crc64nvme",
        "x-amz-checksum-sha1",
        "x-amz-checksum-sha256",
    ];
    NAMES
        .iter()
        .filter_map(|name| {
            let value = req.header(name).map(str::to_owned).or_else(|| {
                trailers
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            })?;
            Some((*name, value))
        })
        .collect()
}

/// `PUT /{bucket}/{key}`.
pub(crate) fn put(engine: &Engine, req: &S3Request<'_, '_>) -> S3Result<EngineResponse> {
    if let Some(size) = declared_size(req) {
        check_size(size, MAX_PUT_BODY)?;
    }
    engine.s3.with_bucket(&req.bucket, |_| Ok(()))?;
    let payload = chunked::payload(req)?;
    check_size(payload.body.len() as u64, MAX_PUT_BODY)?;
    let digest = md5(&payload.body);
    checksum::verify(req, &payload.body, &digest, &payload.trailers)?;
    let etag = wire::quoted(&checksum::hex(&digest));
    let object = Object {
        body: payload.body,
        etag: etag.clone(),
        content_type: req.header("content-type").map(str::to_owned),
        metadata: req.user_metadata(),
        last_modified_ms: engine.clock.now_ms(),
    };
    engine.s3.with_bucket(&req.bucket, |b| {
        b.objects.insert(req.key.clone(), object);
        Ok(())
    })?;
    let mut headers = vec![("etag", etag)];
    headers.extend(echoed_checksum(req, &payload.trailers));
    Ok(wire::empty(200, headers))
}

/// A `Range: bytes=..` header resolved against a size: `Ok(None)` for no (or an
/// unreadable, or a multi-range) header, which S3 answers with the whole object.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax>
pub(crate) fn range(header: Option<&str>, size: u64) -> S3Result<Option<(u64, u64)>> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((from, to)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (from, to) = (from.trim(), to.trim());
    let resolved = match (from.parse::<u64>(), to.parse::<u64>()) {
        (Ok(a), Ok(b)) if a <= b => Some((a, b.min(size.saturating_sub(1)))),
        (Ok(a), Err(_)) if to.is_empty() => Some((a, size.saturating_sub(1))),
        (Err(_), Ok(n)) if from.is_empty() && n > 0 => {
            Some((size.saturating_sub(n), size.saturating_sub(1)))
        }
        _ => return Ok(None),
    };
    match resolved {
        Some((a, b)) if a < size && a <= b => Ok(Some((a, b))),
        _ => Err(S3Error::new(
            416,
            "InvalidRange",
            "The requested range is not satisfiable",
        )
        .with("ActualObjectSize", size.to_string())
        .with("RangeRequested", header.unwrap_or_default())),
    }
}

/// `GET` and `HEAD /{bucket}/{key}`, with `Range`.
pub(crate) fn get(engine: &Engine, req: &S3Request<'_, '_>) -> S3Result<EngineResponse> {
    let object = engine.s3.with_bucket(&req.bucket, |b| {
        b.objects
            .get(&req.key)
            .cloned()
            .ok_or_else(|| S3Error::no_such_key(&req.key))
    })?;
    let size = object.body.len() as u64;
    let range = range(req.header("range"), size)?;
    let request_id = crate::checksum::fast_uuid_string();
    let content_type = object
        .content_type
        .clone()
        .unwrap_or_else(|| "binary/octet-stream".to_owned());
    let mut headers = wire::base_headers(&request_id, &content_type);
    headers.extend([
        ("etag", object.etag.clone()),
        ("last-modified", wire::http_date(object.last_modified_ms)),
        ("accept-ranges", "bytes".to_owned()),
    ]);
    let (status, body) = match range {
        Some((a, b)) => {
            headers.push(("content-range", format!("bytes {a}-{b}/{size}")));
            let (a, b) = (
                usize::try_from(a).unwrap_or(usize::MAX),
                usize::try_from(b).unwrap_or(usize::MAX),
            );
            (206, object.body.slice(a..=b))
        }
        None => (200, object.body.clone()),
    };
    headers.push(("content-length", body.len().to_string()));
    let body = if req.is_head() { Bytes::new() } else { body };
    let named = object
        .metadata
        .iter()
        .map(|(k, v)| (format!("x-amz-meta-{k}"), v.clone()))
        .collect();
    Ok(EngineResponse::new(status, headers, body).with_named(named))
}

/// `DELETE /{bucket}/{key}`: 204 whether or not the key existed.
pub(crate) fn delete(engine: &Engine, req: &S3Request<'_, '_>) -> S3Result<EngineResponse> {
    engine.s3.with_bucket(&req.bucket, |b| {
        b.objects.remove(&req.key);
        Ok(())
    })?;
    Ok(wire::empty(204, Vec::new()))
}

/// `POST /{bucket}?delete`: every key listed is `Deleted`, present or not, as on S3.
pub(crate) fn delete_many(engine: &Engine, req: &S3Request<'_, '_>) -> S3Result<EngineResponse> {
    let payload = chunked::payload(req)?;
    checksum::verify(req, &payload.body, &md5(&payload.body), &payload.trailers)?;
    let input = input::delete(&payload.body)?;
    if input.keys.len() > MAX_DELETE_KEYS {
        return Err(S3Error::malformed_xml());
    }
    engine.s3.with_bucket(&req.bucket, |b| {
        for key in &input.keys {
            b.objects.remove(key);
        }
        Ok(())
    })?;
    let mut xml = String::from(r#"<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#);
    if !input.quiet {
        for key in &input.keys {
            xml.push_str(&format!("<Deleted><Key>{}</Key></Deleted>", escape(key)));
        }
    }
    xml.push_str("</DeleteResult>");
    Ok(wire::xml(&xml))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_as_s3_does() {
        assert_eq!(range(None, 10), Ok(None));
        assert_eq!(range(Some("bytes=2-4"), 10), Ok(Some((2, 4))));
        assert_eq!(range(Some("bytes=8-100"), 10), Ok(Some((8, 9))));
        assert_eq!(range(Some("bytes=7-"), 10), Ok(Some((7, 9))));
        assert_eq!(range(Some("bytes=-3"), 10), Ok(Some((7, 9))));
        assert_eq!(range(Some("bytes=-30"), 10), Ok(Some((0, 9))));
        assert_eq!(range(Some("bytes=0-1,4-5"), 10), Ok(None));
        assert_eq!(range(Some("lines=1-2"), 10), Ok(None));
        let e = range(Some("bytes=10-20"), 10).unwrap_err();
        assert_eq!((e.status, e.code.as_ref()), (416, "InvalidRange"));
        assert!(range(Some("bytes=0-0"), 0).is_err());
    }

    #[test]
    fn sizes_over_the_limit_are_entity_too_large() {
        assert!(check_size(MAX_PUT_BODY, MAX_PUT_BODY).is_ok());
        let e = check_size(MAX_PUT_BODY + 1, MAX_PUT_BODY).unwrap_err();
        assert_eq!((e.status, e.code.as_ref()), (400, "EntityTooLarge"));
    }
}
