//! The `application/problem+json` body, its answer (with `Retry-After` and `WWW-Authenticate`
//! where they apply), and the problem answers a send can get, for the OpenAPI document.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{PROBLEM_CONTENT_TYPE, RETRY_AFTER_SECONDS};

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
    /// The Schema Registry refused the schema: not compatible with the subject's.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// A key or message does not fit its schema (`conversion-failed`, naming the path), the
    /// schema is invalid or of another format, or no Schema Registry is configured.
    #[response(status = 422, content_type = "application/problem+json")]
    Unprocessable(Problem),
    /// The producer can no longer send (a fatal Kafka client error).
    #[response(status = 500, content_type = "application/problem+json")]
    Failed(Problem),
    /// The Schema Registry refused the service's credentials.
    #[response(status = 502, content_type = "application/problem+json")]
    BadGateway(Problem),
    /// Kafka or the Schema Registry is unreachable, the producer queue is full, or more sends
    /// than `MAX_CONCURRENT_REQUESTS` are being handled: retry after `Retry-After`.
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
