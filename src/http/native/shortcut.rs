//! The workshop's four shortcuts: `POST /api/v1/test/{plain|idempotent|plain-async|idempotent-async}`,
//! the route choosing the producer and send modes; `topic`, `key` and `message` as a JSON body
//! or as query parameters.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::Caller;
use crate::http::body;
use crate::http::context::RequestContext;
use crate::http::problem::{ApiError, SendProblems};
use crate::http::record::{topic_from, Admission, Answered, Fields};
use crate::http::state::AppState;
use crate::kafka::{OutgoingRecord, ProducerMode, SendMode, Via};
use crate::settings::Limits;

/// `POST /api/v1/test/{mode}`: as a JSON body or as query parameters (names case-insensitive).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all(deserialize = "lowercase"))]
#[schema(example = json!({"topic": "test-topic", "key": "test-key", "message": "Plain mode test"}))]
pub struct ShortcutRequest {
    pub topic: Option<String>,
    pub key: Option<String>,
    pub message: Option<String>,
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

/// A record sent through a shortcut.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShortcutResponse {
    /// `plain-sync`, `idempotent-sync`, `plain-async` or `idempotent-async`.
    pub mode: String,
    pub topic: String,
    pub partition: Option<i32>,
    pub offset: Option<i64>,
    pub key: String,
    pub status: &'static str,
}

#[utoipa::path(
    post,
    path = "/api/v1/test/{mode}",
    tag = "send",
    params(
        ("mode" = ShortcutMode, Path, description = "Producer and send mode"),
        ("topic" = Option<String>, Query, description = "Instead of the body's topic"),
        ("key" = Option<String>, Query, description = "Instead of the body's key"),
        ("message" = Option<String>, Query, description = "Instead of the body's message"),
    ),
    request_body(content = Option<ShortcutRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "Sync: acknowledged by Kafka", body = ShortcutResponse),
        (status = 202, description = "Async: queued", body = ShortcutResponse),
        SendProblems,
    )
)]
pub async fn shortcut(
    State(state): State<AppState>,
    Path(route): Path<String>,
    RawQuery(query): RawQuery,
    Extension(context): Extension<RequestContext>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ShortcutResponse>), ApiError> {
    let (mode, send) = match route.as_str() {
        "plain" => (ProducerMode::Plain, SendMode::Sync),
        "idempotent" => (ProducerMode::Idempotent, SendMode::Sync),
        "plain-async" => (ProducerMode::Plain, SendMode::Async),
        "idempotent-async" => (ProducerMode::Idempotent, SendMode::Async),
        _ => {
            return Err(ApiError::NotFound {
                path: format!("/api/v1/test/{route}"),
            })
        }
    };
    let admission = Admission::new(&state, &caller, &context);
    let parsed = parse_shortcut(body, query.as_deref(), &state.limits)
        .and_then(|record| admission.admit(record));
    let record = state.count_rejection(parsed)?;
    let answered = Answered::of(
        state.producers.send(&record, Via::of(mode), send).await?,
        send,
    );
    Ok((
        answered.status,
        Json(ShortcutResponse {
            mode: format!("{}-{}", mode.as_str(), send.as_str()),
            topic: record.topic.to_string(),
            partition: answered.partition,
            offset: answered.offset,
            key: record.key_text().unwrap_or_default(),
            status: answered.label,
        }),
    ))
}

/// The record a shortcut's query string and body ask for: the body's fields, with query
/// parameters filling what it lacks.
pub fn parse_shortcut(
    body: Result<Bytes, BytesRejection>,
    query: Option<&str>,
    limits: &Limits,
) -> Result<OutgoingRecord, ApiError> {
    let from_query = query_fields(query)?;
    let bytes = body::read(body, limits.max_body_bytes)?;
    let from_body: Option<ShortcutRequest> = body::optional(&bytes)?;
    let (from_body, from_query) = match (from_body, from_query) {
        (None, None) => {
            return Err(ApiError::bad_request(
                "missing-body",
                "give topic, key and message as a JSON body or as query parameters",
            ))
        }
        (b, q) => (b.unwrap_or_default(), q.unwrap_or_default()),
    };
    let topic = topic_from(from_body.topic.or(from_query.topic).as_deref())?;
    let fields = Fields {
        key: from_body.key.or(from_query.key),
        message: from_body.message.or(from_query.message),
        ..Fields::default()
    };
    fields.into_record(topic, limits)
}

/// The query string's `topic`, `key` and `message` (names case-insensitive, each at most once;
/// others ignored); `None` when the query string has no parameter.
fn query_fields(query: Option<&str>) -> Result<Option<ShortcutRequest>, ApiError> {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| ApiError::bad_request("invalid-query", format!("query string: {e}")))?;
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut fields = ShortcutRequest::default();
    let mut seen: Vec<String> = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(ApiError::bad_field(
                "duplicate-property",
                name.clone(),
                format!("property {name:?} is given twice (names are case-insensitive)"),
            ));
        }
        match lower.as_str() {
            "topic" => fields.topic = Some(value),
            "key" => fields.key = Some(value),
            "message" => fields.message = Some(value),
            _ => {}
        }
        seen.push(lower);
    }
    Ok(Some(fields))
}
