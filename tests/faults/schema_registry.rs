//! A slow Schema Registry (the real registry behind its own Toxiproxy proxy, 3 s of latency):
//! records whose schema is cached keep flowing; those that need the registry get 503 with
//! `Retry-After` within the registry timeout, never a hang; records with no schema are not
//! touched; when the latency goes, the registry's records are accepted again. Every record
//! acknowledged lands once; nothing refused lands.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::scenario::*;
use support::*;

const PROXY_LISTEN: &str = "127.0.0.1:19884";

fn registry_upstream() -> String {
    std::env::var("TEST_SCHEMA_REGISTRY_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:19881".into())
        .trim_start_matches("http://")
        .to_owned()
}

#[tokio::test]
async fn slow_registry_refuses_only_what_needs_it_in_bounded_time() {
    let proxy = Toxiproxy::at(&Toxiproxy::from_env().url, "schema-registry");
    proxy.create(PROXY_LISTEN, &registry_upstream()).await;
    let app = TestApp::spawn_with(
        &bootstrap(),
        &[
            ("SCHEMA_REGISTRY_URL", &format!("http://{PROXY_LISTEN}")),
            ("SCHEMA_REGISTRY_TIMEOUT_MS", "1000"),
            ("SCHEMA_REGISTRY_CACHE_TTL_MS", "500"),
        ],
    )
    .await;
    let topic = unique_topic("faults-registry");
    let subject = format!("{topic}-value");
    let mut tally = Tally::new("Schema Registry 3 s slower", "sync idempotent, Avro");
    let mut acknowledged = Vec::new();
    let mut seq = 0;
    let mut send = |body: serde_json::Value| {
        seq += 1;
        let key = numbered("k", seq);
        let mut body = body;
        body["topic"] = json!(topic);
        body["key"] = json!(key);
        (key, body)
    };

    // Healthy: the schema registered by its text, then used by id (cached) and by subject.
    let (key, body) =
        send(json!({"message": 1, "valueSchema": {"format": "AVRO", "schema": "\"long\""}}));
    let first = app.post_json("/api/v1/send", &body).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    acknowledged.push(key);
    let id = first.body["valueSchema"]["id"].as_u64().unwrap();
    tally.sent += 1;

    proxy
        .add("slow", "latency", "downstream", json!({"latency": 3000}))
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await; // the subject's latest expires
    for round in 0..5 {
        for (body, needs_registry) in [
            (json!({"message": round, "valueSchema": {"id": id}}), false),
            (
                json!({"message": round, "valueSchema": {"subject": subject}}),
                true,
            ),
            (json!({"message": format!("plain {round}")}), false),
        ] {
            let (key, body) = send(body);
            let started = Instant::now();
            let answer = app.post_json("/api/v1/send", &body).await;
            let took = started.elapsed();
            tally.sent += 1;
            tally.max_answer = tally.max_answer.max(took);
            if needs_registry {
                answer.assert_problem(503, "schema-registry-unavailable");
                assert!(
                    took < Duration::from_millis(2900),
                    "bounded by the registry timeout: {took:?}"
                );
                tally.refused += 1;
            } else {
                assert_eq!(answer.status, 200, "{:?}", answer.body);
                acknowledged.push(key);
                tally.acknowledged += 1;
            }
        }
    }
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, 200, "{:?}", ready.body);

    proxy.remove("slow").await;
    // Found down, the registry is asked again at most a second later (the `Retry-After`).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (key, body) = send(json!({"message": 9, "valueSchema": {"subject": subject}}));
    let recovered = app.post_json("/api/v1/send", &body).await;
    assert_eq!(recovered.status, 200, "{:?}", recovered.body);
    acknowledged.push(key);
    tally.sent += 1;
    tally.acknowledged += 2; // the first and the recovered record

    let records = read_topic(
        &bootstrap(),
        &topic,
        acknowledged.len(),
        Duration::from_secs(20),
    )
    .await;
    let keys: Vec<String> = records.iter().filter_map(|r| r.key.clone()).collect();
    for key in &acknowledged {
        let copies = keys.iter().filter(|k| *k == key).count();
        assert_eq!(copies, 1, "{key} lands once");
    }
    assert_eq!(
        record_count(&bootstrap(), &topic).await,
        acknowledged.len() as i64,
        "nothing refused landed"
    );
    tally.landed = records.len();
    tally.note = "cached schemas and plain records flowed; the registry's got 503 + Retry-After within its 1 s timeout".into();
    tally.report();
}
