//! The XML request bodies S3 takes: DeleteObjects' `<Delete>` and
//! CompleteMultipartUpload's `<CompleteMultipartUpload>`, read with the SDK's own XML
//! decoder.

use aws_smithy_xml::decode::{Document, ScopedDecoder, try_data};

use super::wire::{S3Error, S3Result};

/// DeleteObjects' input: the keys, and whether only errors are answered.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct DeleteInput {
    pub(crate) keys: Vec<String>,
    pub(crate) quiet: bool,
}

/// One `<Part>` of CompleteMultipartUpload, as listed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ListedPart {
    pub(crate) number: u32,
    /// As sent, quotes included or not.
    pub(crate) etag: String,
}

fn root<'i, 'a>(doc: &'a mut Document<'i>, name: &str) -> S3Result<ScopedDecoder<'i, 'a>> {
    let root = doc.root_element().map_err(|_| S3Error::malformed_xml())?;
    if root.start_el().matches(name) {
        Ok(root)
    } else {
        Err(S3Error::malformed_xml())
    }
}

fn text(tag: &mut ScopedDecoder<'_, '_>) -> S3Result<String> {
    try_data(tag)
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| S3Error::malformed_xml())
}

fn utf8(body: &[u8]) -> S3Result<&str> {
    std::str::from_utf8(body).map_err(|_| S3Error::malformed_xml())
}

/// Reads `<Delete><Object><Key>..</Key></Object>..<Quiet>true</Quiet></Delete>`.
pub(crate) fn delete(body: &[u8]) -> S3Result<DeleteInput> {
    let mut doc = Document::new(utf8(body)?);
    let mut root = root(&mut doc, "Delete")?;
    let mut input = DeleteInput::default();
    while let Some(mut tag) = root.next_tag() {
        if tag.start_el().matches("Object") {
            let mut key = None;
            while let Some(mut inner) = tag.next_tag() {
                if inner.start_el().matches("Key") {
                    key = Some(text(&mut inner)?);
                }
            }
            input.keys.push(key.ok_or_else(S3Error::malformed_xml)?);
        } else if tag.start_el().matches("Quiet") {
            input.quiet = text(&mut tag)?.trim() == "true";
        }
    }
    Ok(input)
}

/// Reads `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>..</ETag></Part>..`.
pub(crate) fn complete(body: &[u8]) -> S3Result<Vec<ListedPart>> {
    let mut doc = Document::new(utf8(body)?);
    let mut root = root(&mut doc, "CompleteMultipartUpload")?;
    let mut parts = Vec::new();
    while let Some(mut tag) = root.next_tag() {
        if !tag.start_el().matches("Part") {
            continue;
        }
        let (mut number, mut etag) = (None, None);
        while let Some(mut inner) = tag.next_tag() {
            if inner.start_el().matches("PartNumber") {
                number = text(&mut inner)?.trim().parse::<u32>().ok();
            } else if inner.start_el().matches("ETag") {
                etag = Some(text(&mut inner)?);
            }
        }
        match (number, etag) {
            (Some(number), Some(etag)) => parts.push(ListedPart { number, etag }),
            _ => return Err(S3Error::malformed_xml()),
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_bodies_are_read() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key></Object><Quiet>true</Quiet></Delete>"#;
        let d = delete(body).unwrap();
        assert_eq!(d.keys, ["a&b", "c"]);
        assert!(d.quiet);
        assert_eq!(delete(b"<Other/>").unwrap_err().code, "MalformedXML");
        assert_eq!(delete(b"not xml").unwrap_err().code, "MalformedXML");
    }

    #[test]
    fn complete_bodies_are_read() {
        let body = br#"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>&quot;abc&quot;</ETag><PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber><ETag>def</ETag></Part></CompleteMultipartUpload>"#;
        let parts = complete(body).unwrap();
        assert_eq!(
            parts,
            [
                ListedPart {
                    number: 1,
                    etag: "\"abc\"".into()
                },
                ListedPart {
                    number: 2,
                    etag: "def".into()
                }
            ]
        );
        let missing =
            b"<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>";
        assert_eq!(complete(missing).unwrap_err().code, "MalformedXML");
    }
}
