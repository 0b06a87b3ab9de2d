//! `GET /metrics`: the Prometheus exposition moves when records are sent, with bounded labels.

use std::time::{Duration, Instant};

use serde_json::json;

use support::*;

/// The value of the sample `series` (name and labels exactly as exposed), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[reqwest::header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn prometheus_metrics_move_when_records_are_sent() {
    let listed = unique_topic("metrics-listed");
    let unlisted = unique_topic("metrics-unlisted");
    let app = TestApp::spawn_with(
        &bootstrap(),
        &[
            ("METRICS_TOPICS", listed.as_str()),
            ("KAFKA_STATISTICS_INTERVAL_MS", "200"),
        ],
    )
    .await;
    let delivered_listed = format!(
        "kafka_producer_records_total{{mode=\"plain\",send_type=\"sync\",outcome=\"delivered\",topic=\"{listed}\"}}"
    );
    let delivered_other = "kafka_producer_records_total{mode=\"idempotent\",send_type=\"async\",outcome=\"delivered\",topic=\"other\"}";
    let sends_200 =
        "kafka_producer_http_requests_total{route=\"/api/v1/send\",method=\"POST\",status=\"200\"}";
    let before = scrape(&app).await;
    assert_eq!(sample(&before, &delivered_listed), None, "{before}");

    for n in 0..3 {
        let answer = app
            .post_json(
                "/api/v1/send",
                &json!({"topic": listed, "key": format!("k{n}"), "message": "0123456789", "isIdempotent": false}),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }
    for n in 0..2 {
        let answer = app
            .post_json(
                "/api/v1/send",
                &json!({"topic": unlisted, "key": format!("k{n}"), "message": "x", "isAsync": true}),
            )
            .await;
        assert_eq!(answer.status, 202, "{:?}", answer.body);
    }
    let missing = app.get("/no/such/path/secret-looking-123").await;
    assert_eq!(missing.status, 404);
    let made_up = reqwest::Method::from_bytes(b"MADEUPVERB").unwrap();
    let odd = app.request(made_up, "/health", None, None).await;
    assert_eq!(odd.status, 405);
    assert_eq!(app.producers.flush(Duration::from_secs(10)).await, 0);

    let after = scrape(&app).await;
    assert_eq!(sample(&after, &delivered_listed), Some(3.0), "{after}");
    assert_eq!(sample(&after, delivered_other), Some(2.0), "{after}");
    assert_eq!(sample(&after, sends_200), Some(3.0), "{after}");
    assert_eq!(
        sample(
            &after,
            "kafka_producer_http_requests_total{route=\"/api/v1/send\",method=\"POST\",status=\"202\"}"
        ),
        Some(2.0),
        "{after}"
    );
    assert_eq!(
        sample(
            &after,
            "kafka_producer_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"
        ),
        Some(1.0),
        "{after}"
    );
    // key "kN" (2 bytes) + value (10 bytes) + the traceparent header the service adds
    // ("traceparent", 11 bytes, and its 55-byte value), three times.
    assert_eq!(
        sample(
            &after,
            &format!("kafka_producer_record_bytes_total{{mode=\"plain\",topic=\"{listed}\"}}")
        ),
        Some(3.0 * (2.0 + 10.0 + 11.0 + 55.0)),
        "{after}"
    );
    assert_eq!(
        sample(
            &after,
            "kafka_producer_delivery_duration_seconds_count{mode=\"plain\",send_type=\"sync\"}"
        ),
        Some(3.0),
        "{after}"
    );
    assert_eq!(sample(&after, "kafka_producer_kafka_reachable"), Some(1.0));
    // The process's figures under the standard names.
    assert!(sample(&after, "process_resident_memory_bytes").unwrap() > 1e6);
    assert!(sample(&after, "process_cpu_seconds_total").unwrap() > 0.0);
    assert!(sample(&after, "process_open_fds").unwrap() > 2.0);
    assert!(sample(&after, "process_threads").unwrap() > 1.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = sample(&after, "process_start_time_seconds").unwrap();
    assert!(
        started <= now + 1.0 && started > now - 3600.0,
        "{started} vs {now}"
    );
    // Bounded labels: neither an unlisted topic nor a raw path becomes a label value.
    assert!(!after.contains(&unlisted), "{after}");
    assert!(!after.contains("secret-looking-123"), "{after}");
    assert!(
        !after.contains("MADEUPVERB"),
        "a made-up method is not a label value: {after}"
    );
    assert_eq!(
        sample(
            &after,
            "kafka_producer_http_requests_total{route=\"/health\",method=\"other\",status=\"405\"}"
        ),
        Some(1.0),
        "{after}"
    );

    // librdkafka's statistics arrive every statistics.interval.ms (200 ms here).
    let deadline = Instant::now() + Duration::from_secs(10);
    let stats = loop {
        let text = scrape(&app).await;
        if text.contains("kafka_producer_librdkafka_broker_rtt_seconds{producer=\"plain\"") {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "no librdkafka statistics: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        sample(
            &stats,
            "kafka_producer_librdkafka_queued_records{producer=\"plain\"}"
        ),
        Some(0.0),
        "{stats}"
    );
    assert!(
        sample(
            &stats,
            "kafka_producer_librdkafka_batch_size_bytes{producer=\"plain\"}"
        )
        .unwrap()
            > 0.0,
        "{stats}"
    );
    assert!(
        stats.contains("kafka_producer_librdkafka_retries_total{producer=\"idempotent\"}"),
        "{stats}"
    );
    app.stop().await;
}
