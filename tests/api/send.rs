//! Every mode through the HTTP API, read back from the real broker.

use std::time::Duration;

use serde_json::json;

use support::*;

const READ_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn each_mode_lands_with_key_value_and_headers() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("send-modes");
    let modes = [
        (false, false, "plain", "sync"),
        (true, false, "idempotent", "sync"),
        (false, true, "plain", "async"),
        (true, true, "idempotent", "async"),
    ];
    let mut answers = Vec::new();
    for (idempotent, is_async, mode, send) in modes {
        let key = format!("key-{mode}-{send}");
        let answer = app
            .post_json(
                "/api/v1/send",
                &json!({
                    "topic": topic, "key": key, "message": format!("value {mode} {send}"),
                    "isIdempotent": idempotent, "isAsync": is_async,
                    "headers": {"trace-id": format!("t-{mode}-{send}"), "x-caller": "tests"}
                }),
            )
            .await;
        let expected_status = if is_async { 202 } else { 200 };
        assert_eq!(answer.status.as_u16(), expected_status, "{:?}", answer.body);
        assert_eq!(answer.body["success"], true);
        assert_eq!(answer.body["topic"], topic.as_str());
        assert_eq!(answer.body["key"], key.as_str());
        assert_eq!(answer.body["mode"], mode);
        assert_eq!(answer.body["sendMode"], send);
        if is_async {
            assert_eq!(answer.body["status"], "queued");
            assert!(answer.body["offset"].is_null());
        } else {
            assert_eq!(answer.body["status"], "acknowledged");
            assert!(answer.body["offset"].as_i64().unwrap() >= 0);
        }
        answers.push((key, mode, send, answer));
    }

    let records = read_topic(&bootstrap(), &topic, 4, READ_TIMEOUT).await;
    assert_eq!(records.len(), 4, "{records:?}");
    assert_no_duplicate_keys(&records);
    for (key, mode, send, answer) in &answers {
        let record = records
            .iter()
            .find(|r| r.key.as_deref() == Some(key))
            .unwrap_or_else(|| panic!("record {key} not on the topic"));
        assert_eq!(record.value, format!("value {mode} {send}"));
        assert_service_headers(record, mode, send);
        assert_eq!(
            record.header("trace-id"),
            Some(format!("t-{mode}-{send}").as_str())
        );
        assert_eq!(record.header("x-caller"), Some("tests"));
        if *send == "sync" {
            assert_eq!(answer.body["partition"], record.partition, "{key}");
            assert_eq!(answer.body["offset"], record.offset, "{key}");
        }
    }
    assert_eq!(app.stop().await, 0);
}

#[tokio::test]
async fn workshop_shortcuts_take_a_json_body_or_query_parameters() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("shortcuts");
    let routes = [
        ("plain", "plain", "sync"),
        ("idempotent", "idempotent", "sync"),
        ("plain-async", "plain", "async"),
        ("idempotent-async", "idempotent", "async"),
    ];
    let mut expected = Vec::new();
    for (route, mode, send) in routes {
        // The workshop's curl lines: a JSON body with Content-Type: application/json.
        let key = format!("json-{route}");
        let answer = app
            .post_json(
                &format!("/api/v1/test/{route}"),
                &json!({"topic": topic, "key": key, "message": format!("m {route}")}),
            )
            .await;
        check_shortcut(&answer, mode, send, &topic, &key);
        expected.push((key, mode, send, answer));

        // The workshop's own code: query parameters, no body.
        let key = format!("query-{route}");
        let answer = app
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/test/{route}?topic={topic}&key={key}&message=m%20{route}"),
                None,
                None,
            )
            .await;
        check_shortcut(&answer, mode, send, &topic, &key);
        expected.push((key, mode, send, answer));

        // `curl -d` without a Content-Type: JSON labelled as a form.
        let key = format!("form-{route}");
        let answer = app
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/test/{route}"),
                Some(
                    json!({"topic": topic, "key": key, "message": format!("m {route}")})
                        .to_string(),
                ),
                Some("application/x-www-form-urlencoded"),
            )
            .await;
        check_shortcut(&answer, mode, send, &topic, &key);
        expected.push((key, mode, send, answer));
    }

    let records = read_topic(&bootstrap(), &topic, expected.len(), READ_TIMEOUT).await;
    assert_eq!(records.len(), expected.len(), "{records:?}");
    assert_no_duplicate_keys(&records);
    for (key, mode, send, answer) in &expected {
        let record = records
            .iter()
            .find(|r| r.key.as_deref() == Some(key))
            .unwrap_or_else(|| panic!("record {key} not on the topic"));
        let route = key.split_once('-').unwrap().1;
        assert_eq!(record.value, format!("m {route}"));
        assert_service_headers(record, mode, send);
        if *send == "sync" {
            assert_eq!(answer.body["offset"], record.offset);
            assert_eq!(answer.body["partition"], record.partition);
        }
    }
    app.stop().await;
}

fn check_shortcut(answer: &Answer, mode: &str, send: &str, topic: &str, key: &str) {
    let expected_status = if send == "async" { 202 } else { 200 };
    assert_eq!(
        answer.status.as_u16(),
        expected_status,
        "{key}: {:?}",
        answer.body
    );
    assert_eq!(answer.body["mode"], format!("{mode}-{send}"));
    assert_eq!(answer.body["topic"], topic);
    assert_eq!(answer.body["key"], key);
    if send == "sync" {
        assert!(
            answer.body["offset"].as_i64().unwrap() >= 0,
            "{:?}",
            answer.body
        );
    } else {
        assert!(answer.body["offset"].is_null());
    }
}

#[tokio::test]
async fn property_names_are_case_insensitive_and_workshop_defaults_apply() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("case");
    let answer = app
        .post_json(
            "/api/v1/send",
            &json!({"TOPIC": topic, "Message": "shouted", "ISIDEMPOTENT": false, "IsAsync": false}),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["mode"], "plain");
    assert_eq!(answer.body["sendMode"], "sync");
    // No key given: a fresh UUID, returned and used.
    let key = answer.body["key"].as_str().unwrap().to_owned();
    uuid::Uuid::parse_str(&key).expect("default key is a UUID");
    let records = read_topic(&bootstrap(), &topic, 1, READ_TIMEOUT).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key.as_deref(), Some(key.as_str()));
    assert_eq!(records[0].value, "shouted");
    assert_service_headers(&records[0], "plain", "sync");

    // No topic, no modes: the workshop's defaults (test-topic, idempotent, sync).
    let answer = app
        .post_json("/api/v1/send", &json!({"message": "defaults"}))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["topic"], "test-topic");
    assert_eq!(answer.body["mode"], "idempotent");
    assert_eq!(answer.body["sendMode"], "sync");
    let record = read_at(
        &bootstrap(),
        "test-topic",
        answer.body["partition"].as_i64().unwrap() as i32,
        answer.body["offset"].as_i64().unwrap(),
    )
    .await;
    assert_eq!(record.key.as_deref(), answer.body["key"].as_str());
    assert_eq!(record.value, "defaults");
    assert_service_headers(&record, "idempotent", "sync");
    app.stop().await;
}

#[tokio::test]
async fn explicit_partitions_are_honoured_and_missing_ones_refused() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("partition");
    for partition in [2, 0, 1] {
        let answer = app
            .post_json(
                "/api/v1/send",
                &json!({"topic": topic, "key": format!("p{partition}"), "message": "x", "partition": partition}),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(answer.body["partition"], partition);
    }
    // The test broker creates topics with 3 partitions.
    let answer = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "key": "p7", "message": "x", "partition": 7}),
        )
        .await;
    answer.assert_problem(404, "partition-not-found");
    assert_eq!(answer.body["kafkaError"], "UnknownPartition");
    let records = read_topic(&bootstrap(), &topic, 3, READ_TIMEOUT).await;
    let mut seen: Vec<(String, i32)> = records
        .iter()
        .map(|r| (r.key.clone().unwrap(), r.partition))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![("p0".into(), 0), ("p1".into(), 1), ("p2".into(), 2)]
    );
    app.stop().await;
}

#[tokio::test]
async fn one_key_keeps_its_order_and_offsets_without_duplicates() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("order");
    let mut positions = Vec::new();
    for i in 0..25 {
        let answer = app
            .post_json(
                "/api/v1/send",
                &json!({"topic": topic, "key": "same-key", "message": format!("{i}")}),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        positions.push((
            answer.body["partition"].as_i64().unwrap(),
            answer.body["offset"].as_i64().unwrap(),
        ));
    }
    assert!(
        positions.iter().all(|(p, _)| *p == positions[0].0),
        "one key, one partition"
    );
    assert!(
        positions.windows(2).all(|w| w[1].1 == w[0].1 + 1),
        "{positions:?}"
    );
    let records = read_topic(&bootstrap(), &topic, 25, READ_TIMEOUT).await;
    let values: Vec<String> = records.iter().map(|r| r.value.clone()).collect();
    let expected: Vec<String> = (0..25).map(|i| i.to_string()).collect();
    assert_eq!(values, expected, "every record once, in order");
    app.stop().await;
}
