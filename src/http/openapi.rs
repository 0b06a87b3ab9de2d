//! The OpenAPI 3.1 description, generated from the handlers' annotations and the schemas
//! below, served at `/openapi.json`; Swagger UI at `/swagger-ui` (assets embedded in the
//! binary by the `utoipa-swagger-ui` crate's vendored copy: nothing is fetched from a CDN).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::problem::Problem;
use super::{batch, health, metrics, send};

/// `POST /api/v1/send`. Property names are matched case-insensitively; every one is optional.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"topic": "test-topic", "key": "order-42", "message": "hello", "isIdempotent": true, "isAsync": false, "headers": {"source": "swagger"}}))]
pub struct SendRequest {
    /// The topic; default `test-topic`.
    pub topic: Option<String>,
    /// The record key; default a new UUID.
    pub key: Option<String>,
    /// The record value (UTF-8).
    pub message: Option<String>,
    /// `true` (default): the idempotent producer (`acks=all`, no duplicates from retries);
    /// `false`: the plain one (`acks=1`).
    pub is_idempotent: Option<bool>,
    /// `false` (default): answer 200 once Kafka acknowledged; `true`: answer 202 once queued.
    pub is_async: Option<bool>,
    /// Record headers. The names `producer-mode`, `send-mode` and `timestamp` are the
    /// service's own.
    pub headers: Option<BTreeMap<String, String>>,
    /// An explicit partition; by default the key decides.
    #[schema(minimum = 0)]
    pub partition: Option<i32>,
}

/// `POST /api/v1/send/batch`: the batch's defaults, and its records.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"topic": "orders", "isIdempotent": true, "isAsync": false, "records": [{"key": "order-1", "message": "created"}, {"key": "order-2", "message": "paid", "headers": {"source": "batch"}}]}))]
pub struct BatchRequest {
    /// The topic of records that name none; default `test-topic`.
    pub topic: Option<String>,
    /// The producer of records that do not choose one; default `true` (idempotent).
    pub is_idempotent: Option<bool>,
    /// `false` (default): answer once every record is acknowledged; `true`: once all are queued.
    pub is_async: Option<bool>,
    /// 1 to `MAX_BATCH_RECORDS` (10 000) records, sent in this order (order per partition kept
    /// within each producer).
    #[schema(min_items = 1)]
    pub records: Vec<BatchRecordRequest>,
}

/// One record of a batch.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchRecordRequest {
    /// The topic; default the batch's.
    pub topic: Option<String>,
    /// The record key; default a new UUID.
    pub key: Option<String>,
    /// The record value (UTF-8).
    pub message: Option<String>,
    /// Record headers (not `producer-mode`, `send-mode` or `timestamp`).
    pub headers: Option<BTreeMap<String, String>>,
    /// An explicit partition; by default the key decides.
    #[schema(minimum = 0)]
    pub partition: Option<i32>,
    /// This record's producer; default the batch's.
    pub is_idempotent: Option<bool>,
}

/// `POST /api/v1/test/{mode}`: as a JSON body or as query parameters.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"topic": "test-topic", "key": "test-key", "message": "Plain mode test"}))]
pub struct ShortcutRequest {
    pub topic: Option<String>,
    pub key: Option<String>,
    pub message: Option<String>,
}

/// `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `healthy`, or `unhealthy` with a reason (503).
    pub status: String,
    pub timestamp: String,
    pub reason: Option<String>,
}

/// `GET /health/ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    pub status: String,
    /// Brokers in the cluster's metadata.
    pub brokers: u32,
    pub timestamp: String,
}

/// A producer mode or send type, as the seed describes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Described {
    pub name: String,
    pub description: String,
    /// Producer modes only: `leader` or `all`.
    pub acks: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Counts {
    pub delivered: u64,
    pub failed: u64,
}

/// Records per second over the last minute.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rates {
    pub delivered_per_second: f64,
    pub failed_per_second: f64,
}

/// Enqueue to acknowledgement, in milliseconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct Latency {
    pub count: u64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModeFigures {
    /// `plain` or `idempotent`.
    pub mode: String,
    /// `sync` or `async`.
    pub send_type: String,
    pub delivered: u64,
    pub failed: u64,
    pub rates_last_minute: Rates,
    pub delivery_latency_ms: Latency,
}

/// `GET /api/v1/metrics`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub producer: String,
    pub timestamp: String,
    pub uptime_seconds: f64,
    pub modes: Vec<Described>,
    pub send_types: Vec<Described>,
    pub records: Counts,
    pub rates_last_minute: Rates,
    pub per_mode: Vec<ModeFigures>,
    /// Failures by error class (`timeout`, `unavailable`, …).
    pub failures_by_class: BTreeMap<String, u64>,
    pub rejected_requests: u64,
    /// Records queued or in flight in both producers.
    pub queue_depth: i64,
    pub kafka_reachable: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaStatus {
    /// The in-process mock cluster: records live in memory only.
    pub embedded: bool,
    pub bootstrap_servers: String,
    pub reachable: bool,
    /// Brokers in the cluster's metadata, when reachable.
    pub brokers: Option<u32>,
    /// Why it is not reachable.
    pub error: Option<String>,
    pub queued: i64,
}

/// A producer's key settings, as librdkafka property values.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProducerSettings {
    pub acks: Option<String>,
    pub enable_idempotence: Option<String>,
    pub message_timeout_ms: Option<String>,
    pub retries: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Producers {
    pub plain: ProducerSettings,
    pub idempotent: ProducerSettings,
}

/// `GET /api/v1/status`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub service: String,
    pub version: String,
    pub modes: Vec<String>,
    pub send_types: Vec<String>,
    pub timestamp: String,
    /// `server` or `lambda`.
    pub runtime: String,
    /// `development` or `production`.
    pub environment: String,
    pub kafka: KafkaStatus,
    pub producers: Producers,
    /// Set when running on the embedded cluster.
    pub warning: Option<String>,
}

/// The shortcut's mode, from the path.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ShortcutMode {
    Plain,
    Idempotent,
    PlainAsync,
    IdempotentAsync,
}

/// The problem answers a send can get, besides 200 and 202.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum SendProblems {
    /// Bad input: malformed JSON, a wrong type, an invalid topic, partition or header name.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// API keys are on, and none or an unknown one was given.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The topic is internal (`__*`), outside `ALLOWED_TOPICS` or the key's topics, or Kafka
    /// refused the producer access to it. Nothing was produced.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// Unknown topic (when the cluster does not create topics), partition, route or shortcut.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The body is over `MAX_BODY_BYTES` (`MAX_BATCH_BODY_BYTES` for a batch), a batch over
    /// `MAX_BATCH_RECORDS`, the record's headers over `MAX_RECORD_HEADERS` or
    /// `MAX_HEADER_BYTES`, or the record over the broker's limit.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The producer can no longer send (a fatal Kafka client error).
    #[response(status = 500, content_type = "application/problem+json")]
    Failed(Problem),
    /// Kafka is unreachable, the producer queue is full, or more sends than
    /// `MAX_CONCURRENT_REQUESTS` are being handled: retry after `Retry-After`.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
    /// Not confirmed within the mode's `message.timeout.ms`, or not answered within
    /// `REQUEST_TIMEOUT_MS`: the record may or may not be written.
    #[response(status = 504, content_type = "application/problem+json")]
    Timeout(Problem),
}

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
        send::shortcut,
        health::live,
        health::ready,
        health::status,
        metrics::json,
        metrics::prometheus,
    ),
    components(schemas(
        SendRequest,
        send::SendResponse,
        BatchRequest,
        BatchRecordRequest,
        batch::BatchResponse,
        batch::RecordResult,
        ShortcutRequest,
        send::ShortcutResponse,
        Problem,
        ShortcutMode,
        Health,
        Ready,
        Status,
        Metrics,
    )),
    modifiers(&ApiKeys),
    tags(
        (name = "send", description = "Produce records"),
        (name = "operations", description = "Health, status and metrics"),
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
        for item in openapi.paths.paths.values_mut() {
            if let Some(post) = item.post.as_mut() {
                post.security = Some(vec![
                    SecurityRequirement::default(),
                    SecurityRequirement::new("bearer", Vec::<String>::new()),
                    SecurityRequirement::new("apiKey", Vec::<String>::new()),
                ]);
            }
        }
    }
}

/// The document as served, built once. What the annotations cannot say is added here: header
/// names are not empty and not the service's own (JSON Schema `propertyNames`).
pub fn document() -> &'static serde_json::Value {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
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
            "/components/schemas/BatchRecordRequest/properties/topic",
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
            "/components/schemas/BatchRecordRequest/properties/headers",
        ] {
            if let Some(headers) = doc.pointer_mut(pointer) {
                headers["propertyNames"] = serde_json::json!({
                    "minLength": 1,
                    "not": {"enum": crate::kafka::RESERVED_HEADERS},
                });
            }
        }
        doc
    })
}

/// `GET /openapi.json`.
pub async fn json() -> axum::Json<&'static serde_json::Value> {
    axum::Json(document())
}
