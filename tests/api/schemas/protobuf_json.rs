//! Protobuf (nested messages, an enum, the second message of a file) and JSON Schema on every
//! API, read back by Confluent's deserializers.

use serde_json::{json, Value};

use super::*;

const SHOP_PROTO: &str = r#"syntax = "proto3";
package shop;

message Order {
  string id = 1;
  int64 total = 2;
  repeated Line lines = 3;
  Status status = 4;
  message Line {
    string sku = 1;
    int32 count = 2;
  }
  enum Status {
    NEW = 0;
    PAID = 1;
  }
}

message Refund {
  string order_id = 1;
  int64 amount = 2;
}
"#;

fn order(i: i64) -> Value {
    json!({"id": format!("o{i}"), "total": (100 * i).to_string(), "status": "PAID",
        "lines": [{"sku": "a", "count": i}, {"sku": "b", "count": 1}]})
}

#[tokio::test]
async fn protobuf_on_every_api_with_nested_messages_and_the_second_message() {
    let app = app().await;
    let topic = unique_topic("proto");
    let refunds = unique_topic("proto-refunds");
    let proto_file = tmp_dir().join(format!("{}.proto", topic.replace('-', "_")));
    std::fs::write(&proto_file, SHOP_PROTO).unwrap();

    // Ours, by its text: the first message by default.
    let first = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": topic, "key": "k1", "message": order(1),
            "valueSchema": {"format": "PROTOBUF", "schema": SHOP_PROTO}}),
        )
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["valueSchema"]["format"], "PROTOBUF");
    let id = first.body["valueSchema"]["id"].as_u64().unwrap();

    // v2 by id; v3 by subject (latest) and by id.
    let answer = v2(
        &app,
        &topic,
        "protobuf",
        &json!({"value_schema_id": id, "records": [{"value": order(2)}]}),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["value_schema_id"], id);
    let path = v3_path(&app, &topic).await;
    for body in [
        json!({"value": {"type": "PROTOBUF", "subject": format!("{topic}-value"), "data": order(3)}}),
        json!({"value": {"type": "PROTOBUF", "schema_id": id, "data": order(4)}}),
    ] {
        let answer = app.post_json(&path, &body).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(answer.body["value"]["type"], "PROTOBUF");
    }
    let refused = app
        .post_json(
            &path,
            &json!({"value": {"type": "PROTOBUF", "schema_id": id,
            "data": {"id": "o", "lines": [{"sku": "a"}, {"count": "many"}]}}}),
        )
        .await;
    assert_eq!(
        (refused.status.as_u16(), &refused.body["error_code"]),
        (422, &json!(42203))
    );
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .starts_with("value.lines[1].count:"),
        "{:?}",
        refused.body
    );

    // The file's second message, by name, to its own topic.
    let refund = app
        .post_json(
            "/api/v1/send",
            &json!({"topic": refunds, "key": "r1", "message": {"orderId": "o1", "amount": "5"},
            "valueSchema": {"format": "PROTOBUF", "schema": SHOP_PROTO, "message": "shop.Refund"}}),
        )
        .await;
    assert_eq!(refund.status, 200, "{:?}", refund.body);

    let records = read_back(&topic, 4, "string", "protobuf:Order", Some(&proto_file)).await;
    let expected: Vec<Value> = (1..=4)
        .map(|i| {
            json!({"id": format!("o{i}"), "total": (100 * i).to_string(), "status": "PAID",
            "lines": [{"sku": "a", "count": i}, {"sku": "b", "count": 1}]})
        })
        .collect();
    assert_eq!(values_of(&records), sorted(&expected));
    let refunds_read = read_back(&refunds, 1, "string", "protobuf:Refund", Some(&proto_file)).await;
    assert_eq!(
        refunds_read[0]["value"],
        json!({"order_id": "o1", "amount": "5"})
    );
    assert_eq!(refunds_read[0]["key"], "r1");
    assert_eq!(record_count(&bootstrap(), &topic).await, 4);
}

const ORDER_JSON_SCHEMA: &str = r#"{"$schema":"http://json-schema.org/draft-07/schema#","title":"Order",
 "type":"object","additionalProperties":false,"required":["id","lines"],
 "properties":{"id":{"type":"string"},"lines":{"type":"array","items":{"type":"object",
   "required":["total"],"properties":{"total":{"type":"integer"}}}}}}"#;

#[tokio::test]
async fn json_schema_on_every_api() {
    let app = app().await;
    let topic = unique_topic("jsonschema");
    let id = register(&format!("{topic}-value"), "JSON", ORDER_JSON_SCHEMA).await;
    let order = |i: i64| json!({"id": format!("o{i}"), "lines": [{"total": i}]});

    let ours = app
        .post_json(
            "/api/v1/send/batch",
            &json!({"topic": topic,
            "valueSchema": {"format": "JSON", "subject": format!("{topic}-value")},
            "records": [{"key": "k1", "message": order(1)},
                {"key": "bad", "message": {"id": "o9", "lines": [{"total": 1}, {"total": 1.5}]}}]}),
        )
        .await;
    assert_eq!(ours.status, 207, "{:?}", ours.body);
    assert_eq!(ours.body["results"][0]["valueSchema"]["id"], id);
    assert_eq!(
        ours.body["results"][1]["problem"]["field"],
        "records[1].value.lines[1].total"
    );

    let answer = v2(
        &app,
        &topic,
        "jsonschema",
        &json!({"value_schema_id": id, "records": [{"value": order(2)}]}),
    )
    .await;
    assert_eq!(
        (answer.status.as_u16(), &answer.body["value_schema_id"]),
        (200, &json!(id))
    );
    let answer = v2(
        &app,
        &topic,
        "jsonschema",
        &json!({"value_schema": ORDER_JSON_SCHEMA, "records": [{"value": order(3)}]}),
    )
    .await;
    assert_eq!(
        (answer.status.as_u16(), &answer.body["value_schema_id"]),
        (200, &json!(id))
    );
    let path = v3_path(&app, &topic).await;
    let answer = app
        .post_json(
            &path,
            &json!({"value": {"type": "JSONSCHEMA", "schema_id": id, "data": order(4)}}),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["value"]["type"], "JSONSCHEMA");
    let refused = app
        .post_json(
            &path,
            &json!({"value": {"type": "JSONSCHEMA", "schema_id": id, "data": {"id": 5}}}),
        )
        .await;
    assert_eq!(
        (refused.status.as_u16(), &refused.body["error_code"]),
        (422, &json!(42203))
    );

    let records = read_back(&topic, 4, "string", "json", None).await;
    let expected: Vec<Value> = (1..=4).map(order).collect();
    assert_eq!(values_of(&records), sorted(&expected));
    assert_eq!(record_count(&bootstrap(), &topic).await, 4);
}
