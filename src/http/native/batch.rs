//! `POST /api/v1/send/batch`: many records in one request, each with its own result.
//!
//! The request as a whole is refused (400, 413) only when it cannot be read at all: not JSON,
//! no `records` array, more records than `MAX_BATCH_RECORDS`, a body over
//! `MAX_BATCH_BODY_BYTES`. Otherwise every record gets its own result in input order: the
//! position it was written at, or the problem that kept it out (an invalid or forbidden topic
//! is that record's 400 or 403; the others are still sent). 200 (sync) or 202 (async) when every
//! record succeeded, 207 when some did not.

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
use crate::http::json::{self, NotAnObject, Text};
use crate::http::problem::{ApiError, Problem, SendProblems};
use crate::http::record::{self, topic_from, AcksField, Admission, Answered, Fields};
use crate::http::schemas::{given_part, Draft, Encoded, Encoder, SchemaField, UsedSchema};
use crate::http::state::AppState;
use crate::kafka::{OutgoingRecord, SendMode, TopicName, Via};
use crate::schema::Part;
use crate::settings::Limits;

/// `POST /api/v1/send/batch`: the batch's defaults, and its records. Names are matched
/// case-insensitively. Records are kept as their JSON text (borrowed from the body) and read
/// one by one, so that a faulty record fails alone.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all(deserialize = "lowercase"))]
#[schema(rename_all = "camelCase")]
#[schema(example = json!({"topic": "orders", "isIdempotent": true, "isAsync": false, "records": [{"key": "order-1", "message": "created"}, {"key": "order-2", "message": "paid", "headers": {"source": "batch"}}]}))]
pub struct BatchRequest<'a> {
    /// The topic of records that name none; default `test-topic`.
    #[serde(borrow)]
    #[schema(value_type = Option<String>)]
    pub topic: Option<Text<'a>>,
    /// The producer of records that do not choose one; default `true` (idempotent).
    #[serde(rename(deserialize = "isidempotent"))]
    pub is_idempotent: Option<bool>,
    /// `false` (default): answer once every record is acknowledged; `true`: once all are queued.
    #[serde(rename(deserialize = "isasync"))]
    pub is_async: Option<bool>,
    /// The acknowledgement of records that do not choose one.
    pub acks: Option<AcksField>,
    /// The key schema of records that name none.
    #[serde(rename(deserialize = "keyschema"))]
    pub key_schema: Option<SchemaField>,
    /// The message schema of records that name none.
    #[serde(rename(deserialize = "valueschema"))]
    pub value_schema: Option<SchemaField>,
    /// 1 to `MAX_BATCH_RECORDS` (10 000) records, sent in this order (order per partition kept
    /// within each producer).
    #[serde(borrow)]
    #[schema(value_type = Vec<BatchRecord>, min_items = 1)]
    pub records: Option<Vec<&'a RawValue>>,
}

/// One record of a batch; what it leaves out comes from the batch.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all(deserialize = "lowercase"))]
#[schema(rename_all = "camelCase")]
pub struct BatchRecord<'a> {
    /// The topic; default the batch's.
    #[serde(borrow)]
    #[schema(value_type = Option<String>)]
    pub topic: Option<Text<'a>>,
    /// The record key; default a new UUID. A string, or with `keySchema` any JSON the schema
    /// accepts.
    #[serde(borrow)]
    #[schema(value_type = Option<serde_json::Value>)]
    pub key: Option<&'a RawValue>,
    /// The record value: a string as its UTF-8 text, any other JSON value as its JSON text;
    /// with `valueSchema` (its own or the batch's), written with that schema.
    #[serde(borrow)]
    #[schema(value_type = Option<serde_json::Value>)]
    pub message: Option<&'a RawValue>,
    // Boxed, as the value's: a record without them is a third of the size, and each record is
    // moved out of its parser.
    /// The key's schema; default the batch's.
    #[serde(rename(deserialize = "keyschema"))]
    pub key_schema: Option<Box<SchemaField>>,
    /// The message's schema; default the batch's.
    #[serde(rename(deserialize = "valueschema"))]
    pub value_schema: Option<Box<SchemaField>>,
    /// Record headers (not `producer-mode`, `send-mode` or `timestamp`).
    pub headers: Option<BTreeMap<String, String>>,
    /// An explicit partition; by default the key decides.
    #[schema(minimum = 0)]
    pub partition: Option<i32>,
    /// This record's producer; default the batch's.
    #[serde(rename(deserialize = "isidempotent"))]
    pub is_idempotent: Option<bool>,
    /// This record's acknowledgement; default the batch's.
    pub acks: Option<AcksField>,
}

/// The result of one record, in input order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordResult {
    /// 200 acknowledged, 202 queued, or the status of the record's problem.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub topic: Option<TopicName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `plain` or `idempotent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_schema: Option<UsedSchema>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_schema: Option<UsedSchema>,
    // Boxed: most results have none, and a result is moved a few times on its way into the
    // answer.
    /// Why the record was not written (or not confirmed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Box<Problem>>,
}

/// The answer to a batch.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    /// Records acknowledged (sync) or queued (async).
    pub succeeded: usize,
    pub failed: usize,
    /// `sync` or `async`.
    pub send_mode: &'static str,
    pub results: Vec<RecordResult>,
}

/// A batch as read: each record parsed (or its problem), the send mode.
type Parsed = (Vec<Result<(Draft, Via), ApiError>>, SendMode);

/// Reads a batch body; only faults of the batch as a whole are errors here.
pub fn parse_batch(
    body: Result<Bytes, BytesRejection>,
    limits: &Limits,
) -> Result<Parsed, ApiError> {
    let bytes = body::read(body, limits.max_batch_body_bytes)?;
    let batch: BatchRequest = body::required(
        &bytes,
        "send a JSON object such as {\"records\":[{\"topic\":\"t\",\"key\":\"k\",\"message\":\"m\"}]}",
    )?;
    let records = batch.records.unwrap_or_default();
    if records.is_empty() {
        return Err(ApiError::bad_field(
            "invalid-property",
            "records",
            "records must be a non-empty array of record objects",
        ));
    }
    if records.len() > limits.max_batch_records {
        return Err(ApiError::TooManyRecords {
            count: records.len(),
            limit: limits.max_batch_records,
        });
    }
    let send = SendMode::of(batch.is_async.unwrap_or(false));
    let acks = batch.acks.as_ref().map(|a| a.0.as_str());
    // The batch's own choice is checked once, even if every record makes its own.
    record::via(batch.is_idempotent, acks)?;
    // The batch's topic, read once, for every record that names none.
    let batch_topic = topic_from(batch.topic.as_deref());
    let parsed = records
        .into_iter()
        .enumerate()
        .map(|(index, text)| {
            let at = |error: ApiError| error.at_record(index);
            let record: BatchRecord = json::object(text.get().as_bytes()).map_err(|fault| {
                at(match fault {
                    Ok(NotAnObject::Absent | NotAnObject::Other) => {
                        ApiError::bad_request("invalid-property", "a record must be a JSON object")
                    }
                    Err(error) => error,
                })
            })?;
            let topic = match (record.topic.as_deref(), &batch_topic) {
                (Some(own), _) => topic_from(Some(own)),
                (None, Ok(shared)) => Ok(TopicName::clone(shared)),
                // The batch's own error, made again for each record that relies on it.
                (None, Err(_)) => topic_from(batch.topic.as_deref()),
            };
            let via = record::via(
                record.is_idempotent.or(batch.is_idempotent),
                record.acks.as_ref().map(|a| a.0.as_str()).or(acks),
            )
            .map_err(at)?;
            let (key, key_typed) = given_part(
                record.key,
                record.key_schema.as_deref().or(batch.key_schema.as_ref()),
                Part::Key,
                "key",
                "keySchema",
            )
            .map_err(at)?;
            let (message, value_typed) = given_part(
                record.message,
                record
                    .value_schema
                    .as_deref()
                    .or(batch.value_schema.as_ref()),
                Part::Value,
                "message",
                "valueSchema",
            )
            .map_err(at)?;
            let fields = Fields {
                key,
                message,
                headers: record.headers.unwrap_or_default(),
                partition: record.partition,
            };
            let outgoing = fields.into_record(topic.map_err(at)?, limits).map_err(at)?;
            let draft = Draft {
                record: outgoing,
                key: key_typed,
                value: value_typed,
            };
            Ok((draft, via))
        })
        .collect();
    Ok((parsed, send))
}

#[utoipa::path(
    post,
    path = "/api/v1/send/batch",
    tag = "send",
    request_body(content = BatchRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Sync: every record acknowledged, each with its partition and offset", body = BatchResponse),
        (status = 202, description = "Async: every record queued", body = BatchResponse),
        (status = 207, description = "Some records failed: each result has its status, and a problem for those that failed", body = BatchResponse),
        SendProblems,
    )
)]
pub async fn send_batch(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<BatchResponse>), ApiError> {
    let (parsed, send) = state.count_rejection(parse_batch(body, &state.limits))?;
    let admission = Admission::new(&state, &caller, &context);
    let mut encoder = Encoder::new(&state);
    let total = parsed.len();
    // The records refused before sending, by index (few, usually none), and those sent.
    let mut refused: Vec<(usize, RecordResult)> = Vec::new();
    let mut accepted = Vec::with_capacity(total);
    for (index, entry) in parsed.into_iter().enumerate() {
        let admitted = entry.and_then(|(mut draft, via)| {
            draft.record = admission.admit(draft.record)?;
            Ok((draft, via))
        });
        let encoded = match admitted {
            Ok((draft, via)) if draft.key.is_none() && draft.value.is_none() => {
                Ok((Encoded::from(draft.record), via))
            }
            Ok((draft, via)) => encoder
                .encode(draft)
                .await
                .map(|encoded| (encoded, via))
                .map_err(|e| e.at_record(index)),
            Err(error) => Err(error),
        };
        match encoded {
            Ok(record) => accepted.push(record),
            Err(error) => refused.push((index, failure(&error))),
        }
    }
    let outcomes = {
        let to_send: Vec<(&OutgoingRecord, Via)> =
            accepted.iter().map(|(e, m)| (&e.record, *m)).collect();
        state.producers.send_batch(&to_send, send).await
    };
    // Each result written once, in input order.
    let mut outcomes = accepted.into_iter().zip(outcomes);
    let mut refused = refused.into_iter().peekable();
    let mut results = Vec::with_capacity(total);
    for index in 0..total {
        if let Some((_, result)) = refused.next_if(|(at, _)| *at == index) {
            results.push(result);
            continue;
        }
        let ((encoded, via), outcome) = outcomes.next().expect("one outcome per record sent");
        let Encoded {
            record,
            key: key_schema,
            value: value_schema,
        } = encoded;
        results.push(match outcome {
            Ok(outcome) => {
                let answered = Answered::of(outcome, send);
                let key = record.key_text();
                RecordResult {
                    status: answered.status.as_u16(),
                    topic: Some(record.topic),
                    partition: answered.partition,
                    offset: answered.offset,
                    key,
                    mode: Some(via.mode.as_str()),
                    key_schema: key_schema.as_ref().map(UsedSchema::from),
                    value_schema: value_schema.as_ref().map(UsedSchema::from),
                    problem: None,
                }
            }
            Err(error) => failure(&ApiError::Send(error)),
        });
    }
    let failed = results.iter().filter(|r| r.problem.is_some()).count();
    let status = match (failed, send) {
        (0, SendMode::Sync) => StatusCode::OK,
        (0, SendMode::Async) => StatusCode::ACCEPTED,
        _ => StatusCode::MULTI_STATUS,
    };
    if failed > 0 {
        tracing::info!(failed, total = results.len(), "batch partly failed");
    }
    Ok((
        status,
        Json(BatchResponse {
            succeeded: results.len() - failed,
            failed,
            send_mode: send.as_str(),
            results,
        }),
    ))
}

fn failure(error: &ApiError) -> RecordResult {
    let problem = error.problem();
    RecordResult {
        status: problem.status,
        topic: None,
        partition: None,
        offset: None,
        key: None,
        mode: None,
        key_schema: None,
        value_schema: None,
        problem: Some(Box::new(problem)),
    }
}
