//! Who may send and where (API keys, topic allow-lists, internal topics), the limits (headers,
//! concurrency, deadline, producer queue) and CORS, on the embedded cluster. Every refusal is
//! checked on the cluster too: nothing was produced.

use std::time::Duration;

use serde_json::json;

use support::*;

use crate::embedded::bootstrap;

const APP_KEY: &str = "app-key-0f3c9a7e51d2";
const AUDIT_KEY: &str = "audit-key-88b1e0c4d7a6";

fn keys() -> String {
    format!("app:{APP_KEY}\naudit:{AUDIT_KEY}:audit-*")
}

async fn send(app: &TestApp, topic: &str, headers: &[(&str, &str)]) -> Answer {
    app.post_with_headers(
        "/api/v1/send",
        &json!({"topic": topic, "key": "k", "message": "m"}),
        headers,
    )
    .await
}

/// The topic holds no record (auto-creation would have made it on any produce attempt).
async fn assert_nothing_on(topic: &str) {
    assert_eq!(record_count(&bootstrap(), topic).await, 0, "{topic}");
    assert_eq!(partitions(&bootstrap(), topic), None, "{topic} was created");
}

#[tokio::test]
async fn with_keys_on_a_request_needs_a_known_key() {
    let app = TestApp::spawn_with(&bootstrap(), &[("API_KEYS", &keys())]).await;
    let topic = unique_topic("auth");

    let none = send(&app, &topic, &[]).await;
    none.assert_problem(401, "unauthorized");
    assert_eq!(
        none.headers["www-authenticate"],
        "Bearer realm=\"kafka-producer\""
    );
    let wrong_key = format!("{APP_KEY}x");
    for headers in [
        vec![("authorization", format!("Bearer {wrong_key}"))],
        vec![("x-api-key", wrong_key.clone())],
        vec![("authorization", format!("Basic {APP_KEY}"))],
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        send(&app, &topic, &headers)
            .await
            .assert_problem(401, "unauthorized");
    }
    // The shortcuts are behind the same gate.
    app.post_json(
        &format!("/api/v1/test/plain?topic={topic}&key=k&message=m"),
        &json!(null),
    )
    .await
    .assert_problem(401, "unauthorized");
    assert_nothing_on(&topic).await;

    // Probes, metrics and documentation stay open.
    for path in ["/health", "/metrics", "/api/v1/status", "/openapi.json"] {
        assert_eq!(app.get(path).await.status, 200, "{path}");
    }

    let bearer = format!("Bearer {APP_KEY}");
    let ok = send(&app, &topic, &[("authorization", &bearer)]).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    let ok = send(&app, &topic, &[("x-api-key", APP_KEY)]).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    let records = read_topic(&bootstrap(), &topic, 2, Duration::from_secs(15)).await;
    assert_eq!(records.len(), 2);
    assert!(records
        .iter()
        .all(|r| r.key.as_deref() == Some("k") && r.value == "m"));
}

#[tokio::test]
async fn a_key_writes_only_to_its_topics_and_the_allow_list() {
    let dir = tempdir("keys-file");
    let file = dir.join("api-keys");
    std::fs::write(&file, format!("# mounted secret\n{}\n", keys())).unwrap();
    let app = TestApp::spawn_with(
        &bootstrap(),
        &[
            ("API_KEYS_FILE", file.to_str().unwrap()),
            ("ALLOWED_TOPICS", "audit-*, orders-*"),
        ],
    )
    .await;
    let audit = unique_topic("audit");
    let orders = unique_topic("orders");
    let elsewhere = unique_topic("payments");

    // The audit key: its own topics only, even where the global list allows more.
    let refused = send(&app, &orders, &[("x-api-key", AUDIT_KEY)]).await;
    refused.assert_problem(403, "topic-forbidden");
    assert_eq!(refused.body["field"], "topic");
    assert_nothing_on(&orders).await;
    assert_eq!(
        send(&app, &audit, &[("x-api-key", AUDIT_KEY)]).await.status,
        200
    );

    // The app key: any topic of the global list, none outside it.
    assert_eq!(
        send(&app, &orders, &[("x-api-key", APP_KEY)]).await.status,
        200
    );
    send(&app, &elsewhere, &[("x-api-key", APP_KEY)])
        .await
        .assert_problem(403, "topic-forbidden");
    app.post_with_headers(
        &format!("/api/v1/test/idempotent?topic={elsewhere}&key=k&message=m"),
        &json!(null),
        &[("x-api-key", APP_KEY)],
    )
    .await
    .assert_problem(403, "topic-forbidden");
    assert_nothing_on(&elsewhere).await;

    for topic in [&audit, &orders] {
        let records = read_topic(&bootstrap(), topic, 1, Duration::from_secs(15)).await;
        assert_eq!(records.len(), 1, "{topic}");
    }
    let metrics = app.get("/metrics").await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    let rejected = text
        .lines()
        .find(|l| l.starts_with("kafka_producer_rejected_requests_total"))
        .unwrap_or_else(|| panic!("no rejected count in {text}"));
    assert!(rejected.ends_with(" 3"), "{rejected}");
}

#[tokio::test]
async fn internal_topics_are_always_refused() {
    let app = TestApp::spawn_with(&bootstrap(), &[]).await;
    let internal = format!("__{}", unique_topic("internal"));
    for topic in [
        "__consumer_offsets",
        "__transaction_state",
        internal.as_str(),
    ] {
        send(&app, topic, &[])
            .await
            .assert_problem(403, "topic-forbidden");
    }
    assert_nothing_on(&internal).await;
}

#[tokio::test]
async fn record_headers_are_limited_in_number_and_size() {
    let app = TestApp::spawn_with(
        &bootstrap(),
        &[("MAX_RECORD_HEADERS", "3"), ("MAX_HEADER_BYTES", "64")],
    )
    .await;
    let topic = unique_topic("header-limits");
    let body = |headers: serde_json::Value| json!({"topic": topic, "key": "k", "message": "m", "headers": headers});
    let too_many = app
        .post_json(
            "/api/v1/send",
            &body(json!({"a": "1", "b": "2", "c": "3", "d": "4"})),
        )
        .await;
    too_many.assert_problem(413, "headers-too-large");
    assert!(too_many.body["detail"]
        .as_str()
        .unwrap()
        .contains("MAX_RECORD_HEADERS"));
    let too_big = app
        .post_json("/api/v1/send", &body(json!({"a": "x".repeat(64)})))
        .await;
    too_big.assert_problem(413, "headers-too-large");
    assert_nothing_on(&topic).await;

    let within = app
        .post_json(
            "/api/v1/send",
            &body(json!({"a": "1", "b": "2", "c": "x".repeat(58)})),
        )
        .await;
    assert_eq!(within.status, 200, "{:?}", within.body);
    let records = read_topic(&bootstrap(), &topic, 1, Duration::from_secs(15)).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].header("c"), Some("x".repeat(58).as_str()));
}

#[tokio::test]
async fn sends_over_the_concurrency_limit_are_shed_and_probes_still_answer() {
    // Each sync send holds its slot for the linger time.
    let app = TestApp::spawn_with(
        &bootstrap(),
        &[
            ("MAX_CONCURRENT_REQUESTS", "2"),
            ("KAFKA_LINGER_MS", "1500"),
        ],
    )
    .await;
    let topic = unique_topic("shed");
    let sends: Vec<_> = (0..6)
        .map(|i| {
            let request = app
                .client
                .post(format!("{}/api/v1/send", app.base))
                .json(&json!({"topic": topic, "key": format!("k{i}"), "message": "m"}));
            tokio::spawn(async move {
                answer_of(request.send().await.unwrap(), std::time::Instant::now()).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = app.get("/health").await;
    let mut answers = Vec::new();
    for send in sends {
        answers.push(send.await.unwrap());
    }
    assert_eq!(health.status, 200, "the probe must not be shed");
    let accepted = answers.iter().filter(|a| a.status == 200).count();
    let shed: Vec<&Answer> = answers.iter().filter(|a| a.status == 503).collect();
    assert_eq!(accepted, 2, "{answers:?}");
    assert_eq!(shed.len(), 4, "{answers:?}");
    for answer in shed {
        answer.assert_problem(503, "overloaded");
        assert_eq!(answer.headers["retry-after"], "1");
    }
    let records = read_topic(&bootstrap(), &topic, 2, Duration::from_secs(15)).await;
    assert_eq!(records.len(), 2);
    // The slots are free again once the sends are answered.
    let again = app
        .post_json("/api/v1/send", &json!({"topic": topic, "key": "again"}))
        .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
}

#[tokio::test]
async fn a_request_past_its_deadline_answers_504() {
    let app = TestApp::spawn_with(
        &bootstrap(),
        &[("REQUEST_TIMEOUT_MS", "300"), ("KAFKA_LINGER_MS", "1500")],
    )
    .await;
    let topic = unique_topic("deadline");
    let answer = app
        .post_json("/api/v1/send", &json!({"topic": topic, "key": "k"}))
        .await;
    answer.assert_problem(504, "deadline-exceeded");
    assert!(answer.elapsed < Duration::from_millis(1400), "{answer:?}");
}

#[tokio::test]
async fn a_full_producer_queue_answers_503_with_retry_after() {
    // Room for one record, held back by the linger time.
    let app = TestApp::spawn_with(
        &bootstrap(),
        &[
            ("KAFKA_QUEUE_BUFFERING_MAX_MESSAGES", "1"),
            ("KAFKA_LINGER_MS", "2000"),
            ("ENQUEUE_TIMEOUT_MS", "100"),
        ],
    )
    .await;
    let topic = unique_topic("queue-full");
    let body = |key: &str| json!({"topic": topic, "key": key, "isAsync": true});
    let first = app.post_json("/api/v1/send", &body("first")).await;
    assert_eq!(first.status, 202, "{:?}", first.body);
    let second = app.post_json("/api/v1/send", &body("second")).await;
    second.assert_problem(503, "producer-queue-full");
    assert_eq!(second.body["retryable"], true);
    let records = read_topic(&bootstrap(), &topic, 1, Duration::from_secs(15)).await;
    let keys: Vec<_> = records.iter().map(|r| r.key.clone().unwrap()).collect();
    assert_eq!(keys, ["first"]);
}

#[tokio::test]
async fn cors_is_off_by_default_and_allows_only_the_configured_origins() {
    let preflight = |app: &TestApp, origin: &str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/v1/send", app.base),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
    };
    let off = TestApp::spawn_with(&bootstrap(), &[]).await;
    let answer = preflight(&off, "https://app.example.com").await.unwrap();
    assert!(answer
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    let on = TestApp::spawn_with(
        &bootstrap(),
        &[(
            "CORS_ALLOWED_ORIGINS",
            "https://app.example.com, https://ops.example.com",
        )],
    )
    .await;
    let allowed = preflight(&on, "https://app.example.com").await.unwrap();
    assert!(allowed.status().is_success(), "{allowed:?}");
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let allow_headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allow_headers.contains("authorization"), "{allow_headers}");
    let other = preflight(&on, "https://evil.example.net").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let topic = unique_topic("cors");
    let sent = on
        .client
        .post(format!("{}/api/v1/send", on.base))
        .header("origin", "https://ops.example.com")
        .json(&json!({"topic": topic, "key": "k"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    assert_eq!(
        sent.headers()["access-control-allow-origin"],
        "https://ops.example.com"
    );
    let exposed = sent.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");
}

/// A fresh folder under the test target's temporary directory.
fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn keys_never_show_in_logs_status_or_answers() {
    let dir = tempdir("key-hygiene");
    let log = dir.join("service.log");
    let wrong = "wrong-key-5e1f0a9b3c7d";
    let (mut child, base) = start_binary(
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", bootstrap()),
            ("API_KEYS", keys()),
            ("LOG_LEVEL", "debug".into()),
        ],
        &log,
    )
    .await;
    let client = reqwest::Client::new();
    let topic = unique_topic("hygiene");
    let mut answers = String::new();
    for (header, value) in [
        ("authorization", format!("Bearer {APP_KEY}")),
        ("x-api-key", wrong.to_owned()),
        ("authorization", format!("Bearer {wrong}")),
        ("x-api-key", AUDIT_KEY.to_owned()),
    ] {
        let response = client
            .post(format!("{base}/api/v1/send"))
            .header(header, &value)
            .json(&json!({"topic": topic, "key": "k"}))
            .send()
            .await
            .unwrap();
        answers.push_str(&format!("{:?}", response.headers()));
        answers.push_str(&response.text().await.unwrap());
    }
    answers.push_str(
        &client
            .get(format!("{base}/api/v1/status"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    answers.push_str(
        &client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    sigterm(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(15)).success());
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(output.contains("API keys on"), "{output}");
    assert!(output.contains("request refused"), "{output}");
    for secret in [APP_KEY, AUDIT_KEY, wrong] {
        assert!(!output.contains(secret), "{secret} in the log:\n{output}");
        assert!(
            !answers.contains(secret),
            "{secret} in an answer:\n{answers}"
        );
    }

    // A malformed entry stops the start-up, naming the setting, not the key.
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_kafka-producer"))
        .env_clear()
        .env("KAFKA_BOOTSTRAP_SERVERS", bootstrap())
        .env("API_KEYS", format!("{APP_KEY}\nshort:abc"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("API_KEYS"), "{stderr}");
    assert!(!stderr.contains(APP_KEY), "{stderr}");
}
