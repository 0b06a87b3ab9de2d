//! Confluent REST Proxy v2 and Strimzi Kafka Bridge: `POST /topics/{topic}`,
//! `POST /topics/{topic}/partitions/{partition}`; `GET /topics`, `GET /topics/{topic}` in
//! [`topics`].
//!
//! A request's records are all checked before any is sent: one that does not fit its format or
//! its schema refuses the request (422, nothing produced), as Confluent's proxy does. With the
//! avro, jsonschema and protobuf content types, keys and values are written with the schema
//! `key_schema_id` / `value_schema_id` name, or `key_schema` / `value_schema` (its text, then
//! registered under `<topic>-key` / `<topic>-value`); the answer gives the ids used. Then all are sent through the shared producers;
//! each gets its entry in `offsets`, in order: where it was written, or its error code and
//! message (under both names the two peers use, `error` and `message`). The answer is 200 even
//! when some records failed, as both peers answer and as their clients expect (a client of
//! either reads a non-200 as the whole request failing); when every record failed for the same
//! reason that names the request itself (unknown topic or partition, not authorized), the
//! request gets that error instead. `?async=true` (Strimzi): 204 once every record is queued.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Serialize;
use utoipa::ToSchema;

mod parse;
pub mod topics;

pub use self::parse::{parse_v2, V2Header, V2Record, V2Request};

use super::formats;
use super::{json_answer, ErrorBody, ProduceQuery, V2_ANSWER_TYPE};
use crate::access::Caller;
use crate::http::context::RequestContext;
use crate::http::problem::ApiError;
use crate::http::record::{self, Admission};
use crate::http::schemas::{Draft, Encoded, Encoder};
use crate::http::state::AppState;
use crate::kafka::{ErrorClass, Outcome, OutgoingRecord, SendError, SendMode, TopicName, Via};

/// Where one record went, or why it did not.
#[derive(Debug, Serialize, ToSchema)]
pub struct V2Offset {
    pub partition: Option<i32>,
    /// `null` with `acks=0` (the producer did not wait) and for a failed record.
    pub offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    /// Confluent's name of the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Strimzi's name of the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct V2Response {
    pub offsets: Vec<V2Offset>,
    pub key_schema_id: Option<i32>,
    pub value_schema_id: Option<i32>,
}

fn topic_of(name: &str) -> Result<TopicName, ApiError> {
    TopicName::parse(name).map_err(|e| ApiError::bad_field("invalid-topic", "topic", e.to_string()))
}

#[utoipa::path(
    post,
    path = "/topics/{topic}",
    tag = "compatible: Confluent REST Proxy v2, Strimzi Kafka Bridge",
    params(
        ("topic" = String, Path, description = "The topic"),
        ("async" = Option<bool>, Query, description = "Strimzi: `true` answers 204 once every record is queued"),
        ("acks" = Option<String>, Query, description = "0, 1 or all (default: the idempotent producer's all)"),
    ),
    request_body(content(
        (V2Request = "application/vnd.kafka.binary.v2+json"),
        (V2Request = "application/vnd.kafka.json.v2+json"),
        (V2Request = "application/vnd.kafka.text.v2+json"),
        (V2Request = "application/vnd.kafka.v2+json"),
        (V2Request = "application/json"),
        (V2Request = "application/vnd.kafka.avro.v2+json"),
        (V2Request = "application/vnd.kafka.jsonschema.v2+json"),
        (V2Request = "application/vnd.kafka.protobuf.v2+json"),
    )),
    responses(
        (status = 200, description = "Every record's partition and offset, or its error", body = V2Response, content_type = "application/vnd.kafka.v2+json"),
        (status = 204, description = "`?async=true`: every record queued"),
        V2Errors,
    )
)]
pub async fn produce(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(caller): Extension<Caller>,
    Path(topic): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    serve(
        &state, &context, &caller, &topic, None, query, &headers, body,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/topics/{topic}/partitions/{partition}",
    tag = "compatible: Confluent REST Proxy v2, Strimzi Kafka Bridge",
    params(
        ("topic" = String, Path, description = "The topic"),
        ("partition" = i32, Path, description = "The partition", minimum = 0),
        ("async" = Option<bool>, Query, description = "Strimzi: `true` answers 204 once every record is queued"),
        ("acks" = Option<String>, Query, description = "0, 1 or all (default: the idempotent producer's all)"),
    ),
    request_body(content(
        (V2Request = "application/vnd.kafka.binary.v2+json"),
        (V2Request = "application/vnd.kafka.json.v2+json"),
        (V2Request = "application/vnd.kafka.text.v2+json"),
        (V2Request = "application/vnd.kafka.v2+json"),
        (V2Request = "application/json"),
        (V2Request = "application/vnd.kafka.avro.v2+json"),
        (V2Request = "application/vnd.kafka.jsonschema.v2+json"),
        (V2Request = "application/vnd.kafka.protobuf.v2+json"),
    )),
    responses(
        (status = 200, description = "Every record's partition and offset, or its error", body = V2Response, content_type = "application/vnd.kafka.v2+json"),
        (status = 204, description = "`?async=true`: every record queued"),
        V2Errors,
    )
)]
pub async fn produce_to_partition(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(caller): Extension<Caller>,
    Path((topic, partition)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let partition = partition
        .parse::<i32>()
        .ok()
        .filter(|p| *p >= 0)
        .ok_or_else(|| ApiError::Missing {
            kind: "partition-not-found",
            detail: format!("{partition:?} is not a partition number"),
        })?;
    serve(
        &state,
        &context,
        &caller,
        &topic,
        Some(partition),
        query,
        &headers,
        body,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    state: &AppState,
    context: &RequestContext,
    caller: &Caller,
    topic: &str,
    partition: Option<i32>,
    query: Option<String>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let admission = Admission::new(state, caller, context);
    let parsed = (|| -> Result<(Vec<Draft>, Via, SendMode), ApiError> {
        let query = ProduceQuery::parse(query.as_deref())?;
        let via = record::via(None, query.acks.as_deref())?;
        let format = formats::v2_format(super::content_type(headers))?;
        let topic = topic_of(topic)?;
        let drafts = parse_v2(body, format, &topic, partition, &state.limits)?
            .into_iter()
            .map(|mut draft| {
                draft.record = admission.admit(draft.record)?;
                Ok(draft)
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok((drafts, via, SendMode::of(query.asynchronous)))
    })();
    let (drafts, via, send) = state.count_rejection(parsed)?;
    // Every record written with its schema before any is sent: one that does not fit refuses
    // the request.
    let mut encoder = Encoder::new(state);
    let (mut records, mut ids) = (Vec::with_capacity(drafts.len()), [None, None]);
    for (i, draft) in drafts.into_iter().enumerate() {
        let encoded = if draft.key.is_none() && draft.value.is_none() {
            Encoded::from(draft.record)
        } else {
            let encoded = encoder.encode(draft).await.map_err(|e| e.at_record(i));
            state.count_rejection(encoded)?
        };
        ids[0] = ids[0].or(encoded.key.as_ref().map(|u| u.id as i32));
        ids[1] = ids[1].or(encoded.value.as_ref().map(|u| u.id as i32));
        records.push(encoded.record);
    }
    let to_send: Vec<(&OutgoingRecord, Via)> = records.iter().map(|r| (r, via)).collect();
    let outcomes = state.producers.send_batch(&to_send, send).await;
    if let Some(error) = failed_alike(&outcomes) {
        return Err(ApiError::Send(error));
    }
    if send == SendMode::Async && outcomes.iter().all(Result::is_ok) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let offsets = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Ok(Outcome::Acknowledged(d)) => V2Offset {
                partition: Some(d.partition),
                offset: d.offset,
                error_code: None,
                error: None,
                message: None,
            },
            Ok(Outcome::Queued) => V2Offset {
                partition: None,
                offset: None,
                error_code: None,
                error: None,
                message: None,
            },
            Err(error) => {
                let body = ErrorBody::of(&ApiError::Send(error));
                V2Offset {
                    partition: None,
                    offset: None,
                    error_code: Some(body.error_code),
                    error: Some(body.message.clone()),
                    message: Some(body.message),
                }
            }
        })
        .collect();
    Ok(json_answer(
        StatusCode::OK,
        V2_ANSWER_TYPE,
        &V2Response {
            offsets,
            key_schema_id: ids[0],
            value_schema_id: ids[1],
        },
    ))
}

/// The error every record failed with, when it is one that names the request itself: the topic
/// or partition does not exist, or the producer may not write to it.
fn failed_alike(outcomes: &[Result<Outcome, SendError>]) -> Option<SendError> {
    let first = outcomes.first()?.as_ref().err()?;
    let whole = matches!(
        first.class,
        ErrorClass::TopicNotFound | ErrorClass::PartitionNotFound | ErrorClass::NotAuthorized
    );
    let alike = outcomes
        .iter()
        .all(|o| o.as_ref().is_err_and(|e| e.class == first.class));
    (whole && alike).then(|| first.clone())
}

/// The error answers of the v2 routes.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum V2Errors {
    /// Malformed JSON, an invalid topic name, a bad query parameter.
    #[response(status = 400, content_type = "application/vnd.kafka.v2+json")]
    BadRequest(ErrorBody),
    /// API keys are on, and none or an unknown one was given (40101).
    #[response(status = 401, content_type = "application/vnd.kafka.v2+json")]
    Unauthorized(ErrorBody),
    /// The topic is not one the caller may write to (40301); nothing was produced.
    #[response(status = 403, content_type = "application/vnd.kafka.v2+json")]
    Forbidden(ErrorBody),
    /// The topic (40401) or partition (40402) does not exist.
    #[response(status = 404, content_type = "application/vnd.kafka.v2+json")]
    NotFound(ErrorBody),
    /// The Schema Registry refused the schema: not compatible with the subject's (409).
    #[response(status = 409, content_type = "application/vnd.kafka.v2+json")]
    Conflict(ErrorBody),
    /// The body, a record's headers or the number of records is over its limit.
    #[response(status = 413, content_type = "application/vnd.kafka.v2+json")]
    TooLarge(ErrorBody),
    /// The Content-Type is not a v2 one.
    #[response(status = 415, content_type = "application/vnd.kafka.v2+json")]
    UnsupportedMediaType(ErrorBody),
    /// A record does not fit the format or its schema (42203), a schema is missing (42201 key,
    /// 42202 value) or invalid (42205), the records are missing (42206), or a schema is asked
    /// for and no Schema Registry is configured (42206); nothing was produced.
    #[response(status = 422, content_type = "application/vnd.kafka.v2+json")]
    Unprocessable(ErrorBody),
    /// The producer failed (50002).
    #[response(status = 500, content_type = "application/vnd.kafka.v2+json")]
    Failed(ErrorBody),
    /// The Schema Registry refused the service's credentials (50002).
    #[response(status = 502, content_type = "application/vnd.kafka.v2+json")]
    BadGateway(ErrorBody),
    /// Kafka or the Schema Registry is unreachable, or the service overloaded (50003): retry
    /// after `Retry-After`.
    #[response(status = 503, content_type = "application/vnd.kafka.v2+json")]
    Unavailable(ErrorBody),
    /// Not confirmed or answered in time (50003).
    #[response(status = 504, content_type = "application/vnd.kafka.v2+json")]
    Timeout(ErrorBody),
}
