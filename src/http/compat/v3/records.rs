//! `POST /v3/clusters/{cluster_id}/topics/{topic}/records` and `.../records:batch`.
//!
//! The records route reads a body of JSON objects one after another. Each object is a record,
//! sent as soon as it is read; its answer line (its delivery, or `{"error_code","message"}`) is
//! written as soon as it is settled, in the order of the records, while later records may still
//! be arriving: a chunked upload of any length flows through a bounded window
//! ([`WINDOW`] records in flight, [`ANSWERS_BUFFERED`] answers waiting for the client). Such a
//! stream is answered 200 from the start (its records' outcomes are in the lines). A body of
//! known length holding one record is answered with that record's own status instead, so that
//! a failed single record is not a 200 (the peer answers 200 whatever happened).
//!
//! The batch route takes `{"entries":[{"id", ...record}]}` up to `MAX_BATCH_RECORDS` and
//! answers 207 with `successes` and `failures`, each naming its entry's id.

use std::collections::HashSet;
use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use futures_util::future::Either;
use futures_util::stream::{FuturesOrdered, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tracing::Instrument;
use utoipa::ToSchema;

use super::super::formats::{self, Format};
use super::super::split::{SplitError, Splitter};
use super::super::{json_answer, ErrorBody, ProduceQuery, V3_ANSWER_TYPE};
use super::{cluster_named, V3Errors, TAG};
use crate::access::Caller;
use crate::http::context::RequestContext;
use crate::http::json;
use crate::http::problem::ApiError;
use crate::http::record::{self, checked, may_write, Admission, HeaderNames};
use crate::http::state::AppState;
use crate::kafka::{Outcome, OutgoingRecord, SendMode, TopicName, Via};
use crate::settings::Limits;

/// Records of one stream sent and not yet answered, at most.
pub const WINDOW: usize = 1024;
/// Answer lines waiting for the client to read them, at most.
pub const ANSWERS_BUFFERED: usize = 256;

/// One record. Key and value each `{"type": "BINARY"|"JSON"|"STRING", "data"}` (without a type,
/// JSON); schema types and fields need a Schema Registry.
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
    /// `BINARY` (base64), `JSON` (any JSON value) or `STRING`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(borrow)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<&'a RawValue>,
    #[serde(borrow)]
    #[schema(value_type = Option<Object>)]
    pub subject: Option<&'a RawValue>,
    #[serde(borrow)]
    #[schema(value_type = Option<Object>)]
    pub subject_name_strategy: Option<&'a RawValue>,
    #[serde(borrow)]
    #[schema(value_type = Option<Object>)]
    pub schema_id: Option<&'a RawValue>,
    #[serde(borrow)]
    #[schema(value_type = Option<Object>)]
    pub schema_version: Option<&'a RawValue>,
    #[serde(borrow)]
    #[schema(value_type = Option<Object>)]
    pub schema: Option<&'a RawValue>,
}

/// One answer line of a stream: a delivery, or why the record was not written.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum V3Line {
    Delivery(V3Delivery),
    Error(ErrorBody),
}

/// A key's or value's type and size in bytes, as written.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct DataSize {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub size: usize,
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

/// A record read: what is sent, and the sizes its answer reports.
struct Read {
    record: OutgoingRecord,
    key: Option<DataSize>,
    value: Option<DataSize>,
}

/// One record object, checked.
fn parse_record(text: &[u8], topic: &TopicName, limits: &Limits) -> Result<Read, ApiError> {
    let record: V3Record = json::object(text).map_err(|fault| match fault {
        Ok(_) => ApiError::unprocessable("invalid-payload", None, "a record must be a JSON object"),
        Err(error) => error,
    })?;
    let (key, key_size) = data(record.key.as_ref(), "key")?;
    let (value, value_size) = data(record.value.as_ref(), "value")?;
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
        key,
        value,
        headers,
        partition: record.partition_id,
        timestamp,
    };
    Ok(Read {
        record: checked(outgoing, limits, HeaderNames::AsGiven)?,
        key: key_size,
        value: value_size,
    })
}

/// One record object as the record it asks for (the fuzz targets drive this).
pub fn parse_v3(
    text: &[u8],
    topic: &TopicName,
    limits: &Limits,
) -> Result<OutgoingRecord, ApiError> {
    parse_record(text, topic, limits).map(|read| read.record)
}

/// A key's or value's bytes, and its type and size for the answer.
fn data(
    given: Option<&V3Data>,
    field: &str,
) -> Result<(Option<Vec<u8>>, Option<DataSize>), ApiError> {
    let Some(given) = given else {
        return Ok((None, None));
    };
    for (name, value) in [
        ("subject", given.subject),
        ("subject_name_strategy", given.subject_name_strategy),
        ("schema_id", given.schema_id),
        ("schema_version", given.schema_version),
        ("schema", given.schema),
    ] {
        if value.is_some_and(|v| v.get() != "null") {
            return Err(formats::schemas_not_served(&format!("{field}.{name}")));
        }
    }
    let format = match given
        .kind
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("JSON") => Format::Json,
        Some("BINARY") => Format::Binary,
        Some("STRING") => Format::Text,
        Some(kind @ ("AVRO" | "JSONSCHEMA" | "PROTOBUF")) => {
            return Err(formats::schemas_not_served(&format!("{field}.type {kind}")))
        }
        Some(other) => {
            return Err(ApiError::bad_field(
                "invalid-property",
                format!("{field}.type"),
                format!("{field}.type must be BINARY, JSON or STRING, not {other:?}"),
            ))
        }
    };
    let bytes = match given.data {
        Some(data) => formats::decode(format, data, &format!("{field}.data"))?,
        None => None,
    };
    let size = bytes.as_ref().map(|b| DataSize {
        kind: format.v3_name(),
        size: b.len(),
    });
    Ok((bytes, size))
}

/// Milliseconds since the epoch in RFC 3339.
fn iso(ms: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// What the routes share: the cluster, the topic, the producer asked for.
struct Target {
    cluster_id: String,
    topic: TopicName,
    via: Via,
}

impl Target {
    async fn of(
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

    fn delivery(
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
                key: read.key,
                value: read.value,
            }),
            Outcome::Queued => Err(ApiError::Internal("a sync send was only queued".into())),
        }
    }

    /// One record's answer line.
    fn line(&self, answer: Result<V3Delivery, ApiError>) -> Bytes {
        let mut line = match answer {
            Ok(delivery) => serde_json::to_vec(&delivery),
            Err(error) => serde_json::to_vec(&ErrorBody::of(&error)),
        }
        .unwrap_or_default();
        line.extend_from_slice(b"\r\n");
        Bytes::from(line)
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
        let objects = state.count_rejection(objects_of(&bytes, limit))?;
        if let [object] = objects.as_slice() {
            return single(&state, &context, &caller, &target, object).await;
        }
        return Ok(stream(state, context, caller, target, Body::from(bytes)));
    }
    Ok(stream(state, context, caller, target, body))
}

/// The records of a whole body: at least one, JSON objects one after another.
fn objects_of(bytes: &[u8], limit: usize) -> Result<Vec<Bytes>, ApiError> {
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
    let read = state.count_rejection(parse_record(text, &target.topic, &state.limits).and_then(
        |mut read| {
            read.record = admission.admit(read.record)?;
            Ok(read)
        },
    ))?;
    let outcome = state
        .producers
        .send(&read.record, target.via, SendMode::Sync)
        .await
        .map_err(ApiError::Send);
    let delivery = target.delivery(&read, outcome)?;
    Ok(json_answer(StatusCode::OK, V3_ANSWER_TYPE, &delivery))
}

/// Records as they arrive, each sent as soon as it is read, answered in order as they settle.
fn stream(
    state: AppState,
    context: RequestContext,
    caller: Caller,
    target: Target,
    body: Body,
) -> Response {
    let (answers, lines) = tokio::sync::mpsc::channel::<Bytes>(ANSWERS_BUFFERED);
    let work = async move {
        let admission = Admission::new(&state, &caller, &context);
        let mut splitter = Splitter::new(state.limits.max_body_bytes);
        let mut data = body.into_data_stream();
        let mut in_flight = FuturesOrdered::new();
        let mut reading = true;
        loop {
            tokio::select! {
                biased;
                Some(line) = in_flight.next(), if !in_flight.is_empty() => {
                    if answers.send(line).await.is_err() {
                        // The client went away: what is in flight still settles and is counted.
                        reading = false;
                    }
                }
                chunk = data.next(), if reading && in_flight.len() < WINDOW => {
                    let mut failed = None;
                    match chunk {
                        Some(Ok(bytes)) => {
                            splitter.push(&bytes);
                            loop {
                                match splitter.next_object() {
                                    Ok(Some(object)) => {
                                        let read = parse_record(&object, &target.topic, &state.limits)
                                            .and_then(|mut read| {
                                                read.record = admission.admit(read.record)?;
                                                Ok(read)
                                            });
                                        in_flight.push_back(Either::Right(send_one(&state, &target, read)));
                                    }
                                    Ok(None) => break,
                                    Err(error) => {
                                        failed = Some(error.to_string());
                                        break;
                                    }
                                }
                            }
                        }
                        Some(Err(error)) => failed = Some(format!("the body could not be read: {error}")),
                        None => {
                            reading = false;
                            failed = splitter.finish().err().map(|e| e.to_string());
                        }
                    }
                    if let Some(error) = failed {
                        // What cannot be cut into records ends the stream, with its own line.
                        reading = false;
                        let error = ApiError::unprocessable("invalid-payload", None, error);
                        in_flight.push_back(Either::Left(std::future::ready(target.line(Err(error)))));
                    }
                }
                else => break,
            }
        }
    };
    tokio::spawn(work.in_current_span());
    let body = futures_util::stream::unfold(lines, |mut lines| async move {
        lines
            .recv()
            .await
            .map(|line| (Ok::<_, Infallible>(line), lines))
    });
    let mut response = Response::new(Body::from_stream(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(V3_ANSWER_TYPE),
    );
    response
}

/// Sends one read record (or answers why it was not read), as its answer line.
async fn send_one(state: &AppState, target: &Target, read: Result<Read, ApiError>) -> Bytes {
    let read = match read {
        Ok(read) => read,
        Err(error) => {
            state.metrics.record_rejected_request();
            return target.line(Err(error));
        }
    };
    let outcome = state
        .producers
        .send(&read.record, target.via, SendMode::Sync)
        .await
        .map_err(ApiError::Send);
    target.line(target.delivery(&read, outcome))
}

/// `records:batch`: entries, each with an id.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct V3Batch<'a> {
    #[serde(borrow)]
    #[schema(value_type = Vec<V3BatchEntry>, min_items = 1)]
    pub entries: Option<Vec<&'a RawValue>>,
}

/// An entry: its id (1 to 80 characters, unique in the batch) and a record's fields.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct V3BatchEntry {
    pub id: String,
    #[schema(minimum = 0)]
    pub partition_id: Option<i32>,
    pub headers: Option<Vec<V3Header>>,
    #[schema(value_type = Option<Object>)]
    pub key: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub value: Option<serde_json::Value>,
    pub timestamp: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct EntryId<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct V3BatchSuccess {
    pub id: String,
    #[serde(flatten)]
    pub delivery: V3Delivery,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct V3BatchFailure {
    pub id: String,
    pub error_code: u32,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct V3BatchResponse {
    pub successes: Vec<V3BatchSuccess>,
    pub failures: Vec<V3BatchFailure>,
}

#[utoipa::path(post, path = "/v3/clusters/{cluster_id}/topics/{topic}/records:batch", tag = TAG,
    params(
        ("cluster_id" = String, Path, description = "The cluster's id"),
        ("topic" = String, Path, description = "The topic"),
        ("acks" = Option<String>, Query, description = "0, 1 or all (default: the idempotent producer's all)"),
    ),
    request_body(content = V3Batch, content_type = "application/json"),
    responses(
        (status = 207, description = "Each entry's delivery or error, by id", body = V3BatchResponse, content_type = "application/json"),
        V3Errors,
    ))]
#[allow(clippy::too_many_arguments)]
pub async fn produce_batch(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(caller): Extension<Caller>,
    Path((cluster_id, topic)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let target = state.count_rejection(
        Target::of(&state, &caller, &cluster_id, &topic, query.as_deref()).await,
    )?;
    let bytes = state.count_rejection(crate::http::body::read(
        body,
        state.limits.max_batch_body_bytes,
    ))?;
    let entries = state.count_rejection(entries(&bytes, &state.limits))?;
    let admission = Admission::new(&state, &caller, &context);
    let mut failures = Vec::new();
    let mut accepted = Vec::with_capacity(entries.len());
    for (id, text) in entries {
        match parse_record(text.get().as_bytes(), &target.topic, &state.limits).and_then(
            |mut read| {
                read.record = admission.admit(read.record)?;
                Ok(read)
            },
        ) {
            Ok(read) => accepted.push((id, read)),
            Err(error) => failures.push(failure(id, &error)),
        }
    }
    let outcomes = {
        let to_send: Vec<(&OutgoingRecord, Via)> = accepted
            .iter()
            .map(|(_, r)| (&r.record, target.via))
            .collect();
        state.producers.send_batch(&to_send, SendMode::Sync).await
    };
    let mut successes = Vec::with_capacity(accepted.len());
    for ((id, read), outcome) in accepted.into_iter().zip(outcomes) {
        match target.delivery(&read, outcome.map_err(ApiError::Send)) {
            Ok(delivery) => successes.push(V3BatchSuccess { id, delivery }),
            Err(error) => failures.push(failure(id, &error)),
        }
    }
    Ok(json_answer(
        StatusCode::MULTI_STATUS,
        V3_ANSWER_TYPE,
        &V3BatchResponse {
            successes,
            failures,
        },
    ))
}

fn failure(id: String, error: &ApiError) -> V3BatchFailure {
    let body = ErrorBody::of(error);
    V3BatchFailure {
        id,
        error_code: body.error_code,
        message: body.message,
    }
}

/// The batch's entries with their ids: 1 to `MAX_BATCH_RECORDS`, each id a string of 1 to 80
/// characters, none twice.
fn entries<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Vec<(String, &'a RawValue)>, ApiError> {
    let batch: V3Batch = crate::http::body::required(
        bytes,
        "send a JSON object such as {\"entries\":[{\"id\":\"1\",\"value\":{\"type\":\"STRING\",\"data\":\"v\"}}]}",
    )?;
    let entries = batch.entries.unwrap_or_default();
    if entries.is_empty() {
        return Err(ApiError::bad_field(
            "invalid-property",
            "entries",
            "entries must be a non-empty array of records with ids",
        ));
    }
    if entries.len() > limits.max_batch_records {
        return Err(ApiError::TooManyRecords {
            count: entries.len(),
            limit: limits.max_batch_records,
        });
    }
    let mut seen = HashSet::with_capacity(entries.len());
    entries
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let bad = |detail: String| {
                ApiError::bad_field("invalid-property", format!("entries[{i}].id"), detail)
            };
            let given: EntryId = json::object(text.get().as_bytes())
                .map_err(|_| bad(format!("entries[{i}] must be a JSON object with an id")))?;
            let id: String = given
                .id
                .and_then(|id| serde_json::from_str(id.get()).ok())
                .ok_or_else(|| bad(format!("entries[{i}].id must be a string")))?;
            if id.is_empty() || id.chars().count() > 80 {
                return Err(bad(format!(
                    "entries[{i}].id must be 1 to 80 characters long"
                )));
            }
            if !seen.insert(id.clone()) {
                return Err(bad(format!("entries[{i}].id {id:?} is given twice")));
            }
            Ok((id, text))
        })
        .collect()
}
