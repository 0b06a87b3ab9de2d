//! Avro on every API, by its text, by subject and by id; unions, enums, decimal, timestamp-millis,
//! bytes, nested records and arrays; data that does not fit refused with its path.

use serde_json::{json, Value};

use super::*;

const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[
 {"name":"id","type":"long"},
 {"name":"total","type":"long"},
 {"name":"note","type":["null","string"],"default":null},
 {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]}},
 {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
 {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"blob","type":"bytes"},
 {"name":"customer","type":{"type":"record","name":"Customer","fields":[{"name":"name","type":"string"}]}},
 {"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[
   {"name":"sku","type":"string"},{"name":"count","type":"int"}]}}}]}"#;

/// The order sent (in Avro's JSON encoding, the union wrapped or bare in turn).
fn order(i: i64) -> Value {
    let note = if i % 2 == 0 {
        json!({"string": format!("n{i}")})
    } else {
        json!(format!("n{i}"))
    };
    json!({"id": i, "total": 100 * i, "note": note, "status": "PAID", "price": 12.5,
        "at": "2026-12-06T10:00:00Z", "blob": "\u{0}\u{1}", "customer": {"name": format!("c{i}")},
        "lines": [{"sku": "a", "count": i}]})
}

/// The same order as Confluent's Avro deserializer reads it (see read_back.py's `plain`).
fn decoded(i: i64) -> Value {
    json!({"id": i, "total": 100 * i, "note": format!("n{i}"), "status": "PAID",
        "price": {"decimal": "12.50"}, "at": {"datetime": "2026-12-06T10:00:00+00:00"},
        "blob": {"bytes": "AAE="}, "customer": {"name": format!("c{i}")},
        "lines": [{"sku": "a", "count": i}]})
}

#[tokio::test]
async fn avro_on_every_api_by_text_subject_and_id() {
    let app = app().await;
    let topic = unique_topic("avro");
    let subject = format!("{topic}-value");

    // Ours: by its text (registered under <topic>-value), by subject (a batch), by id.
    let first = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "key": "k1", "message": order(1),
                "valueSchema": {"format": "AVRO", "schema": ORDER}}),
        )
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let schema = &first.body["valueSchema"];
    assert_eq!(schema["format"], "AVRO");
    assert_eq!(schema["subject"], subject.as_str());
    assert_eq!(schema["version"], 1);
    let id = schema["id"].as_u64().expect("the schema id");

    let batch = app
        .post_json(
            "/api/v1/send/batch",
            &json!({"topic": topic, "valueSchema": {"subject": subject},
                "records": [{"key": "k2", "message": order(2)}, {"key": "k3", "message": order(3)},
                    {"key": "bad", "message": {"id": 1, "total": "x"}}]}),
        )
        .await;
    assert_eq!(batch.status, 207, "{:?}", batch.body);
    assert_eq!(batch.body["results"][0]["valueSchema"]["id"], id);
    let problem = &batch.body["results"][2]["problem"];
    assert_eq!(batch.body["results"][2]["status"], 422);
    assert_eq!(problem["field"], "records[2].value.total", "{problem}");
    assert_eq!(problem["detail"], "records[2].value.total: expected long");

    let by_id = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "key": "k4", "message": order(4), "valueSchema": {"id": id}}),
        )
        .await;
    assert_eq!(by_id.status, 200, "{:?}", by_id.body);

    // Confluent v2: by id, by its text; a record that does not fit refuses the request.
    for body in [
        json!({"value_schema_id": id, "records": [{"value": order(5)}]}),
        json!({"value_schema": ORDER, "records": [{"value": order(6)}]}),
    ] {
        let answer = v2(&app, &topic, "avro", &body).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(answer.body["value_schema_id"], id);
        assert_eq!(answer.body["key_schema_id"], Value::Null);
        assert!(answer.body["offsets"][0]["offset"].is_i64());
    }
    let refused = v2(
        &app,
        &topic,
        "avro",
        &json!({"value_schema_id": id, "records": [{"value": order(7)}, {"value": {"id": 7}}]}),
    )
    .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.body["error_code"], 42203);
    assert!(refused.body["message"]
        .as_str()
        .unwrap()
        .starts_with("records[1].value.total: missing"));
    let missing = v2(
        &app,
        &topic,
        "avro",
        &json!({"records": [{"value": order(7)}]}),
    )
    .await;
    assert_eq!(
        (missing.status.as_u16(), &missing.body["error_code"]),
        (422, &json!(42202))
    );
    let unknown = v2(
        &app,
        &topic,
        "avro",
        &json!({"value_schema_id": 999_999, "records": [{"value": order(7)}]}),
    )
    .await;
    assert_eq!(
        (unknown.status.as_u16(), &unknown.body["error_code"]),
        (404, &json!(40403))
    );

    // Confluent v3: by id, by subject and version, by its text, and with no type at all (the
    // subject's latest schema decides).
    let path = v3_path(&app, &topic).await;
    let v3_bodies = [
        json!({"key": {"type": "STRING", "data": "k8"}, "value": {"type": "AVRO", "schema_id": id, "data": order(8)}}),
        json!({"value": {"type": "AVRO", "subject": subject, "schema_version": 1, "data": order(9)}}),
        json!({"value": {"type": "AVRO", "schema": ORDER, "data": order(10)}}),
        json!({"value": {"data": order(11)}}),
    ];
    for body in &v3_bodies {
        let answer = app.post_json(&path, body).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(answer.body["value"]["type"], "AVRO", "{:?}", answer.body);
        assert_eq!(answer.body["value"]["schema_id"], id);
    }
    let refused = app
        .post_json(
            &path,
            &json!({"value": {"type": "AVRO", "schema_id": id, "data": {"id": "x"}}}),
        )
        .await;
    assert_eq!(
        (refused.status.as_u16(), &refused.body["error_code"]),
        (422, &json!(42203))
    );
    let invalid = app
        .post_json(
            &path,
            &json!({"value": {"type": "AVRO", "schema": "{\"type\": \"nope\"}", "data": 1}}),
        )
        .await;
    assert_eq!(
        (invalid.status.as_u16(), &invalid.body["error_code"]),
        (422, &json!(42205))
    );

    // Read back by Confluent's deserializer: every accepted record once, field by field.
    let sent = [1, 2, 3, 4, 5, 6, 8, 9, 10, 11];
    let records = read_back(&topic, sent.len(), "string", "avro", None).await;
    let expected: Vec<Value> = sent.iter().map(|i| decoded(*i)).collect();
    assert_eq!(values_of(&records), sorted(&expected));
    assert!(
        records.iter().all(|r| r["schema_ids"][1] == id),
        "{records:#?}"
    );
    assert_eq!(
        record_count(&bootstrap(), &topic).await,
        sent.len() as i64,
        "nothing refused was produced"
    );
}

#[tokio::test]
async fn avro_keys_and_schema_evolution() {
    let app = app().await;
    let topic = unique_topic("avro-keys");
    let v1 = r#"{"type":"record","name":"Event","fields":[{"name":"n","type":"int"}]}"#;
    // Backward-compatible: a new field with a default.
    let v2_text = r#"{"type":"record","name":"Event","fields":[{"name":"n","type":"int"},{"name":"tag","type":"string","default":"none"}]}"#;
    // Not compatible: a field's type changed.
    let broken = r#"{"type":"record","name":"Event","fields":[{"name":"n","type":"string"}]}"#;

    let first = v2(
        &app,
        &topic,
        "avro",
        &json!({"key_schema": "\"string\"", "value_schema": v1,
        "records": [{"key": "a", "value": {"n": 1}}]}),
    )
    .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let key_id = first.body["key_schema_id"]
        .as_u64()
        .expect("a key schema id");
    let v1_id = first.body["value_schema_id"]
        .as_u64()
        .expect("a value schema id");

    let evolved = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "key": "b", "message": {"n": 2, "tag": "x"},
            "keySchema": {"id": key_id}, "valueSchema": {"schema": v2_text}}),
        )
        .await;
    assert_eq!(evolved.status, 200, "{:?}", evolved.body);
    assert_eq!(evolved.body["valueSchema"]["version"], 2);
    assert_ne!(evolved.body["valueSchema"]["id"], v1_id);
    assert_eq!(evolved.body["keySchema"]["id"], key_id);
    // With a key schema, the key is written with it too (not taken as text).
    let latest = app
        .post_json("/api/v1/send", &json!({"topic": topic, "key": "c", "message": {"n": 3},
            "keySchema": {"subject": format!("{topic}-key")}, "valueSchema": {"subject": format!("{topic}-value")}}))
        .await;
    assert_eq!(latest.status, 200, "{:?}", latest.body);
    assert_eq!(latest.body["valueSchema"]["version"], 2);

    let refused = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "key": "d", "message": {"n": "x"},
            "keySchema": {"id": key_id}, "valueSchema": {"schema": broken}}),
        )
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(
        refused.body["type"],
        "urn:kafka-producer:problem:schema-incompatible"
    );
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("compatib"),
        "{:?}",
        refused.body
    );
    let v2_refused = v2(
        &app,
        &topic,
        "avro",
        &json!({"key_schema_id": key_id, "value_schema": broken,
        "records": [{"key": "e", "value": {"n": "x"}}]}),
    )
    .await;
    assert_eq!(v2_refused.status, 409, "{:?}", v2_refused.body);

    let records = read_back(&topic, 3, "avro", "avro", None).await;
    let mut pairs: Vec<String> = records
        .iter()
        .map(|r| format!("{}={}", r["key"], r["value"]))
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            r#""a"={"n":1}"#,
            r#""b"={"n":2,"tag":"x"}"#,
            r#""c"={"n":3,"tag":"none"}"#
        ]
    );
    assert_eq!(record_count(&bootstrap(), &topic).await, 3);
}
