//! Confluent REST Proxy v3 on the real broker: clusters, topics and partitions from the brokers'
//! metadata; a record as the API reference gives it; a 100 000-record chunked stream answered
//! while it is still being sent, in bounded memory; batches; the error codes.

use std::collections::HashSet;
use std::process::Child;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};

use support::*;

async fn cluster_id(client: &reqwest::Client, base: &str) -> String {
    let clusters = get_json(client, &format!("{base}/v3/clusters")).await;
    assert_eq!(clusters["kind"], "KafkaClusterList", "{clusters}");
    let id = clusters["data"][0]["cluster_id"]
        .as_str()
        .expect("a cluster id")
        .to_owned();
    assert!(!id.is_empty());
    id
}

/// A proxy error: this status and code, a message, JSON.
fn assert_error(answer: &Answer, status: u16, code: u64) {
    assert_eq!(answer.status.as_u16(), status, "{:?}", answer.body);
    assert_eq!(answer.body["error_code"], code, "{:?}", answer.body);
    assert!(answer.body["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert_eq!(answer.headers["content-type"], "application/json");
}

#[tokio::test]
async fn the_cluster_its_topics_and_partitions_are_the_brokers_own() {
    let app = TestApp::spawn().await;
    let id = cluster_id(&app.client, &app.base).await;
    let cluster = app.get(&format!("/v3/clusters/{id}")).await;
    assert_eq!(cluster.status, 200, "{:?}", cluster.body);
    assert_eq!(cluster.body["kind"], "KafkaCluster");
    assert_eq!(cluster.body["cluster_id"], id.as_str());
    assert_eq!(
        cluster.body["topics"]["related"],
        format!("{}/v3/clusters/{id}/topics", app.base)
    );
    assert_error(&app.get("/v3/clusters/not-this-one").await, 404, 404);

    let topic = unique_topic("v3-meta");
    app.post_json("/api/v1/send", &json!({"topic": topic, "message": "m"}))
        .await;
    let topics = app.get(&format!("/v3/clusters/{id}/topics")).await;
    assert_eq!(topics.body["kind"], "KafkaTopicList");
    let listed = topics.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic_name"] == topic.as_str())
        .expect("the topic is listed")
        .clone();
    assert!(topics.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| !t["topic_name"].as_str().unwrap().starts_with("__")));
    let described = app.get(&format!("/v3/clusters/{id}/topics/{topic}")).await;
    assert_eq!(described.body, listed);
    assert_eq!(described.body["kind"], "KafkaTopic");
    assert_eq!(described.body["partitions_count"], 3);
    assert_eq!(described.body["replication_factor"], 1);
    assert_eq!(described.body["is_internal"], false);
    let partitions = app
        .get(&format!("/v3/clusters/{id}/topics/{topic}/partitions"))
        .await;
    let data = partitions.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    for (i, p) in data.iter().enumerate() {
        assert_eq!(p["kind"], "KafkaPartition");
        assert_eq!(p["partition_id"], i);
        assert!(p["leader"]["related"]
            .as_str()
            .unwrap()
            .contains("/replicas/"));
    }
    assert_error(
        &app.get(&format!(
            "/v3/clusters/{id}/topics/{}",
            unique_topic("absent")
        ))
        .await,
        404,
        40401,
    );
}

#[tokio::test]
async fn a_record_as_the_api_reference_gives_it_lands_with_its_answer() {
    let app = TestApp::spawn().await;
    let id = cluster_id(&app.client, &app.base).await;
    let topic = unique_topic("v3-record");
    // Confluent REST Proxy API v3 reference, "Produce records" request example, verbatim.
    let answer = app
        .post_json(
            &format!("/v3/clusters/{id}/topics/{topic}/records"),
            &json!({"partition_id": 1, "headers": [{"name": "Header-1", "value": "SGVhZGVyLTE="}, {"name": "Header-2", "value": "SGVhZGVyLTI="}], "key": {"type": "BINARY", "data": "Zm9vYmFy"}, "value": {"type": "JSON", "data": {"foo": "bar"}}, "timestamp": "2021-02-05T19:14:42Z"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.headers["content-type"], "application/json");
    let body = &answer.body;
    assert_eq!(body["error_code"], 200);
    assert_eq!(body["cluster_id"], id.as_str());
    assert_eq!(body["topic_name"], topic.as_str());
    assert_eq!(body["partition_id"], 1);
    assert_eq!(body["timestamp"], "2021-02-05T19:14:42Z");
    assert_eq!(body["key"], json!({"type": "BINARY", "size": 6}));
    assert_eq!(body["value"], json!({"type": "JSON", "size": 13}));
    let record = read_at(&bootstrap(), &topic, 1, body["offset"].as_i64().unwrap()).await;
    assert_eq!(record.key.as_deref(), Some("foobar"));
    assert_eq!(record.value, r#"{"foo":"bar"}"#);
    assert_eq!(record.header("Header-1"), Some("Header-1"));
    assert_eq!(record.header("Header-2"), Some("Header-2"));
    assert_eq!(record.timestamp, Some(1_612_552_482_000));
    assert_service_headers(&record, "idempotent", "sync");

    // STRING, a header without a value, no key; acks=0 answers without an offset.
    let answer = app
        .post_json(
            &format!("/v3/clusters/{id}/topics/{topic}/records?acks=0"),
            &json!({"partition_id": 2, "headers": [{"name": "empty", "value": null}], "value": {"type": "STRING", "data": "text"}}),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert!(answer.body["offset"].is_null(), "{:?}", answer.body);
    assert!(answer.body.get("key").is_none());
    let records = read_topic(&bootstrap(), &topic, 2, Duration::from_secs(20)).await;
    assert_eq!(records.len(), 2, "{records:?}");
    let text = records.iter().find(|r| r.partition == 2).unwrap();
    assert_eq!(text.raw_key, None);
    assert_eq!(text.value, "text");
    assert!(
        text.raw_headers.contains(&("empty".into(), None)),
        "{text:?}"
    );

    // A failed single record gets its own status, not 200.
    for (body, status, code) in [
        (
            json!({"value": {"type": "BINARY", "data": "%%"}}),
            422,
            42203,
        ),
        (
            json!({"value": {"type": "AVRO", "data": {"a": 1}}}),
            422,
            42206,
        ),
        (
            json!({"value": {"schema_id": 3, "data": {"a": 1}}}),
            422,
            42206,
        ),
        (json!({"value": {"type": "XML", "data": "<a/>"}}), 400, 400),
        (
            json!({"value": {"type": "STRING", "data": "v"}, "timestamp": "2099-01-01T00:00:00Z"}),
            400,
            400,
        ),
        (
            json!({"value": {"type": "STRING", "data": "v"}, "timestamp": "yesterday"}),
            400,
            400,
        ),
        (
            json!({"partition_id": 99, "value": {"type": "STRING", "data": "v"}}),
            404,
            40402,
        ),
    ] {
        let answer = app
            .post_json(&format!("/v3/clusters/{id}/topics/{topic}/records"), &body)
            .await;
        assert_error(&answer, status, code);
    }
    assert_error(
        &app.post_json(
            &format!("/v3/clusters/other/topics/{topic}/records"),
            &json!({"value": {"type": "STRING", "data": "v"}}),
        )
        .await,
        404,
        404,
    );
    assert_eq!(
        record_count(&bootstrap(), &topic).await,
        2,
        "nothing refused lands"
    );
}

#[tokio::test]
async fn a_batch_answers_each_entry_by_id() {
    let app = TestApp::spawn().await;
    let id = cluster_id(&app.client, &app.base).await;
    let topic = unique_topic("v3-batch");
    let mut entries: Vec<Value> = (0..50)
        .map(|i| json!({"id": format!("e{i}"), "key": {"type": "STRING", "data": format!("k{i}")}, "value": {"type": "STRING", "data": format!("v{i}")}}))
        .collect();
    entries[7] = json!({"id": "e7", "value": {"type": "BINARY", "data": "not base64"}});
    let path = format!("/v3/clusters/{id}/topics/{topic}/records:batch");
    let answer = app.post_json(&path, &json!({"entries": entries})).await;
    assert_eq!(answer.status, 207, "{:?}", answer.body);
    let successes = answer.body["successes"].as_array().unwrap();
    let failures = answer.body["failures"].as_array().unwrap();
    assert_eq!(successes.len(), 49);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["id"], "e7");
    assert_eq!(failures[0]["error_code"], 42203);
    let records = read_topic(&bootstrap(), &topic, 49, Duration::from_secs(20)).await;
    assert_eq!(records.len(), 49, "{records:?}");
    for success in successes {
        let n = success["id"].as_str().unwrap().trim_start_matches('e');
        let record = records
            .iter()
            .find(|r| {
                i64::from(r.partition) == success["partition_id"].as_i64().unwrap()
                    && r.offset == success["offset"].as_i64().unwrap()
            })
            .expect("the answered position");
        assert_eq!(record.value, format!("v{n}"));
        assert_eq!(record.key.as_deref(), Some(format!("k{n}").as_str()));
    }
    for (body, status) in [
        (
            json!({"entries": [{"id": "a", "value": {"data": 1}}, {"id": "a", "value": {"data": 2}}]}),
            400,
        ),
        (json!({"entries": [{"value": {"data": 1}}]}), 400),
        (
            json!({"entries": [{"id": "x".repeat(81), "value": {"data": 1}}]}),
            400,
        ),
        (json!({"entries": []}), 400),
    ] {
        assert_error(
            &app.post_json(&path, &body).await,
            status,
            u64::from(status),
        );
    }
    assert_eq!(record_count(&bootstrap(), &topic).await, 49);
}

/// Resident memory now and at its peak, in MiB, from /proc.
fn rss_mib(child: &Child) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .unwrap()
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test]
async fn a_stream_of_100_000_records_is_answered_while_it_is_sent() {
    const RECORDS: usize = 100_000;
    const PER_CHUNK: usize = 500;
    let log = tmp_dir().join(format!("v3-stream-{}.log", std::process::id()));
    let (mut child, base) = start_binary(
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", bootstrap()),
            ("LOG_LEVEL", "warn".into()),
        ],
        &log,
    )
    .await;
    let client = reqwest::Client::new();
    let id = cluster_id(&client, &base).await;
    let topic = unique_topic("v3-stream");
    let (idle, _) = rss_mib(&child);

    // The upload: chunks of records, the last ones held back until the first answers are in.
    let (chunks, upload) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let (first_answer, answered) = tokio::sync::oneshot::channel::<()>();
    let sender = tokio::spawn(async move {
        let mut answered = Some(answered);
        for chunk in 0..RECORDS / PER_CHUNK {
            if chunk == RECORDS / PER_CHUNK - 1 {
                tokio::time::timeout(Duration::from_secs(60), answered.take().unwrap())
                    .await
                    .expect("an answer came before the upload ended")
                    .unwrap();
            }
            let mut bytes = Vec::new();
            for i in chunk * PER_CHUNK..(chunk + 1) * PER_CHUNK {
                let record = json!({"key": {"type": "STRING", "data": format!("k{}", i % 100)}, "value": {"type": "JSON", "data": {"i": i}}});
                bytes.extend_from_slice(record.to_string().as_bytes());
                bytes.push(b'\n');
            }
            chunks.send(bytes).await.unwrap();
        }
    });
    let body = futures_util::stream::unfold(upload, |mut upload| async move {
        upload
            .recv()
            .await
            .map(|bytes| (Ok::<_, std::io::Error>(bytes), upload))
    });
    let response = client
        .post(format!("{base}/v3/clusters/{id}/topics/{topic}/records"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut first_answer = Some(first_answer);
    let mut answers: Vec<Value> = Vec::with_capacity(RECORDS);
    let mut pending = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        pending.extend_from_slice(&chunk.unwrap());
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            answers.push(serde_json::from_slice(&line).unwrap());
            if let Some(tx) = first_answer.take() {
                let _ = tx.send(());
            }
        }
    }
    sender.await.unwrap();
    let (_, peak) = rss_mib(&child);
    println!("v3 stream of {RECORDS} records: RSS idle {idle:.1} MiB, peak {peak:.1} MiB");
    sigterm(&child);
    wait_exit(&mut child, Duration::from_secs(20));
    assert!(
        peak < 200.0,
        "the stream is held in a bounded window, not in memory: peak RSS {peak:.1} MiB"
    );

    assert_eq!(answers.len(), RECORDS);
    let mut positions = HashSet::with_capacity(RECORDS);
    for answer in &answers {
        assert_eq!(answer["error_code"], 200, "{answer}");
        positions.insert((
            answer["partition_id"].as_i64().unwrap(),
            answer["offset"].as_i64().unwrap(),
        ));
    }
    assert_eq!(positions.len(), RECORDS, "no two answers name one position");
    let records = read_topic(&bootstrap(), &topic, RECORDS, Duration::from_secs(120)).await;
    assert_eq!(records.len(), RECORDS, "every record exactly once");
    for record in &records {
        let i: usize = serde_json::from_str::<Value>(&record.value).unwrap()["i"]
            .as_u64()
            .unwrap() as usize;
        let answer = &answers[i];
        assert_eq!(
            (i64::from(record.partition), record.offset),
            (
                answer["partition_id"].as_i64().unwrap(),
                answer["offset"].as_i64().unwrap()
            ),
            "answer {i} is in the order of the records"
        );
        assert_eq!(
            record.key.as_deref(),
            Some(format!("k{}", i % 100).as_str())
        );
    }
    // Per key, the records keep the order they were sent in.
    let mut last: std::collections::HashMap<&str, usize> = Default::default();
    let mut by_offset: Vec<&Read> = records.iter().collect();
    by_offset.sort_by_key(|r| (r.partition, r.offset));
    for record in by_offset {
        let i = serde_json::from_str::<Value>(&record.value).unwrap()["i"]
            .as_u64()
            .unwrap() as usize;
        let key = record.key.as_deref().unwrap();
        if let Some(before) = last.insert(key, i) {
            assert!(before < i, "key {key}: {before} then {i}");
        }
    }
}

#[tokio::test]
async fn a_stream_over_h2c_is_answered_record_by_record() {
    const RECORDS: usize = 3_000;
    let app = TestApp::spawn().await;
    let id = cluster_id(&app.client, &app.base).await;
    let topic = unique_topic("v3-h2c");
    // HTTP/2 without TLS, by prior knowledge: the body is a stream of DATA frames.
    let h2c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let chunks = (0..RECORDS / 500).map(|chunk| {
        let lines: String = (chunk * 500..(chunk + 1) * 500)
            .map(|i| format!("{}\n", json!({"key": {"type": "STRING", "data": format!("k{i}")}, "value": {"type": "JSON", "data": {"i": i}}})))
            .collect();
        Ok::<_, std::io::Error>(lines.into_bytes())
    });
    let response = h2c
        .post(format!(
            "{}/v3/clusters/{id}/topics/{topic}/records",
            app.base
        ))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let answers: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), RECORDS, "one answer line per record");
    assert!(
        answers.iter().all(|a| a["error_code"] == 200),
        "{text:.300}"
    );
    let records = read_topic(&bootstrap(), &topic, RECORDS, Duration::from_secs(60)).await;
    assert_eq!(records.len(), RECORDS, "every record exactly once");
    for record in &records {
        let i = serde_json::from_str::<Value>(&record.value).unwrap()["i"]
            .as_u64()
            .unwrap() as usize;
        assert_eq!(record.key.as_deref(), Some(format!("k{i}").as_str()));
        let answer = &answers[i];
        assert_eq!(
            (i64::from(record.partition), record.offset),
            (
                answer["partition_id"].as_i64().unwrap(),
                answer["offset"].as_i64().unwrap()
            ),
            "answer {i} names record {i}'s position"
        );
    }
}
