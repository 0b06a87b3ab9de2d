//! Per-request context: a request id on every log line and answer, and the W3C trace context
//! that is carried into the records so that consumers can continue the trace.
//!
//! - `x-request-id`: the caller's (up to 128 visible ASCII characters) or a new UUID; answered
//!   in the same header and recorded on the request's span, so every log line of the request,
//!   including the delivery report of an async send, carries it.
//! - `traceparent` (W3C Trace Context, version 00): the service is one hop of the caller's
//!   trace. It keeps the caller's trace id (or starts a trace when there is none or it is
//!   invalid), takes a new span id of its own, and writes `traceparent` (and the caller's
//!   `tracestate`, when given) into every record's headers and into the answer.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub use crate::observability::trace_context::TraceParent;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";

/// What a handler knows of the request beyond its body.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub trace: TraceParent,
    /// The caller's `tracestate`, passed on unchanged.
    pub tracestate: Option<String>,
}

impl RequestContext {
    /// The record headers that carry the trace on: `traceparent`, and `tracestate` if any.
    pub fn record_headers(&self) -> Vec<(String, Option<Vec<u8>>)> {
        let mut headers = vec![(
            TRACEPARENT.to_owned(),
            Some(self.trace.to_string().into_bytes()),
        )];
        if let Some(state) = &self.tracestate {
            headers.push((TRACESTATE.to_owned(), Some(state.clone().into_bytes())));
        }
        headers
    }
}

fn caller_request_id(request: &Request) -> Option<String> {
    let value = request.headers().get(&REQUEST_ID)?.to_str().ok()?.trim();
    let valid =
        !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic());
    valid.then(|| value.to_owned())
}

/// The middleware: builds the context, runs the request in a span that carries it, and answers
/// with `x-request-id` and `traceparent`.
pub async fn request_context(mut request: Request, next: Next) -> Response {
    let request_id =
        caller_request_id(&request).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // Read in a block: a borrow of the request must not live across the await below.
    let (parent, tracestate) = {
        let headers = request.headers();
        let parent = headers
            .get(TRACEPARENT)
            .and_then(|v| v.to_str().ok())
            .and_then(TraceParent::parse);
        // `tracestate` belongs to the caller's trace: dropped when that trace is not continued.
        // Several header lines are one list; kept only if it is of a sane size and printable.
        let lines: Vec<&str> = headers
            .get_all(TRACESTATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        let tracestate = parent
            .as_ref()
            .and((!lines.is_empty()).then(|| lines.join(",")))
            .filter(|s| s.len() <= 512 && s.bytes().all(|b| b.is_ascii_graphic() || b == b' '));
        (parent, tracestate)
    };
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", axum::extract::MatchedPath::as_str);
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        trace_id = tracing::field::Empty,
        api_key = tracing::field::Empty,
        method = %request.method(),
        path = %request.uri().path(),
        // For span export: the span's name, kind and outcome (semantic conventions).
        otel.name = %format_args!("{} {route}", request.method()),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
    );
    // Exported spans make the ids; otherwise the service makes its own.
    let trace =
        crate::observability::telemetry::join_trace(&span, parent.as_ref()).unwrap_or_else(|| {
            parent
                .as_ref()
                .map_or_else(TraceParent::root, TraceParent::child)
        });
    span.record("trace_id", tracing::field::display(&trace.trace_id));
    let context = RequestContext {
        request_id: request_id.clone(),
        trace: trace.clone(),
        tracestate: tracestate.clone(),
    };
    request.extensions_mut().insert(context);
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, value);
    }
    if let Ok(value) = HeaderValue::from_str(&trace.to_string()) {
        headers.insert(TRACEPARENT, value);
    }
    if let Some(value) = tracestate.and_then(|s| HeaderValue::from_str(&s).ok()) {
        headers.insert(TRACESTATE, value);
    }
    response
}
