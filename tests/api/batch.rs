//! `POST /api/v1/send/batch` on the real broker: per-record results in input order, each read
//! back (key, value, headers, partition and offset as answered), order per partition, 207 for
//! partial failures with nothing written for the failed records, async, and the limits.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use support::*;

fn results(answer: &Answer) -> &Vec<Value> {
    answer.body["results"].as_array().expect("results")
}

#[tokio::test]
async fn a_sync_batch_answers_each_record_in_order_and_every_record_lands_once() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("batch");
    let records: Vec<Value> = (0..60)
        .map(|i| {
            let mut record = json!({"key": format!("k{}", i % 12), "message": format!("m{i}")});
            if i % 10 == 0 {
                record["headers"] = json!({"n": i.to_string()});
            }
            record
        })
        .collect();
    let answer = app
        .post_json(
            "/api/v1/send/batch",
            &json!({"topic": topic, "records": records}),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["succeeded"], 60);
    assert_eq!(answer.body["failed"], 0);
    assert_eq!(answer.body["sendMode"], "sync");
    let results = results(&answer);
    assert_eq!(results.len(), 60);

    let read = read_topic(&bootstrap(), &topic, 60, Duration::from_secs(20)).await;
    assert_eq!(read.len(), 60, "every record once");
    let by_position: BTreeMap<(i64, i64), &Read> = read
        .iter()
        .map(|r| ((r.partition as i64, r.offset), r))
        .collect();
    assert_eq!(by_position.len(), 60, "no two records at one position");
    for (i, result) in results.iter().enumerate() {
        assert_eq!(result["status"], 200, "{result}");
        assert_eq!(result["key"], format!("k{}", i % 12));
        assert_eq!(result["mode"], "idempotent");
        let position = (
            result["partition"].as_i64().unwrap(),
            result["offset"].as_i64().unwrap(),
        );
        let record = by_position[&position];
        assert_eq!(record.value, format!("m{i}"), "result {i} names its record");
        assert_eq!(record.key.as_deref(), Some(format!("k{}", i % 12).as_str()));
        assert_service_headers(record, "idempotent", "sync");
        assert!(record.header("traceparent").is_some());
        let n = i.to_string();
        assert_eq!(
            record.header("n"),
            (i % 10 == 0).then_some(n.as_str()),
            "{record:?}"
        );
    }
    // Per key (so per partition), the input order is the offset order.
    for key in 0..12 {
        let offsets: Vec<(i64, i64)> = results
            .iter()
            .filter(|r| r["key"] == format!("k{key}"))
            .map(|r| {
                (
                    r["partition"].as_i64().unwrap(),
                    r["offset"].as_i64().unwrap(),
                )
            })
            .collect();
        assert!(
            offsets
                .windows(2)
                .all(|w| w[0].0 == w[1].0 && w[0].1 < w[1].1),
            "{offsets:?}"
        );
    }
}

#[tokio::test]
async fn some_records_failing_answers_207_and_writes_only_the_others() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("batch-partial");
    let internal = format!("__{}", unique_topic("batch"));
    let answer = app
        .post_json(
            "/api/v1/send/batch",
            &json!({"topic": topic, "records": [
                {"key": "a", "message": "1"},
                {"key": "b", "message": "2", "topic": "not a topic!"},
                {"key": "c", "message": "3", "topic": internal},
                {"key": "d", "message": "4", "headers": {"producer-mode": "x"}},
                {"key": "e", "message": "5", "partition": 99},
                "not an object",
                {"key": "f", "message": "6", "isIdempotent": false},
            ]}),
        )
        .await;
    assert_eq!(answer.status, 207, "{:?}", answer.body);
    assert_eq!(answer.body["succeeded"], 2);
    assert_eq!(answer.body["failed"], 5);
    let results = results(&answer);
    let statuses: Vec<u64> = results
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 400, 403, 400, 404, 400, 200]);
    assert_eq!(results[1]["problem"]["field"], "records[1].topic");
    assert_eq!(
        results[2]["problem"]["type"],
        "urn:kafka-producer:problem:topic-forbidden"
    );
    assert_eq!(
        results[4]["problem"]["type"],
        "urn:kafka-producer:problem:partition-not-found"
    );
    assert_eq!(results[6]["mode"], "plain");

    let read = read_topic(&bootstrap(), &topic, 2, Duration::from_secs(20)).await;
    let keys: Vec<&str> = read.iter().filter_map(|r| r.key.as_deref()).collect();
    assert_eq!(read.len(), 2, "{keys:?}");
    assert!(keys.contains(&"a") && keys.contains(&"f"), "{keys:?}");
    let plain = read.iter().find(|r| r.key.as_deref() == Some("f")).unwrap();
    assert_service_headers(plain, "plain", "sync");
    assert_eq!(partitions(&bootstrap(), &internal), None);
}

#[tokio::test]
async fn an_async_batch_answers_202_once_queued_and_every_record_lands() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("batch-async");
    let records: Vec<Value> = (0..500)
        .map(|i| json!({"key": format!("k{i}"), "message": "x".repeat(100)}))
        .collect();
    let answer = app
        .post_json(
            "/api/v1/send/batch",
            &json!({"topic": topic, "isAsync": true, "isIdempotent": false, "records": records}),
        )
        .await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    assert_eq!(answer.body["sendMode"], "async");
    assert!(results(&answer)
        .iter()
        .all(|r| r["status"] == 202 && r["offset"].is_null()));
    let read = read_topic(&bootstrap(), &topic, 500, Duration::from_secs(30)).await;
    assert_eq!(read.len(), 500);
    assert_no_duplicate_keys(&read);
    assert_eq!(app.stop().await, 0, "nothing left unflushed");
}

#[tokio::test]
async fn ten_thousand_records_in_one_batch() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("batch-10k");
    let records: Vec<Value> = (0..10_000)
        .map(|i| json!({"key": format!("k{i}"), "message": "y".repeat(100)}))
        .collect();
    let answer = app
        .post_json(
            "/api/v1/send/batch",
            &json!({"topic": topic, "records": records}),
        )
        .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        answer
            .body
            .to_string()
            .chars()
            .take(500)
            .collect::<String>()
    );
    assert_eq!(answer.body["succeeded"], 10_000);
    assert_eq!(record_count(&bootstrap(), &topic).await, 10_000);
    let read = read_topic(&bootstrap(), &topic, 10_000, Duration::from_secs(60)).await;
    assert_eq!(read.len(), 10_000);
    assert_no_duplicate_keys(&read);
}

#[tokio::test]
async fn a_batch_as_a_whole_is_refused_only_when_it_cannot_be_read() {
    let app = TestApp::spawn_with(&bootstrap(), &[("MAX_BATCH_RECORDS", "5")]).await;
    let topic = unique_topic("batch-refused");
    let six: Vec<Value> = (0..6).map(|i| json!({"key": i.to_string()})).collect();
    let too_many = app
        .post_json(
            "/api/v1/send/batch",
            &json!({"topic": topic, "records": six}),
        )
        .await;
    too_many.assert_problem(413, "too-many-records");
    for body in [
        json!({"topic": topic}),
        json!({"topic": topic, "records": []}),
        json!({"topic": topic, "records": {"key": "k"}}),
        json!([1, 2]),
    ] {
        let answer = app.post_json("/api/v1/send/batch", &body).await;
        assert_eq!(answer.status, 400, "{body}: {:?}", answer.body);
    }
    let malformed = app
        .request(
            reqwest::Method::POST,
            "/api/v1/send/batch",
            Some("{\"records\": [".into()),
            Some("application/json"),
        )
        .await;
    malformed.assert_problem(400, "malformed-json");
    assert_eq!(record_count(&bootstrap(), &topic).await, 0);
    assert_eq!(partitions(&bootstrap(), &topic), None);

    let small = TestApp::spawn_with(&bootstrap(), &[("MAX_BATCH_BODY_BYTES", "1000")]).await;
    let big: Vec<Value> = (0..3)
        .map(|_| json!({"message": "z".repeat(500)}))
        .collect();
    small
        .post_json(
            "/api/v1/send/batch",
            &json!({"topic": topic, "records": big}),
        )
        .await
        .assert_problem(413, "body-too-large");
    assert_eq!(partitions(&bootstrap(), &topic), None);
}
