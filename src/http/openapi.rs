//! The OpenAPI 3.1 description, assembled from the handlers' annotations and the request and
//! answer types defined beside them, served at `/openapi.json`; Swagger UI at `/swagger-ui` (assets embedded in the
//! binary by the `utoipa-swagger-ui` crate's vendored copy: nothing is fetched from a CDN).

use utoipa::OpenApi;

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
        doc
    })
}

/// `GET /openapi.json`.
pub async fn json() -> axum::Json<&'static serde_json::Value> {
    axum::Json(document())
}
