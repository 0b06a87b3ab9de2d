//! The real binary as a process: the embedded default, and SIGTERM while async records are queued.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use support::*;

#[tokio::test]
async fn with_nothing_configured_it_runs_on_the_embedded_cluster_and_says_so() {
    let log = std::env::temp_dir().join(format!("kp-embedded-{}.log", std::process::id()));
    // A secret among the settings must show up nowhere.
    let (mut child, base) =
        start_binary(&[("KAFKA_SASL_PASSWORD", "hunter2-secret".into())], &log).await;
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{base}/api/v1/send"))
        .body(r#"{"topic":"demo","key":"k","message":"hello"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["offset"].as_i64().unwrap() >= 0, "{body:?}");
    let status = get_json(&client, &format!("{base}/api/v1/status")).await;
    assert_eq!(status["kafka"]["embedded"], true);
    assert!(!status.to_string().contains("hunter2-secret"));
    assert!(status["warning"]
        .as_str()
        .unwrap()
        .contains("EMBEDDED KAFKA"));
    sigterm(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(15)).success());
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(
        output.contains("EMBEDDED KAFKA"),
        "the start-up log must say so loudly"
    );
    assert!(output.contains("[redacted]"), "{output}");
    assert!(!output.contains("hunter2-secret"), "{output}");
}

/// Runs the binary with only `vars` in its environment; its exit code and standard error.
fn run_with(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kafka-producer"))
        .env_clear()
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn misconfiguration_stops_the_start_up_naming_the_setting() {
    let (code, stderr) = run_with(&[("APP_ENV", "production")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("KAFKA_BOOTSTRAP_SERVERS"), "{stderr}");

    let broker = bootstrap();
    let (code, stderr) = run_with(&[
        ("KAFKA_BOOTSTRAP_SERVERS", &broker),
        ("KAFKA_NOT_A_PROPERTY", "1"),
    ]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("KAFKA_NOT_A_PROPERTY"), "{stderr}");

    // A refused setting is named; a secret beside it is never shown.
    let (code, stderr) = run_with(&[
        ("KAFKA_BOOTSTRAP_SERVERS", &broker),
        ("KAFKA_SASL_PASSWORD", "s3cr3t-value"),
        ("KAFKA_SECURITY_PROTOCOL", "plaintext-typo"),
    ]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("KAFKA_SECURITY_PROTOCOL"), "{stderr}");
    assert!(!stderr.contains("s3cr3t-value"), "{stderr}");

    let (code, stderr) = run_with(&[("PORT", "http")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("PORT"), "{stderr}");
}

#[tokio::test]
async fn sigterm_delivers_every_accepted_async_record_before_exit() {
    let topic = unique_topic("shutdown");
    let log = std::env::temp_dir().join(format!("kp-shutdown-{}.log", std::process::id()));
    // A long linger keeps records in the producer's queue when the signal arrives.
    let (mut child, base) = start_binary(
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", bootstrap()),
            ("KAFKA_LINGER_MS", "1500".into()),
            ("SHUTDOWN_TIMEOUT_MS", "20000".into()),
        ],
        &log,
    )
    .await;
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for worker in 0..10 {
        let (client, base, topic) = (client.clone(), base.clone(), topic.clone());
        tasks.push(tokio::spawn(async move {
            let mut accepted = Vec::new();
            for i in 0..30 {
                let key = format!("w{worker}-{i}");
                let r = client
                    .post(format!("{base}/api/v1/send"))
                    .json(&json!({"topic": topic, "key": key, "message": "m", "isAsync": true, "isIdempotent": worker % 2 == 0}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 202);
                accepted.push(key);
            }
            accepted
        }));
    }
    let mut accepted = Vec::new();
    for t in tasks {
        accepted.extend(t.await.unwrap());
    }
    let metrics = get_json(&client, &format!("{base}/api/v1/metrics")).await;
    let queued_at_signal = metrics["queueDepth"].as_i64().unwrap();
    sigterm(&child);
    let status = wait_exit(&mut child, Duration::from_secs(25));
    assert!(status.success(), "{status:?}");
    assert!(
        queued_at_signal > 0,
        "the test must catch records still queued"
    );

    let records = read_topic(
        &bootstrap(),
        &topic,
        accepted.len(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        records.len(),
        accepted.len(),
        "every 202-accepted record is on the topic"
    );
    assert_no_duplicate_keys(&records);
    let mut keys: Vec<String> = records.iter().map(|r| r.key.clone().unwrap()).collect();
    keys.sort();
    accepted.sort();
    assert_eq!(keys, accepted);
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(output.contains("SIGTERM received"), "{output}");
    assert!(
        output.contains("every queued record was delivered"),
        "{output}"
    );
}
