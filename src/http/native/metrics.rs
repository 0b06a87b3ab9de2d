//! `GET /api/v1/metrics`: the workshop's fields, with real figures; `GET /metrics`: Prometheus.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::state::AppState;
use crate::kafka::now_rfc3339;
use crate::observability::metrics::{Counts, ModeFigures, Rates};
use crate::observability::prometheus;

/// A producer mode or send type, as the workshop describes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Described {
    pub name: &'static str,
    pub description: &'static str,
    /// Producer modes only: `leader` or `all`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acks: Option<&'static str>,
}

/// `GET /api/v1/metrics`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub producer: &'static str,
    pub timestamp: String,
    pub uptime_seconds: f64,
    pub modes: [Described; 2],
    pub send_types: [Described; 2],
    pub records: Counts,
    pub rates_last_minute: Rates,
    pub per_mode: Vec<ModeFigures>,
    /// Failures by error class (`timeout`, `unavailable`, …).
    pub failures_by_class: BTreeMap<&'static str, u64>,
    pub rejected_requests: u64,
    /// Records queued or in flight in every producer.
    pub queue_depth: i64,
    pub kafka_reachable: bool,
}

/// Records delivered and failed, latencies, failures by class, queue depth, uptime.
#[utoipa::path(
    get,
    path = "/api/v1/metrics",
    tag = "operations",
    responses((status = 200, description = "The figures as JSON", body = Metrics))
)]
pub async fn json(State(state): State<AppState>) -> Json<Metrics> {
    let snapshot = state.metrics.snapshot();
    let described = |name, description, acks| Described {
        name,
        description,
        acks,
    };
    Json(Metrics {
        producer: "Kafka Producer Service",
        timestamp: now_rfc3339(),
        uptime_seconds: snapshot.uptime_seconds,
        modes: [
            described("plain", "Fast but less reliable", Some("leader")),
            described("idempotent", "Reliable but slightly slower", Some("all")),
        ],
        send_types: [
            described("sync", "Blocking, guaranteed delivery", None),
            described("async", "Non-blocking, high throughput", None),
        ],
        records: snapshot.totals,
        rates_last_minute: snapshot.rates_last_minute,
        per_mode: snapshot.per_mode,
        failures_by_class: snapshot.failures_by_class,
        rejected_requests: snapshot.rejected_requests,
        queue_depth: state.producers.queued(),
        kafka_reachable: !state.producers.is_unreachable(),
    })
}

/// The Prometheus text exposition.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"))
)]
pub async fn prometheus(State(state): State<AppState>) -> impl IntoResponse {
    let exposition = state.metrics.exposition();
    exposition.set_reachable(!state.producers.is_unreachable());
    (
        [(CONTENT_TYPE, prometheus::CONTENT_TYPE)],
        exposition.render(),
    )
}
