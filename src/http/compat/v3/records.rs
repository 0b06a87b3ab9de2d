//! `POST /v3/clusters/{cluster_id}/topics/{topic}/records` (`.../records:batch` is [`super::batch`]).
//!
//! The records route reads a body of JSON objects one after another. Each object is a record,
//! sent as soon as it is read; its answer line (its delivery, or `{"error_code","message"}`) is
//! written as soon as it is settled, in the order of the records, while later records may still
//! be arriving: a chunked upload of any length flows through a bounded window
//! ([`super::stream`]). Such a stream is answered 200 from the start (its records' outcomes
//! are in the lines). A body of known length holding one record is answered with that
//! record's own status instead, so that a failed single record is not a 200 (the peer answers
//! 200 whatever happened).

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use self::data::data;
pub(super) use self::data::Read;
use super::super::formats;
use super::super::split::{SplitError, Splitter};
use super::super::{json_answer, ErrorBody, ProduceQuery, V3_ANSWER_TYPE};
use super::{cluster_named, V3Errors, TAG};

mod data;
use crate::access::Caller;
use crate::http::context::RequestContext;
use crate::http::json;
use crate::http::problem::ApiError;
use crate::http::record::{self, checked, may_write, Admission, HeaderNames};
use crate::http::schemas::Encoder;
use crate::http::state::AppState;
use crate::kafka::{Outcome, OutgoingRecord, SendMode, TopicName, Via};
use crate::schema::Part;
use crate::settings::Limits;

/// One record. Key and value each `{"type": "BINARY"|"JSON"|"STRING", "data"}`, or with a
/// schema `{"type": "AVRO"|"JSONSCHEMA"|"PROTOBUF", "schema_id"? | "subject"? +
/// "schema_version"? | "schema"?, "subject_name_strategy"?, "data"}` (a Schema Registry's).
/// Without a type: the subject's latest schema when a registry is configured and the subject has
/// one, JSON otherwise.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"partition_id": 1, "headers": [{"name": "Header-1", "value": "SGVhZGVyLTE="}], "key": {"type": "STRING", "data": "order-1"}, "value": {"type": "JSON", "data": {"amount": 42}}, "timestamp": "2026-12-06T10:00:00Z"}))]
pub struct V3Record<'a> {
    #[schema(minimum = 0)]
    pub partition_id: Option<i32>,
    pub headers: Option<Vec<V3Header>>,
    #[serde(borrow)]
    pub key: Option<V3Data<'a>>,
    #[serde(borrow)]
    pub value: Option<V3Data<'a>>,
    /// ISO 8601 (RFC 3339); by default when it is produced.
    pub timestamp: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct V3Header {
    pub name: String,
    /// Base64; null for a header without a value.
    pub value: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct V3Data<'a> {
    /// `BINARY` (base64), `JSON` (any JSON value), `STRING`, or with a schema `AVRO`,
    /// `JSONSCHEMA`, `PROTOBUF`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(borrow)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<&'a RawValue>,
    /// The subject whose `schema_version` (default: latest) is used.
    #[schema(min_length = 1)]
    pub subject: Option<String>,
    /// `TOPIC_NAME` (default), `RECORD_NAME` or `TOPIC_RECORD_NAME`: the subject of `schema`,
    /// or of the latest schema when neither id nor subject is given.
    pub subject_name_strategy: Option<String>,
    #[schema(minimum = 1)]
    pub schema_id: Option<u32>,
    #[schema(minimum = 1)]
    pub schema_version: Option<i32>,
    /// The schema's text: registered (if new) under the strategy's subject, then used.
    #[schema(min_length = 1)]
    pub schema: Option<String>,
}

/// One answer line of a stream: a delivery, or why the record was not written.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum V3Line {
    Delivery(V3Delivery),
    Error(ErrorBody),
}

/// A key's or value's type and size in bytes, as written, and its schema if it has one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DataSize {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<i32>,
}

/// Where a record was written.
#[derive(Debug, Serialize, ToSchema)]
pub struct V3Delivery {
    /// 200.
    pub error_code: u32,
    pub cluster_id: String,
    pub topic_name: String,
    pub partition_id: i32,
    /// Null with `acks=0` (the producer did not wait).
    pub offset: Option<i64>,
    pub timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<DataSize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<DataSize>,
}

/// One record object, checked. `registry`: a Schema Registry is configured (type-less keys and
/// values may then have a schema).
pub(super) fn parse_record(
    text: &[u8],
    topic: &TopicName,
    limits: &Limits,
    registry: bool,
) -> Result<Read, ApiError> {
    let record: V3Record = json::object(text).map_err(|fault| match fault {
        Ok(_) => ApiError::unprocessable("invalid-payload", None, "a record must be a JSON object"),
        Err(error) => error,
    })?;
    let key = data(record.key.as_ref(), Part::Key, registry)?;
    let value = data(record.value.as_ref(), Part::Value, registry)?;
    let headers = record
        .headers
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, h)| {
            let value = h
                .value
                .map(|v| formats::decode_base64(&v, &format!("headers[{i}].value")))
                .transpose()?;
            Ok((h.name, value))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let timestamp = record
        .timestamp
        .map(|t| {
            time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
                .map(|at| (at.unix_timestamp_nanos() / 1_000_000) as i64)
                .map_err(|e| {
                    ApiError::bad_field(
                        "invalid-property",
                        "timestamp",
                        format!("timestamp must be ISO 8601 (RFC 3339), such as 2026-12-06T10:00:00Z: {e}"),
                    )
                })
        })
        .transpose()?;
    let outgoing = OutgoingRecord {
        topic: topic.clone(),
        key: key.bytes,
        value: value.bytes,
        headers,
        partition: record.partition_id,
        timestamp,
    };
    Ok(Read {
        record: checked(outgoing, limits, HeaderNames::AsGiven)?,
        key: key.size,
        value: value.size,
        typed: [key.typed, value.typed],
        typeless: [key.typeless, value.typeless],
    })
}

/// One record object as the record it asks for (the fuzz targets drive this).
pub fn parse_v3(
    text: &[u8],
    topic: &TopicName,
    limits: &Limits,
) -> Result<OutgoingRecord, ApiError> {
    parse_record(text, topic, limits, true).map(|read| read.record)
}

/// One record object read, admitted (may the caller write to the topic), and its schema'd parts
/// written (each schema resolved once by `encoder`): what every records route sends.
pub(super) async fn read_admitted(
    state: &AppState,
    admission: &Admission<'_>,
    encoder: &mut Encoder<'_>,
    text: &[u8],
    topic: &TopicName,
) -> Result<Read, ApiError> {
    let registry = state.schemas.is_some();
    let mut read = parse_record(text, topic, &state.limits, registry)?;
    read.record = admission.admit(read.record)?;
    if read.is_written() {
        Ok(read)
    } else {
        read.write(state, encoder).await
    }
}

/// Milliseconds since the epoch in RFC 3339.
fn iso(ms: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// What the routes share: the cluster, the topic, the producer asked for.
pub(super) struct Target {
    cluster_id: String,
    pub(super) topic: TopicName,
    pub(super) via: Via,
}

impl Target {
    pub(super) async fn of(
        state: &AppState,
        caller: &Caller,
        cluster_id: &str,
        topic: &str,
        query: Option<&str>,
    ) -> Result<Self, ApiError> {
        let query = ProduceQuery::parse(query)?;
        let via = record::via(None, query.acks.as_deref())?;
        let topic = TopicName::parse(topic)
            .map_err(|e| ApiError::bad_field("invalid-topic", "topic", e.to_string()))?;
        may_write(state, caller, topic.as_str())?;
        let cluster_id = cluster_named(state, cluster_id).await?;
        Ok(Target {
            cluster_id,
            topic,
            via,
        })
    }

    pub(super) fn delivery(
        &self,
        read: &Read,
        outcome: Result<Outcome, ApiError>,
    ) -> Result<V3Delivery, ApiError> {
        match outcome? {
            Outcome::Acknowledged(d) => Ok(V3Delivery {
                error_code: 200,
                cluster_id: self.cluster_id.clone(),
                topic_name: self.topic.to_string(),
                partition_id: d.partition,
                offset: d.offset,
                timestamp: d.timestamp.and_then(iso),
                key: read.key.clone(),
                value: read.value.clone(),
            }),
            Outcome::Queued => Err(ApiError::Internal("a sync send was only queued".into())),
        }
    }

    /// One record's answer line, CRLF included, written at the end of `out`.
    pub(super) fn write_line(&self, out: &mut Vec<u8>, answer: Result<V3Delivery, ApiError>) {
        // Writing into a Vec cannot fail, and these types always serialize.
        let _ = match answer {
            Ok(delivery) => serde_json::to_writer(&mut *out, &delivery),
            Err(error) => serde_json::to_writer(&mut *out, &ErrorBody::of(&error)),
        };
        out.extend_from_slice(b"\r\n");
    }
}

#[utoipa::path(post, path = "/v3/clusters/{cluster_id}/topics/{topic}/records", tag = TAG,
    params(
        ("cluster_id" = String, Path, description = "The cluster's id"),
        ("topic" = String, Path, description = "The topic"),
        ("acks" = Option<String>, Query, description = "0, 1 or all (default: the idempotent producer's all)"),
    ),
    request_body(content = V3Record, content_type = "application/json", description = "One record, or (streamed) JSON records one after another"),
    responses(
        (status = 200, description = "One record: its delivery. Streamed records: one answer per record, in order, each on its own line: its delivery, or `{\"error_code\",\"message\"}`", body = V3Line, content_type = "application/json"),
        V3Errors,
    ))]
#[allow(clippy::too_many_arguments)]
pub async fn produce(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(caller): Extension<Caller>,
    Path((cluster_id, topic)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let target = state.count_rejection(
        Target::of(&state, &caller, &cluster_id, &topic, query.as_deref()).await,
    )?;
    let limit = state.limits.max_body_bytes;
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if length.is_some_and(|l| l <= limit) {
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| ApiError::BodyTooLarge { limit })?;
        // A body of known length is read whole first: what cannot be cut into records is
        // refused before any is sent, and a single record gets its own status.
        let objects = state.count_rejection(objects_of(bytes.clone(), limit))?;
        if let [object] = objects.as_slice() {
            return single(&state, &context, &caller, &target, object).await;
        }
        return Ok(super::stream::stream(
            state,
            context,
            caller,
            target,
            Body::from(bytes),
        ));
    }
    Ok(super::stream::stream(state, context, caller, target, body))
}

/// The records of a whole body: at least one, JSON objects one after another.
fn objects_of(bytes: Bytes, limit: usize) -> Result<Vec<Bytes>, ApiError> {
    let mut splitter = Splitter::new(limit);
    splitter.push(bytes);
    let mut objects = Vec::new();
    let malformed = |e: SplitError| ApiError::bad_request("malformed-json", e.to_string());
    while let Some(object) = splitter.next_object().map_err(malformed)? {
        objects.push(object);
    }
    splitter.finish().map_err(malformed)?;
    if objects.is_empty() {
        return Err(ApiError::bad_request(
            "missing-body",
            "send a record such as {\"value\":{\"type\":\"STRING\",\"data\":\"hello\"}}",
        ));
    }
    Ok(objects)
}

/// One record, answered with its own status.
async fn single(
    state: &AppState,
    context: &RequestContext,
    caller: &Caller,
    target: &Target,
    text: &[u8],
) -> Result<Response, ApiError> {
    let admission = Admission::new(state, caller, context);
    let mut encoder = Encoder::new(state);
    let read = read_admitted(state, &admission, &mut encoder, text, &target.topic).await;
    let read = state.count_rejection(read)?;
    let outcome = state
        .producers
        .send(&read.record, target.via, SendMode::Sync)
        .await
        .map_err(ApiError::Send);
    let delivery = target.delivery(&read, outcome)?;
    Ok(json_answer(StatusCode::OK, V3_ANSWER_TYPE, &delivery))
}
