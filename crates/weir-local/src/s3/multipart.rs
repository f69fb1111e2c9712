//! CreateMultipartUpload, UploadPart, CompleteMultipartUpload and AbortMultipartUpload.
//!
//! Limits (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html>): part
//! numbers 1 to 10,000, parts 5 MiB to 5 GiB except the last, which may be smaller.
//! The object's ETag is the MD5 of the parts' MD5s, then `-` and the number of parts.

use bytes::{Bytes, BytesMut};

use crate::engine::{Engine, EngineResponse};

use super::checksum::{self, md5};
use super::objects::{check_size, declared_size, echoed_checksum};
use super::wire::{self, S3Error, S3Request, S3Result, escape};
use super::{Object, Part, Upload, chunked, input};

/// The smallest part but the last, 5 MiB.
pub(crate) const MIN_PART: u64 = 5 * 1024 * 1024;
/// The largest part, 5 GiB.
pub(crate) const MAX_PART: u64 = 5 * 1024 * 1024 * 1024;
/// The highest part number.
pub(crate) const MAX_PARTS: u32 = 10_000;

fn upload_id(req: &S3Request<'_, '_>) -> String {
    req.param("uploadId").unwrap_or_default().to_owned()
}

/// `POST /{bucket}/{key}?uploads`.
pub(crate) fn create(engine: &Engine, req: &S3Request<'_, '_>) -> S3Result<EngineResponse> {
    let id = crate::checksum::fast_uuid_string().replace('-', "");
    let upload = Upload {
        key: req.key.clone(),
        content_type: req.header("content-type").map(str::to_owned),
        metadata: req.user_metadata(),
        parts: std::collections::BTreeMap::new(),
    };
    engine.s3.with_bucket(&req.bucket, |b| {
        b.uploads.insert(id.clone(), upload);
        Ok(())
    })?;
    Ok(wire::xml(&format!(
        r#"<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>{}</Bucket><Key>{}</Key><UploadId>{id}</UploadId></InitiateMultipartUploadResult>"#,
        escape(&req.bucket),
        escape(&req.key)
    )))
}

/// The part number of an UploadPart, 1 to 10,000.
pub(crate) fn part_number(raw: Option<&str>) -> S3Result<u32> {
    let raw = raw.unwrap_or_default();
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_PARTS).contains(n))
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
                "partNumber",
                raw,
            )
        })
}

/// `PUT /{bucket}/{key}?partNumber=N&uploadId=..`.
pub(crate) fn upload_part(engine: &Engine, req: &S3Request<'_, '_>) -> S3Result<EngineResponse> {
    let number = part_number(req.param("partNumber"))?;
    let id = upload_id(req);
    let known = |b: &mut super::Bucket| match b.uploads.get(&id) {
        Some(u) if u.key == req.key => Ok(()),
        _ => Err(S3Error::no_such_upload(&id)),
    };
    engine.s3.with_bucket(&req.bucket, known)?;
    if let Some(size) = declared_size(req) {
        check_size(size, MAX_PART)?;
    }
    let payload = chunked::payload(req)?;
    check_size(payload.body.len() as u64, MAX_PART)?;
    let digest = md5(&payload.body);
    checksum::verify(req, &payload.body, &digest, &payload.trailers)?;
    let part = Part {
        body: payload.body,
        md5: digest,
    };
    engine.s3.with_bucket(&req.bucket, |b| {
        let upload = b
            .uploads
            .get_mut(&id)
            .ok_or_else(|| S3Error::no_such_upload(&id))?;
        upload.parts.insert(number, part);
        Ok(())
    })?;
    let mut headers = vec![("etag", wire::quoted(&checksum::hex(&digest)))];
    headers.extend(echoed_checksum(req, &payload.trailers));
    Ok(wire::empty(200, headers))
}

/// Checks the listed parts against the uploaded ones, in S3's order of checks, and
/// returns the parts to assemble.
fn chosen_parts(upload: &Upload, id: &str, listed: &[input::ListedPart]) -> S3Result<Vec<Part>> {
    if listed.is_empty() {
        return Err(S3Error::new(
            400,
            "InvalidRequest",
            "You must specify at least one part",
        ));
    }
    if listed.windows(2).any(|w| w[0].number >= w[1].number) {
        return Err(S3Error::new(
            400,
            "InvalidPartOrder",
            "The list of parts was not in ascending order. Parts must be ordered by part number.",
        )
        .with("UploadId", id));
    }
    let mut chosen = Vec::with_capacity(listed.len());
    for (i, l) in listed.iter().enumerate() {
        let etag = l.etag.trim().trim_matches('"');
        let part = upload
            .parts
            .get(&l.number)
            .filter(|p| checksum::hex(&p.md5) == etag)
            .ok_or_else(|| {
                S3Error::new(400, "InvalidPart", "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
                    .with("ETag", etag)
                    .with("UploadId", id)
                    .with("PartNumber", l.number.to_string())
            })?;
        let size = part.body.len() as u64;
        if i + 1 < listed.len() && size < MIN_PART {
            return Err(S3Error::new(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
            )
            .with("ETag", etag)
            .with("MinSizeAllowed", MIN_PART.to_string())
            .with("PartNumber", l.number.to_string())
            .with("ProposedSize", size.to_string()));
        }
        chosen.push(part.clone());
    }
    Ok(chosen)
}

/// The assembled body and its multipart ETag.
fn assemble(parts: &[Part]) -> (Bytes, String) {
    let total = parts.iter().map(|p| p.body.len()).sum();
    let mut body = BytesMut::with_capacity(total);
    let mut md5s = Vec::with_capacity(parts.len() * 16);
    for p in parts {
        body.extend_from_slice(&p.body);
        md5s.extend_from_slice(&p.md5);
    }
    let etag = format!("\"{}-{}\"", checksum::hex(&md5(&md5s)), parts.len());
    (body.freeze(), etag)
}

/// `POST /{bucket}/{key}?uploadId=..`. The parts are copied into one body outside the
/// lock; the upload ends when the object is stored.
pub(crate) fn complete(engine: &Engine, req: &S3Request<'_, '_>) -> S3Result<EngineResponse> {
    let id = upload_id(req);
    let listed = input::complete(&chunked::payload(req)?.body)?;
    let (parts, content_type, metadata) = engine.s3.with_bucket(&req.bucket, |b| {
        let upload = b
            .uploads
            .get(&id)
            .filter(|u| u.key == req.key)
            .ok_or_else(|| S3Error::no_such_upload(&id))?;
        let parts = chosen_parts(upload, &id, &listed)?;
        Ok((parts, upload.content_type.clone(), upload.metadata.clone()))
    })?;
    let (body, etag) = assemble(&parts);
    let object = Object {
        body,
        etag: etag.clone(),
        content_type,
        metadata,
        last_modified_ms: engine.clock.now_ms(),
    };
    engine.s3.with_bucket(&req.bucket, |b| {
        b.uploads
            .remove(&id)
            .ok_or_else(|| S3Error::no_such_upload(&id))?;
        b.objects.insert(req.key.clone(), object);
        Ok(())
    })?;
    Ok(wire::xml(&format!(
        r#"<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>{}/{}/{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>"#,
        escape(req.inc.base_url),
        escape(&req.bucket),
        escape(&req.key),
        escape(&req.bucket),
        escape(&req.key),
        escape(&etag)
    )))
}

/// `DELETE /{bucket}/{key}?uploadId=..`: 204, or `NoSuchUpload`.
pub(crate) fn abort(engine: &Engine, req: &S3Request<'_, '_>) -> S3Result<EngineResponse> {
    let id = upload_id(req);
    engine.s3.with_bucket(&req.bucket, |b| {
        match b.uploads.get(&id) {
            Some(u) if u.key == req.key => {}
            _ => return Err(S3Error::no_such_upload(&id)),
        }
        b.uploads.remove(&id);
        Ok(())
    })?;
    Ok(wire::empty(204, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_numbers_are_1_to_10000() {
        assert_eq!(part_number(Some("1")), Ok(1));
        assert_eq!(part_number(Some("10000")), Ok(10_000));
        for bad in ["0", "10001", "x", ""] {
            let e = part_number(Some(bad)).unwrap_err();
            assert_eq!(
                (e.status, e.code.as_ref()),
                (400, "InvalidArgument"),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_multipart_etag_is_the_md5_of_the_part_md5s() {
        let part = |b: &'static [u8]| Part {
            body: Bytes::from_static(b),
            md5: md5(b),
        };
        let (body, etag) = assemble(&[part(b"ab"), part(b"cd")]);
        assert_eq!(&body[..], b"abcd");
        let mut md5s = md5(b"ab").to_vec();
        md5s.extend(md5(b"cd"));
        assert_eq!(etag, format!("\"{}-2\"", checksum::hex(&md5(&md5s))));
    }
}
