//! The engine over real HTTP, and requests the engine can't parse.

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use weir_local::LocalSqs;

// Real sockets: this test runs on the real clock (nothing in it sleeps).
#[tokio::test]
async fn sdk_over_http_gets_urls_pointing_at_the_server() {
    let sqs = LocalSqs::new();
    let server = sqs.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let conf = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDHTTP", "secret", None, None, "test"))
        .endpoint_url(server.endpoint_url())
        .build();
    let client = aws_sdk_sqs::Client::from_conf(conf);
    let url = client
        .create_queue()
        .queue_name("over-http")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    assert_eq!(
        url,
        format!("{}/000000000000/over-http", server.endpoint_url())
    );
    client
        .send_message()
        .queue_url(&url)
        .message_body("hi")
        .send()
        .await
        .unwrap();
    // The in-process client sees the same queues.
    let local = sqs.client();
    let got = local
        .receive_message()
        .queue_url(&url)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::SenderId)
        .send()
        .await
        .unwrap();
    assert_eq!(got.messages()[0].body(), Some("hi"));
    assert_eq!(
        got.messages()[0].attributes().unwrap()
            [&aws_sdk_sqs::types::MessageSystemAttributeName::SenderId],
        "AKIDHTTP"
    );
    let err = client
        .get_queue_url()
        .queue_name("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_queue_does_not_exist(), "{err:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn raw_http_without_target_gets_a_400() {
    let sqs = LocalSqs::new();
    let server = sqs.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let body = "Action=ListQueues&Version=2012-11-05";
    let req = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    // A query client parses an XML ErrorResponse, not a JSON body.
    let lower = resp.to_ascii_lowercase();
    assert!(lower.contains("content-type: text/xml"), "{resp}");
    let body = &resp[resp.find("\r\n\r\n").unwrap() + 4..];
    assert!(body.starts_with("<?xml"), "{body}");
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
    assert!(body.contains("this ListQueues request"), "{body}");
    assert!(body.contains("JSON protocol"), "{body}");
    server.shutdown().await;
}

#[tokio::test]
async fn raw_http_without_target_or_action_gets_a_json_400() {
    let sqs = LocalSqs::new();
    let server = sqs.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let body = "{}";
    let req = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert!(resp.contains("UnknownOperationException"), "{resp}");
    assert!(resp.contains("X-Amz-Target"), "{resp}");
    server.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn malformed_requests_get_a_400_not_a_panic() {
    let sqs = LocalSqs::new();
    let cases: [(&str, &[u8], &str); 6] = [
        (
            "AmazonSQS.CreateQueue",
            b"{not json",
            "SerializationException",
        ),
        (
            "AmazonSQS.SendMessage",
            b"[1,2,3]",
            "SerializationException",
        ),
        (
            "AmazonSQS.SendMessage",
            br#"{"QueueUrl": 5}"#,
            "SerializationException",
        ),
        ("AmazonSQS.Nope", b"{}", "UnknownOperationException"),
        ("Other.CreateQueue", b"{}", "UnknownOperationException"),
        ("AmazonSQS.CreateQueue", b"{}", "MissingParameter"),
    ];
    for (target, body, code) in cases {
        let resp = sqs.handle(target, body).await;
        assert_eq!(resp.status(), 400, "{target}");
        let q = resp.header("x-amzn-query-error").unwrap();
        assert_eq!(q, format!("{code};Sender"), "{target}");
        let json: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
        assert!(json["__type"].as_str().unwrap().contains('#'));
        assert!(!json["message"].as_str().unwrap().is_empty());
    }
    let ok = sqs.handle("AmazonSQS.ListQueues", b"").await;
    assert_eq!(ok.status(), 200);
}
