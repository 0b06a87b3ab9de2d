//! Requests the service must refuse, with the contract's status and a problem body, and with
//! nothing produced.

use std::time::Duration;

use serde_json::json;

use support::*;

use crate::embedded::bootstrap;

#[tokio::test]
async fn malformed_and_mistyped_bodies_are_400_and_produce_nothing() {
    let app = TestApp::spawn_with(&bootstrap(), &[]).await;
    let topic = unique_topic("bad-body");
    let cases: Vec<(String, &str, Option<&str>)> = vec![
        (
            format!(r#"{{"topic":"{topic}","message":"#),
            "malformed-json",
            None,
        ),
        (
            format!(r#"{{"topic":"{topic}","message":"x"}} trailing"#),
            "malformed-json",
            None,
        ),
        ("[1,2,3]".into(), "malformed-json", None),
        (r#""just a string""#.into(), "malformed-json", None),
        ("".into(), "missing-body", None),
        (
            format!(r#"{{"topic":"{topic}","message":5,"valueSchema":"avro"}}"#),
            "invalid-property",
            Some("valueschema"),
        ),
        (
            format!(r#"{{"topic":"{topic}","message":5,"valueSchema":{{"id":1,"subject":"s"}}}}"#),
            "invalid-property",
            Some("valueSchema"),
        ),
        (
            format!(r#"{{"topic":"{topic}","key":["a"]}}"#),
            "invalid-property",
            Some("key"),
        ),
        (
            format!(r#"{{"topic":"{topic}","isAsync":"yes"}}"#),
            "invalid-property",
            Some("isasync"),
        ),
        (
            format!(r#"{{"topic":"{topic}","isIdempotent":1}}"#),
            "invalid-property",
            Some("isidempotent"),
        ),
        (
            format!(r#"{{"topic":"{topic}","partition":"one"}}"#),
            "invalid-property",
            Some("partition"),
        ),
        (
            format!(r#"{{"topic":"{topic}","partition":-1}}"#),
            "invalid-property",
            Some("partition"),
        ),
        (
            format!(r#"{{"topic":"{topic}","headers":{{"a":1}}}}"#),
            "invalid-property",
            Some("headers.a"),
        ),
        (
            format!(r#"{{"topic":"{topic}","headers":["a"]}}"#),
            "invalid-property",
            Some("headers"),
        ),
        (
            format!(r#"{{"topic":"{topic}","Topic":"{topic}"}}"#),
            "duplicate-property",
            Some("Topic"),
        ),
        (
            format!(r#"{{"topic":"{topic}","headers":{{"producer-mode":"x"}}}}"#),
            "invalid-header",
            Some("headers.producer-mode"),
        ),
        (
            format!(r#"{{"topic":"{topic}","headers":{{"":"x"}}}}"#),
            "invalid-header",
            Some("headers"),
        ),
        ("{\"topic\":7}".into(), "invalid-property", Some("topic")),
    ];
    for (body, kind, field) in &cases {
        let answer = app
            .request(
                reqwest::Method::POST,
                "/api/v1/send",
                Some(body.clone()),
                Some("application/json"),
            )
            .await;
        answer.assert_problem(400, kind);
        if let Some(field) = field {
            assert_eq!(answer.body["field"], *field, "{body}: {:?}", answer.body);
        }
    }
    // The same through a shortcut.
    let answer = app
        .request(
            reqwest::Method::POST,
            "/api/v1/test/plain",
            Some(format!(r#"{{"topic":"{topic}","message":"#)),
            Some("application/json"),
        )
        .await;
    answer.assert_problem(400, "malformed-json");
    let answer = app
        .request(reqwest::Method::POST, "/api/v1/test/plain", None, None)
        .await;
    answer.assert_problem(400, "missing-body");

    assert_eq!(
        record_count(&bootstrap(), &topic).await,
        0,
        "nothing may be produced"
    );
    assert_eq!(
        partitions(&bootstrap(), &topic),
        None,
        "the topic was never even created"
    );
    let metrics = app.get("/api/v1/metrics").await;
    assert_eq!(metrics.body["rejectedRequests"], cases.len() + 2);
    assert_eq!(metrics.body["records"]["delivered"], 0);
    app.stop().await;
}

#[tokio::test]
async fn invalid_topic_names_are_refused_before_kafka_sees_them() {
    let app = TestApp::spawn_with(&bootstrap(), &[]).await;
    let long = "x".repeat(250);
    for name in [
        "",
        ".",
        "..",
        "with space",
        "a/b",
        "semi;colon",
        "caf\u{e9}",
        long.as_str(),
    ] {
        let answer = app
            .post_json("/api/v1/send", &json!({"topic": name, "message": "x"}))
            .await;
        answer.assert_problem(400, "invalid-topic");
        assert_eq!(answer.body["field"], "topic");
        let answer = app
            .post_json(
                "/api/v1/test/idempotent",
                &json!({"topic": name, "message": "x"}),
            )
            .await;
        answer.assert_problem(400, "invalid-topic");
    }
    let answer = app
        .request(
            reqwest::Method::POST,
            "/api/v1/test/plain?topic=a%2Fb&message=x",
            None,
            None,
        )
        .await;
    answer.assert_problem(400, "invalid-topic");
    for name in ["with space", "a/b", "semi;colon"] {
        assert_eq!(
            partitions(&bootstrap(), name),
            None,
            "{name} must not exist"
        );
    }
    let metrics = app.get("/api/v1/metrics").await;
    assert_eq!(metrics.body["records"]["delivered"], 0);
    assert_eq!(metrics.body["records"]["failed"], 0);
    app.stop().await;
}

#[tokio::test]
async fn oversize_bodies_and_records_are_413_and_produce_nothing() {
    let app = TestApp::spawn_with(
        &bootstrap(),
        &[
            ("MAX_BODY_BYTES", "8192"),
            ("KAFKA_MESSAGE_MAX_BYTES", "2000"),
        ],
    )
    .await;
    let topic = unique_topic("oversize");
    // Over the HTTP body limit.
    let answer = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "message": "x".repeat(10_000)}),
        )
        .await;
    answer.assert_problem(413, "body-too-large");
    // Within the body limit, over the producer's message.max.bytes, in both modes and both ways.
    for (idempotent, is_async) in [(true, false), (false, false), (true, true), (false, true)] {
        let answer = app
            .post_json(
                "/api/v1/send",
                &json!({"topic": topic, "message": "y".repeat(4000), "isIdempotent": idempotent, "isAsync": is_async}),
            )
            .await;
        answer.assert_problem(413, "record-too-large");
        assert_eq!(answer.body["kafkaError"], "MessageSizeTooLarge");
    }
    // A record that fits still goes through.
    let answer = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "key": "small", "message": "fits"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let records = read_topic(&bootstrap(), &topic, 1, Duration::from_secs(30)).await;
    assert_eq!(records.len(), 1, "only the record that fits: {records:?}");
    assert_eq!(records[0].key.as_deref(), Some("small"));
    app.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_problems() {
    let app = TestApp::spawn_with(&bootstrap(), &[]).await;
    app.get("/api/v1/nothing-here")
        .await
        .assert_problem(404, "route-not-found");
    app.post_json("/api/v1/test/turbo", &json!({"message": "x"}))
        .await
        .assert_problem(404, "route-not-found");
    app.get("/api/v1/send")
        .await
        .assert_problem(405, "method-not-allowed");
    app.stop().await;
}
