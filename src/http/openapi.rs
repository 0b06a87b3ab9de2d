//! The OpenAPI 3.1 description, assembled from the handlers' annotations and the request and
//! answer types defined beside them, served at `/openapi.json`; Swagger UI at `/swagger-ui` (assets embedded in the
//! binary by the `utoipa-swagger-ui` crate's vendored copy: nothing is fetched from a CDN).

use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use utoipa::OpenApi;

use super::state::AppState;

use super::compat::v3::batch as v3_batch;
use super::compat::v3::records;
use super::compat::{v2, v3, ErrorBody};
use super::native::{batch, health, metrics, send, shortcut};
use super::problem::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kafka-producer",
        description = "Produces HTTP requests to Apache Kafka: plain or idempotent producer, sync (200 once acknowledged, with partition and offset) or async (202 once queued). Errors are application/problem+json. Every answer carries x-request-id and a W3C traceparent, which is also written into the record's headers.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        send::send,
        batch::send_batch,
        shortcut::shortcut,
        health::live,
        health::ready,
        health::status,
        metrics::json,
        metrics::prometheus,
        v2::produce,
        v2::produce_to_partition,
        v2::topics::topics,
        v2::topics::topic,
        v3::clusters,
        v3::cluster,
        v3::topics,
        v3::topic,
        v3::partitions,
        records::produce,
        v3_batch::produce_batch,
    ),
    components(schemas(
        send::SendRequest,
        send::SendResponse,
        batch::BatchRequest,
        batch::BatchRecord,
        batch::BatchResponse,
        batch::RecordResult,
        shortcut::ShortcutRequest,
        shortcut::ShortcutResponse,
        Problem,
        shortcut::ShortcutMode,
        health::Health,
        health::Ready,
        health::Status,
        metrics::Metrics,
        crate::http::record::AcksField,
        ErrorBody,
        v2::V2Request,
        v2::V2Record,
        v2::V2Header,
        v2::V2Response,
        v2::V2Offset,
        v2::topics::V2Topic,
        v2::topics::V2Partition,
        v2::topics::V2Replica,
        v3::Cluster,
        v3::ClusterList,
        v3::Topic,
        v3::TopicList,
        v3::Partition,
        v3::PartitionList,
        v3::Related,
        v3::ResourceMetadata,
        v3::ListMetadata,
        records::V3Record,
        records::V3Header,
        records::V3Data,
        records::V3Delivery,
        records::V3Line,
        records::DataSize,
        v3_batch::V3Batch,
        v3_batch::V3BatchEntry,
        v3_batch::V3BatchSuccess,
        v3_batch::V3BatchFailure,
        v3_batch::V3BatchResponse,
    )),
    modifiers(&ApiKeys),
    tags(
        (name = "send", description = "Produce records"),
        (name = "operations", description = "Health, status and metrics"),
        (name = "compatible: Confluent REST Proxy v2, Strimzi Kafka Bridge", description = "The produce and topic routes of Confluent REST Proxy's v2 API and of Strimzi Kafka Bridge, on the same producers: their clients work with the base URL changed. Errors are {\"error_code\", \"message\"}."),
        (name = "compatible: Confluent REST Proxy v3", description = "Confluent REST Proxy v3's cluster, topic and produce routes (streamed records, batches), on the same producers. Errors are {\"error_code\", \"message\"}."),
    )
)]
pub struct ApiDoc;

/// The two ways to give an API key, for the send endpoints. Keys are optional in the document:
/// they are off unless `API_KEYS` or `API_KEYS_FILE` is set.
struct ApiKeys;

impl utoipa::Modify for ApiKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "`Authorization: Bearer <API key>`, when API keys are on",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "The API key, when API keys are on",
            ))),
        );
        let requirements = || {
            Some(vec![
                SecurityRequirement::default(),
                SecurityRequirement::new("bearer", Vec::<String>::new()),
                SecurityRequirement::new("apiKey", Vec::<String>::new()),
            ])
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if let Some(post) = item.post.as_mut() {
                post.security = requirements();
            }
            // The compatible APIs' metadata routes are behind the keys too.
            if path.starts_with("/topics") || path.starts_with("/v3") {
                if let Some(get) = item.get.as_mut() {
                    get.security = requirements();
                }
            }
        }
    }
}

/// The document as served, built once. What the annotations cannot say is added here: header
/// names are not empty and not the service's own (JSON Schema `propertyNames`).
pub fn document() -> &'static Value {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        let topic = serde_json::json!({
            "type": ["string", "null"],
            "description": "A Kafka topic: 1 to 249 ASCII letters, digits, '.', '_' or '-'; not '.' or '..'.",
            "minLength": 1,
            "maxLength": crate::kafka::MAX_TOPIC_NAME_LENGTH,
            "pattern": "^[a-zA-Z0-9._-]+$",
            "not": {"enum": [".", ".."]},
        });
        for pointer in [
            "/components/schemas/SendRequest/properties/topic",
            "/components/schemas/ShortcutRequest/properties/topic",
            "/components/schemas/BatchRequest/properties/topic",
            "/components/schemas/BatchRecord/properties/topic",
        ] {
            if let Some(schema) = doc.pointer_mut(pointer) {
                *schema = topic.clone();
            }
        }
        if let Some(serde_json::Value::Array(parameters)) =
            doc.pointer_mut("/paths/~1api~1v1~1test~1{mode}/post/parameters")
        {
            for parameter in parameters.iter_mut().filter(|p| p["name"] == "topic") {
                parameter["schema"] = topic.clone();
            }
        }
        for pointer in [
            "/components/schemas/SendRequest/properties/headers",
            "/components/schemas/BatchRecord/properties/headers",
        ] {
            if let Some(headers) = doc.pointer_mut(pointer) {
                headers["propertyNames"] = serde_json::json!({
                    "minLength": 1,
                    "not": {"enum": crate::kafka::RESERVED_HEADERS},
                });
            }
        }
        compatible_schemas(&mut doc, &topic);
        doc
    })
}

/// What the compatible APIs' derived schemas cannot say: each v2 content type's own record
/// schema (base64 for binary, any JSON value for json, strings for text; no partition on the
/// partition route), v3's key and value by type, base64 header values, ids of 1 to 80
/// characters, topic names in the paths; the schema content types' records (any JSON, with the
/// schema's id or text), and v3's schema types.
fn compatible_schemas(doc: &mut Value, topic: &Value) {
    let base64 = json!({
        "type": ["string", "null"],
        "contentEncoding": "base64",
        "pattern": "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
    });
    let schemas = "/components/schemas";
    let get = |doc: &Value, name: &str| {
        doc.pointer(&format!("{schemas}/{name}"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    for name in ["V2Header/properties/key", "V3Header/properties/name"] {
        if let Some(header) = doc.pointer_mut(&format!("{schemas}/{name}")) {
            header["minLength"] = json!(1);
        }
    }
    if let Some(header) = doc.pointer_mut(&format!("{schemas}/V2Header/properties/value")) {
        *header = base64.clone();
    }
    if let Some(header) = doc.pointer_mut(&format!("{schemas}/V3Header/properties/value")) {
        *header = base64.clone();
    }
    let record = get(doc, "V2Record");
    let request = get(doc, "V2Request");
    let formats = [
        ("Binary", base64.clone()),
        ("Json", json!({})),
        ("Text", json!({"type": ["string", "null"]})),
    ];
    let mut added = Vec::new();
    for (format, data) in &formats {
        for (route, with_partition) in [("", true), ("ToPartition", false)] {
            let mut r = record.clone();
            r["properties"]["key"] = data.clone();
            r["properties"]["value"] = data.clone();
            r["properties"]["timestamp"]["minimum"] = json!(0);
            if !with_partition {
                if let Some(p) = r["properties"].as_object_mut() {
                    p.remove("partition");
                }
            }
            let record_name = format!("V2{format}Record{route}");
            let mut q = request.clone();
            q["properties"]["records"]["items"] =
                json!({"$ref": format!("#/components/schemas/{record_name}")});
            if let Some(p) = q["properties"].as_object_mut() {
                for field in [
                    "key_schema",
                    "key_schema_id",
                    "value_schema",
                    "value_schema_id",
                ] {
                    p.remove(field);
                }
            }
            added.push((record_name, r));
            added.push((format!("V2{format}Request{route}"), q));
        }
    }
    for (route, with_partition) in [("", true), ("ToPartition", false)] {
        let mut r = record.clone();
        r["properties"]["key"] = json!({});
        r["properties"]["value"] = json!({});
        r["properties"]["timestamp"]["minimum"] = json!(0);
        if !with_partition {
            if let Some(p) = r["properties"].as_object_mut() {
                p.remove("partition");
            }
        }
        let mut q = request.clone();
        q["properties"]["records"]["items"] =
            json!({"$ref": format!("#/components/schemas/V2SchemaRecord{route}")});
        for part in ["key", "value"] {
            q["properties"][format!("{part}_schema")] =
                json!({"type": ["string", "null"], "minLength": 1});
            q["properties"][format!("{part}_schema_id")] =
                json!({"type": ["integer", "null"], "minimum": 1, "maximum": 2_147_483_647});
        }
        added.push((format!("V2SchemaRecord{route}"), r));
        added.push((format!("V2SchemaRequest{route}"), q));
    }
    let v3_data = json!({"oneOf": [
        {"type": "object", "required": ["type"], "properties": {"type": {"const": "BINARY"}, "data": base64}},
        {"type": "object", "required": ["type"], "properties": {"type": {"const": "JSON"}, "data": {}}},
        {"type": "object", "required": ["type"], "properties": {"type": {"const": "STRING"}, "data": {"type": ["string", "null"]}}},
        {"type": "object", "required": ["type"], "properties": {
            "type": {"enum": ["AVRO", "JSONSCHEMA", "PROTOBUF"]}, "data": {},
            "schema_id": {"type": ["integer", "null"], "minimum": 1, "maximum": 2_147_483_647},
            "subject": {"type": ["string", "null"], "minLength": 1},
            "schema_version": {"type": ["integer", "null"], "minimum": 1, "maximum": 2_147_483_647},
            "schema": {"type": ["string", "null"], "minLength": 1},
            "subject_name_strategy": {"enum": ["TOPIC_NAME", "RECORD_NAME", "TOPIC_RECORD_NAME", null]}}},
    ], "description": "The key or value: BINARY (base64), JSON (any JSON value), STRING, or AVRO, JSONSCHEMA, PROTOBUF with a Schema Registry's schema (by schema_id, subject and schema_version, or its text in schema)."});
    added.push(("V3Data".into(), v3_data));
    if let Some(all) = doc.pointer_mut(schemas).and_then(Value::as_object_mut) {
        for (name, schema) in added {
            all.insert(name, schema);
        }
    }
    for name in ["V3Record", "V3BatchEntry"] {
        if let Some(r) = doc.pointer_mut(&format!("{schemas}/{name}/properties")) {
            r["key"] = json!({"$ref": "#/components/schemas/V3Data"});
            r["value"] = json!({"$ref": "#/components/schemas/V3Data"});
            r["timestamp"] = json!({"type": ["string", "null"], "format": "date-time"});
        }
    }
    if let Some(id) = doc.pointer_mut(&format!("{schemas}/V3BatchEntry/properties/id")) {
        *id = json!({"type": "string", "minLength": 1, "maxLength": 80});
    }
    // Each v2 content type reads its own records.
    for (path, route) in [
        ("/paths/~1topics~1{topic}/post", ""),
        (
            "/paths/~1topics~1{topic}~1partitions~1{partition}/post",
            "ToPartition",
        ),
    ] {
        let Some(content) = doc
            .pointer_mut(&format!("{path}/requestBody/content"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for (media, body) in content.iter_mut() {
            let format = if ["avro", "jsonschema", "protobuf"]
                .iter()
                .any(|f| media.contains(f))
            {
                "Schema"
            } else if media.contains("binary") {
                "Binary"
            } else if media.contains("text") {
                "Text"
            } else {
                "Json"
            };
            body["schema"] =
                json!({"$ref": format!("#/components/schemas/V2{format}Request{route}")});
        }
    }
    // Topic names in the compatible APIs' paths.
    let mut path_topic = topic.clone();
    path_topic["type"] = json!("string");
    for_each_parameter(doc, |p| {
        if p["name"] == "topic" && p["in"] == "path" {
            p["schema"] = path_topic.clone();
        }
        if p["name"] == "acks" {
            p["schema"] = json!({"type": "string", "enum": ["0", "1", "all", "-1"]});
        }
    });
}

/// The document with the one cluster id the v3 routes answer to, once it is known.
fn with_cluster(doc: &Value, cluster_id: &str) -> Value {
    let mut doc = doc.clone();
    for_each_parameter(&mut doc, |p| {
        if p["name"] == "cluster_id" {
            p["schema"] = json!({"type": "string", "enum": [cluster_id]});
        }
    });
    doc
}

/// Calls `change` on every parameter of every operation.
fn for_each_parameter(doc: &mut Value, mut change: impl FnMut(&mut Value)) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for operation in item.values_mut() {
            if let Some(parameters) = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
            {
                parameters.iter_mut().for_each(&mut change);
            }
        }
    }
}

/// `GET /openapi.json`: with the cluster's id in the v3 paths when the cluster has said it (a
/// short wait at most; without it, any string).
pub async fn json(State(state): State<AppState>) -> Response {
    match state.producers.cluster_id(Duration::from_millis(500)).await {
        Ok(id) => Json(with_cluster(document(), &id)).into_response(),
        Err(_) => Json(document()).into_response(),
    }
}
