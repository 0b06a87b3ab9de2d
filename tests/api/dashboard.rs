//! The Grafana dashboard (`k8s/monitoring/grafana-dashboard.json`) queries metric names that
//! `GET /metrics` really exposes.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use support::*;

/// Every `kafka_producer_*` name in the dashboard's queries.
fn queried_names(dashboard: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(at) = rest.find("kafka_producer_") {
                let name: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                rest = &rest[at + name.len()..];
                names.insert(name);
            }
        }
    }
    names
}

/// The sample names of a scrape (`name{labels} value` or `name value`).
fn exposed_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap().to_owned())
        .collect()
}

/// The label names each sample name carries in a scrape.
fn exposed_labels(text: &str) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut labels: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let name = line.split(['{', ' ']).next().unwrap().to_owned();
        let set = labels.entry(name).or_default();
        if let Some((_, rest)) = line.split_once('{') {
            let inside = rest.split_once('}').map_or("", |(inside, _)| inside);
            for pair in inside.split("\",") {
                if let Some((label, _)) = pair.split_once('=') {
                    set.insert(label.trim_start_matches(',').to_owned());
                }
            }
        }
    }
    labels
}

/// Each query's `by (...)` labels with the metric names of that query.
fn grouped_labels(dashboard: &Value) -> Vec<(String, Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let names: Vec<String> = queried_names(&json!({"panels": [{"targets": [target]}]}))
                .into_iter()
                .collect();
            let mut labels = Vec::new();
            let mut rest = expr;
            while let Some(at) = rest.find("by (") {
                let after = &rest[at + 4..];
                let inside = after.split_once(')').map_or("", |(inside, _)| inside);
                labels.extend(
                    inside
                        .split(',')
                        .map(|l| l.trim().to_owned())
                        .filter(|l| !l.is_empty() && l != "le"),
                );
                rest = after;
            }
            out.push((expr.to_owned(), names, labels));
        }
    }
    out
}

#[tokio::test]
async fn every_metric_the_dashboard_queries_is_exposed() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/k8s/monitoring/grafana-dashboard.json"
    );
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let queried = queried_names(&dashboard);
    assert!(queried.len() >= 10, "{queried:?}");

    let app = TestApp::spawn_with(&bootstrap(), &[("KAFKA_STATISTICS_INTERVAL_MS", "200")]).await;
    let topic = unique_topic("dashboard");
    // A delivered record, a failed one (no such partition) and a refused request.
    let ok = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "key": "k", "message": "m"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    let failed = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "key": "k", "message": "m", "partition": 99}),
        )
        .await;
    failed.assert_problem(404, "partition-not-found");
    app.post_json("/api/v1/send", &json!({"topic": "no spaces"}))
        .await
        .assert_problem(400, "invalid-topic");

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = app.get("/metrics").await.body.as_str().unwrap().to_owned();
        let exposed = exposed_names(&text);
        let missing: Vec<&String> = queried.iter().filter(|n| !exposed.contains(*n)).collect();
        if missing.is_empty() {
            // And every label a query groups by is a label of its metrics.
            let labels = exposed_labels(&text);
            for (expr, names, grouped) in grouped_labels(&dashboard) {
                for label in grouped {
                    assert!(
                        names
                            .iter()
                            .any(|n| labels.get(n).is_some_and(|l| l.contains(&label))),
                        "`by ({label})` in {expr}: no such label on {names:?}\n{text}"
                    );
                }
            }
            break;
        }
        assert!(
            Instant::now() < deadline,
            "queried by the dashboard but not exposed: {missing:?}\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.stop().await;
}
