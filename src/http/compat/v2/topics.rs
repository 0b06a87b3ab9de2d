//! `GET /topics` and `GET /topics/{topic}` (Confluent REST Proxy v2, Strimzi Kafka Bridge): the
//! topics the caller may write to, and a topic's partitions, from the brokers' metadata.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde::Serialize;
use utoipa::ToSchema;

use super::super::{json_answer, V2_ANSWER_TYPE};
use super::V2Errors;
use crate::access::Caller;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// A topic's partitions, as v2 describes them.
#[derive(Debug, Serialize, ToSchema)]
pub struct V2Topic {
    pub name: String,
    /// Not read by this service: always empty.
    pub configs: std::collections::BTreeMap<String, String>,
    pub partitions: Vec<V2Partition>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct V2Partition {
    pub partition: i32,
    /// The leader's broker id; -1 when the partition has none.
    pub leader: i32,
    pub replicas: Vec<V2Replica>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct V2Replica {
    pub broker: i32,
    pub leader: bool,
    pub in_sync: bool,
}

#[utoipa::path(
    get,
    path = "/topics",
    tag = "compatible: Confluent REST Proxy v2, Strimzi Kafka Bridge",
    responses(
        (status = 200, description = "The names of the topics the caller may write to (internal ones left out)", body = Vec<String>, content_type = "application/vnd.kafka.v2+json"),
        V2Errors,
    )
)]
pub async fn topics(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let cluster = state.producers.cluster(state.readiness_timeout).await?;
    let names: Vec<String> = cluster
        .topics
        .into_iter()
        .filter(|t| state.access.check_topic(&caller, &t.name).is_ok())
        .map(|t| t.name)
        .collect();
    Ok(json_answer(StatusCode::OK, V2_ANSWER_TYPE, &names))
}

#[utoipa::path(
    get,
    path = "/topics/{topic}",
    tag = "compatible: Confluent REST Proxy v2, Strimzi Kafka Bridge",
    params(("topic" = String, Path, description = "The topic")),
    responses(
        (status = 200, description = "The topic's partitions, leaders and replicas", body = V2Topic, content_type = "application/vnd.kafka.v2+json"),
        V2Errors,
    )
)]
pub async fn topic(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(topic): Path<String>,
) -> Result<Response, ApiError> {
    let info = super::super::v3::visible_topic(&state, &caller, &topic).await?;
    let partitions = info
        .partitions
        .into_iter()
        .map(|p| V2Partition {
            partition: p.id,
            leader: p.leader,
            replicas: p
                .replicas
                .iter()
                .map(|b| V2Replica {
                    broker: *b,
                    leader: *b == p.leader,
                    in_sync: p.in_sync.contains(b),
                })
                .collect(),
        })
        .collect();
    Ok(json_answer(
        StatusCode::OK,
        V2_ANSWER_TYPE,
        &V2Topic {
            name: info.name,
            configs: Default::default(),
            partitions,
        },
    ))
}
