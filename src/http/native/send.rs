//! `POST /api/v1/send`: one record.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::access::Caller;
use crate::http::body;
use crate::http::context::RequestContext;
use crate::http::json::Text;
use crate::http::problem::{ApiError, SendProblems};
use crate::http::record::{self, topic_from, AcksField, Admission, Answered, Fields};
use crate::http::schemas::{given_part, Draft, Encoder, SchemaField, UsedSchema};
use crate::http::state::AppState;
use crate::kafka::{SendMode, Via};
use crate::schema::Part;
use crate::settings::Limits;

/// `POST /api/v1/send`. Property names are matched case-insensitively (they reach the derived
/// reader lower-cased); every one is optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all(deserialize = "lowercase"))]
#[schema(rename_all = "camelCase")]
#[schema(example = json!({"topic": "test-topic", "key": "order-42", "message": "hello", "isIdempotent": true, "isAsync": false, "headers": {"source": "swagger"}}))]
pub struct SendRequest<'a> {
    /// The topic; default `test-topic`.
    #[serde(borrow)]
    #[schema(value_type = Option<String>)]
    pub topic: Option<Text<'a>>,
    /// The record key; default a new UUID. A string, or with `keySchema` any JSON the schema
    /// accepts.
    #[serde(borrow)]
    #[schema(value_type = Option<serde_json::Value>)]
    pub key: Option<&'a RawValue>,
    /// The record value: a string is written as its UTF-8 text, any other JSON value as its
    /// JSON text; with `valueSchema`, written with that schema in Confluent's wire format.
    #[serde(borrow)]
    #[schema(value_type = Option<serde_json::Value>)]
    pub message: Option<&'a RawValue>,
    /// Write the key with this Schema Registry schema (Avro, JSON Schema, Protobuf).
    #[serde(rename(deserialize = "keyschema"))]
    pub key_schema: Option<SchemaField>,
    /// Write the message with this Schema Registry schema (Avro, JSON Schema, Protobuf).
    #[serde(rename(deserialize = "valueschema"))]
    pub value_schema: Option<SchemaField>,
    /// `true` (default, unless `acks` is 0 or 1): the idempotent producer (`acks=all`, no
    /// duplicates from retries); `false`: the plain one (`acks=1` unless `acks` says otherwise).
    #[serde(rename(deserialize = "isidempotent"))]
    pub is_idempotent: Option<bool>,
    /// `false` (default): answer 200 once Kafka acknowledged; `true`: answer 202 once queued.
    #[serde(rename(deserialize = "isasync"))]
    pub is_async: Option<bool>,
    /// Record headers. The names `producer-mode`, `send-mode` and `timestamp` are the
    /// service's own.
    pub headers: Option<BTreeMap<String, String>>,
    /// An explicit partition; by default the key decides.
    #[schema(minimum = 0)]
    pub partition: Option<i32>,
    pub acks: Option<AcksField>,
}

/// A record sent: where it is (sync, or async in Lambda) or that it is queued (async).
#[derive(Debug, Serialize, ToSchema)]
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
    /// The schema the key was written with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_schema: Option<UsedSchema>,
    /// The schema the message was written with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_schema: Option<UsedSchema>,
}

#[utoipa::path(
    post,
    path = "/api/v1/send",
    tag = "send",
    request_body(content = SendRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Sync: acknowledged by Kafka, with partition and offset", body = SendResponse),
        (status = 202, description = "Async: queued; the outcome is counted in the metrics", body = SendResponse),
        SendProblems,
    )
)]
pub async fn send(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<SendResponse>), ApiError> {
    let admission = Admission::new(&state, &caller, &context);
    let parsed = parse_send(body, &state.limits).and_then(|(mut draft, via, send)| {
        draft.record = admission.admit(draft.record)?;
        Ok((draft, via, send))
    });
    let (draft, via, send) = state.count_rejection(parsed)?;
    let encoded = state.count_rejection(Encoder::new(&state).encode(draft).await)?;
    let record = encoded.record;
    let answered = Answered::of(state.producers.send(&record, via, send).await?, send);
    Ok((
        answered.status,
        Json(SendResponse {
            success: true,
            topic: record.topic.to_string(),
            partition: answered.partition,
            offset: answered.offset,
            key: record.key_text().unwrap_or_default(),
            mode: via.mode.as_str(),
            send_mode: send.as_str(),
            status: answered.label,
            key_schema: encoded.key.as_ref().map(UsedSchema::from),
            value_schema: encoded.value.as_ref().map(UsedSchema::from),
        }),
    ))
}

/// The record and modes a `POST /api/v1/send` body asks for; every client fault is an error here
/// but for data that does not fit its schema (the fuzz targets drive this function).
pub fn parse_send(
    body: Result<Bytes, BytesRejection>,
    limits: &Limits,
) -> Result<(Draft, Via, SendMode), ApiError> {
    let bytes = body::read(body, limits.max_body_bytes)?;
    let request: SendRequest = body::required(
        &bytes,
        "send a JSON object such as {\"topic\":\"test-topic\",\"key\":\"k\",\"message\":\"hello\"}",
    )?;
    let via = record::via(
        request.is_idempotent,
        request.acks.as_ref().map(|a| a.0.as_str()),
    )?;
    let send = SendMode::of(request.is_async.unwrap_or(false));
    let topic = topic_from(request.topic.as_deref())?;
    let (key, key_typed) = given_part(
        request.key,
        request.key_schema.as_ref(),
        Part::Key,
        "key",
        "keySchema",
    )?;
    let (message, value_typed) = given_part(
        request.message,
        request.value_schema.as_ref(),
        Part::Value,
        "message",
        "valueSchema",
    )?;
    let fields = Fields {
        key,
        message,
        headers: request.headers.unwrap_or_default(),
        partition: request.partition,
    };
    let draft = Draft {
        record: fields.into_record(topic, limits)?,
        key: key_typed,
        value: value_typed,
    };
    Ok((draft, via, send))
}
