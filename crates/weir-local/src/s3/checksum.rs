//! Integrity of uploaded bodies: the ETag (hex MD5), `Content-MD5`, and the flexible
//! checksums (`x-amz-checksum-<algorithm>`, as a header or an aws-chunked trailer).
//!
//! CRC32 (aws-sdk-s3's default), SHA-256 and MD5 are verified, and a mismatch is
//! `BadDigest`, as S3 answers; the other algorithms (CRC32C, CRC64NVME, SHA-1) are
//! accepted unverified.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>

use aws_smithy_types::base64;
use md5::{Digest, Md5};
use sha2::Sha256;

use super::wire::{S3Error, S3Request, S3Result};

/// The MD5 of a body.
pub(crate) fn md5(body: &[u8]) -> [u8; 16] {
    Md5::digest(body).into()
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks `Content-MD5` against the body's MD5 and every `x-amz-checksum-*` (headers,
/// then trailers) that weir-local can compute.
pub(crate) fn verify(
    req: &S3Request<'_, '_>,
    body: &[u8],
    md5: &[u8; 16],
    trailers: &[(String, String)],
) -> S3Result<()> {
    if let Some(sent) = req.header("content-md5") {
        let sent = base64::decode(sent.trim()).map_err(|_| {
            S3Error::new(
                400,
                "InvalidDigest",
                "The Content-MD5 you specified was invalid.",
            )
        })?;
        if sent != md5 {
            return Err(S3Error::new(
                400,
                "BadDigest",
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
    }
    let headers = req
        .inc
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()));
    for (name, value) in headers.chain(trailers.iter().cloned()) {
        let Some(algorithm) = name.strip_prefix("x-amz-checksum-") else {
            continue;
        };
        let computed = match algorithm {
            "crc32" => crc32fast::hash(body).to_be_bytes().to_vec(),
            "sha256" => Sha256::digest(body).to_vec(),
            _ => continue,
        };
        if base64::encode(&computed) != value.trim() {
            return Err(S3Error::new(
                400,
                "BadDigest",
                format!(
                    "The {} you specified did not match the calculated checksum.",
                    algorithm.to_ascii_uppercase()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(hex(&md5(b"hello")), "5d41402abc4b2a76b9719d911017c592");
        // aws-sdk-s3's trailer for "hello world".
        let crc = crc32fast::hash(b"hello world").to_be_bytes();
        assert_eq!(base64::encode(crc), "DUoRhQ==");
    }
}
