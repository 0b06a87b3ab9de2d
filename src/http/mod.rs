//! The HTTP API: one router for the server, Lambda and the tests.
//!
//! Knows Kafka only through [`Producers`] and [`OutgoingRecord`](crate::kafka::OutgoingRecord).

pub mod context;
mod health;
mod metrics;
pub mod openapi;
pub mod problem;
mod send;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::kafka::Producers;
use crate::settings::{Environment, RuntimeKind};
use problem::ApiError;

/// How the service runs, shown by `/api/v1/status`.
#[derive(Debug, Clone)]
pub struct ServiceInfo {
    pub runtime: RuntimeKind,
    pub environment: Environment,
    /// The in-process mock cluster is in use: records live in memory only.
    pub embedded: bool,
    pub bootstrap_servers: String,
}

/// What every handler shares. Cloning is cheap (`Arc`s inside).
#[derive(Clone)]
pub struct AppState {
    pub producers: Producers,
    pub info: Arc<ServiceInfo>,
    pub readiness_timeout: Duration,
    pub max_body_bytes: usize,
}

impl AppState {
    /// Counts a request refused before any producer saw it.
    fn count_rejection<T>(&self, result: Result<T, ApiError>) -> Result<T, ApiError> {
        if result.is_err() {
            self.producers.metrics().record_rejected_request();
        }
        result
    }
}

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
    state.producers.metrics().exposition().request(
        &route,
        method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The router: every endpoint, the error answers for unknown routes and methods, the body limit.
pub fn app(state: AppState) -> Router {
    let max_body = state.max_body_bytes;
    let mut router = Router::new();
    if state.info.environment != Environment::Production {
        // As the seed: the API's page at the root, outside production.
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
        .route("/api/v1/send", post(send::send))
        .route("/api/v1/test/{mode}", post(send::shortcut))
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
        .with_state(state)
}
