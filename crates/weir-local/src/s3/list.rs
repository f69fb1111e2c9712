//! ListObjectsV2: `prefix`, `delimiter`, `max-keys` (1,000 at most), `start-after` and
//! continuation tokens (the last key or common prefix returned, base64-encoded).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>

use std::fmt::Write as _;

use aws_smithy_types::base64;

use crate::engine::{Engine, EngineResponse};

use super::wire::{self, S3Error, S3Request, S3Result, escape};

/// The most keys one page holds.
const MAX_KEYS: usize = 1000;

/// One entry of a page: an object (key, ETag, size, last modified) or a common prefix.
enum Entry {
    Object(String, String, usize, u64),
    Prefix(String),
}

fn max_keys(raw: Option<&str>) -> S3Result<usize> {
    match raw {
        None => Ok(MAX_KEYS),
        Some(v) => v.parse::<usize>().map(|n| n.min(MAX_KEYS)).map_err(|_| {
            S3Error::invalid_argument(
                "Provided max-keys not an integer or within integer range",
                "max-keys",
                v,
            )
        }),
    }
}

fn token(raw: Option<&str>) -> S3Result<Option<String>> {
    raw.map(|t| {
        base64::decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    "The continuation token provided is incorrect",
                    "continuation-token",
                    t,
                )
            })
    })
    .transpose()
}

/// The entries after `after`, up to `max`, and whether more remain.
fn page(
    objects: &std::collections::BTreeMap<String, super::Object>,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&str>,
    max: usize,
) -> (Vec<Entry>, bool) {
    let mut entries: Vec<Entry> = Vec::new();
    // Keys under the prefix sort from the prefix itself on.
    let lower = match after {
        Some(a) if a >= prefix => std::ops::Bound::Excluded(a),
        _ => std::ops::Bound::Included(prefix),
    };
    let range = objects.range::<str, _>((lower, std::ops::Bound::Unbounded));
    for (key, object) in range.take_while(|(k, _)| k.starts_with(prefix)) {
        let common = delimiter.filter(|d| !d.is_empty()).and_then(|d| {
            key[prefix.len()..]
                .find(d)
                .map(|i| key[..prefix.len() + i + d.len()].to_owned())
        });
        // Keys under a prefix already listed (or the token's own prefix) are skipped.
        let seen = |p: &str| {
            matches!(entries.last(), Some(Entry::Prefix(l)) if l == p) || after == Some(p)
        };
        match common {
            Some(p) if seen(&p) => continue,
            _ if entries.len() == max => return (entries, true),
            Some(p) => entries.push(Entry::Prefix(p)),
            None => entries.push(Entry::Object(
                key.clone(),
                object.etag.clone(),
                object.body.len(),
                object.last_modified_ms,
            )),
        }
    }
    (entries, false)
}

/// `GET /{bucket}?list-type=2`.
pub(crate) fn list_objects_v2(
    engine: &Engine,
    req: &S3Request<'_, '_>,
) -> S3Result<EngineResponse> {
    let prefix = req.param("prefix").unwrap_or_default();
    let delimiter = req.param("delimiter");
    let max = max_keys(req.param("max-keys"))?;
    let token_raw = req.param("continuation-token");
    let start_after = req.param("start-after");
    let after = token(token_raw)?.or_else(|| start_after.map(str::to_owned));
    let (entries, truncated) = engine.s3.with_bucket(&req.bucket, |b| {
        Ok(page(&b.objects, prefix, delimiter, after.as_deref(), max))
    })?;
    let mut xml =
        String::from(r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#);
    let _ = write!(
        xml,
        "<Name>{}</Name><Prefix>{}</Prefix><KeyCount>{}</KeyCount><MaxKeys>{max}</MaxKeys><IsTruncated>{truncated}</IsTruncated>",
        escape(&req.bucket),
        escape(prefix),
        entries.len()
    );
    for (tag, value) in [
        ("Delimiter", delimiter),
        ("ContinuationToken", token_raw),
        ("StartAfter", start_after),
    ] {
        if let Some(v) = value {
            let _ = write!(xml, "<{tag}>{}</{tag}>", escape(v));
        }
    }
    if truncated {
        let last = match entries.last() {
            Some(Entry::Object(k, ..) | Entry::Prefix(k)) => k.as_str(),
            None => "",
        };
        let _ = write!(
            xml,
            "<NextContinuationToken>{}</NextContinuationToken>",
            base64::encode(last)
        );
    }
    for entry in &entries {
        match entry {
            Entry::Object(key, etag, size, ms) => {
                let _ = write!(
                    xml,
                    "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>",
                    escape(key),
                    wire::iso8601(*ms),
                    escape(etag)
                );
            }
            Entry::Prefix(p) => {
                let _ = write!(
                    xml,
                    "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
                    escape(p)
                );
            }
        }
    }
    xml.push_str("</ListBucketResult>");
    Ok(wire::xml(&xml))
}
