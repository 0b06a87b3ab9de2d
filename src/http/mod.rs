//! The HTTP API: one router for the server, Lambda and the tests.
//!
//! Knows Kafka only through [`Producers`](crate::kafka::Producers) and
//! [`OutgoingRecord`](crate::kafka::OutgoingRecord). A request flows one way: its body is read
//! ([`body`], [`json`]), the record built and admitted ([`record`]), sent, and answered; every
//! failure is an [`problem::ApiError`], whose status is decided in [`problem`] only.
//!
//! - `native/`: the service's own API, each request and answer type beside its handler.
//! - [`compat`]: Confluent REST Proxy v2/v3 and Strimzi Kafka Bridge, on the same pipeline.
//! - [`openapi`]: assembles the document from those types.
//! - [`context`]: request ids and trace context; `guard`: load shedding, API keys, deadline.

pub mod body;
pub mod compat;
pub mod context;
mod guard;
pub mod json;
pub mod native;
pub mod openapi;
pub mod problem;
pub mod record;
pub mod schemas;
mod state;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::settings::Environment;
pub use crate::settings::Limits;
pub use native::batch::parse_batch;
pub use native::send::parse_send;
pub use native::shortcut::parse_shortcut;
use native::{batch, health, metrics, send, shortcut};
pub use state::{AppState, ServiceInfo};

/// Counts every answer by route template (never the raw path), method and status.
async fn count_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    // Only the standard methods become label values: any other name a client makes up is `other`.
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    };
    let response = next.run(request).await;
    state.metrics.exposition().request(
        &route,
        method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The router: every endpoint, the error answers for unknown routes and methods, the body limit.
pub fn app(state: AppState) -> Router {
    let max_body = state.limits.max_body_bytes;
    // The send endpoints, behind the gate: load shedding, API keys, deadline.
    let sends = Router::new()
        .route("/api/v1/send", post(send::send))
        .route("/api/v1/test/{mode}", post(shortcut::shortcut))
        .route(
            "/api/v1/send/batch",
            post(batch::send_batch).layer(DefaultBodyLimit::max(state.limits.max_batch_body_bytes)),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ));
    let gate = || axum::middleware::from_fn_with_state(state.clone(), guard::guard);
    let batch_limit = DefaultBodyLimit::max(state.limits.max_batch_body_bytes);
    // Confluent REST Proxy v2 and Strimzi Kafka Bridge, then v3: behind the same gate, with the
    // proxies' error bodies.
    let v2 = Router::new()
        .route("/topics", get(compat::v2::topics::topics))
        .route(
            "/topics/{topic}",
            post(compat::v2::produce)
                .layer(batch_limit)
                .get(compat::v2::topics::topic),
        )
        .route(
            "/topics/{topic}/partitions/{partition}",
            post(compat::v2::produce_to_partition).layer(batch_limit),
        )
        .route_layer(gate())
        .layer(axum::middleware::from_fn(compat::v2_errors));
    let v3 = Router::new()
        .route("/v3/clusters", get(compat::v3::clusters))
        .route("/v3/clusters/{cluster_id}", get(compat::v3::cluster))
        .route("/v3/clusters/{cluster_id}/topics", get(compat::v3::topics))
        .route(
            "/v3/clusters/{cluster_id}/topics/{topic}",
            get(compat::v3::topic),
        )
        .route(
            "/v3/clusters/{cluster_id}/topics/{topic}/partitions",
            get(compat::v3::partitions),
        )
        .route(
            "/v3/clusters/{cluster_id}/topics/{topic}/records",
            post(compat::v3::records::produce),
        )
        .route(
            "/v3/clusters/{cluster_id}/topics/{topic}/records:batch",
            post(compat::v3::batch::produce_batch).layer(batch_limit),
        )
        .route_layer(gate())
        .layer(axum::middleware::from_fn(compat::v3_errors));
    let cors = cors_layer(&state.cors_origins);
    let mut router = Router::new();
    if state.info.environment != Environment::Production {
        // As the workshop: the API's page at the root, outside production.
        router = router.route(
            "/",
            get(|| async { axum::response::Redirect::temporary("/swagger-ui/") }),
        );
    }
    router
        .merge(
            utoipa_swagger_ui::SwaggerUi::new("/swagger-ui")
                // No validator badge: it would send the document's address to an outside site.
                .config(utoipa_swagger_ui::Config::from("/openapi.json").validator_url("none")),
        )
        .route("/openapi.json", get(openapi::json))
        .merge(sends)
        .merge(v2)
        .merge(v3)
        .route("/health", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/api/v1/status", get(health::status))
        .route("/api/v1/metrics", get(metrics::json))
        .route("/metrics", get(metrics::prometheus))
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        // Innermost first: a panic becomes a 500 problem inside the trace and the count.
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_request,
        ))
        .layer(axum::middleware::from_fn(context::request_context))
        .layer(tower::util::option_layer(cors))
        .with_state(state)
}

/// CORS for the configured origins (`*` for any); `None`, and no CORS header, when none is.
fn cors_layer(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{header, HeaderName, HeaderValue, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        // Each was checked to be a valid header value when the settings were read.
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                HeaderName::from_static("x-api-key"),
                context::REQUEST_ID,
                HeaderName::from_static(context::TRACEPARENT),
                HeaderName::from_static(context::TRACESTATE),
            ])
            .expose_headers([
                context::REQUEST_ID,
                HeaderName::from_static(context::TRACEPARENT),
                header::RETRY_AFTER,
            ])
            .max_age(Duration::from_secs(600)),
    )
}
