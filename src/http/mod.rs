//! The HTTP API: one router for the server, Lambda and the tests.
//!
//! Knows Kafka only through [`Producers`] and [`OutgoingRecord`](crate::kafka::OutgoingRecord).

mod batch;
pub mod context;
mod guard;
mod health;
mod json;
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

use crate::access::Access;
use crate::kafka::Producers;
use crate::settings::{Environment, RuntimeKind};
pub use batch::parse_batch;
use problem::ApiError;
pub use send::{parse_send, parse_shortcut};

/// How the service runs, shown by `/api/v1/status`.
#[derive(Debug, Clone)]
pub struct ServiceInfo {
    pub runtime: RuntimeKind,
    pub environment: Environment,
    /// The in-process mock cluster is in use: records live in memory only.
    pub embedded: bool,
    pub bootstrap_servers: String,
}

/// The limits a request is held to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Headers a record may carry from the request (413 beyond).
    pub max_record_headers: usize,
    /// Names and values of a record's headers together (413 beyond).
    pub max_header_bytes: usize,
    /// The longest a send request may take (504 beyond).
    pub request_timeout: Duration,
    /// Sends handled at once (503 beyond).
    pub max_concurrent_requests: usize,
    /// Records in one batch (413 beyond).
    pub max_batch_records: usize,
    /// The largest batch body (413 beyond).
    pub max_batch_body_bytes: usize,
}

impl Limits {
    pub fn from_settings(settings: &crate::settings::Settings) -> Self {
        Limits {
            max_body_bytes: settings.max_body_bytes,
            max_record_headers: settings.max_record_headers,
            max_header_bytes: settings.max_header_bytes,
            request_timeout: settings.request_timeout,
            max_concurrent_requests: settings.max_concurrent_requests,
            max_batch_records: settings.max_batch_records,
            max_batch_body_bytes: settings.max_batch_body_bytes,
        }
    }
}

/// What every handler shares. Cloning is cheap (`Arc`s inside).
#[derive(Clone)]
pub struct AppState {
    pub producers: Producers,
    pub info: Arc<ServiceInfo>,
    pub readiness_timeout: Duration,
    pub limits: Limits,
    pub access: Arc<Access>,
    /// Browser origins allowed by CORS; empty, CORS is off.
    pub cors_origins: Arc<[String]>,
    /// One permit per send being handled: `MAX_CONCURRENT_REQUESTS` of them.
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(
        producers: Producers,
        info: ServiceInfo,
        readiness_timeout: Duration,
        limits: Limits,
        access: Access,
        cors_origins: Vec<String>,
    ) -> Self {
        AppState {
            producers,
            info: Arc::new(info),
            readiness_timeout,
            in_flight: Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent_requests)),
            limits,
            access: Arc::new(access),
            cors_origins: cors_origins.into(),
        }
    }
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
    let max_body = state.limits.max_body_bytes;
    // The send endpoints, behind the gate: load shedding, API keys, deadline.
    let sends = Router::new()
        .route("/api/v1/send", post(send::send))
        .route("/api/v1/test/{mode}", post(send::shortcut))
        .route(
            "/api/v1/send/batch",
            post(batch::send_batch).layer(DefaultBodyLimit::max(state.limits.max_batch_body_bytes)),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ));
    let cors = cors_layer(&state.cors_origins);
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
        .merge(sends)
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
