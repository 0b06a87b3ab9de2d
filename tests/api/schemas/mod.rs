//! Records with Schema Registry schemas, on the real broker and the real registry (the AxonOps
//! Schema Registry, started by `scripts/test`), read back by Confluent's own Python client and
//! its deserializers (`read_back.py`): every format on every API, by id, by subject and by its
//! text; evolution; the registry down, behind a dead URL, refusing the service's credentials.

mod avro;
mod protobuf_json;
mod registry;

use std::path::Path;

use serde_json::{json, Value};

use support::*;

/// The test registry (`scripts/test` starts it).
pub fn registry_url() -> String {
    std::env::var("TEST_SCHEMA_REGISTRY_URL").unwrap_or_else(|_| "http://127.0.0.1:19881".into())
}

/// The service, on the test broker and the test registry.
pub async fn app() -> TestApp {
    TestApp::spawn_with(&bootstrap(), &[("SCHEMA_REGISTRY_URL", &registry_url())]).await
}

/// Registers `schema` under `subject` straight with the registry, and returns its id.
pub async fn register(subject: &str, schema_type: &str, schema: &str) -> u64 {
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/subjects/{subject}/versions", registry_url()))
        .header("content-type", "application/vnd.schemaregistry.v1+json")
        .json(&json!({"schema": schema, "schemaType": schema_type}))
        .send()
        .await
        .expect("the registry answers")
        .json()
        .await
        .unwrap();
    answer["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("registered: {answer}"))
}

/// The topic's records, decoded by Confluent's Python deserializers, in partition and offset
/// order. A kind is `string`, `avro`, `json` or `protobuf:<Message>` (of `proto`).
pub async fn read_back(
    topic: &str,
    count: usize,
    key_kind: &str,
    value_kind: &str,
    proto: Option<&Path>,
) -> Vec<Value> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/api/schemas/read_back.py"
    );
    let mut args: Vec<String> = vec![
        script.into(),
        bootstrap(),
        registry_url(),
        topic.into(),
        count.to_string(),
        key_kind.into(),
        value_kind.into(),
    ];
    if let Some(proto) = proto {
        args.push(proto.display().to_string());
    }
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args(&args)
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "read_back.py (confluent-kafka from PyPI, scripts/test installs it): {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut records: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON record a line"))
        .collect();
    records.sort_by_key(|r| (r["partition"].as_i64(), r["offset"].as_i64()));
    assert_eq!(records.len(), count, "{records:#?}");
    records
}

/// The decoded values, in any order, as a sorted list of their JSON texts (to compare with
/// what was sent, whatever partition each went to).
pub fn values_of(records: &[Value]) -> Vec<String> {
    let values: Vec<Value> = records.iter().map(|r| r["value"].clone()).collect();
    sorted(&values)
}

/// JSON texts with their object keys in order, sorted: equal for the same values in any order.
pub fn sorted(values: &[Value]) -> Vec<String> {
    fn canonical(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), canonical(&map[k])))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    let mut texts: Vec<String> = values.iter().map(|v| canonical(v).to_string()).collect();
    texts.sort();
    texts
}

/// The v3 path of a topic on the test cluster.
pub async fn v3_path(app: &TestApp, topic: &str) -> String {
    let clusters = app.get("/v3/clusters").await;
    let cluster = clusters.body["data"][0]["cluster_id"]
        .as_str()
        .expect("a cluster id")
        .to_owned();
    format!("/v3/clusters/{cluster}/topics/{topic}/records")
}

/// POSTs a v2 body with a schema content type.
pub async fn v2(app: &TestApp, topic: &str, format: &str, body: &Value) -> Answer {
    app.request(
        reqwest::Method::POST,
        &format!("/topics/{topic}"),
        Some(body.to_string()),
        Some(&format!("application/vnd.kafka.{format}.v2+json")),
    )
    .await
}
