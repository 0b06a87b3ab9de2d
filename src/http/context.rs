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
    pub fn record_headers(&self) -> Vec<(String, Vec<u8>)> {
        let mut headers = vec![(TRACEPARENT.to_owned(), self.trace.to_string().into_bytes())];
        if let Some(state) = &self.tracestate {
            headers.push((TRACESTATE.to_owned(), state.clone().into_bytes()));
        }
        headers
    }
}

/// A W3C `traceparent`: `00-<trace id, 32 hex>-<parent span id, 16 hex>-<flags, 2 hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: String,
    pub span_id: String,
    pub flags: String,
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `bytes` (at most 16) random bytes as lower-case hex, never all zeros (an invalid id). From
/// the thread's user-space generator (ChaCha, seeded by the system): a system call per request
/// and a string per byte were 6 % of a request's CPU.
fn random_hex(bytes: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 16];
    let buf = &mut buf[..bytes];
    loop {
        rand::Rng::fill_bytes(&mut rand::rng(), buf);
        if buf.iter().any(|b| *b != 0) {
            let mut hex = String::with_capacity(2 * bytes);
            for b in buf.iter() {
                hex.push(char::from(HEX[usize::from(b >> 4)]));
                hex.push(char::from(HEX[usize::from(b & 0x0f)]));
            }
            return hex;
        }
    }
}

impl TraceParent {
    /// Parses a `traceparent`: version 00 exactly; a later version by its first four fields (as
    /// the W3C recommendation asks). `None` when invalid (all-zero ids, version `ff`, …).
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let (version, trace_id, span_id, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let rest_ok = if version == "00" {
            parts.next().is_none()
        } else {
            is_lower_hex(version, 2) && version != "ff"
        };
        let valid = rest_ok
            && is_lower_hex(trace_id, 32)
            && is_lower_hex(span_id, 16)
            && is_lower_hex(flags, 2)
            && trace_id.bytes().any(|b| b != b'0')
            && span_id.bytes().any(|b| b != b'0');
        valid.then(|| TraceParent {
            trace_id: trace_id.to_owned(),
            span_id: span_id.to_owned(),
            flags: flags.to_owned(),
        })
    }

    /// A new trace, sampled.
    pub fn root() -> Self {
        TraceParent {
            trace_id: random_hex(16),
            span_id: random_hex(8),
            flags: "01".to_owned(),
        }
    }

    /// This service's hop of the same trace: same trace id and flags, a new span id.
    pub fn child(&self) -> Self {
        TraceParent {
            trace_id: self.trace_id.clone(),
            span_id: random_hex(8),
            flags: self.flags.clone(),
        }
    }
}

impl std::fmt::Display for TraceParent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "00-{}-{}-{}", self.trace_id, self.span_id, self.flags)
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
    let trace = crate::telemetry::join_trace(&span, parent.as_ref()).unwrap_or_else(|| {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_parses_only_valid_version_00() {
        let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .expect("valid");
        assert_eq!(tp.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(tp.span_id, "00f067aa0ba902b7");
        let later =
            TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more")
                .expect("a later version is read by its first four fields");
        assert_eq!(later.trace_id, tp.trace_id);
        for bad in [
            "",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_child_keeps_the_trace_and_takes_a_new_span() {
        let parent = TraceParent::root();
        let child = parent.child();
        assert_eq!(child.trace_id, parent.trace_id);
        assert_ne!(child.span_id, parent.span_id);
        assert_eq!(TraceParent::parse(&child.to_string()), Some(child));
    }

    #[test]
    fn ids_are_random_in_every_position() {
        // A UUID v4 would fix a version digit; random bytes do not.
        let ids: Vec<String> = (0..64).map(|_| random_hex(8)).collect();
        for position in 0..16 {
            let digits: std::collections::BTreeSet<u8> =
                ids.iter().map(|id| id.as_bytes()[position]).collect();
            assert!(digits.len() > 1, "position {position} never changes");
        }
    }
}
