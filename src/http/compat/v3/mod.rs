//! Confluent REST Proxy v3: the cluster, its topics and partitions (what clients read before
//! producing, from the brokers' metadata), and producing records ([`records`], [`batch`]).
//!
//! The cluster id in the path must be the cluster's own (from its metadata), else 404. Topics are
//! listed as the caller may write to them: internal ones and those outside the caller's rules
//! are left out, and asking for one of those directly is a 403.

pub mod batch;
pub mod records;
mod stream;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde::Serialize;
use utoipa::ToSchema;

use super::{base_url, json_answer, ErrorBody, V3_ANSWER_TYPE};
use crate::access::Caller;
use crate::http::problem::ApiError;
use crate::http::record::may_write;
use crate::http::state::AppState;
use crate::kafka::{TopicInfo, TopicName};

/// A link to a related resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct Related {
    pub related: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceMetadata {
    #[serde(rename = "self")]
    pub self_link: String,
    pub resource_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListMetadata {
    #[serde(rename = "self")]
    pub self_link: String,
    pub next: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Cluster {
    /// `KafkaCluster`.
    pub kind: &'static str,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    /// Not known to this service: always null.
    pub controller: Option<Related>,
    pub acls: Related,
    pub brokers: Related,
    pub broker_configs: Related,
    pub consumer_groups: Related,
    pub topics: Related,
    pub partition_reassignments: Related,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterList {
    /// `KafkaClusterList`.
    pub kind: &'static str,
    pub metadata: ListMetadata,
    pub data: Vec<Cluster>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Topic {
    /// `KafkaTopic`.
    pub kind: &'static str,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub topic_name: String,
    pub is_internal: bool,
    pub replication_factor: usize,
    pub partitions_count: usize,
    pub partitions: Related,
    pub configs: Related,
    pub partition_reassignments: Related,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopicList {
    /// `KafkaTopicList`.
    pub kind: &'static str,
    pub metadata: ListMetadata,
    pub data: Vec<Topic>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Partition {
    /// `KafkaPartition`.
    pub kind: &'static str,
    pub metadata: ResourceMetadata,
    pub cluster_id: String,
    pub topic_name: String,
    pub partition_id: i32,
    /// The leader's replica; null when the partition has none.
    pub leader: Option<Related>,
    pub replicas: Related,
    pub reassignment: Related,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartitionList {
    /// `KafkaPartitionList`.
    pub kind: &'static str,
    pub metadata: ListMetadata,
    pub data: Vec<Partition>,
}

/// Links of one cluster, from the request's base URL.
struct Links {
    base: String,
    cluster_id: String,
}

impl Links {
    fn new(headers: &HeaderMap, cluster_id: String) -> Self {
        Links {
            base: format!("{}/v3/clusters/{cluster_id}", base_url(headers)),
            cluster_id,
        }
    }

    fn related(&self, path: &str) -> Related {
        Related {
            related: format!("{}{path}", self.base),
        }
    }

    fn resource(&self, path: &str, name: &str) -> ResourceMetadata {
        ResourceMetadata {
            self_link: format!("{}{path}", self.base),
            resource_name: format!("crn:///kafka={}{name}", self.cluster_id),
        }
    }

    fn list(&self, path: &str) -> ListMetadata {
        ListMetadata {
            self_link: format!("{}{path}", self.base),
            next: None,
        }
    }

    fn cluster(&self) -> Cluster {
        Cluster {
            kind: "KafkaCluster",
            metadata: self.resource("", ""),
            cluster_id: self.cluster_id.clone(),
            controller: None,
            acls: self.related("/acls"),
            brokers: self.related("/brokers"),
            broker_configs: self.related("/broker-configs"),
            consumer_groups: self.related("/consumer-groups"),
            topics: self.related("/topics"),
            partition_reassignments: self.related("/topics/-/partitions/-/reassignment"),
        }
    }

    fn topic(&self, topic: &TopicInfo) -> Topic {
        let name = &topic.name;
        Topic {
            kind: "KafkaTopic",
            metadata: self.resource(&format!("/topics/{name}"), &format!("/topic={name}")),
            cluster_id: self.cluster_id.clone(),
            topic_name: name.clone(),
            is_internal: false,
            replication_factor: topic.partitions.first().map_or(0, |p| p.replicas.len()),
            partitions_count: topic.partitions.len(),
            partitions: self.related(&format!("/topics/{name}/partitions")),
            configs: self.related(&format!("/topics/{name}/configs")),
            partition_reassignments: self
                .related(&format!("/topics/{name}/partitions/-/reassignment")),
        }
    }
}

/// The cluster's id, which the path must name.
pub async fn cluster_named(state: &AppState, cluster_id: &str) -> Result<String, ApiError> {
    let id = state.producers.cluster_id(state.readiness_timeout).await?;
    if id != cluster_id {
        return Err(ApiError::Missing {
            kind: "cluster-not-found",
            detail: format!(
                "cluster {cluster_id} cannot be found; this service produces to cluster {id}"
            ),
        });
    }
    Ok(id)
}

/// The topic, if it exists and the caller may write to it.
pub async fn visible_topic(
    state: &AppState,
    caller: &Caller,
    topic: &str,
) -> Result<TopicInfo, ApiError> {
    let name = TopicName::parse(topic)
        .map_err(|e| ApiError::bad_field("invalid-topic", "topic", e.to_string()))?;
    may_write(state, caller, name.as_str())?;
    let cluster = state.producers.cluster(state.readiness_timeout).await?;
    cluster
        .topics
        .into_iter()
        .find(|t| t.name == name.as_str())
        .ok_or_else(|| ApiError::Missing {
            kind: "topic-not-found",
            detail: format!("topic {topic:?} does not exist"),
        })
}

const TAG: &str = "compatible: Confluent REST Proxy v3";

#[utoipa::path(get, path = "/v3/clusters", tag = TAG,
    responses(
        (status = 200, description = "The one cluster this service produces to", body = ClusterList, content_type = "application/json"),
        V3Errors,
    ))]
pub async fn clusters(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = state.producers.cluster_id(state.readiness_timeout).await?;
    let links = Links::new(&headers, id);
    let list = ClusterList {
        kind: "KafkaClusterList",
        metadata: ListMetadata {
            self_link: format!("{}/v3/clusters", base_url(&headers)),
            next: None,
        },
        data: vec![links.cluster()],
    };
    Ok(json_answer(StatusCode::OK, V3_ANSWER_TYPE, &list))
}

#[utoipa::path(get, path = "/v3/clusters/{cluster_id}", tag = TAG,
    params(("cluster_id" = String, Path, description = "The cluster's id")),
    responses(
        (status = 200, description = "The cluster", body = Cluster, content_type = "application/json"),
        V3Errors,
    ))]
pub async fn cluster(
    State(state): State<AppState>,
    Path(cluster_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = cluster_named(&state, &cluster_id).await?;
    Ok(json_answer(
        StatusCode::OK,
        V3_ANSWER_TYPE,
        &Links::new(&headers, id).cluster(),
    ))
}

#[utoipa::path(get, path = "/v3/clusters/{cluster_id}/topics", tag = TAG,
    params(("cluster_id" = String, Path, description = "The cluster's id")),
    responses(
        (status = 200, description = "The topics the caller may write to", body = TopicList, content_type = "application/json"),
        V3Errors,
    ))]
pub async fn topics(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(cluster_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = cluster_named(&state, &cluster_id).await?;
    let cluster = state.producers.cluster(state.readiness_timeout).await?;
    let links = Links::new(&headers, id);
    let list = TopicList {
        kind: "KafkaTopicList",
        metadata: links.list("/topics"),
        data: cluster
            .topics
            .iter()
            .filter(|t| state.access.check_topic(&caller, &t.name).is_ok())
            .map(|t| links.topic(t))
            .collect(),
    };
    Ok(json_answer(StatusCode::OK, V3_ANSWER_TYPE, &list))
}

#[utoipa::path(get, path = "/v3/clusters/{cluster_id}/topics/{topic}", tag = TAG,
    params(
        ("cluster_id" = String, Path, description = "The cluster's id"),
        ("topic" = String, Path, description = "The topic"),
    ),
    responses(
        (status = 200, description = "The topic", body = Topic, content_type = "application/json"),
        V3Errors,
    ))]
pub async fn topic(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((cluster_id, topic)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = cluster_named(&state, &cluster_id).await?;
    let info = visible_topic(&state, &caller, &topic).await?;
    Ok(json_answer(
        StatusCode::OK,
        V3_ANSWER_TYPE,
        &Links::new(&headers, id).topic(&info),
    ))
}

#[utoipa::path(get, path = "/v3/clusters/{cluster_id}/topics/{topic}/partitions", tag = TAG,
    params(
        ("cluster_id" = String, Path, description = "The cluster's id"),
        ("topic" = String, Path, description = "The topic"),
    ),
    responses(
        (status = 200, description = "The topic's partitions", body = PartitionList, content_type = "application/json"),
        V3Errors,
    ))]
pub async fn partitions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((cluster_id, topic)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = cluster_named(&state, &cluster_id).await?;
    let info = visible_topic(&state, &caller, &topic).await?;
    let links = Links::new(&headers, id);
    let name = &info.name;
    let data = info
        .partitions
        .iter()
        .map(|p| {
            let at = format!("/topics/{name}/partitions/{}", p.id);
            Partition {
                kind: "KafkaPartition",
                metadata: links.resource(&at, &format!("/topic={name}/partition={}", p.id)),
                cluster_id: links.cluster_id.clone(),
                topic_name: name.clone(),
                partition_id: p.id,
                leader: (p.leader >= 0)
                    .then(|| links.related(&format!("{at}/replicas/{}", p.leader))),
                replicas: links.related(&format!("{at}/replicas")),
                reassignment: links.related(&format!("{at}/reassignment")),
            }
        })
        .collect();
    let list = PartitionList {
        kind: "KafkaPartitionList",
        metadata: links.list(&format!("/topics/{name}/partitions")),
        data,
    };
    Ok(json_answer(StatusCode::OK, V3_ANSWER_TYPE, &list))
}

/// The error answers of the v3 routes.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum V3Errors {
    /// Malformed JSON, an invalid topic name, a bad query parameter or batch entry id.
    #[response(status = 400, content_type = "application/json")]
    BadRequest(ErrorBody),
    /// API keys are on, and none or an unknown one was given (40101).
    #[response(status = 401, content_type = "application/json")]
    Unauthorized(ErrorBody),
    /// The topic is not one the caller may write to (40301); nothing was produced.
    #[response(status = 403, content_type = "application/json")]
    Forbidden(ErrorBody),
    /// The cluster (404), topic (40401) or partition (40402) does not exist.
    #[response(status = 404, content_type = "application/json")]
    NotFound(ErrorBody),
    /// The Schema Registry refused the schema: not compatible with the subject's (409).
    #[response(status = 409, content_type = "application/json")]
    Conflict(ErrorBody),
    /// The body, a record's headers or the number of entries is over its limit.
    #[response(status = 413, content_type = "application/json")]
    TooLarge(ErrorBody),
    /// A record does not fit its type (42203) or asks for a schema and no Schema Registry is
    /// configured (42206); a schema is missing (42201, 42202) or invalid (42205); nothing was
    /// produced.
    #[response(status = 422, content_type = "application/json")]
    Unprocessable(ErrorBody),
    /// The producer failed (50002).
    #[response(status = 500, content_type = "application/json")]
    Failed(ErrorBody),
    /// The Schema Registry refused the service's credentials (50002).
    #[response(status = 502, content_type = "application/json")]
    BadGateway(ErrorBody),
    /// Kafka or the Schema Registry is unreachable, or the service overloaded (50003): retry
    /// after `Retry-After`.
    #[response(status = 503, content_type = "application/json")]
    Unavailable(ErrorBody),
    /// Not confirmed or answered in time (50003).
    #[response(status = 504, content_type = "application/json")]
    Timeout(ErrorBody),
}
