//! `POST /api/v1/send` and the seed's four `POST /api/v1/test/*` shortcuts.
//!
//! Bodies are JSON whatever the `Content-Type` says (the seed's curl lines send JSON, and
//! `curl -d` labels it form data). Property names are matched case-insensitively, as ASP.NET
//! does; unknown properties are ignored, wrong types are refused with the property named.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Extension;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::context::{RequestContext, TRACEPARENT, TRACESTATE};
use super::json::{self, NotAnObject, Text};
use super::problem::ApiError;
use super::{AppState, Limits};
use crate::access::{Caller, Denied};
use crate::kafka::{Outcome, OutgoingRecord, ProducerMode, SendMode, TopicName, RESERVED_HEADERS};

/// The seed's defaults.
pub(super) const DEFAULT_TOPIC: &str = "test-topic";

/// `POST /api/v1/send`, as the caller wrote it (names lower-cased).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
struct SendBody<'a> {
    #[serde(borrow)]
    topic: Option<Text<'a>>,
    key: Option<String>,
    message: Option<String>,
    isidempotent: Option<bool>,
    isasync: Option<bool>,
    headers: Option<BTreeMap<String, String>>,
    partition: Option<i32>,
}

/// The shortcuts take only these; the route decides the modes.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
struct ShortcutBody {
    topic: Option<String>,
    key: Option<String>,
    message: Option<String>,
}

/// A record sent: where it is (sync, or async in Lambda) or that it is queued (async).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendResponse {
    pub success: bool,
    pub topic: String,
    pub partition: Option<i32>,
    pub offset: Option<i64>,
    pub key: String,
    pub mode: &'static str,
    pub send_mode: &'static str,
    /// `acknowledged` (the broker has it) or `queued` (it will be sent; see the metrics).
    pub status: &'static str,
}

/// A record sent through a shortcut.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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
    path = "/api/v1/send",
    tag = "send",
    request_body(content = super::openapi::SendRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Sync: acknowledged by Kafka, with partition and offset", body = SendResponse),
        (status = 202, description = "Async: queued; the outcome is counted in the metrics", body = SendResponse),
        super::openapi::SendProblems,
    )
)]
pub async fn send(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<SendResponse>), ApiError> {
    let parsed = parse_send(body, &state.limits).and_then(|(record, mode, send)| {
        allowed(&state, &caller, &record)?;
        Ok((record, mode, send))
    });
    let (mut record, mode, send) = state.count_rejection(parsed)?;
    carry_trace(&mut record, &context.record_headers());
    let outcome = state.producers.send(&record, mode, send).await?;
    let (status, partition, offset, label) = answer(outcome, send);
    Ok((
        status,
        Json(SendResponse {
            success: true,
            topic: record.topic.to_string(),
            partition,
            offset,
            key: record.key,
            mode: mode.as_str(),
            send_mode: send.as_str(),
            status: label,
        }),
    ))
}

/// `POST /api/v1/test/{plain|idempotent|plain-async|idempotent-async}`.
#[utoipa::path(
    post,
    path = "/api/v1/test/{mode}",
    tag = "send",
    params(
        ("mode" = super::openapi::ShortcutMode, Path, description = "Producer and send mode"),
        ("topic" = Option<String>, Query, description = "Instead of the body's topic"),
        ("key" = Option<String>, Query, description = "Instead of the body's key"),
        ("message" = Option<String>, Query, description = "Instead of the body's message"),
    ),
    request_body(content = Option<super::openapi::ShortcutRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "Sync: acknowledged by Kafka", body = ShortcutResponse),
        (status = 202, description = "Async: queued", body = ShortcutResponse),
        super::openapi::SendProblems,
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
    let parsed = parse_shortcut(body, query.as_deref(), &state.limits)
        .and_then(|record| allowed(&state, &caller, &record).map(|()| record));
    let mut record = state.count_rejection(parsed)?;
    carry_trace(&mut record, &context.record_headers());
    let outcome = state.producers.send(&record, mode, send).await?;
    let (status, partition, offset, label) = answer(outcome, send);
    Ok((
        status,
        Json(ShortcutResponse {
            mode: format!("{}-{}", mode.as_str(), send.as_str()),
            topic: record.topic.to_string(),
            partition,
            offset,
            key: record.key,
            status: label,
        }),
    ))
}

/// The record and modes a `POST /api/v1/send` body asks for; every client fault is an error here
/// (the fuzz targets drive this function).
pub fn parse_send(
    body: Result<Bytes, BytesRejection>,
    limits: &Limits,
) -> Result<(OutgoingRecord, ProducerMode, SendMode), ApiError> {
    let bytes = read_body(body, limits.max_body_bytes)?;
    let body: SendBody = typed_body(
        &bytes,
        "send a JSON object such as {\"topic\":\"test-topic\",\"key\":\"k\",\"message\":\"hello\"}",
    )?;
    let mode = if body.isidempotent.unwrap_or(true) {
        ProducerMode::Idempotent
    } else {
        ProducerMode::Plain
    };
    let send = if body.isasync.unwrap_or(false) {
        SendMode::Async
    } else {
        SendMode::Sync
    };
    let record = record_from(
        topic_from(body.topic.as_deref())?,
        body.key,
        body.message,
        body.headers.unwrap_or_default(),
        body.partition,
        limits,
    )?;
    Ok((record, mode, send))
}

/// The record a shortcut's query string and body ask for.
pub fn parse_shortcut(
    body: Result<Bytes, BytesRejection>,
    query: Option<&str>,
    limits: &Limits,
) -> Result<OutgoingRecord, ApiError> {
    let fields = shortcut_fields(body, query, limits.max_body_bytes)?;
    record_from(
        topic_from(fields.topic.as_deref())?,
        fields.key,
        fields.message,
        BTreeMap::new(),
        None,
        limits,
    )
}

/// May the caller write to the record's topic? 403, with nothing produced, if not.
pub(super) fn allowed(
    state: &AppState,
    caller: &Caller,
    record: &OutgoingRecord,
) -> Result<(), ApiError> {
    state
        .access
        .check_topic(caller, record.topic.as_str())
        .map_err(|denied| match denied {
            Denied::Topic { topic, reason } => {
                tracing::info!(topic, reason, "topic refused");
                ApiError::TopicForbidden { topic, reason }
            }
            // Keys are checked before the handler runs.
            Denied::MissingKey | Denied::UnknownKey => ApiError::Unauthorized {
                missing: denied == Denied::MissingKey,
            },
        })
}

/// Adds the trace context's headers ([`RequestContext::record_headers`]) to the record's,
/// unless the caller set them in the body.
pub(super) fn carry_trace(record: &mut OutgoingRecord, trace: &[(String, Vec<u8>)]) {
    let given = |name: &str| record.headers.iter().any(|(n, _)| n == name);
    if !given(TRACEPARENT) && !given(TRACESTATE) {
        record.headers.extend_from_slice(trace);
    }
}

/// Sync answers 200 with the position; async answers 202, with the position too when the
/// runtime waited for it (Lambda), so clients can rely on the status code per send mode.
fn answer(
    outcome: Outcome,
    send: SendMode,
) -> (StatusCode, Option<i32>, Option<i64>, &'static str) {
    let status = match send {
        SendMode::Sync => StatusCode::OK,
        SendMode::Async => StatusCode::ACCEPTED,
    };
    match outcome {
        Outcome::Acknowledged(d) => (status, Some(d.partition), Some(d.offset), "acknowledged"),
        Outcome::Queued => (status, None, None, "queued"),
    }
}

/// The shortcut's fields: the JSON body's, with query parameters filling what it lacks.
fn shortcut_fields(
    body: Result<Bytes, BytesRejection>,
    query: Option<&str>,
    limit: usize,
) -> Result<ShortcutBody, ApiError> {
    let mut object = Map::new();
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| ApiError::bad_request("invalid-query", format!("query string: {e}")))?;
        for (name, value) in pairs {
            insert_unique(&mut object, &name, Value::String(value))?;
        }
    }
    let from_body = body_object(body, limit)?;
    if from_body.is_none() && object.is_empty() {
        return Err(ApiError::bad_request(
            "missing-body",
            "give topic, key and message as a JSON body or as query parameters",
        ));
    }
    for (name, value) in from_body.unwrap_or_default() {
        object.insert(name, value);
    }
    from_object(object)
}

/// The body's bytes, or why they could not be read (413 beyond `limit`).
pub(super) fn read_body(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::BodyTooLarge { limit }
        } else {
            ApiError::bad_request("unreadable-body", rejection.body_text())
        }
    })
}

/// The body as the JSON object `T` (names case-insensitive); `missing` tells how to send one.
pub(super) fn typed_body<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
    missing: &str,
) -> Result<T, ApiError> {
    json::object(bytes).map_err(|fault| match fault {
        Ok(NotAnObject::Absent) => ApiError::bad_request("missing-body", missing),
        Ok(NotAnObject::Other) => {
            ApiError::bad_request("malformed-json", "the body must be a JSON object")
        }
        Err(error) => error,
    })
}

/// Reads the body as a JSON object with lower-cased property names; `None` for an empty body.
fn body_object(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<Option<Map<String, Value>>, ApiError> {
    let bytes = read_body(body, limit)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request("malformed-json", format!("the body is not valid JSON: {e}"))
    })?;
    // JSON `null` says "no body" as well as an empty one does.
    if value.is_null() {
        return Ok(None);
    }
    let Value::Object(raw) = value else {
        return Err(ApiError::bad_request(
            "malformed-json",
            "the body must be a JSON object",
        ));
    };
    let mut object = Map::new();
    for (name, value) in raw {
        insert_unique(&mut object, &name, value)?;
    }
    Ok(Some(object))
}

/// Property names are case-insensitive, so `Topic` and `topic` together are ambiguous.
fn insert_unique(
    object: &mut Map<String, Value>,
    name: &str,
    value: Value,
) -> Result<(), ApiError> {
    let lower = name.to_ascii_lowercase();
    if object.contains_key(&lower) {
        return Err(ApiError::bad_field(
            "duplicate-property",
            name,
            format!("property {name:?} is given twice (names are case-insensitive)"),
        ));
    }
    object.insert(lower, value);
    Ok(())
}

fn from_object<T: for<'de> Deserialize<'de>>(object: Map<String, Value>) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(Value::Object(object)).map_err(|e| {
        let field = e.path().to_string();
        ApiError::bad_field(
            "invalid-property",
            field.clone(),
            format!("property {field}: {}", e.inner()),
        )
    })
}

/// The topic named, or the seed's default; 400 `invalid-topic` if Kafka would refuse it.
pub(super) fn topic_from(name: Option<&str>) -> Result<TopicName, ApiError> {
    TopicName::parse(name.unwrap_or(DEFAULT_TOPIC))
        .map_err(|e| ApiError::bad_field("invalid-topic", "topic", e.to_string()))
}

pub(super) fn record_from(
    topic: TopicName,
    key: Option<String>,
    message: Option<String>,
    headers: BTreeMap<String, String>,
    partition: Option<i32>,
    limits: &Limits,
) -> Result<OutgoingRecord, ApiError> {
    if let Some(p) = partition.filter(|p| *p < 0) {
        return Err(ApiError::bad_field(
            "invalid-property",
            "partition",
            format!("partition {p} is negative"),
        ));
    }
    if headers.len() > limits.max_record_headers {
        return Err(ApiError::HeadersTooLarge {
            detail: format!(
                "{} headers are over the limit of {} per record (MAX_RECORD_HEADERS)",
                headers.len(),
                limits.max_record_headers
            ),
        });
    }
    let header_bytes: usize = headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    if header_bytes > limits.max_header_bytes {
        return Err(ApiError::HeadersTooLarge {
            detail: format!(
                "the headers' names and values come to {header_bytes} bytes, over the limit of {} (MAX_HEADER_BYTES)",
                limits.max_header_bytes
            ),
        });
    }
    let mut record_headers = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        if name.is_empty() {
            return Err(ApiError::bad_field(
                "invalid-header",
                "headers",
                "a header name is empty",
            ));
        }
        if RESERVED_HEADERS
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&name))
        {
            return Err(ApiError::bad_field(
                "invalid-header",
                format!("headers.{name}"),
                format!("header {name:?} is set by the service on every record"),
            ));
        }
        record_headers.push((name, value.into_bytes()));
    }
    Ok(OutgoingRecord {
        topic,
        key: key.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        value: message.unwrap_or_default().into_bytes(),
        headers: record_headers,
        partition,
    })
}
