//! No broker at the configured address: bounded 503/504 answers, never a hang.

use std::time::Duration;

use serde_json::json;

use support::*;

/// A loopback port with nothing listening.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    drop(listener);
    address
}

#[tokio::test]
async fn sends_fail_within_the_mode_timeout_with_a_problem() {
    let app = TestApp::spawn_with(&closed_port(), &[]).await;
    for (idempotent, is_async, timeout_ms) in [
        (false, false, 3000),
        (true, false, 5000),
        (false, true, 3000),
        (true, true, 5000),
    ] {
        let answer = app
            .post_json(
                "/api/v1/send",
                &json!({"topic": "nowhere", "message": "x", "isIdempotent": idempotent, "isAsync": is_async}),
            )
            .await;
        let status = answer.status.as_u16();
        if is_async && status == 202 {
            // Queued before the client knew the broker was gone: counted as failed later.
            continue;
        }
        assert!(
            status == 503 || status == 504,
            "{status}: {:?}",
            answer.body
        );
        answer.assert_problem(
            status,
            if status == 503 {
                "kafka-unavailable"
            } else {
                "delivery-timeout"
            },
        );
        assert!(
            answer.elapsed < Duration::from_millis(timeout_ms + 2500),
            "answered after {:?}",
            answer.elapsed
        );
    }
    // Once the client knows no broker answers, sends fail fast.
    let answer = app
        .post_json("/api/v1/send", &json!({"topic": "nowhere", "message": "x"}))
        .await;
    answer.assert_problem(503, "kafka-unavailable");
    assert!(
        answer.elapsed < Duration::from_secs(2),
        "{:?}",
        answer.elapsed
    );

    assert_eq!(
        app.get("/health").await.status,
        200,
        "liveness does not depend on Kafka"
    );
    let ready = app.get("/health/ready").await;
    ready.assert_problem(503, "kafka-unavailable");
    let status = app.get("/api/v1/status").await;
    assert_eq!(status.body["kafka"]["reachable"], false);
    let metrics = app.get("/api/v1/metrics").await;
    assert!(
        metrics.body["records"]["failed"].as_u64().unwrap() >= 3,
        "{:?}",
        metrics.body
    );
    assert_eq!(metrics.body["records"]["delivered"], 0);
    app.stop().await;
}
