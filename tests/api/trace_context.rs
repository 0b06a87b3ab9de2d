//! The request id and the W3C trace context: answered in headers, carried into the records,
//! and on the log lines of the request (delivery reports of async sends included).

use std::time::Duration;

use serde_json::{json, Value};

use support::*;

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

async fn post_with(
    app: &TestApp,
    path: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app.client.post(format!("{}{path}", app.base)).json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers()[name].to_str().unwrap().to_owned()
}

/// `00-<trace>-<span>-<flags>` split in its four parts, checked for form.
fn parts(traceparent: &str) -> Vec<String> {
    let parts: Vec<String> = traceparent.split('-').map(String::from).collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[0], "00");
    assert_eq!(parts[1].len(), 32);
    assert_eq!(parts[2].len(), 16);
    assert!(traceparent
        .bytes()
        .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    parts
}

#[tokio::test]
async fn the_callers_trace_is_continued_into_the_record() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("trace");
    let response = post_with(
        &app,
        "/api/v1/send",
        json!({"topic": topic, "key": "k1", "message": "m"}),
        &[
            (
                "traceparent",
                &format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"),
            ),
            ("tracestate", "vendor=abc"),
            ("x-request-id", "caller-request-42"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-request-id"), "caller-request-42");
    let answered = header(&response, "traceparent");
    let p = parts(&answered);
    assert_eq!(p[1], CALLER_TRACE, "same trace");
    assert_ne!(p[2], CALLER_SPAN, "a span of the service's own");
    assert_eq!(p[3], "01", "the caller's flags");

    let records = read_topic(&bootstrap(), &topic, 1, Duration::from_secs(20)).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].header("traceparent"), Some(answered.as_str()));
    assert_eq!(records[0].header("tracestate"), Some("vendor=abc"));
    assert_service_headers(&records[0], "idempotent", "sync");
}

#[tokio::test]
async fn without_a_valid_trace_a_new_one_starts_and_ids_are_made_up() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("trace-new");
    let mut answered = Vec::new();
    for (key, headers) in [
        ("none", vec![]),
        (
            "invalid",
            vec![
                ("traceparent", "00-zzzz-1-01"),
                ("tracestate", "vendor=abc"),
            ],
        ),
    ] {
        let response = post_with(
            &app,
            "/api/v1/test/plain",
            json!({"topic": topic, "key": key, "message": "m"}),
            &headers,
        )
        .await;
        assert_eq!(response.status(), 200, "{key}");
        let id = header(&response, "x-request-id");
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{key}: {id}");
        let traceparent = header(&response, "traceparent");
        let p = parts(&traceparent);
        assert_ne!(p[1], "0".repeat(32));
        answered.push((key, traceparent, id));
    }
    assert_ne!(answered[0].1, answered[1].1, "each request its own trace");
    assert_ne!(answered[0].2, answered[1].2, "each request its own id");

    let records = read_topic(&bootstrap(), &topic, 2, Duration::from_secs(20)).await;
    assert_eq!(records.len(), 2);
    for (key, traceparent, _) in &answered {
        let record = records
            .iter()
            .find(|r| r.key.as_deref() == Some(key))
            .unwrap();
        assert_eq!(record.header("traceparent"), Some(traceparent.as_str()));
        assert_eq!(record.header("tracestate"), None, "not continued: dropped");
    }
}

#[tokio::test]
async fn trace_headers_given_in_the_body_are_kept_as_given() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("trace-body");
    let given = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-00");
    let response = post_with(
        &app,
        "/api/v1/send",
        json!({"topic": topic, "key": "k", "message": "m", "headers": {"traceparent": given}}),
        &[(
            "traceparent",
            "00-11111111111111111111111111111111-2222222222222222-01",
        )],
    )
    .await;
    assert_eq!(response.status(), 200);
    let records = read_topic(&bootstrap(), &topic, 1, Duration::from_secs(20)).await;
    let traceparents: Vec<&(String, String)> = records[0]
        .headers
        .iter()
        .filter(|(n, _)| n == "traceparent")
        .collect();
    assert_eq!(traceparents.len(), 1, "{:?}", records[0].headers);
    assert_eq!(traceparents[0].1, given);
}

#[tokio::test]
async fn every_log_line_of_a_request_carries_its_id_even_the_async_delivery() {
    let topic = unique_topic("trace-log");
    let log = std::env::temp_dir().join(format!("kp-trace-log-{}.log", std::process::id()));
    let (mut child, base) = start_binary(
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", bootstrap()),
            ("LOG_FORMAT", "json".into()),
            ("LOG_LEVEL", "debug".into()),
        ],
        &log,
    )
    .await;
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/send"))
        .header("x-request-id", "req-under-test-7")
        .json(&json!({"topic": topic, "key": "k", "message": "m", "isAsync": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let records = read_topic(&bootstrap(), &topic, 1, Duration::from_secs(20)).await;
    assert_eq!(records.len(), 1);
    sigterm(&child);
    wait_exit(&mut child, Duration::from_secs(15));

    let output = std::fs::read_to_string(&log).unwrap();
    // The request's lines: those logged inside the HTTP layer's span for POST /api/v1/send
    // (the async delivery report included). Every one must carry the request id.
    let lines: Vec<Value> = output
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|l: &Value| {
            l["spans"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["uri"] == "/api/v1/send"))
        })
        .collect();
    assert!(
        lines.len() >= 3,
        "the request logged its start, its end and the delivery:\n{output}"
    );
    for line in &lines {
        let spans = line["spans"].as_array().unwrap();
        assert!(
            spans.iter().any(|s| s["request_id"] == "req-under-test-7"),
            "a line of the request without its id: {line}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "record delivered"),
        "the delivery report is among them:\n{output}"
    );
}
