//! MSK IAM through the real binary: with `MSK_IAM=true`, librdkafka asks the service for an
//! OAUTHBEARER token when each producer starts, the token is signed from the AWS credential
//! chain (here its environment variables), and neither the token nor the secret key is logged.

use std::time::{Duration, Instant};

use support::*;

const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

#[tokio::test]
async fn each_producer_gets_a_signed_token_from_the_credential_chain() {
    // The plain and idempotent producers and their async ones (a server, not Lambda).
    const PRODUCERS: usize = 4;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("msk-iam-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("service.log");
    // Nothing listens there: the token is asked for before any connection.
    let nowhere = format!("127.0.0.1:{}", free_port());
    let (mut child, base) = start_binary(
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", nowhere),
            ("MSK_IAM", "true".into()),
            ("AWS_REGION", "eu-west-1".into()),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE0000TEST".into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            // No profile file or instance metadata: the environment is the chain's answer.
            ("HOME", dir.to_string_lossy().into_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("LOG_LEVEL", "debug".into()),
            ("LOG_FORMAT", "json".into()),
        ],
        &log,
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let refreshed = loop {
        let output = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<String> = output
            .lines()
            .filter(|l| l.contains("MSK IAM token refreshed"))
            .map(String::from)
            .collect();
        if lines.len() >= PRODUCERS || Instant::now() > deadline {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let status = reqwest::get(format!("{base}/api/v1/status"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    sigterm(&child);
    wait_exit(&mut child, Duration::from_secs(20));
    let output = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        refreshed.len(),
        PRODUCERS,
        "one token per producer:\n{output}"
    );
    for line in &refreshed {
        let line: serde_json::Value = serde_json::from_str(line).expect("a JSON log line");
        assert_eq!(line["fields"]["region"], "eu-west-1", "{line}");
        let left = line["fields"]["seconds_left"].as_i64().unwrap();
        assert!((880..=900).contains(&left), "{line}");
    }
    assert!(
        output.contains("OAUTHBEARER") && output.contains("SASL_SSL"),
        "{output}"
    );
    assert!(!output.contains("no OAUTHBEARER token"), "{output}");
    for secret in [SECRET_KEY, "X-Amz-Signature", "X-Amz-Credential"] {
        assert!(!output.contains(secret), "{secret} in the log:\n{output}");
        assert!(
            !status.contains(secret),
            "{secret} in the status:\n{status}"
        );
    }
}
