//! `/health` (liveness), `/health/ready` (readiness) and `/api/v1/status`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::kafka::{now_rfc3339, ProducerMode};
use crate::settings::Environment;

/// `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `healthy`, or `unhealthy` with a reason (503).
    pub status: &'static str,
    /// Why a producer can never send again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub timestamp: String,
}

/// `GET /health/ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`, or `degraded` while some brokers answer and others cannot be reached (still
    /// 200: every instance sees the same cluster, and records for partitions led by the
    /// brokers that answer still go through).
    pub status: &'static str,
    /// Brokers in the cluster's metadata.
    pub brokers: usize,
    /// `degraded`: the node ids of the brokers the producers want and cannot connect to, by
    /// their latest statistics (every `statistics.interval.ms`, 5 s).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<i32>,
    /// With `SCHEMA_REGISTRY_URL`: `up` or `down`. A registry that is down does not make the
    /// service unready: records that name no schema are still sent (those that need one get
    /// 503 with `Retry-After`).
    #[serde(rename = "schemaRegistry", skip_serializing_if = "Option::is_none")]
    pub schema_registry: Option<&'static str>,
    pub timestamp: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaStatus {
    /// The in-process mock cluster: records live in memory only.
    pub embedded: bool,
    pub bootstrap_servers: String,
    pub reachable: bool,
    /// Brokers in the cluster's metadata, when reachable.
    pub brokers: Option<usize>,
    /// Why it is not reachable.
    pub error: Option<String>,
    /// Brokers (node ids) the producers want and cannot connect to, as for `/health/ready`.
    pub unreachable_brokers: Vec<i32>,
    pub queued: i64,
}

/// A producer's key settings, as librdkafka property values.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProducerSettings {
    pub acks: Option<String>,
    pub enable_idempotence: Option<String>,
    pub message_timeout_ms: Option<String>,
    pub retries: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Producers {
    pub plain: ProducerSettings,
    pub idempotent: ProducerSettings,
}

/// `GET /api/v1/status`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub service: &'static str,
    pub version: &'static str,
    pub modes: [&'static str; 2],
    pub send_types: [&'static str; 2],
    pub timestamp: String,
    /// `server` or `lambda`.
    pub runtime: &'static str,
    /// `development` or `production`.
    pub environment: &'static str,
    pub kafka: KafkaStatus,
    pub producers: Producers,
    /// Set when running on the embedded cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<&'static str>,
}

/// Liveness never touches Kafka: a slow cluster must not get the pod restarted. Only a producer
/// that can never send again (a fatal librdkafka error) makes it fail.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses(
        (status = 200, description = "Alive", body = Health),
        (status = 503, description = "A producer failed for good", body = Health),
    )
)]
pub async fn live(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let reason = state.producers.fatal_error();
    let (code, status) = match reason {
        None => (StatusCode::OK, "healthy"),
        Some(_) => (StatusCode::SERVICE_UNAVAILABLE, "unhealthy"),
    };
    let timestamp = now_rfc3339();
    (
        code,
        Json(Health {
            status,
            reason,
            timestamp,
        }),
    )
}

/// Ready while the cluster answers a metadata request within `READINESS_TIMEOUT_MS`; `degraded`
/// (still 200) while some of its brokers cannot be reached.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "operations",
    responses(
        (status = 200, description = "The cluster answers (`degraded`: not every broker)", body = Ready),
        (status = 503, description = "No broker answers in time", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "The probe itself failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Ready>, ApiError> {
    let registry = async {
        match &state.schemas {
            None => None,
            Some(schemas) => {
                let probe = schemas.registry().probe();
                let up = tokio::time::timeout(state.readiness_timeout, probe).await;
                Some(if up.unwrap_or(false) { "up" } else { "down" })
            }
        }
    };
    let (brokers, schema_registry) =
        tokio::join!(state.producers.probe(state.readiness_timeout), registry);
    let brokers = brokers?;
    let unreachable = state.producers.unreachable_brokers();
    Ok(Json(Ready {
        status: if unreachable.is_empty() {
            "ready"
        } else {
            "degraded"
        },
        brokers,
        unreachable,
        schema_registry,
        timestamp: now_rfc3339(),
    }))
}

/// Service, runtime, modes, broker reachability and the producers' key settings.
#[utoipa::path(
    get,
    path = "/api/v1/status",
    tag = "operations",
    responses((status = 200, description = "The service's status", body = Status))
)]
pub async fn status(State(state): State<AppState>) -> Json<Status> {
    let info = &state.info;
    let probe = state.producers.probe(state.readiness_timeout).await;
    let producer = |mode: ProducerMode| {
        let summary = state.producers.summary(mode);
        let pick = |name: &str| summary.get(name).cloned();
        ProducerSettings {
            acks: pick("acks"),
            enable_idempotence: pick("enable.idempotence"),
            message_timeout_ms: pick("message.timeout.ms"),
            retries: pick("message.send.max.retries"),
        }
    };
    Json(Status {
        service: "Kafka Producer",
        version: env!("CARGO_PKG_VERSION"),
        modes: [
            ProducerMode::Plain.as_str(),
            ProducerMode::Idempotent.as_str(),
        ],
        send_types: ["sync", "async"],
        timestamp: now_rfc3339(),
        runtime: info.runtime.as_str(),
        environment: match info.environment {
            Environment::Production => "production",
            Environment::Development => "development",
        },
        kafka: KafkaStatus {
            embedded: info.embedded,
            bootstrap_servers: info.bootstrap_servers.clone(),
            reachable: probe.is_ok(),
            brokers: probe.as_ref().ok().copied(),
            error: probe.as_ref().err().map(|e| e.message.clone()),
            unreachable_brokers: state.producers.unreachable_brokers(),
            queued: state.producers.queued(),
        },
        producers: Producers {
            plain: producer(ProducerMode::Plain),
            idempotent: producer(ProducerMode::Idempotent),
        },
        warning: info.embedded.then_some(crate::settings::EMBEDDED_WARNING),
    })
}
