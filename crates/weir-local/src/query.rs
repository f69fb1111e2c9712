//! Requests in SQS's older query protocol (a form-encoded `Action=SendMessage&...` body,
//! or `?Action=` in the URL): weir-local speaks only the JSON protocol, and says so in
//! the XML error a query client parses, instead of a JSON error the client cannot read.
//!
//! The error is AWS's query `ErrorResponse`
//! (<https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-responses.html>),
//! with the common query code `InvalidAction`.

use crate::engine::EngineResponse;
use crate::gateway::Incoming;

/// The action named by a query-protocol request, or `None` when the request is not one.
///
/// A request is in the query protocol when it has no `X-Amz-Target` and names an
/// `Action` in its form body or its URL query.
pub(crate) fn action<'a>(req: &Incoming<'a>) -> Option<&'a str> {
    if req.header("x-amz-target").is_some() {
        return None;
    }
    let form = std::str::from_utf8(req.body).unwrap_or_default();
    [form, req.query].into_iter().find_map(|pairs| {
        pairs
            .split('&')
            .find_map(|pair| pair.strip_prefix("Action="))
    })
}

/// The XML error answered to a query-protocol request for `action`.
pub(crate) fn refusal(action: &str, request_id: &str) -> EngineResponse {
    // Only the action's name is echoed, and only when it looks like one.
    let action = if !action.is_empty()
        && action.len() <= 64
        && action.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        action
    } else {
        "<unknown>"
    };
    let message = format!(
        "weir-local speaks the SQS JSON protocol only, and this {action} request uses the \
         query protocol (Action=...). Send X-Amz-Target: AmazonSQS.<Action> with a JSON \
         body: current AWS SDKs and the AWS CLI do."
    );
    let body = format!(
        "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">\
         <Error><Type>Sender</Type><Code>InvalidAction</Code><Message>{}</Message><Detail/></Error>\
         <RequestId>{}</RequestId></ErrorResponse>",
        escape(&message),
        escape(request_id)
    );
    EngineResponse::new(
        400,
        vec![
            ("content-type", "text/xml".to_owned()),
            ("x-amzn-requestid", request_id.to_owned()),
        ],
        body.into_bytes(),
    )
}

/// XML text escaping: the five characters XML reserves.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incoming<'a>(
        headers: Vec<(&'a str, &'a str)>,
        query: &'a str,
        body: &'a [u8],
    ) -> Incoming<'a> {
        Incoming {
            method: "POST",
            path: "/",
            query,
            headers,
            body,
            base_url: "http://localhost",
        }
    }

    #[test]
    fn query_requests_are_recognised_by_their_action() {
        let form = b"Action=SendMessage&QueueUrl=x&MessageBody=hi";
        assert_eq!(action(&incoming(vec![], "", form)), Some("SendMessage"));
        assert_eq!(
            action(&incoming(
                vec![],
                "Action=ListQueues&Version=2012-11-05",
                b""
            )),
            Some("ListQueues")
        );
        let json = br#"{"QueueName":"Action=x"}"#;
        assert_eq!(action(&incoming(vec![], "", json)), None);
        let target = vec![("X-Amz-Target", "AmazonSQS.ListQueues")];
        assert_eq!(action(&incoming(target, "", form)), None);
    }

    #[test]
    fn the_refusal_is_an_xml_error_response() {
        let resp = refusal("SendMessage", "req-1");
        assert_eq!(resp.status(), 400);
        assert_eq!(resp.header("content-type"), Some("text/xml"));
        let body = String::from_utf8(resp.body().to_vec()).unwrap();
        assert!(body.starts_with("<?xml"), "{body}");
        assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
        assert!(body.contains("<RequestId>req-1</RequestId>"), "{body}");
        assert!(body.contains("this SendMessage request"), "{body}");
        assert!(body.contains("AmazonSQS.&lt;Action&gt;"), "{body}");
        let odd = refusal("<script>", "r");
        let body = String::from_utf8(odd.body().to_vec()).unwrap();
        assert!(!body.contains("<script>"), "{body}");
    }
}
