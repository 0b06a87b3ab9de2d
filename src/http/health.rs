//! `/health` (liveness), `/health/ready` (readiness) and `/api/v1/status`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::problem::ApiError;
use super::AppState;
use crate::kafka::{ProducerMode, SendError};

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Liveness never touches Kafka: a slow cluster must not get the pod restarted. Only a producer
/// that can never send again (a fatal librdkafka error) makes it fail.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses(
        (status = 200, description = "Alive", body = super::openapi::Health),
        (status = 503, description = "A producer failed for good", body = super::openapi::Health),
    )
)]
pub async fn live(State(state): State<AppState>) -> Response {
    match state.producers.fatal_error() {
        None => Json(json!({"status": "healthy", "timestamp": now_rfc3339()})).into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unhealthy", "reason": reason, "timestamp": now_rfc3339()})),
        )
            .into_response(),
    }
}

/// Ready while the cluster answers a metadata request within `READINESS_TIMEOUT_MS`.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "operations",
    responses(
        (status = 200, description = "The cluster answers", body = super::openapi::Ready),
        (status = 503, description = "No broker answers in time", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 500, description = "The probe itself failed", body = super::problem::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn ready(State(state): State<AppState>) -> Result<Response, ApiError> {
    let brokers = state
        .producers
        .probe(state.readiness_timeout)
        .await
        .map_err(ApiError::Send)?;
    Ok(
        Json(json!({"status": "ready", "brokers": brokers, "timestamp": now_rfc3339()}))
            .into_response(),
    )
}

/// Service, runtime, modes, broker reachability and the producers' key settings.
#[utoipa::path(
    get,
    path = "/api/v1/status",
    tag = "operations",
    responses((status = 200, description = "The service's status", body = super::openapi::Status))
)]
pub async fn status(State(state): State<AppState>) -> Json<serde_json::Value> {
    let info = &state.info;
    let probe: Result<usize, SendError> = state.producers.probe(state.readiness_timeout).await;
    let producer = |mode: ProducerMode| {
        let summary = state.producers.summary(mode);
        let pick = |name: &str| summary.get(name).cloned();
        json!({
            "acks": pick("acks"),
            "enableIdempotence": pick("enable.idempotence"),
            "messageTimeoutMs": pick("message.timeout.ms"),
            "retries": pick("message.send.max.retries"),
        })
    };
    let mut body = json!({
        "service": "Kafka Producer",
        "version": env!("CARGO_PKG_VERSION"),
        "modes": ["plain", "idempotent"],
        "sendTypes": ["sync", "async"],
        "timestamp": now_rfc3339(),
        "runtime": info.runtime.as_str(),
        "environment": match info.environment {
            crate::settings::Environment::Production => "production",
            crate::settings::Environment::Development => "development",
        },
        "kafka": {
            "embedded": info.embedded,
            "bootstrapServers": info.bootstrap_servers,
            "reachable": probe.is_ok(),
            "brokers": probe.as_ref().ok(),
            "error": probe.as_ref().err().map(|e| e.message.clone()),
            "queued": state.producers.queued(),
        },
        "producers": {
            "plain": producer(ProducerMode::Plain),
            "idempotent": producer(ProducerMode::Idempotent),
        },
    });
    if info.embedded {
        body["warning"] = json!(crate::kafka::embedded::WARNING);
    }
    Json(body)
}
