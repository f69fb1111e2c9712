//! The SNS query protocol: form-encoded parameters in, XML out, and SNS's errors.
//!
//! Element names follow aws-sdk-sns's own deserializers (`<{Action}Response>`,
//! `<{Action}Result>`, lists of `<member>`, maps of `<entry><key/><value/></entry>`);
//! errors are the query protocol's `<ErrorResponse><Error><Type/><Code/><Message/></Error>`
//! (<https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html>).

use std::collections::{BTreeMap, HashMap};

use crate::engine::EngineResponse;

/// The XML namespace of every SNS response.
const XMLNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// An SNS error as it goes on the wire.
#[derive(Debug, Clone)]
pub(crate) struct SnsError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

/// A result of an SNS operation.
pub(crate) type SnsResult<T> = Result<T, SnsError>;

impl SnsError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// `InvalidParameter` (400), AWS's catch-all for a bad request.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidParameter", message)
    }

    /// `ParameterValueInvalid` (400): AWS's code for `InvalidParameterValueException`,
    /// sent for bad message attributes.
    pub(crate) fn bad_value(message: impl Into<String>) -> Self {
        Self::new(400, "ParameterValueInvalid", message)
    }

    /// `NotFound` (404).
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "NotFound", message)
    }

    /// `ValidationError` (400): a required member left out.
    pub(crate) fn missing(member: &str) -> Self {
        Self::new(
            400,
            "ValidationError",
            format!(
                "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ),
        )
    }

    /// Any other code, with a 400.
    pub(crate) fn sender(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    /// The `InvalidAction` answer to an action this SNS does not know.
    pub(crate) fn unknown_action(action: &str) -> Self {
        Self::new(
            400,
            "InvalidAction",
            format!(
                "The action {action} is not valid for this endpoint (weir-local answers: {}).",
                super::OPERATIONS.join(", ")
            ),
        )
    }

    /// The XML error response.
    pub(crate) fn response(&self) -> EngineResponse {
        injected(self.status, self.code, &self.message)
    }
}

/// An XML error response with any code (also for injected faults).
pub(crate) fn injected(status: u16, code: &str, message: &str) -> EngineResponse {
    let request_id = crate::checksum::fast_uuid_string();
    let fault = if status >= 500 { "Receiver" } else { "Sender" };
    let body = format!(
        "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{fault}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        escape(code),
        escape(message),
    );
    xml_response(status, request_id, body)
}

fn xml_response(status: u16, request_id: String, body: String) -> EngineResponse {
    EngineResponse::new(
        status,
        vec![
            ("content-type", "text/xml".to_owned()),
            ("x-amzn-requestid", request_id),
        ],
        body.into_bytes(),
    )
}

/// XML text escaping: the characters XML reserves, and carriage returns (which an XML
/// parser would otherwise fold into line feeds).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// The `<{Action}Result>` being written.
#[derive(Debug, Default)]
pub(crate) struct Xml {
    out: String,
}

impl Xml {
    /// `<tag>text</tag>`.
    pub(crate) fn leaf(&mut self, tag: &str, text: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        self.out.push_str(&escape(text));
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// `<tag>`, to be closed by [`close`](Self::close).
    pub(crate) fn open(&mut self, tag: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// `</tag>`.
    pub(crate) fn close(&mut self, tag: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// Appends what another writer wrote.
    pub(crate) fn append(&mut self, other: &Self) -> &mut Self {
        self.out.push_str(&other.out);
        self
    }

    /// A string map: `<tag><entry><key/><value/></entry>...</tag>`.
    pub(crate) fn map(&mut self, tag: &str, map: &BTreeMap<String, String>) -> &mut Self {
        self.open(tag);
        for (k, v) in map {
            self.open("entry")
                .leaf("key", k)
                .leaf("value", v)
                .close("entry");
        }
        self.close(tag)
    }
}

/// A successful answer to `action`; `result` writes the inside of `<{action}Result>`,
/// or `None` for the operations that answer nothing (DeleteTopic, Unsubscribe, ...).
pub(crate) fn ok(action: &str, result: Option<Xml>) -> EngineResponse {
    let request_id = crate::checksum::fast_uuid_string();
    let result = result.map_or_else(String::new, |r| {
        format!("<{action}Result>{}</{action}Result>", r.out)
    });
    let body = format!(
        "<{action}Response xmlns=\"{XMLNS}\">{result}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    );
    xml_response(200, request_id, body)
}

/// The parameters of one request, decoded from its form body and URL query.
#[derive(Debug, Default)]
pub(crate) struct Form {
    params: HashMap<String, String>,
}

impl Form {
    /// Decodes `application/x-www-form-urlencoded` pairs; the body's win over the query's.
    pub(crate) fn parse(body: &[u8], query: &str) -> Self {
        let mut params = HashMap::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            params.insert(k.into_owned(), v.into_owned());
        }
        for (k, v) in form_urlencoded::parse(body) {
            params.insert(k.into_owned(), v.into_owned());
        }
        Self { params }
    }

    /// One parameter.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// The bytes of every value (a message attribute's name, type and value).
    pub(crate) fn byte_len(&self) -> usize {
        self.params.values().map(String::len).sum()
    }

    /// A required parameter: `InvalidParameter` when absent, with AWS's words.
    pub(crate) fn required(&self, name: &str) -> SnsResult<&str> {
        self.get(name).ok_or_else(|| {
            SnsError::invalid(format!(
                "Invalid parameter: {name} Reason: no value for required parameter"
            ))
        })
    }

    /// The entries of a list parameter, `{prefix}.member.{n}`, as sub-forms keyed by what
    /// follows (`{prefix}.member.1.Id` is `Id` in the first), in index order.
    pub(crate) fn members(&self, prefix: &str) -> Vec<Self> {
        self.indexed(&format!("{prefix}.member."))
    }

    /// The entries of a map parameter, `{prefix}.entry.{n}`, as sub-forms.
    pub(crate) fn entries(&self, prefix: &str) -> Vec<Self> {
        self.indexed(&format!("{prefix}.entry."))
    }

    fn indexed(&self, head: &str) -> Vec<Self> {
        let mut by_index: BTreeMap<u32, HashMap<String, String>> = BTreeMap::new();
        for (k, v) in &self.params {
            let Some(rest) = k.strip_prefix(head) else {
                continue;
            };
            let (index, field) = rest.split_once('.').unwrap_or((rest, ""));
            let Ok(index) = index.parse::<u32>() else {
                continue;
            };
            by_index
                .entry(index)
                .or_default()
                .insert(field.to_owned(), v.clone());
        }
        by_index
            .into_values()
            .map(|params| Self { params })
            .collect()
    }

    /// A string map parameter (`Attributes.entry.N.key` / `.value`).
    pub(crate) fn string_map(&self, prefix: &str) -> BTreeMap<String, String> {
        self.entries(prefix)
            .into_iter()
            .filter_map(|e| {
                let k = e.get("key")?.to_owned();
                Some((k, e.get("value").unwrap_or_default().to_owned()))
            })
            .collect()
    }

    /// A tag list parameter (`Tags.member.N.Key` / `.Value`).
    pub(crate) fn tags(&self, prefix: &str) -> BTreeMap<String, String> {
        self.members(prefix)
            .into_iter()
            .filter_map(|e| {
                let k = e.get("Key")?.to_owned();
                Some((k, e.get("Value").unwrap_or_default().to_owned()))
            })
            .collect()
    }

    /// A string list parameter (`TagKeys.member.N`).
    pub(crate) fn strings(&self, prefix: &str) -> Vec<String> {
        self.members(prefix)
            .into_iter()
            .filter_map(|e| e.get("").map(str::to_owned))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_lists_and_maps() {
        let body = b"Action=Publish&Message=a+b%26c&MessageAttributes.entry.2.Name=n2&MessageAttributes.entry.1.Name=n1&MessageAttributes.entry.1.Value.DataType=String&Tags.member.1.Key=k&Tags.member.1.Value=v&TagKeys.member.1=x";
        let form = Form::parse(body, "Version=2010-03-31");
        assert_eq!(form.get("Message"), Some("a b&c"));
        assert_eq!(form.get("Version"), Some("2010-03-31"));
        let attrs = form.entries("MessageAttributes");
        assert_eq!(attrs.len(), 2);
        assert_eq!(attrs[0].get("Name"), Some("n1"));
        assert_eq!(attrs[0].get("Value.DataType"), Some("String"));
        assert_eq!(attrs[1].get("Name"), Some("n2"));
        assert_eq!(form.tags("Tags").get("k").map(String::as_str), Some("v"));
        assert_eq!(form.strings("TagKeys"), vec!["x".to_owned()]);
        assert!(form.required("TopicArn").is_err());
    }

    #[test]
    fn answers_are_query_xml() {
        let mut x = Xml::default();
        x.leaf("TopicArn", "a<b");
        let r = ok("CreateTopic", Some(x));
        let body = String::from_utf8(r.body().to_vec()).unwrap();
        assert!(body.starts_with("<CreateTopicResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><CreateTopicResult><TopicArn>a&lt;b</TopicArn></CreateTopicResult><ResponseMetadata><RequestId>"), "{body}");
        let e = SnsError::not_found("Topic does not exist").response();
        assert_eq!(e.status(), 404);
        let body = String::from_utf8(e.body().to_vec()).unwrap();
        assert!(
            body.contains(
                "<Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message>"
            ),
            "{body}"
        );
    }
}
