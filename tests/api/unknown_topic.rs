//! A topic the cluster does not have, and will not create: 404 in every mode, within the mode's
//! timeout (the broker with topic auto-creation off).

use std::time::Duration;

use serde_json::json;
use support::*;

#[tokio::test]
async fn unknown_topic_without_auto_creation_is_404_in_both_modes() {
    let app = TestApp::spawn_with(&noauto_bootstrap(), &[]).await;
    let topic = unique_topic("missing");
    for (path, body) in [
        (
            "/api/v1/send",
            json!({"topic": topic, "message": "x", "isIdempotent": true}),
        ),
        (
            "/api/v1/send",
            json!({"topic": topic, "message": "x", "isIdempotent": false}),
        ),
        (
            "/api/v1/test/plain",
            json!({"topic": topic, "message": "x"}),
        ),
        (
            "/api/v1/test/idempotent",
            json!({"topic": topic, "message": "x"}),
        ),
    ] {
        let answer = app.post_json(path, &body).await;
        answer.assert_problem(404, "topic-not-found");
        assert!(answer.body["kafkaError"]
            .as_str()
            .unwrap()
            .starts_with("UnknownTopic"));
        // Well before the mode's message.timeout.ms (3 s / 5 s) would have answered 504.
        assert!(
            answer.elapsed < Duration::from_millis(4500),
            "{:?}",
            answer.elapsed
        );
    }
    assert_eq!(partitions(&noauto_bootstrap(), &topic), None);
    app.stop().await;
}
