//! OpenTelemetry export (builds with the `otlp` feature): the service's request spans reach a
//! real OpenTelemetry Collector (built by `scripts/otelcol` from the collector's Go modules),
//! joined to the caller's trace, with the ids the answer and the record carry.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use support::*;

const CALLER_TRACE: &str = "5af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN: &str = "b7ad6b7169203331";

/// A collector receiving OTLP/HTTP on a free port and writing what it gets as OTLP/JSON lines.
struct Collector {
    child: Child,
    endpoint: String,
    output: PathBuf,
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn script(args: &[&str]) -> String {
    let output = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/otelcol"))
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("scripts/otelcol runs");
    assert!(output.status.success(), "scripts/otelcol {args:?} failed");
    String::from_utf8(output.stdout).unwrap()
}

async fn start_collector(dir: &Path) -> Collector {
    let binary = script(&["bin"]).trim().to_owned();
    let (grpc, http) = (free_port(), free_port());
    let output = dir.join("spans.jsonl");
    let config = dir.join("otelcol.yaml");
    std::fs::write(
        &config,
        script(&[
            "config",
            &grpc.to_string(),
            &http.to_string(),
            output.to_str().unwrap(),
        ]),
    )
    .unwrap();
    let child = Command::new(binary)
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("otelcol.log")).unwrap())
        .spawn()
        .expect("the collector starts");
    let endpoint = format!("http://127.0.0.1:{http}");
    // Ready once its OTLP/HTTP receiver answers (405 to a GET).
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client
        .get(format!("{endpoint}/v1/traces"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the collector did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Collector {
        child,
        endpoint,
        output,
    }
}

/// Every span the collector wrote, with its resource's `service.name`.
fn exported_spans(output: &Path) -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(output).unwrap_or_default();
    let mut spans = Vec::new();
    // Only whole lines: the exporter may be half-way through writing the last one.
    for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        let batch: Value = serde_json::from_str(line).expect("an OTLP/JSON line");
        for resource in batch["resourceSpans"].as_array().into_iter().flatten() {
            let service = resource["resource"]["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["key"] == "service.name")
                .and_then(|a| a["value"]["stringValue"].as_str())
                .unwrap_or_default()
                .to_owned();
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    spans.push((service.clone(), span.clone()));
                }
            }
        }
    }
    spans
}

fn attribute<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

#[tokio::test]
async fn request_spans_are_exported_to_a_real_collector_joined_to_the_callers_trace() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("otlp-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let collector = start_collector(&dir).await;
    let (mut child, base) = start_binary(
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", bootstrap()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint.clone()),
            ("OTEL_SERVICE_NAME", "orders-gateway".into()),
            ("OTEL_BSP_SCHEDULE_DELAY", "200".into()),
        ],
        &dir.join("service.log"),
    )
    .await;
    let client = reqwest::Client::new();
    let topic = unique_topic("otlp");

    let joined = client
        .post(format!("{base}/api/v1/send"))
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .json(&json!({"topic": topic, "key": "joined", "message": "m"}))
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 200);
    let joined: Vec<String> = joined.headers()["traceparent"]
        .to_str()
        .unwrap()
        .split('-')
        .map(String::from)
        .collect();
    assert_eq!(joined[1], CALLER_TRACE);
    let root = client
        .post(format!("{base}/api/v1/test/plain-async"))
        .json(&json!({"topic": topic, "key": "root", "message": "m"}))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 202);
    let root: Vec<String> = root.headers()["traceparent"]
        .to_str()
        .unwrap()
        .split('-')
        .map(String::from)
        .collect();
    let refused = client
        .post(format!("{base}/api/v1/send"))
        .json(&json!({"topic": "__consumer_offsets"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // The records name the exported spans.
    let records = read_topic(&bootstrap(), &topic, 2, Duration::from_secs(20)).await;
    assert_eq!(records.len(), 2);
    for (key, ids) in [("joined", &joined), ("root", &root)] {
        let record = records
            .iter()
            .find(|r| r.key.as_deref() == Some(key))
            .unwrap();
        assert_eq!(record.header("traceparent"), Some(ids.join("-").as_str()));
    }

    // The spans arrive within the batch delay; SIGTERM flushes what is left.
    let find = |spans: &[(String, Value)], trace: &str, span: &str| {
        spans
            .iter()
            .find(|(_, s)| s["traceId"] == trace && s["spanId"] == span)
            .cloned()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut spans = exported_spans(&collector.output);
    while find(&spans, &joined[1], &joined[2]).is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        spans = exported_spans(&collector.output);
    }
    sigterm(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(15)).success());
    std::thread::sleep(Duration::from_millis(500));
    let spans = exported_spans(&collector.output);

    let (service, span) = find(&spans, &joined[1], &joined[2])
        .unwrap_or_else(|| panic!("no span {joined:?} in {spans:#?}"));
    assert_eq!(service, "orders-gateway");
    assert_eq!(
        span["parentSpanId"], CALLER_SPAN,
        "a child of the caller's span"
    );
    assert_eq!(span["name"], "POST /api/v1/send");
    assert_eq!(span["kind"], 2, "SPAN_KIND_SERVER");
    assert_eq!(
        attribute(&span, "http.response.status_code").and_then(|v| v["intValue"].as_str()),
        Some("200")
    );

    let (_, span) = find(&spans, &root[1], &root[2])
        .unwrap_or_else(|| panic!("no span {root:?} in {spans:#?}"));
    assert!(
        span.get("parentSpanId").is_none_or(|p| p == ""),
        "a root span"
    );
    assert_eq!(span["name"], "POST /api/v1/test/{mode}");

    let refused = spans
        .iter()
        .filter(|(_, s)| {
            attribute(s, "http.response.status_code").and_then(|v| v["intValue"].as_str())
                == Some("403")
        })
        .count();
    assert_eq!(refused, 1, "the refused request is traced too");
    // Only the service's own spans: no library's.
    assert!(spans.iter().all(|(service, _)| service == "orders-gateway"));
    let sends = spans
        .iter()
        .filter(|(_, s)| s["name"].as_str().is_some_and(|n| n.starts_with("POST")))
        .count();
    assert_eq!(sends, 3, "one span per request: {spans:#?}");
}
