//! The registry as the service meets it: down (503 with `Retry-After` for the records that need
//! it, the others still sent, readiness still 200 and saying so), behind a dead URL (the next one
//! answers), refusing the service's credentials, not configured at all.

use serde_json::json;

use super::*;

/// A URL where nothing listens.
fn dead_url() -> String {
    format!("http://127.0.0.1:{}", support::process::free_port())
}

fn schema_record(topic: &str, n: i64) -> serde_json::Value {
    json!({"topic": topic, "key": format!("k{n}"), "message": n,
        "valueSchema": {"format": "AVRO", "schema": "\"long\""}})
}

#[tokio::test]
async fn registry_down_refuses_only_the_records_that_need_it() {
    let dead = dead_url();
    let app = TestApp::spawn_with(
        &bootstrap(),
        &[
            ("SCHEMA_REGISTRY_URL", &dead),
            ("SCHEMA_REGISTRY_TIMEOUT_MS", "1000"),
        ],
    )
    .await;
    let topic = unique_topic("registry-down");
    let refused = app
        .post_json("/api/v1/send", &schema_record(&topic, 1))
        .await;
    refused.assert_problem(503, "schema-registry-unavailable");
    let plain = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "key": "plain", "message": "no schema"}),
        )
        .await;
    assert_eq!(plain.status, 200, "{:?}", plain.body);
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, 200, "{:?}", ready.body);
    assert_eq!(ready.body["schemaRegistry"], "down");
    // v2 and v3 say it in their own words.
    let v2_answer = v2(
        &app,
        &topic,
        "avro",
        &json!({"value_schema": "\"long\"", "records": [{"value": 1}]}),
    )
    .await;
    assert_eq!(
        (v2_answer.status.as_u16(), &v2_answer.body["error_code"]),
        (503, &json!(50003))
    );
    assert!(v2_answer.headers.contains_key("retry-after"));
    let metrics = app.get("/metrics").await;
    let text = metrics.body.as_str().unwrap_or_default();
    assert!(
        text.contains(
            r#"kafka_producer_schema_registry_calls_total{lookup="register",outcome="error"}"#
        ),
        "{text}"
    );

    let records = read_topic(&bootstrap(), &topic, 1, std::time::Duration::from_secs(20)).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key.as_deref(), Some("plain"));
    assert_eq!(
        record_count(&bootstrap(), &topic).await,
        1,
        "nothing of a refused record"
    );
}

#[tokio::test]
async fn a_dead_url_fails_over_to_the_next_and_lookups_are_cached() {
    let urls = format!("{},{}", dead_url(), registry_url());
    let app = TestApp::spawn_with(&bootstrap(), &[("SCHEMA_REGISTRY_URL", &urls)]).await;
    let topic = unique_topic("registry-failover");
    for n in 0..3 {
        let answer = app
            .post_json("/api/v1/send", &schema_record(&topic, n))
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.body["schemaRegistry"], "up");
    let metrics = app.get("/metrics").await;
    let text = metrics.body.as_str().unwrap_or_default();
    // The text was registered once; the later records found it in the cache.
    assert!(
        text.contains(r#"schema_registry_cache_lookups_total{lookup="register",result="hit"} 2"#),
        "{text}"
    );
    let records = read_back(&topic, 3, "string", "avro", None).await;
    let mut values: Vec<i64> = records
        .iter()
        .map(|r| r["value"].as_i64().unwrap())
        .collect();
    values.sort();
    assert_eq!(values, [0, 1, 2]);
}

#[tokio::test]
async fn credentials_the_registry_refuses_and_no_registry_at_all() {
    let url = std::env::var("TEST_SCHEMA_REGISTRY_AUTH_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:19882".into());
    let topic = unique_topic("registry-auth");
    let wrong = TestApp::spawn_with(
        &bootstrap(),
        &[
            ("SCHEMA_REGISTRY_URL", &url),
            (
                "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO",
                "registry-user:schema-registry-password-wrong",
            ),
        ],
    )
    .await;
    let refused = wrong
        .post_json("/api/v1/send", &schema_record(&topic, 1))
        .await;
    refused.assert_problem(502, "schema-registry-refused");
    assert!(
        !refused
            .body
            .to_string()
            .contains("schema-registry-password"),
        "no secret in an answer"
    );

    let right = TestApp::spawn_with(
        &bootstrap(),
        &[
            ("SCHEMA_REGISTRY_URL", &url),
            (
                "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO",
                "registry-user:registry-secret",
            ),
        ],
    )
    .await;
    let answer = right
        .post_json("/api/v1/send", &schema_record(&topic, 2))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);

    let none = TestApp::spawn().await;
    let refused = none
        .post_json("/api/v1/send", &schema_record(&topic, 3))
        .await;
    refused.assert_problem(422, "schema-registry-not-configured");
    let v2_answer = v2(
        &none,
        &topic,
        "protobuf",
        &json!({"value_schema_id": 1, "records": [{"value": {}}]}),
    )
    .await;
    assert_eq!(
        (v2_answer.status.as_u16(), &v2_answer.body["error_code"]),
        (422, &json!(42206))
    );
    assert_eq!(record_count(&bootstrap(), &topic).await, 1);
}

#[tokio::test]
async fn under_a_record_name_a_schema_is_looked_up_never_registered() {
    let app = app().await;
    let topic = unique_topic("record-name");
    let name = format!("shop.{}", topic.replace('-', "_"));
    let (namespace, short) = name.rsplit_once('.').unwrap();
    let schema = format!(
        r#"{{"type":"record","name":"{short}","namespace":"{namespace}","fields":[{{"name":"n","type":"int"}}]}}"#
    );
    let body = json!({"topic": topic, "key": "k", "message": {"n": 1},
        "valueSchema": {"schema": schema, "subjectNameStrategy": "RECORD_NAME"}});
    let unknown = app.post_json("/api/v1/send", &body).await;
    unknown.assert_problem(404, "schema-not-found");
    let id = register(&name, "AVRO", &schema).await;
    let known = app.post_json("/api/v1/send", &body).await;
    assert_eq!(known.status, 200, "{:?}", known.body);
    assert_eq!(known.body["valueSchema"]["id"], id);
    assert_eq!(known.body["valueSchema"]["subject"], name.as_str());
    assert_eq!(record_count(&bootstrap(), &topic).await, 1);
}
