//! `POST /v3/clusters/{cluster_id}/topics/{topic}/records:batch`: `{"entries":[{"id",
//! ...record}]}` up to `MAX_BATCH_RECORDS`, answered 207 with `successes` and `failures`, each
//! naming its entry's id.

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::super::{json_answer, ErrorBody, V3_ANSWER_TYPE};
use super::records::{read_admitted, Target, V3Delivery, V3Header};
use super::{V3Errors, TAG};
use crate::access::Caller;
use crate::http::context::RequestContext;
use crate::http::json;
use crate::http::problem::ApiError;
use crate::http::record::Admission;
use crate::http::schemas::Encoder;
use crate::http::state::AppState;
use crate::kafka::{OutgoingRecord, SendMode, Via};
use crate::settings::Limits;

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
    let mut encoder = Encoder::new(&state);
    let mut failures = Vec::new();
    let mut accepted = Vec::with_capacity(entries.len());
    for (id, text) in entries {
        let text = text.get().as_bytes();
        let read = read_admitted(&state, &admission, &mut encoder, text, &target.topic).await;
        match read {
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
