//! aws-chunked request bodies, as aws-sdk-s3 sends PutObject and UploadPart with
//! flexible checksums (`x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`, or
//! `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` over plain `http://`):
//!
//! ```text
//! 10000;chunk-signature=<64 hex>\r\n<65536 bytes>\r\n   (the signature only when signed)
//! ...
//! 0;chunk-signature=<64 hex>\r\n
//! x-amz-checksum-crc32:<base64>\r\n
//! x-amz-trailer-signature:<64 hex>\r\n
//! \r\n
//! ```
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html> and
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>.
//! Chunk signatures are not checked (weir-local checks no signature).

use bytes::{Bytes, BytesMut};

use super::wire::{S3Error, S3Request, S3Result};

/// A decoded body and its trailing headers (names lower-cased).
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub(crate) body: Bytes,
    pub(crate) trailers: Vec<(String, String)>,
}

/// Whether the request's body is aws-chunked.
pub(crate) fn is_aws_chunked(req: &S3Request<'_, '_>) -> bool {
    req.header("content-encoding").is_some_and(|e| {
        e.split(',')
            .any(|p| p.trim().eq_ignore_ascii_case("aws-chunked"))
    }) || req
        .header("x-amz-content-sha256")
        .is_some_and(|v| v.starts_with("STREAMING-"))
}

/// The request's payload: decoded when aws-chunked (checked against
/// `x-amz-decoded-content-length`), else the body as sent.
pub(crate) fn payload(req: &S3Request<'_, '_>) -> S3Result<Decoded> {
    if !is_aws_chunked(req) {
        return Ok(Decoded {
            body: Bytes::copy_from_slice(req.inc.body),
            trailers: Vec::new(),
        });
    }
    let decoded = decode(req.inc.body)?;
    let declared = req
        .header("x-amz-decoded-content-length")
        .and_then(|v| v.trim().parse::<usize>().ok());
    match declared {
        Some(n) if n != decoded.body.len() => Err(incomplete()),
        _ => Ok(decoded),
    }
}

fn incomplete() -> S3Error {
    S3Error::new(
        400,
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header.",
    )
}

fn line(raw: &[u8], from: usize) -> S3Result<(&[u8], usize)> {
    let rest = raw.get(from..).ok_or_else(incomplete)?;
    let end = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or_else(incomplete)?;
    Ok((&rest[..end], from + end + 2))
}

/// Decodes an aws-chunked body into its data and trailers.
pub(crate) fn decode(raw: &[u8]) -> S3Result<Decoded> {
    let mut body = BytesMut::with_capacity(raw.len());
    let mut pos = 0;
    loop {
        let (header, next) = line(raw, pos)?;
        let size = header.split(|&b| b == b';').next().unwrap_or_default();
        let size = std::str::from_utf8(size)
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .ok_or_else(|| {
                S3Error::new(
                    400,
                    "InvalidRequest",
                    "The aws-chunked chunk size is not hex.",
                )
            })?;
        pos = next;
        if size == 0 {
            break;
        }
        let end = pos.checked_add(size).ok_or_else(incomplete)?;
        body.extend_from_slice(raw.get(pos..end).ok_or_else(incomplete)?);
        if raw.get(end..end + 2) != Some(b"\r\n") {
            return Err(incomplete());
        }
        pos = end + 2;
    }
    let trailers = raw
        .get(pos..)
        .unwrap_or_default()
        .split(|&b| b == b'\n')
        .filter_map(|l| {
            let l = std::str::from_utf8(l).ok()?.trim_end_matches('\r');
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .filter(|(k, _)| k != "x-amz-trailer-signature")
        .collect();
    Ok(Decoded {
        body: body.freeze(),
        trailers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_chunks_and_trailers_are_decoded() {
        let raw = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let d = decode(raw).unwrap();
        assert_eq!(&d.body[..], b"hello world");
        assert_eq!(
            d.trailers,
            vec![("x-amz-checksum-crc32".to_owned(), "DUoRhQ==".to_owned())]
        );
    }

    #[test]
    fn signed_chunks_are_decoded_and_the_trailer_signature_dropped() {
        let sig = "a".repeat(64);
        let raw = format!(
            "3;chunk-signature={sig}\r\nabc\r\n0;chunk-signature={sig}\r\nx-amz-checksum-crc32:x==\r\nx-amz-trailer-signature:{sig}\r\n\r\n"
        );
        let d = decode(raw.as_bytes()).unwrap();
        assert_eq!(&d.body[..], b"abc");
        assert_eq!(d.trailers.len(), 1);
    }

    #[test]
    fn a_body_with_crlf_inside_its_data_is_kept_whole() {
        let raw = b"4\r\n\r\n\r\n\r\n0\r\n\r\n";
        assert_eq!(&decode(raw).unwrap().body[..], b"\r\n\r\n");
    }

    #[test]
    fn truncated_or_malformed_bodies_are_refused() {
        assert_eq!(decode(b"5\r\nhel").unwrap_err().code, "IncompleteBody");
        assert_eq!(
            decode(b"zz\r\nhello\r\n").unwrap_err().code,
            "InvalidRequest"
        );
        assert_eq!(
            decode(b"5\r\nhelloXX0\r\n").unwrap_err().code,
            "IncompleteBody"
        );
        assert_eq!(decode(b"").unwrap_err().code, "IncompleteBody");
    }
}
