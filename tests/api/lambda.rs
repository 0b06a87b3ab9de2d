//! The binary as a Lambda function under `cargo lambda watch` (the Lambda runtime emulator),
//! reached through its function-URL path, with records read back from the real broker.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use support::*;

#[tokio::test]
async fn function_url_requests_land_on_the_broker() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::env::temp_dir().join(format!("kp-lambda-{}.log", std::process::id()));
    let child = Command::new("cargo")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "lambda",
            "watch",
            "--ignore-changes",
            "-A",
            "127.0.0.1",
            "-P",
            &port.to_string(),
        ])
        .args([
            "--env-var",
            &format!("KAFKA_BOOTSTRAP_SERVERS={}", bootstrap()),
        ])
        // It builds into target/debug: with the suite's features, so that the binary the other
        // tests run (CARGO_BIN_EXE) stays the one they were built with.
        .args(if cfg!(feature = "otlp") {
            &["--features", "otlp"][..]
        } else {
            &[][..]
        })
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(log.with_extension("err")).unwrap())
        .spawn()
        .expect("cargo lambda is installed (scripts/test installs it)");
    let _emulator = Emulator(child);

    let base = format!("http://127.0.0.1:{port}/lambda-url/kafka-producer");
    let client = reqwest::Client::new();
    let what = format!("the function; see {}", log.display());
    wait_healthy(&client, &base, Duration::from_secs(300), &what).await;

    let status = get_json(&client, &format!("{base}/api/v1/status")).await;
    assert_eq!(status["runtime"], "lambda");
    assert_eq!(status["kafka"]["embedded"], false);

    let topic = unique_topic("lambda");
    let post = |path: &str, body: serde_json::Value| {
        let request = client.post(format!("{base}{path}")).json(&body);
        async move {
            let started = Instant::now();
            answer_of(request.send().await.unwrap(), started).await
        }
    };
    let sync = post(
        "/api/v1/send",
        json!({"topic": topic, "key": "lambda-sync", "message": "s"}),
    )
    .await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    // In Lambda an async send is delivered before the invocation returns: 202 with its position.
    let async_ = post(
        "/api/v1/send",
        json!({"topic": topic, "key": "lambda-async", "message": "a", "isAsync": true, "isIdempotent": false}),
    )
    .await;
    assert_eq!(async_.status, 202, "{:?}", async_.body);
    assert_eq!(async_.body["status"], "acknowledged");
    let shortcut = post(
        "/api/v1/test/idempotent-async",
        json!({"topic": topic, "key": "lambda-shortcut", "message": "c"}),
    )
    .await;
    assert_eq!(shortcut.status, 202, "{:?}", shortcut.body);
    let bad = post("/api/v1/send", json!({"topic": "no spaces allowed"})).await;
    bad.assert_problem(400, "invalid-topic");

    let records = read_topic(&bootstrap(), &topic, 3, Duration::from_secs(30)).await;
    assert_eq!(records.len(), 3, "{records:?}");
    assert_no_duplicate_keys(&records);
    for (answer, key, mode, send, value) in [
        (&sync, "lambda-sync", "idempotent", "sync", "s"),
        (&async_, "lambda-async", "plain", "async", "a"),
        (&shortcut, "lambda-shortcut", "idempotent", "async", "c"),
    ] {
        let record = records
            .iter()
            .find(|r| r.key.as_deref() == Some(key))
            .unwrap();
        assert_eq!(record.value, value);
        assert_service_headers(record, mode, send);
        assert_eq!(answer.body["offset"], record.offset, "{key}");
        assert_eq!(answer.body["partition"], record.partition, "{key}");
    }
}
