//! `GET /api/v1/metrics`: the seed's fields, with real figures; `GET /metrics`: Prometheus.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::health::now_rfc3339;
use super::AppState;

/// Records delivered and failed, latencies, failures by class, queue depth, uptime.
#[utoipa::path(
    get,
    path = "/api/v1/metrics",
    tag = "operations",
    responses((status = 200, description = "The figures as JSON", body = super::openapi::Metrics))
)]
pub async fn json(State(state): State<AppState>) -> Json<serde_json::Value> {
    let snapshot = state.producers.metrics().snapshot();
    Json(json!({
        "producer": "Kafka Producer Service",
        "timestamp": now_rfc3339(),
        "uptimeSeconds": snapshot.uptime_seconds,
        "modes": [
            {"name": "plain", "description": "Fast but less reliable", "acks": "leader"},
            {"name": "idempotent", "description": "Reliable but slightly slower", "acks": "all"},
        ],
        "sendTypes": [
            {"name": "sync", "description": "Blocking, guaranteed delivery"},
            {"name": "async", "description": "Non-blocking, high throughput"},
        ],
        "records": snapshot.totals,
        "ratesLastMinute": snapshot.rates_last_minute,
        "perMode": snapshot.per_mode,
        "failuresByClass": snapshot.failures_by_class,
        "rejectedRequests": snapshot.rejected_requests,
        "queueDepth": state.producers.queued(),
        "kafkaReachable": !state.producers.is_unreachable(),
    }))
}

/// The Prometheus text exposition.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"))
)]
pub async fn prometheus(State(state): State<AppState>) -> impl IntoResponse {
    let exposition = state.producers.metrics().exposition();
    exposition.set_reachable(!state.producers.is_unreachable());
    (
        [(CONTENT_TYPE, crate::prometheus::CONTENT_TYPE)],
        exposition.render(),
    )
}
