//! The one error type of the HTTP API and its `application/problem+json` (RFC 9457) answer.
//!
//! Every HTTP status the service answers with on failure is decided here, from the request's
//! fault or from the Kafka error class. Client faults carry their reason; server faults are
//! logged once and answered without internals.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::kafka::{ErrorClass, SendError};

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

    /// The same error, naming the batch record it is about (`records[3].topic`).
    pub fn at_record(self, index: usize) -> Self {
        match self {
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

/// The status for each Kafka error class: the only such mapping in the service.
fn send_problem(error: &SendError) -> Problem {
    let (status, kind, title) = match error.class {
        ErrorClass::Backpressure => (
            StatusCode::SERVICE_UNAVAILABLE,
            "producer-queue-full",
            "Producer queue is full",
        ),
        ErrorClass::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "kafka-unavailable",
            "Kafka is unavailable",
        ),
        ErrorClass::Timeout => (
            StatusCode::GATEWAY_TIMEOUT,
            "delivery-timeout",
            "Delivery not confirmed in time",
        ),
        ErrorClass::TopicNotFound => (StatusCode::NOT_FOUND, "topic-not-found", "Topic not found"),
        ErrorClass::PartitionNotFound => (
            StatusCode::NOT_FOUND,
            "partition-not-found",
            "Partition not found",
        ),
        ErrorClass::RecordTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "record-too-large",
            "Record too large",
        ),
        ErrorClass::InvalidRecord => (
            StatusCode::BAD_REQUEST,
            "invalid-record",
            "Record refused by Kafka",
        ),
        ErrorClass::NotAuthorized => (
            StatusCode::FORBIDDEN,
            "kafka-not-authorized",
            "Not authorized by Kafka",
        ),
        ErrorClass::Fatal => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "producer-failed",
            "Producer failed",
        ),
    };
    let mut problem = Problem::new(status, kind, title, error.message.clone());
    problem.kafka_error = error.code.map(|c| format!("{c:?}"));
    problem.kafka_error_code = error.numeric_code();
    problem.retryable = Some(matches!(
        error.class,
        ErrorClass::Backpressure | ErrorClass::Unavailable | ErrorClass::Timeout
    ));
    problem
}

/// The body of every error answer (RFC 9457 `application/problem+json`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka_error_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
}

impl Problem {
    /// The problem's kind: the last part of its type (`topic-not-found`).
    pub fn kind(&self) -> &str {
        self.type_uri.rsplit(':').next().unwrap_or_default()
    }

    pub fn new(status: StatusCode, kind: &str, title: &'static str, detail: String) -> Self {
        Problem {
            type_uri: format!("urn:kafka-producer:problem:{kind}"),
            title,
            status: status.as_u16(),
            detail,
            field: None,
            kafka_error: None,
            kafka_error_code: None,
            retryable: None,
        }
    }
}

/// The problem answers a send can get, besides 200 and 202.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum SendProblems {
    /// Bad input: malformed JSON, a wrong type, an invalid topic, partition or header name.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// API keys are on, and none or an unknown one was given.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The topic is internal (`__*`), outside `ALLOWED_TOPICS` or the key's topics, or Kafka
    /// refused the producer access to it. Nothing was produced.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// Unknown topic (when the cluster does not create topics), partition, route or shortcut.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The body is over `MAX_BODY_BYTES` (`MAX_BATCH_BODY_BYTES` for a batch), a batch over
    /// `MAX_BATCH_RECORDS`, the record's headers over `MAX_RECORD_HEADERS` or
    /// `MAX_HEADER_BYTES`, or the record over the broker's limit.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The producer can no longer send (a fatal Kafka client error).
    #[response(status = 500, content_type = "application/problem+json")]
    Failed(Problem),
    /// Kafka is unreachable, the producer queue is full, or more sends than
    /// `MAX_CONCURRENT_REQUESTS` are being handled: retry after `Retry-After`.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
    /// Not confirmed within the mode's `message.timeout.ms`, or not answered within
    /// `REQUEST_TIMEOUT_MS`: the record may or may not be written.
    #[response(status = 504, content_type = "application/problem+json")]
    Timeout(Problem),
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kafka-producer\""),
            );
        }
        response
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
