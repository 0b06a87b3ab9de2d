//! Health, readiness, status and metrics against the real broker.

use serde_json::json;

use support::*;

#[tokio::test]
async fn health_ready_and_status_describe_the_running_service() {
    let app = TestApp::spawn().await;
    let health = app.get("/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "healthy");
    assert!(health.body["timestamp"].as_str().is_some());

    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, 200, "{:?}", ready.body);
    assert!(ready.body["brokers"].as_u64().unwrap() >= 1);
    // Every broker reachable: ready, and no list of unreachable ones.
    assert_eq!(ready.body["status"], "ready", "{:?}", ready.body);
    assert!(ready.body.get("unreachable").is_none(), "{:?}", ready.body);

    let status = app.get("/api/v1/status").await;
    assert_eq!(status.status, 200);
    assert_eq!(status.body["service"], "Kafka Producer");
    assert_eq!(status.body["modes"], json!(["plain", "idempotent"]));
    assert_eq!(status.body["sendTypes"], json!(["sync", "async"]));
    assert_eq!(status.body["runtime"], "server");
    assert_eq!(status.body["kafka"]["embedded"], false);
    assert_eq!(status.body["kafka"]["reachable"], true);
    assert_eq!(status.body["kafka"]["unreachableBrokers"], json!([]));
    assert_eq!(status.body["kafka"]["bootstrapServers"], bootstrap());
    assert_eq!(status.body["producers"]["plain"]["acks"], "1");
    assert_eq!(status.body["producers"]["idempotent"]["acks"], "all");
    assert!(status.body.get("warning").is_none());
    app.stop().await;
}

#[tokio::test]
async fn producer_settings_can_be_overridden_per_mode() {
    let app = TestApp::spawn_with(
        &bootstrap(),
        &[
            ("KAFKA_PLAIN_ACKS", "all"),
            ("KAFKA_IDEMPOTENT_MESSAGE_TIMEOUT_MS", "7000"),
            ("KAFKA_LINGER_MS", "1"),
        ],
    )
    .await;
    let status = app.get("/api/v1/status").await;
    assert_eq!(status.body["producers"]["plain"]["acks"], "all");
    assert_eq!(
        status.body["producers"]["idempotent"]["messageTimeoutMs"],
        "7000"
    );
    assert_eq!(
        status.body["producers"]["plain"]["messageTimeoutMs"],
        "3000"
    );
    assert_eq!(
        app.producers
            .summary(kafka_producer::kafka::ProducerMode::Plain)["linger.ms"],
        "1"
    );
    // The operator's linger is the async producers' too.
    let topic = unique_topic("override-async");
    let queued = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "isAsync": true, "isIdempotent": false}),
        )
        .await;
    assert_eq!(queued.status, 202, "{:?}", queued.body);
    let summary = app
        .producers
        .async_summary(kafka_producer::kafka::ProducerMode::Plain)
        .expect("the plain async producer");
    assert_eq!(summary["linger.ms"], "1");
    assert_eq!(summary["acks"], "all");
    app.stop().await;
}

#[tokio::test]
async fn sync_sends_do_not_linger_and_async_ones_go_through_a_producer_that_does() {
    use kafka_producer::kafka::ProducerMode::Idempotent;
    let app = TestApp::spawn().await;
    assert_eq!(app.producers.summary(Idempotent)["linger.ms"], "0");
    let topic = unique_topic("linger");
    let sync = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "key": "k", "message": "sync"}),
        )
        .await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    let queued = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "key": "k", "message": "async", "isAsync": true}),
        )
        .await;
    assert_eq!(queued.status, 202, "{:?}", queued.body);
    let summary = app
        .producers
        .async_summary(Idempotent)
        .expect("built at start");
    assert_eq!(summary["linger.ms"], "5");
    assert_eq!(summary["client.id"], "kafka-producer-idempotent-async");
    assert_eq!(summary["enable.idempotence"], "true");
    let records = read_topic(&bootstrap(), &topic, 2, std::time::Duration::from_secs(15)).await;
    let values: Vec<_> = records.iter().map(|r| r.value.as_str()).collect();
    assert_eq!(
        values,
        ["sync", "async"],
        "both landed, once each, in order"
    );
    assert_eq!(records[1].header("send-mode"), Some("async"));
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_what_was_sent() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("metrics");
    for (idempotent, is_async, n) in [
        (false, false, 3),
        (true, false, 2),
        (false, true, 4),
        (true, true, 1),
    ] {
        for i in 0..n {
            let answer = app
                .post_json(
                    "/api/v1/send",
                    &json!({"topic": topic, "key": format!("{idempotent}{is_async}{i}"), "message": "m", "isIdempotent": idempotent, "isAsync": is_async}),
                )
                .await;
            assert!(answer.status.is_success(), "{:?}", answer.body);
        }
    }
    // Async outcomes arrive on their own; reading the records back waits for them.
    let records = read_topic(&bootstrap(), &topic, 10, std::time::Duration::from_secs(30)).await;
    assert_eq!(records.len(), 10);
    let metrics = app.get("/api/v1/metrics").await;
    assert_eq!(metrics.status, 200);
    assert_eq!(
        metrics.body["records"]["delivered"], 10,
        "{:?}",
        metrics.body
    );
    assert_eq!(metrics.body["records"]["failed"], 0);
    let per_mode = metrics.body["perMode"].as_array().unwrap();
    let delivered = |mode: &str, send: &str| {
        per_mode
            .iter()
            .find(|m| m["mode"] == mode && m["sendType"] == send)
            .unwrap()["delivered"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(delivered("plain", "sync"), 3);
    assert_eq!(delivered("idempotent", "sync"), 2);
    assert_eq!(delivered("plain", "async"), 4);
    assert_eq!(delivered("idempotent", "async"), 1);
    let plain_sync = per_mode
        .iter()
        .find(|m| m["mode"] == "plain" && m["sendType"] == "sync")
        .unwrap();
    let latency = &plain_sync["deliveryLatencyMs"];
    assert_eq!(latency["count"], 3);
    assert!(latency["p50"].as_f64().unwrap() > 0.0);
    assert!(latency["p99"].as_f64().unwrap() >= latency["p50"].as_f64().unwrap());
    // Ten records within the last minute: 10/60 per second.
    let rate = metrics.body["ratesLastMinute"]["deliveredPerSecond"]
        .as_f64()
        .unwrap();
    assert!((rate - 10.0 / 60.0).abs() < 1e-9, "{rate}");
    assert_eq!(
        plain_sync["ratesLastMinute"]["deliveredPerSecond"],
        3.0 / 60.0
    );
    assert_eq!(metrics.body["queueDepth"], 0);
    assert!(metrics.body["uptimeSeconds"].as_f64().unwrap() > 0.0);
    // The workshop's descriptive fields are kept.
    assert_eq!(metrics.body["producer"], "Kafka Producer Service");
    assert_eq!(metrics.body["modes"][1]["acks"], "all");
    app.stop().await;
}
