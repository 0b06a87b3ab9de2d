//! The REST proxies' produce APIs, served on the service's own pipeline so that their clients
//! work with only the base URL changed: Confluent REST Proxy v2 and Strimzi Kafka Bridge
//! (`/topics/...`, [`v2`]), and Confluent REST Proxy v3 (`/v3/clusters/...`, [`v3`]).
//!
//! Every route goes through the same gate (load shedding, API keys, deadline), the same record
//! checks and topic rules ([`super::record`]), the same producers and metrics. Errors are the
//! service's [`ApiError`]s, rewritten on the way out into the proxies' `{"error_code",
//! "message"}` bodies with their codes ([`error_code`]).

pub mod formats;
pub mod split;
pub mod v2;
pub mod v3;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problem::{ApiError, PROBLEM_CONTENT_TYPE};

/// The answers' Content-Type on v2 (Confluent's and Strimzi's).
pub const V2_ANSWER_TYPE: &str = "application/vnd.kafka.v2+json";
/// The answers' Content-Type on v3.
pub const V3_ANSWER_TYPE: &str = "application/json";

/// An error as the REST proxies write it: their code (40401 topic not found, 50003 retriable
/// Kafka error…, or the HTTP status when no finer code applies) and a message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error_code: u32,
    pub message: String,
}

/// The proxies' code for a problem of `kind` answered with `status`.
pub fn error_code(kind: &str, status: u16) -> u32 {
    match kind {
        "topic-not-found" => 40401,
        "partition-not-found" => 40402,
        "unauthorized" => 40101,
        "topic-forbidden" | "kafka-not-authorized" => 40301,
        "schema-not-found" => 40403,
        "key-schema-missing" => 42201,
        "value-schema-missing" => 42202,
        "conversion-failed" => 42203,
        "invalid-schema" => 42205,
        "invalid-payload" | "schema-registry-not-configured" => 42206,
        "kafka-unavailable"
        | "producer-queue-full"
        | "delivery-timeout"
        | "schema-registry-unavailable" => 50003,
        "producer-failed" | "invalid-record" | "record-too-large" | "schema-registry-refused" => {
            50002
        }
        _ => u32::from(status),
    }
}

impl ErrorBody {
    pub fn of(error: &ApiError) -> Self {
        let problem = error.problem();
        ErrorBody {
            error_code: error_code(problem.kind(), problem.status),
            message: problem.detail,
        }
    }
}

/// The part of a problem answer the rewrite reads.
#[derive(Deserialize)]
struct ProblemView {
    #[serde(rename = "type")]
    type_uri: String,
    status: u16,
    detail: String,
}

/// Rewrites every problem answer of a v2 route (the handlers', the gate's, the router's) into a
/// proxy error body; status and headers (`Retry-After`, `WWW-Authenticate`) are kept.
pub async fn v2_errors(request: Request, next: Next) -> Response {
    rewrite(next.run(request).await, V2_ANSWER_TYPE).await
}

/// [`v2_errors`] for v3 routes.
pub async fn v3_errors(request: Request, next: Next) -> Response {
    rewrite(next.run(request).await, V3_ANSWER_TYPE).await
}

async fn rewrite(response: Response, content_type: &'static str) -> Response {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_CONTENT_TYPE.as_bytes());
    if !is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // A problem body is a few hundred bytes.
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let Ok(problem) = serde_json::from_slice::<ProblemView>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let kind = problem
        .type_uri
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let body = ErrorBody {
        error_code: error_code(&kind, problem.status),
        message: problem.detail,
    };
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(
        parts,
        Body::from(serde_json::to_vec(&body).unwrap_or_default()),
    )
}

/// A JSON answer with the given Content-Type.
pub fn json_answer<T: Serialize>(
    status: axum::http::StatusCode,
    content_type: &'static str,
    body: &T,
) -> Response {
    let mut response = (status, serde_json::to_vec(body).unwrap_or_default()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The query parameters the produce routes read: `async` (Strimzi) and `acks`; others ignored.
#[derive(Debug, Default, Clone)]
pub struct ProduceQuery {
    pub asynchronous: bool,
    pub acks: Option<String>,
}

impl ProduceQuery {
    pub fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let mut parsed = ProduceQuery::default();
        let Some(query) = query.filter(|q| !q.is_empty()) else {
            return Ok(parsed);
        };
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| ApiError::bad_request("invalid-query", format!("query string: {e}")))?;
        for (name, value) in pairs {
            match name.as_str() {
                "async" => {
                    parsed.asynchronous = value.parse().map_err(|_| {
                        ApiError::bad_field(
                            "invalid-query",
                            "async",
                            format!("async must be true or false, not {value:?}"),
                        )
                    })?;
                }
                "acks" => parsed.acks = Some(value),
                _ => {}
            }
        }
        Ok(parsed)
    }
}

/// `http://host` of the request, for the v3 answers' `self` links.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// The request's Content-Type, if it has a readable one.
pub fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}
