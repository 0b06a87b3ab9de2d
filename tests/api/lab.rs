//! The lab scripts in `scripts/lab/` (the workshop's Module 5) run against the service, with the
//! records they send read back from the broker. Each run gets its own `TOPIC_PREFIX`.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use support::*;

/// Runs `scripts/lab/<script>` with `BASE_URL` and `TOPIC_PREFIX`; its exit status and output.
async fn run(script: &str, base: &str, prefix: &str) -> (Output, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts/lab")
        .join(script);
    let output = tokio::process::Command::new(&path)
        .env("BASE_URL", base)
        .env("TOPIC_PREFIX", prefix)
        .env("CURL_MAX_TIME", "30")
        .env_remove("TOXIPROXY_URL")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

fn prefix() -> String {
    format!("{}-", unique_topic("lab"))
}

/// Asserts the records of `topic` are exactly `expected` (key, value, producer mode, send mode).
async fn assert_records(topic: &str, expected: &[(&str, &str, &str, &str)]) -> Vec<Read> {
    let records = read_topic(&bootstrap(), topic, expected.len(), Duration::from_secs(30)).await;
    assert_eq!(records.len(), expected.len(), "{topic}: {records:?}");
    assert_no_duplicate_keys(&records);
    for (key, value, mode, send) in expected {
        let record = records
            .iter()
            .find(|r| r.key.as_deref() == Some(*key))
            .unwrap_or_else(|| panic!("{topic}: no record for {key}: {records:?}"));
        assert_eq!(record.value, *value, "{key}");
        assert_service_headers(record, mode, send);
    }
    records
}

async fn assert_reliability_records(prefix: &str) {
    assert_records(
        &format!("{prefix}reliability-test"),
        &[
            ("plain-1", "Plain test message 1", "plain", "sync"),
            (
                "idempotent-1",
                "Idempotent test message 1",
                "idempotent",
                "sync",
            ),
        ],
    )
    .await;
    assert_records(
        &format!("{prefix}performance-test"),
        &[
            ("async-1", "Async test message 1", "plain", "async"),
            (
                "idempotent-async-1",
                "Idempotent async test message 1",
                "idempotent",
                "async",
            ),
        ],
    )
    .await;
}

async fn assert_load_records(prefix: &str) {
    let topic = format!("{prefix}load-test");
    let records = read_topic(&bootstrap(), &topic, 100, Duration::from_secs(60)).await;
    assert_eq!(records.len(), 100, "{topic}: {} records", records.len());
    assert_no_duplicate_keys(&records);
    let mut keys: Vec<String> = records.iter().filter_map(|r| r.key.clone()).collect();
    keys.sort();
    let mut expected: Vec<String> = (1..=100).map(|i| format!("load-{i}")).collect();
    expected.sort();
    assert_eq!(keys, expected);
    for record in &records {
        let i = record.key.as_deref().unwrap().trim_start_matches("load-");
        assert_eq!(record.value, format!("Load test message {i}"));
        assert_service_headers(record, "idempotent", "sync");
    }
}

#[tokio::test]
async fn reliability_script_sends_one_record_in_each_mode() {
    let app = TestApp::spawn().await;
    let prefix = prefix();
    let (output, text) = run("test-reliability.sh", &app.base, &prefix).await;
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("test-reliability: 4 passed, 0 failed"),
        "{text}"
    );
    assert!(!text.contains('✗'), "{text}");
    assert_reliability_records(&prefix).await;
}

#[tokio::test]
async fn load_script_sends_100_idempotent_records_without_duplicates() {
    let app = TestApp::spawn().await;
    let prefix = prefix();
    let (output, text) = run("test-load.sh", &app.base, &prefix).await;
    assert!(output.status.success(), "{text}");
    assert!(text.contains("successes=100 failures=0"), "{text}");
    assert_load_records(&prefix).await;
}

#[tokio::test]
async fn errors_script_prints_the_status_of_each_error_case() {
    let app = TestApp::spawn().await;
    let prefix = prefix();
    let (output, text) = run("test-errors.sh", &app.base, &prefix).await;
    assert!(output.status.success(), "{text}");
    assert!(text.contains("test-errors: 7 passed, 0 failed"), "{text}");
    for line in [
        "✓ invalid topic name → 400",
        "✓ malformed JSON (truncated) → 400",
        "✓ reserved header name → 400",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    // This broker creates topics on first use: the workshop's "nonexistent" topic gets its record.
    assert_records(
        &format!("{prefix}nonexistent-topic"),
        &[("error-test", "This should fail", "plain", "sync")],
    )
    .await;
    // None of the rejected requests wrote anything.
    assert_eq!(
        record_count(&bootstrap(), &format!("{prefix}errors")).await,
        0
    );
}

#[tokio::test]
async fn validation_complete_runs_the_checks_and_every_script() {
    let app = TestApp::spawn().await;
    let prefix = prefix();
    let (output, text) = run("validation-complete.sh", &app.base, &prefix).await;
    assert!(output.status.success(), "{text}");
    for line in [
        "✓ GET /health (liveness) → 200",
        "✓ GET /health/ready (the cluster answers) → 200",
        "✓ GET /api/v1/status → 200",
        "✓ test-reliability.sh",
        "✓ test-load.sh",
        "✓ test-errors.sh",
        "TOXIPROXY_URL not set: skipping test-toxiproxy.sh",
        "validation-complete: 8 passed, 0 failed",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    assert_reliability_records(&prefix).await;
    assert_load_records(&prefix).await;
}

#[tokio::test]
async fn scripts_fail_when_the_service_does_not_answer() {
    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    for script in [
        "test-reliability.sh",
        "test-errors.sh",
        "validation-complete.sh",
    ] {
        let (output, text) = run(script, &base, &prefix()).await;
        assert!(!output.status.success(), "{script}: {text}");
        assert!(text.contains("✗"), "{script}: {text}");
    }
    let (output, text) = run("test-load.sh", &base, &prefix()).await;
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("successes=0 failures=100"), "{text}");
}
