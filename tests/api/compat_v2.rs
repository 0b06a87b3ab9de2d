//! Confluent REST Proxy v2 and Strimzi Kafka Bridge produce and topic routes on the real broker:
//! the peers' documented examples verbatim, every content type, headers, partitions, timestamps,
//! async 204, per-request acks, the error codes, and nothing produced for a refused request.

use std::time::Duration;

use serde_json::{json, Value};

use support::*;

const BINARY: &str = "application/vnd.kafka.binary.v2+json";
const JSON: &str = "application/vnd.kafka.json.v2+json";
const TEXT: &str = "application/vnd.kafka.text.v2+json";

async fn post(app: &TestApp, path: &str, content_type: Option<&str>, body: &Value) -> Answer {
    app.request(
        reqwest::Method::POST,
        path,
        Some(body.to_string()),
        content_type,
    )
    .await
}

/// A proxy error: this status, this code, a message, the v2 content type.
fn assert_error(answer: &Answer, status: u16, code: u64) {
    assert_eq!(answer.status.as_u16(), status, "{:?}", answer.body);
    assert_eq!(answer.body["error_code"], code, "{:?}", answer.body);
    assert!(
        answer.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{:?}",
        answer.body
    );
    assert_eq!(
        answer.headers["content-type"],
        "application/vnd.kafka.v2+json"
    );
}

/// Each answered offset names the record read back at that position.
fn offsets(answer: &Answer) -> Vec<(i32, i64)> {
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(
        answer.headers["content-type"],
        "application/vnd.kafka.v2+json"
    );
    assert_eq!(answer.body["key_schema_id"], Value::Null);
    assert_eq!(answer.body["value_schema_id"], Value::Null);
    answer.body["offsets"]
        .as_array()
        .expect("offsets")
        .iter()
        .map(|o| {
            assert!(o.get("error_code").is_none(), "{o}");
            (
                o["partition"].as_i64().unwrap() as i32,
                o["offset"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn at(records: &[Read], (partition, offset): (i32, i64)) -> &Read {
    records
        .iter()
        .find(|r| r.partition == partition && r.offset == offset)
        .unwrap_or_else(|| panic!("no record at {partition}/{offset} in {records:?}"))
}

#[tokio::test]
async fn confluent_documented_examples_land_byte_for_byte() {
    let app = TestApp::spawn().await;
    // The API reference's binary example (docs.confluent.io, REST Proxy API v2,
    // "POST /topics/(string:topic_name)"), verbatim.
    let binary = unique_topic("v2-binary");
    let answer = post(
        &app,
        &format!("/topics/{binary}"),
        Some(BINARY),
        &json!({"records": [{"key": "a2V5", "value": "Y29uZmx1ZW50"}, {"value": "a2Fma2E=", "partition": 1}, {"value": "bG9ncw=="}]}),
    )
    .await;
    let positions = offsets(&answer);
    assert_eq!(positions.len(), 3);
    assert_eq!(positions[1].0, 1, "the record that named partition 1");
    let records = read_topic(&bootstrap(), &binary, 3, Duration::from_secs(20)).await;
    assert_eq!(records.len(), 3, "each record once: {records:?}");
    let first = at(&records, positions[0]);
    assert_eq!(first.raw_key.as_deref(), Some(&b"key"[..]));
    assert_eq!(first.raw_value.as_deref(), Some(&b"confluent"[..]));
    assert_service_headers(first, "idempotent", "sync");
    assert_eq!(at(&records, positions[1]).raw_key, None, "no key given");
    assert_eq!(at(&records, positions[1]).value, "kafka");
    assert_eq!(at(&records, positions[2]).value, "logs");

    // The quick start's JSON example (docs.confluent.io, "REST Proxy Quick Start"), verbatim.
    let json_topic = unique_topic("v2-json");
    let answer = post(
        &app,
        &format!("/topics/{json_topic}"),
        Some(JSON),
        &json!({"records":[{"value":{"foo":"bar"}}]}),
    )
    .await;
    let positions = offsets(&answer);
    let records = read_topic(&bootstrap(), &json_topic, 1, Duration::from_secs(20)).await;
    assert_eq!(records.len(), 1);
    assert_eq!(at(&records, positions[0]).value, r#"{"foo":"bar"}"#);

    // JSON under Confluent's other names for it; keys of any JSON type, compact as written.
    for content_type in ["application/vnd.kafka.v2+json", "application/json"] {
        let topic = unique_topic("v2-json-alias");
        let body = r#"{"records": [{"key": {"id": 7, "tags": ["a", "b"]}, "value": [1, 2.50, "x y", null]}]}"#;
        let answer = app
            .request(
                reqwest::Method::POST,
                &format!("/topics/{topic}"),
                Some(body.into()),
                Some(content_type),
            )
            .await;
        let positions = offsets(&answer);
        let records = read_topic(&bootstrap(), &topic, 1, Duration::from_secs(20)).await;
        let record = at(&records, positions[0]);
        assert_eq!(record.key.as_deref(), Some(r#"{"id":7,"tags":["a","b"]}"#));
        assert_eq!(record.value, r#"[1,2.50,"x y",null]"#);
    }
}

#[tokio::test]
async fn strimzi_documented_examples_with_headers_text_timestamps_and_async() {
    let app = TestApp::spawn().await;
    // Strimzi Kafka Bridge documentation, "Producing messages to topics and partitions",
    // verbatim (the bridge's quick start sends it to bridge-quickstart-topic).
    let topic = unique_topic("strimzi");
    let answer = post(
        &app,
        &format!("/topics/{topic}"),
        Some(JSON),
        &json!({"records": [{"key": "my-key", "value": "sales-lead-0001"}, {"value": "sales-lead-0002", "partition": 2}, {"value": "sales-lead-0003"}]}),
    )
    .await;
    let positions = offsets(&answer);
    assert_eq!(positions[1].0, 2);
    // The same documentation's headers example: header values in base64.
    let answer = post(
        &app,
        &format!("/topics/{topic}"),
        Some(BINARY),
        &json!({"records": [{"key": "a2V5LTE=", "value": "dmFsdWUtMQ==", "headers": [{"key": "header-1", "value": "dmFsdWUtMQ=="}, {"key": "header-2", "value": "dmFsdWUtMg=="}], "timestamp": 1_700_000_000_123_i64}]}),
    )
    .await;
    let with_headers = offsets(&answer)[0];
    // Text (Strimzi): strings as they are; no Content-Type: binary (as the bridge assumes).
    let answer = post(
        &app,
        &format!("/topics/{topic}"),
        Some(TEXT),
        &json!({"records": [{"key": "text-key", "value": "plain text, é"}]}),
    )
    .await;
    let text = offsets(&answer)[0];
    let answer = post(
        &app,
        &format!("/topics/{topic}"),
        None,
        &json!({"records": [{"value": "AAEC/w=="}]}),
    )
    .await;
    let untyped = offsets(&answer)[0];
    // ?async=true: 204, no body, and the record lands.
    let answer = post(
        &app,
        &format!("/topics/{topic}?async=true"),
        Some(JSON),
        &json!({"records": [{"key": "async-key", "value": "queued"}]}),
    )
    .await;
    assert_eq!(answer.status, 204, "{:?}", answer.body);
    assert_eq!(answer.body, Value::String(String::new()));

    let records = read_topic(&bootstrap(), &topic, 7, Duration::from_secs(20)).await;
    assert_eq!(records.len(), 7, "each record once: {records:?}");
    assert_eq!(
        at(&records, positions[0]).key.as_deref(),
        Some(r#""my-key""#)
    );
    assert_eq!(at(&records, positions[0]).value, r#""sales-lead-0001""#);
    let record = at(&records, with_headers);
    assert_eq!(record.key.as_deref(), Some("key-1"));
    assert_eq!(record.value, "value-1");
    assert_eq!(record.header("header-1"), Some("value-1"));
    assert_eq!(record.header("header-2"), Some("value-2"));
    assert_eq!(record.timestamp, Some(1_700_000_000_123));
    assert_service_headers(record, "idempotent", "sync");
    let record = at(&records, text);
    assert_eq!(record.key.as_deref(), Some("text-key"));
    assert_eq!(record.value, "plain text, é");
    assert_eq!(
        at(&records, untyped).raw_value.as_deref(),
        Some(&[0, 1, 2, 255][..])
    );
    let queued = records
        .iter()
        .find(|r| r.key.as_deref() == Some(r#""async-key""#))
        .expect("the async record");
    assert_service_headers(queued, "idempotent", "async");
}

#[tokio::test]
async fn the_partition_route_and_every_refusal_with_its_code() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("v2-partition");
    let answer = post(
        &app,
        &format!("/topics/{topic}/partitions/2"),
        Some(BINARY),
        &json!({"records": [{"value": "b25l"}, {"value": "dHdv"}]}),
    )
    .await;
    let positions = offsets(&answer);
    assert!(positions.iter().all(|(p, _)| *p == 2), "{positions:?}");
    assert_eq!(positions[1].1, positions[0].1 + 1);

    let refusals: Vec<(String, Option<&str>, Value, u16, u64)> = vec![
        // The partition does not exist: within the mode's timeout, not after 60 s.
        (
            format!("/topics/{topic}/partitions/99"),
            Some(BINARY),
            json!({"records": [{"value": "eA=="}]}),
            404,
            40402,
        ),
        (
            format!("/topics/{topic}/partitions/x"),
            Some(BINARY),
            json!({"records": [{"value": "eA=="}]}),
            404,
            40402,
        ),
        // The path names the partition; a record may not.
        (
            format!("/topics/{topic}/partitions/1"),
            Some(BINARY),
            json!({"records": [{"value": "eA==", "partition": 0}]}),
            422,
            42206,
        ),
        (
            format!("/topics/{topic}"),
            Some(BINARY),
            json!({"records": [{"value": "eA=="}, {"value": "not base64!"}]}),
            422,
            42203,
        ),
        (
            format!("/topics/{topic}"),
            Some(TEXT),
            json!({"records": [{"value": {"not": "a string"}}]}),
            422,
            42203,
        ),
        (
            format!("/topics/{topic}"),
            Some(BINARY),
            json!({"records": []}),
            422,
            42206,
        ),
        (
            format!("/topics/{topic}"),
            Some(BINARY),
            json!({"records": [{"value": "eA=="}], "value_schema_id": 1}),
            422,
            42206,
        ),
        (
            format!("/topics/{topic}"),
            Some("application/vnd.kafka.avro.v2+json"),
            json!({"records": [{"value": {"a": 1}}]}),
            422,
            42202,
        ),
        (
            format!("/topics/{topic}"),
            Some("application/vnd.kafka.avro.v2+json"),
            json!({"records": [{"value": {"a": 1}}], "value_schema_id": 1}),
            422,
            42206,
        ),
        (
            format!("/topics/{topic}"),
            Some("text/plain"),
            json!({"records": [{"value": "eA=="}]}),
            415,
            415,
        ),
        (
            format!("/topics/{topic}"),
            Some(BINARY),
            json!({"records": [{"value": "eA==", "headers": [{"key": "h", "value": "%%"}]}]}),
            422,
            42203,
        ),
        // Beyond what Kafka 4 brokers take (an hour ahead), refused before Kafka.
        (
            format!("/topics/{topic}"),
            Some(BINARY),
            json!({"records": [{"value": "eA==", "timestamp": 4_102_444_800_000_i64}]}),
            400,
            400,
        ),
        (
            format!("/topics/{topic}?async=maybe"),
            Some(BINARY),
            json!({"records": [{"value": "eA=="}]}),
            400,
            400,
        ),
        (
            format!("/topics/{topic}?acks=2"),
            Some(BINARY),
            json!({"records": [{"value": "eA=="}]}),
            400,
            400,
        ),
        (
            "/topics/no%20spaces".into(),
            Some(BINARY),
            json!({"records": [{"value": "eA=="}]}),
            400,
            400,
        ),
    ];
    for (path, content_type, body, status, code) in refusals {
        let answer = post(&app, &path, content_type, &body).await;
        assert_error(&answer, status, code);
    }
    let malformed = app
        .request(
            reqwest::Method::POST,
            &format!("/topics/{topic}"),
            Some("{\"records\": [".into()),
            Some(BINARY),
        )
        .await;
    assert_error(&malformed, 400, 400);
    let records = read_topic(&bootstrap(), &topic, 2, Duration::from_secs(20)).await;
    assert_eq!(
        records.len(),
        2,
        "nothing of a refused request: {records:?}"
    );

    // An unknown topic, where the cluster does not create topics: 40401 for the request.
    let noauto = TestApp::spawn_with(&noauto_bootstrap(), &[]).await;
    let missing = unique_topic("v2-missing");
    let answer = post(
        &noauto,
        &format!("/topics/{missing}"),
        Some(BINARY),
        &json!({"records": [{"value": "eA=="}, {"value": "eQ=="}]}),
    )
    .await;
    assert_error(&answer, 404, 40401);
    assert!(
        answer.elapsed < Duration::from_secs(10),
        "{:?}",
        answer.elapsed
    );
    let answer = noauto.get(&format!("/topics/{missing}")).await;
    assert_error(&answer, 404, 40401);
}

#[tokio::test]
async fn each_acks_level_is_served_by_a_producer_of_its_own() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("acks");
    let mut sent = Vec::new();
    for acks in ["0", "1", "all", "-1"] {
        let answer = post(
            &app,
            &format!("/topics/{topic}/partitions/0?acks={acks}"),
            Some(TEXT),
            &json!({"records": [{"key": format!("v2-acks-{acks}"), "value": acks}]}),
        )
        .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let offset = &answer.body["offsets"][0];
        assert_eq!(offset["partition"], 0);
        // acks=0: the producer does not wait, so no offset comes back.
        assert_eq!(offset["offset"].is_null(), acks == "0", "{offset}");
        sent.push(format!("v2-acks-{acks}"));
    }
    // The service's own API: a body field, plain unless idempotence is asked for.
    for (body, status, mode) in [
        (
            json!({"topic": topic, "key": "own-acks-0", "message": "m", "acks": 0}),
            200,
            "plain",
        ),
        (
            json!({"topic": topic, "key": "own-acks-1", "message": "m", "acks": "1", "isIdempotent": false}),
            200,
            "plain",
        ),
        (
            json!({"topic": topic, "key": "own-acks-all", "message": "m", "acks": "all"}),
            200,
            "idempotent",
        ),
        (
            json!({"topic": topic, "key": "own-acks-all-plain", "message": "m", "acks": -1, "isIdempotent": false}),
            200,
            "plain",
        ),
    ] {
        let answer = app.post_json("/api/v1/send", &body).await;
        assert_eq!(answer.status, status, "{:?}", answer.body);
        assert_eq!(answer.body["mode"], mode);
        assert_eq!(
            answer.body["offset"].is_null(),
            body["acks"] == 0,
            "{:?}",
            answer.body
        );
        sent.push(body["key"].as_str().unwrap().to_owned());
    }
    // Idempotence needs acks=all.
    let answer = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "message": "m", "acks": "1", "isIdempotent": true}),
        )
        .await;
    answer.assert_problem(400, "invalid-property");
    let answer = app
        .post_json(
            "/api/v1/send/batch",
            &json!({"topic": topic, "acks": 0, "records": [{"key": "batch-acks-0", "message": "m"}, {"key": "batch-acks-all", "message": "m", "acks": "all", "isIdempotent": true}]}),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert!(answer.body["results"][0]["offset"].is_null());
    assert!(answer.body["results"][1]["offset"].is_i64());
    sent.extend(["batch-acks-0".to_owned(), "batch-acks-all".to_owned()]);

    let records = read_topic(&bootstrap(), &topic, sent.len(), Duration::from_secs(20)).await;
    assert_no_duplicate_keys(&records);
    let mut keys: Vec<String> = records
        .iter()
        .map(|r| r.key.clone().unwrap().trim_matches('"').to_owned())
        .collect();
    keys.sort();
    sent.sort();
    assert_eq!(keys, sent, "every record once, whatever its acks");
    // The plain producer's own level (1) and the idempotent one's (all) need no other producer;
    // 0, and all without idempotence, one each.
    let built = app.producers.extra_acks();
    assert_eq!(
        built,
        vec![
            kafka_producer::kafka::Acks::None,
            kafka_producer::kafka::Acks::All
        ]
    );
}

#[tokio::test]
async fn topics_are_listed_and_described_from_the_brokers_metadata() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("v2-meta");
    let answer = post(
        &app,
        &format!("/topics/{topic}"),
        Some(BINARY),
        &json!({"records": [{"value": "eA=="}]}),
    )
    .await;
    offsets(&answer);
    let list = app.get("/topics").await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    assert_eq!(
        list.headers["content-type"],
        "application/vnd.kafka.v2+json"
    );
    let names: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(names.contains(&topic.as_str()), "{names:?}");
    assert!(names.iter().all(|n| !n.starts_with("__")), "{names:?}");
    let described = app.get(&format!("/topics/{topic}")).await;
    assert_eq!(described.status, 200, "{:?}", described.body);
    assert_eq!(described.body["name"], topic.as_str());
    let partitions = described.body["partitions"].as_array().unwrap();
    assert_eq!(
        partitions.len() as i32,
        partitions_of(&topic).await,
        "{partitions:?}"
    );
    for (i, p) in partitions.iter().enumerate() {
        assert_eq!(p["partition"], i);
        let leader = p["leader"].as_i64().unwrap();
        let replicas = p["replicas"].as_array().unwrap();
        assert_eq!(replicas.len(), 1, "one broker");
        assert_eq!(replicas[0]["broker"], leader);
        assert_eq!(replicas[0]["leader"], true);
        assert_eq!(replicas[0]["in_sync"], true);
    }
    assert_error(&app.get("/topics/__consumer_offsets").await, 403, 40301);
}

async fn partitions_of(topic: &str) -> i32 {
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || partitions(&bootstrap(), &topic).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn keys_and_the_allow_list_hold_on_every_route() {
    let allowed = unique_topic("v2-allowed");
    let forbidden = unique_topic("v2-forbidden");
    let app = TestApp::spawn_with(
        &bootstrap(),
        &[
            ("API_KEYS", "reader-writer:s3cret-v2-key-0a1b2c"),
            ("ALLOWED_TOPICS", &format!("{allowed},v2-meta-*")),
        ],
    )
    .await;
    let key = [
        ("authorization", "Bearer s3cret-v2-key-0a1b2c"),
        ("content-type", BINARY),
    ];
    let body = json!({"records": [{"value": "eA=="}]});
    let answer = app
        .post_with_headers(&format!("/topics/{allowed}"), &body, &key)
        .await;
    offsets(&answer);
    let no_key = post(&app, &format!("/topics/{allowed}"), Some(BINARY), &body).await;
    assert_error(&no_key, 401, 40101);
    assert!(no_key.headers.contains_key("www-authenticate"));
    let answer = app
        .post_with_headers(&format!("/topics/{forbidden}"), &body, &key)
        .await;
    assert_error(&answer, 403, 40301);
    assert_error(&app.get("/topics").await, 401, 40101);
    let list = app
        .client
        .get(format!("{}/topics", app.base))
        .header("x-api-key", "s3cret-v2-key-0a1b2c")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(names.contains(&allowed.as_str()), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| *n == allowed || n.starts_with("v2-meta-")),
        "only what the rules allow: {names:?}"
    );

    // v3: the same key and rules.
    let v3_key = [("x-api-key", "s3cret-v2-key-0a1b2c")];
    let get = |path: String, with_key: bool| {
        let mut request = app.client.get(format!("{}{path}", app.base));
        if with_key {
            request = request.header("x-api-key", "s3cret-v2-key-0a1b2c");
        }
        async move { answer_of(request.send().await.unwrap(), std::time::Instant::now()).await }
    };
    let no_key = get("/v3/clusters".into(), false).await;
    assert_eq!(no_key.status, 401);
    assert_eq!(no_key.body["error_code"], 40101);
    let clusters = get("/v3/clusters".into(), true).await;
    let id = clusters.body["data"][0]["cluster_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let topics = get(format!("/v3/clusters/{id}/topics"), true).await;
    let names: Vec<&str> = topics.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["topic_name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&allowed.as_str()), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| *n == allowed || n.starts_with("v2-meta-")),
        "{names:?}"
    );
    let record = json!({"value": {"type": "STRING", "data": "v"}});
    let answer = app
        .post_with_headers(
            &format!("/v3/clusters/{id}/topics/{forbidden}/records"),
            &record,
            &v3_key,
        )
        .await;
    assert_eq!(answer.status, 403, "{:?}", answer.body);
    assert_eq!(answer.body["error_code"], 40301);
    let answer = app
        .post_with_headers(
            &format!("/v3/clusters/{id}/topics/{allowed}/records"),
            &record,
            &[],
        )
        .await;
    assert_eq!(answer.status, 401, "{:?}", answer.body);
    let answer = app
        .post_with_headers(
            &format!("/v3/clusters/{id}/topics/{forbidden}/records:batch"),
            &json!({"entries": [{"id": "1", "value": {"data": 1}}]}),
            &v3_key,
        )
        .await;
    assert_eq!(answer.status, 403, "{:?}", answer.body);
    let answer = app
        .post_with_headers(
            &format!("/v3/clusters/{id}/topics/{allowed}/records"),
            &record,
            &v3_key,
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(
        record_count(&bootstrap(), &forbidden).await,
        0,
        "nothing refused lands"
    );
    assert_eq!(record_count(&bootstrap(), &allowed).await, 2);
}
