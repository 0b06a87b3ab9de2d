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
            "--env-var",
            &format!("SCHEMA_REGISTRY_URL={}", crate::schemas::registry_url()),
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
    // The REST proxies' APIs through the same function: a v2 and a v3 record.
    let v2 = client
        .post(format!("{base}/topics/{topic}"))
        .header("content-type", "application/vnd.kafka.json.v2+json")
        .body(json!({"records": [{"key": "lambda-v2", "value": "two"}]}).to_string())
        .send()
        .await
        .unwrap();
    let v2 = answer_of(v2, Instant::now()).await;
    assert_eq!(v2.status, 200, "{:?}", v2.body);
    assert_eq!(v2.headers["content-type"], "application/vnd.kafka.v2+json");
    let clusters = get_json(&client, &format!("{base}/v3/clusters")).await;
    let cluster = clusters["data"][0]["cluster_id"].as_str().unwrap();
    let v3 = post(
        &format!("/v3/clusters/{cluster}/topics/{topic}/records"),
        json!({"key": {"type": "STRING", "data": "lambda-v3"}, "value": {"type": "STRING", "data": "three"}}),
    )
    .await;
    assert_eq!(v3.status, 200, "{:?}", v3.body);
    assert_eq!(v3.body["error_code"], 200);
    // One Avro record, its schema registered through the function.
    let avro = post(
        "/api/v1/send",
        json!({"topic": topic, "key": "lambda-avro", "message": 42,
            "valueSchema": {"format": "AVRO", "schema": "\"long\""}}),
    )
    .await;
    assert_eq!(avro.status, 200, "{:?}", avro.body);
    let id = avro.body["valueSchema"]["id"]
        .as_u64()
        .expect("a schema id") as u32;

    let records = read_topic(&bootstrap(), &topic, 6, Duration::from_secs(30)).await;
    assert_eq!(records.len(), 6, "{records:?}");
    let written = records
        .iter()
        .find(|r| r.key.as_deref() == Some("lambda-avro"))
        .expect("the Avro record");
    // Confluent's wire format: magic byte, the schema id, then 42 as an Avro long (zig-zag 84).
    let mut expected = vec![0u8];
    expected.extend_from_slice(&id.to_be_bytes());
    expected.push(84);
    assert_eq!(written.raw_value.as_deref(), Some(&expected[..]));
    for (answer, key, value) in [
        (&v2.body["offsets"][0], r#""lambda-v2""#, r#""two""#),
        (&v3.body, "lambda-v3", "three"),
    ] {
        let record = records
            .iter()
            .find(|r| r.key.as_deref() == Some(key))
            .unwrap_or_else(|| panic!("{key} in {records:?}"));
        assert_eq!(record.value, value);
        let partition = answer
            .get("partition")
            .or(answer.get("partition_id"))
            .unwrap();
        assert_eq!(*partition, record.partition, "{key}");
        assert_eq!(answer["offset"], record.offset, "{key}");
    }
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
