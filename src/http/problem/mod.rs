//! The one error type of the HTTP API and its `application/problem+json` (RFC 9457) answer.
//!
//! Every HTTP status the service answers with on failure is decided here, from the request's
//! fault or from the Kafka error class. Client faults carry their reason; server faults are
//! logged once and answered without internals.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::kafka::SendError;
use crate::schema::{Mismatch, SchemaError};

mod body;
mod kafka;
mod schema;

pub use self::body::{Problem, SendProblems};

use self::kafka::send_problem;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER_SECONDS: &str = "1";

#[derive(Debug)]
pub enum ApiError {
    /// The request cannot be understood: malformed JSON, wrong types, invalid values.
    BadRequest {
        kind: &'static str,
        detail: String,
        /// The offending property (`topic`, `headers.x`…), when one is to blame.
        field: Option<String>,
    },
    /// The body is over the configured limit.
    BodyTooLarge { limit: usize },
    /// No route at this path.
    NotFound { path: String },
    /// A route exists at this path, not for this method.
    MethodNotAllowed,
    /// Kafka refused or could not take the record.
    Send(SendError),
    /// Something inside the service failed; the detail is logged, not shown.
    Internal(String),
    /// API keys are on, and the request has none or an unknown one.
    Unauthorized { missing: bool },
    /// The topic is internal or outside an allow-list; nothing was produced.
    TopicForbidden { topic: String, reason: &'static str },
    /// A record's headers are over a configured limit.
    HeadersTooLarge { detail: String },
    /// More sends at once than `MAX_CONCURRENT_REQUESTS`: shed, retry after `Retry-After`.
    Overloaded { limit: usize },
    /// Not answered within `REQUEST_TIMEOUT_MS`.
    DeadlineExceeded { limit: std::time::Duration },
    /// A batch of more records than `MAX_BATCH_RECORDS`.
    TooManyRecords { count: usize, limit: usize },
    /// The request's Content-Type is not one the endpoint reads.
    UnsupportedMediaType {
        given: String,
        accepted: &'static str,
    },
    /// The body is well-formed but its content cannot be produced as asked (a value that does
    /// not fit its format, a schema format without a registry).
    Unprocessable {
        kind: &'static str,
        detail: String,
        field: Option<String>,
    },
    /// The cluster, topic or partition a metadata request names does not exist.
    Missing { kind: &'static str, detail: String },
    /// A record's schema could not be found, registered or used.
    Schema {
        error: SchemaError,
        /// The record's part (`value`, `records[3].key`).
        field: Option<String>,
    },
}

impl ApiError {
    pub fn bad_request(kind: &'static str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            kind,
            detail: detail.into(),
            field: None,
        }
    }

    pub fn bad_field(
        kind: &'static str,
        field: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        ApiError::BadRequest {
            kind,
            detail: detail.into(),
            field: Some(field.into()),
        }
    }

    pub fn unprocessable(
        kind: &'static str,
        field: Option<String>,
        detail: impl Into<String>,
    ) -> Self {
        ApiError::Unprocessable {
            kind,
            detail: detail.into(),
            field,
        }
    }

    /// Data that does not fit its schema (422 `conversion-failed`), at `part` (`value`).
    pub fn mismatch(part: &str, mismatch: Mismatch) -> Self {
        let field = format!("{part}{}", mismatch.path);
        ApiError::Unprocessable {
            kind: "conversion-failed",
            detail: format!("{field}: {}", mismatch.detail),
            field: Some(field),
        }
    }

    /// The same error, naming the batch record it is about (`records[3].topic`).
    pub fn at_record(self, index: usize) -> Self {
        let at = |field: Option<String>| {
            Some(match field {
                Some(field) => format!("records[{index}].{field}"),
                None => format!("records[{index}]"),
            })
        };
        match self {
            ApiError::Unprocessable {
                kind,
                detail,
                field,
            } => ApiError::Unprocessable {
                kind,
                detail: match &field {
                    Some(f) if detail.starts_with(f.as_str()) => {
                        format!("records[{index}].{detail}")
                    }
                    _ => format!("records[{index}]: {detail}"),
                },
                field: at(field),
            },
            ApiError::Schema { error, field } => ApiError::Schema {
                error,
                field: at(field),
            },
            ApiError::BadRequest {
                kind,
                detail,
                field,
            } => ApiError::BadRequest {
                kind,
                detail: format!("records[{index}]: {detail}"),
                field: Some(match field {
                    Some(field) => format!("records[{index}].{field}"),
                    None => format!("records[{index}]"),
                }),
            },
            other => other,
        }
    }

    /// True when the caller is to blame (4xx), false for the service's or Kafka's side.
    pub fn is_client_fault(&self) -> bool {
        self.problem().status < 500
    }

    /// The `application/problem+json` body of this error.
    pub fn problem(&self) -> Problem {
        match self {
            ApiError::BadRequest {
                kind,
                detail,
                field,
            } => Problem {
                field: field.clone(),
                ..Problem::new(
                    StatusCode::BAD_REQUEST,
                    kind,
                    title_of(kind),
                    detail.clone(),
                )
            },
            ApiError::BodyTooLarge { limit } => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "Request body too large",
                format!("the request body is over the limit of {limit} bytes"),
            ),
            ApiError::NotFound { path } => Problem::new(
                StatusCode::NOT_FOUND,
                "route-not-found",
                "No such endpoint",
                format!("nothing is served at {path}; see /api/v1/status for the API"),
            ),
            ApiError::MethodNotAllowed => Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "this endpoint does not accept that HTTP method".into(),
            ),
            ApiError::Send(error) => send_problem(error),
            ApiError::Unauthorized { missing } => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "API key required",
                if *missing {
                    "give an API key as `Authorization: Bearer <key>` or `X-Api-Key: <key>`".into()
                } else {
                    "the API key is not valid".into()
                },
            ),
            ApiError::TopicForbidden { topic, reason } => Problem {
                field: Some("topic".into()),
                ..Problem::new(
                    StatusCode::FORBIDDEN,
                    "topic-forbidden",
                    "Topic not allowed",
                    format!("{topic:?}: {reason}; nothing was produced"),
                )
            },
            ApiError::HeadersTooLarge { detail } => Problem {
                field: Some("headers".into()),
                ..Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "headers-too-large",
                    "Record headers over the limit",
                    detail.clone(),
                )
            },
            ApiError::Overloaded { limit } => Problem {
                retryable: Some(true),
                ..Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "overloaded",
                    "Too many requests at once",
                    format!("{limit} sends are already being handled; retry after Retry-After"),
                )
            },
            ApiError::TooManyRecords { count, limit } => Problem {
                field: Some("records".into()),
                ..Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too-many-records",
                    "Too many records in the batch",
                    format!("{count} records are over the limit of {limit} per batch (MAX_BATCH_RECORDS)"),
                )
            },
            ApiError::DeadlineExceeded { limit } => Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "deadline-exceeded",
                "Request deadline exceeded",
                format!(
                    "the request was not answered within {} ms; a record it sent may still be written",
                    limit.as_millis()
                ),
            ),
            ApiError::UnsupportedMediaType { given, accepted } => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported content type",
                format!("Content-Type {given:?} is not read here; send {accepted}"),
            ),
            ApiError::Unprocessable {
                kind,
                detail,
                field,
            } => Problem {
                field: field.clone(),
                ..Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    kind,
                    "Records cannot be produced as given",
                    detail.clone(),
                )
            },
            ApiError::Missing { kind, detail } => Problem::new(
                StatusCode::NOT_FOUND,
                kind,
                match *kind {
                    "cluster-not-found" => "Cluster not found",
                    "topic-not-found" => "Topic not found",
                    _ => "Partition not found",
                },
                detail.clone(),
            ),
            ApiError::Schema { error, field } => Problem {
                field: field.clone(),
                ..schema::schema_problem(error)
            },
            ApiError::Internal(_) => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal-error",
                "Internal error",
                "the service failed to handle the request; it has been logged".into(),
            ),
        }
    }
}

fn title_of(kind: &str) -> &'static str {
    match kind {
        "malformed-json" => "Malformed JSON",
        "invalid-topic" => "Invalid topic name",
        "invalid-header" => "Invalid record header",
        "missing-body" => "Request body required",
        _ => "Invalid request",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        match &self {
            ApiError::Internal(detail) => tracing::error!(detail, "internal error"),
            ApiError::Send(error) if problem.status >= 500 => {
                tracing::warn!(class = error.class.as_str(), error = %error.message, "send failed")
            }
            _ => {}
        }
        problem.into_response()
    }
}

impl From<SendError> for ApiError {
    fn from(error: SendError) -> Self {
        ApiError::Send(error)
    }
}

/// Router fallback: unknown paths answer a problem, not an empty 404.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound {
        path: uri.path().to_owned(),
    }
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// A handler that panicked answers a problem; the panic text is logged, never shown.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned());
    ApiError::Internal(format!("handler panicked: {detail}")).into_response()
}

#[cfg(test)]
mod tests;
