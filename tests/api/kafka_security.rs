//! Kafka transport security on a real broker configured for it (`scripts/kafka secure`, its own
//! CA made by the script): TLS, mutual TLS, SASL/PLAIN and SASL/SCRAM-SHA-512 over TLS. Each
//! record sent through a secured listener is read back over the broker's plaintext listener;
//! refused credentials land nothing, and no secret shows in answers or logs.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use support::*;

/// The secure broker's `NAME=value` settings (listeners, CA, client certificate, users).
fn secure() -> BTreeMap<String, String> {
    let path = std::env::var("TEST_KAFKA_SECURE_ENV").unwrap_or_else(|_| {
        let out = std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/kafka"))
            .args(["secure", "env", "--file"])
            .output()
            .expect("scripts/kafka runs");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (start it with scripts/kafka secure start)"));
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Sends one record through the service configured with `vars`; its answer and the topic.
async fn send_through(listener: &str, vars: &[(&str, &str)], idempotent: bool) -> (Answer, String) {
    let app = TestApp::spawn_with(listener, vars).await;
    let topic = unique_topic("secure");
    let answer = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "key": "k", "message": "over TLS", "isIdempotent": idempotent}),
        )
        .await;
    (answer, topic)
}

async fn assert_landed(env: &BTreeMap<String, String>, answer: &Answer, topic: &str) {
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let records = read_topic(&env["SECURE_PLAINTEXT"], topic, 1, Duration::from_secs(20)).await;
    assert_eq!(records.len(), 1, "{topic}");
    assert_eq!(records[0].key.as_deref(), Some("k"));
    assert_eq!(records[0].value, "over TLS");
    assert_eq!(
        Some(records[0].offset),
        answer.body["offset"].as_i64(),
        "the answered offset"
    );
}

/// The connection was refused: 503 or 504, and nothing on the topic.
async fn assert_refused(env: &BTreeMap<String, String>, answer: &Answer, topic: &str) {
    assert!(
        [503, 504].contains(&answer.status.as_u16()),
        "{:?}",
        answer.body
    );
    assert_eq!(record_count(&env["SECURE_PLAINTEXT"], topic).await, 0);
}

#[tokio::test]
async fn tls_with_a_custom_ca() {
    let env = secure();
    let (answer, topic) = send_through(
        &env["SECURE_TLS"],
        &[
            ("KAFKA_SECURITY_PROTOCOL", "SSL"),
            ("KAFKA_SSL_CA_LOCATION", &env["SECURE_CA"]),
        ],
        true,
    )
    .await;
    assert_landed(&env, &answer, &topic).await;
}

#[tokio::test]
async fn tls_without_the_ca_lands_nothing() {
    let env = secure();
    // The system's CAs do not know the broker's: the handshake fails, the send is refused.
    let (answer, topic) = send_through(
        &env["SECURE_TLS"],
        &[("KAFKA_SECURITY_PROTOCOL", "SSL")],
        false,
    )
    .await;
    assert_refused(&env, &answer, &topic).await;
}

#[tokio::test]
async fn mutual_tls_with_a_plain_or_an_encrypted_client_key() {
    let env = secure();
    for vars in [
        vec![("KAFKA_SSL_KEY_LOCATION", env["SECURE_CLIENT_KEY"].as_str())],
        vec![
            (
                "KAFKA_SSL_KEY_LOCATION",
                env["SECURE_CLIENT_KEY_ENCRYPTED"].as_str(),
            ),
            (
                "KAFKA_SSL_KEY_PASSWORD",
                env["SECURE_CLIENT_KEY_ENCRYPTED_PASSWORD"].as_str(),
            ),
        ],
    ] {
        let mut vars = vars;
        vars.extend([
            ("KAFKA_SECURITY_PROTOCOL", "SSL"),
            ("KAFKA_SSL_CA_LOCATION", env["SECURE_CA"].as_str()),
            (
                "KAFKA_SSL_CERTIFICATE_LOCATION",
                env["SECURE_CLIENT_CERT"].as_str(),
            ),
        ]);
        let (answer, topic) = send_through(&env["SECURE_MTLS"], &vars, true).await;
        assert_landed(&env, &answer, &topic).await;
    }

    // Without a client certificate the mTLS listener refuses the connection.
    let (answer, topic) = send_through(
        &env["SECURE_MTLS"],
        &[
            ("KAFKA_SECURITY_PROTOCOL", "SSL"),
            ("KAFKA_SSL_CA_LOCATION", &env["SECURE_CA"]),
        ],
        false,
    )
    .await;
    assert_refused(&env, &answer, &topic).await;
}

#[tokio::test]
async fn sasl_plain_and_scram_sha_512_over_tls() {
    let env = secure();
    for (mechanism, user, password) in [
        ("PLAIN", "SECURE_PLAIN_USER", "SECURE_PLAIN_PASSWORD"),
        (
            "SCRAM-SHA-512",
            "SECURE_SCRAM_USER",
            "SECURE_SCRAM_PASSWORD",
        ),
    ] {
        let (answer, topic) = send_through(
            &env["SECURE_SASL"],
            &[
                ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
                ("KAFKA_SSL_CA_LOCATION", &env["SECURE_CA"]),
                ("KAFKA_SASL_MECHANISM", mechanism),
                ("KAFKA_SASL_USERNAME", &env[user]),
                ("KAFKA_SASL_PASSWORD", &env[password]),
            ],
            true,
        )
        .await;
        assert_landed(&env, &answer, &topic).await;
    }
}

#[tokio::test]
async fn a_wrong_password_lands_nothing_and_no_password_shows() {
    let env = secure();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("secure-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("service.log");
    let wrong = "not-the-scram-password-4d2e9f";
    let (mut child, base) = start_binary(
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", env["SECURE_SASL"].clone()),
            ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL".into()),
            ("KAFKA_SSL_CA_LOCATION", env["SECURE_CA"].clone()),
            ("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512".into()),
            ("KAFKA_SASL_USERNAME", env["SECURE_SCRAM_USER"].clone()),
            ("KAFKA_SASL_PASSWORD", wrong.into()),
            ("LOG_LEVEL", "debug".into()),
        ],
        &log,
    )
    .await;
    let client = reqwest::Client::new();
    let topic = unique_topic("secure-refused");
    let answer = client
        .post(format!("{base}/api/v1/send"))
        .json(&json!({"topic": topic, "key": "k", "isIdempotent": false}))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let mut shown = answer.text().await.unwrap();
    assert!([503, 504].contains(&status), "{status}: {shown}");
    for path in [
        "/api/v1/status",
        "/api/v1/metrics",
        "/metrics",
        "/health/ready",
    ] {
        let body = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        shown.push_str(&body);
    }
    sigterm(&child);
    wait_exit(&mut child, Duration::from_secs(20));
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(
        output.contains("[redacted]"),
        "the settings are logged, redacted"
    );
    for secret in [wrong, env["SECURE_SCRAM_PASSWORD"].as_str()] {
        assert!(!output.contains(secret), "a password in the log:\n{output}");
        assert!(!shown.contains(secret), "a password in an answer:\n{shown}");
    }
    assert_eq!(record_count(&env["SECURE_PLAINTEXT"], &topic).await, 0);
}
