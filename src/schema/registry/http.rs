//! The registry's REST calls: each URL in turn, the answers' bodies, and what a failed call
//! means for a record.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use tracing::Instrument;

use super::{Registry, DOWN, DOWN_FOR, UP};
use crate::schema::{Format, SchemaError};

const MEDIA_TYPE: &str = "application/vnd.schemaregistry.v1+json";

#[derive(Deserialize)]
pub(super) struct SchemaBody {
    pub(super) schema: String,
    #[serde(rename = "schemaType")]
    pub(super) schema_type: Option<String>,
    #[serde(default)]
    pub(super) references: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
pub(super) struct VersionBody {
    pub(super) subject: String,
    pub(super) id: u32,
    pub(super) version: i32,
    pub(super) schema: Option<String>,
    #[serde(rename = "schemaType")]
    pub(super) schema_type: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct ErrorBody {
    pub(super) error_code: Option<i64>,
    pub(super) message: Option<String>,
}

/// A call's failure, before it is a [`SchemaError`].
pub(super) enum Failure {
    /// The registry answered 4xx: its status, code and reason.
    Answered(StatusCode, ErrorBody),
    /// No URL answered.
    Unreachable(String),
}

impl Registry {
    /// The HTTP client, built on the first call.
    fn http(&self) -> Result<&reqwest::Client, String> {
        self.http
            .get_or_init(|| {
                let mut builder = reqwest::Client::builder()
                    .timeout(self.timeout)
                    .connect_timeout(self.timeout.min(Duration::from_secs(2)))
                    .pool_idle_timeout(Duration::from_secs(30));
                for certificate in &self.certificates {
                    builder = builder.add_root_certificate(certificate.clone());
                }
                builder
                    .build()
                    .map_err(|e| format!("no HTTP client for the registry: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// One call, on each URL in turn from the preferred one, until one answers.
    pub(super) async fn call<T: serde::de::DeserializeOwned>(
        &self,
        lookup: &'static str,
        method: Method,
        path: &[&str],
        body: Option<&serde_json::Value>,
    ) -> Result<T, Failure> {
        if let Some(since) = *self.down_since.lock().expect("down lock") {
            if self.state.load(Ordering::Relaxed) == DOWN && since.elapsed() < DOWN_FOR {
                // No URL answered a moment ago: fail at once rather than wait again.
                return Err(Failure::Unreachable(
                    "no URL answered in the last second".into(),
                ));
            }
        }
        let http = self.http().map_err(Failure::Unreachable)?;
        let first = self.preferred.load(Ordering::Relaxed);
        let mut last_error = String::new();
        for attempt in 0..self.urls.len() {
            let index = (first + attempt) % self.urls.len();
            let mut url = self.urls[index].clone();
            if let Ok(mut segments) = url.path_segments_mut() {
                segments.pop_if_empty().extend(path);
            }
            let span = tracing::info_span!(
                "schema_registry",
                otel.kind = "client",
                http.request.method = %method,
                server.address = url.host_str().unwrap_or_default(),
                url.path = url.path(),
                http.response.status_code = tracing::field::Empty,
            );
            let mut request = http
                .request(method.clone(), url.clone())
                .header(ACCEPT, MEDIA_TYPE);
            if let Some(auth) = &self.authorization {
                request = request.header(AUTHORIZATION, auth.clone());
            }
            if let Some(body) = body {
                request = request.header(CONTENT_TYPE, MEDIA_TYPE).json(body);
            }
            let started = Instant::now();
            let answer = async {
                let response = request.send().await?;
                let status = response.status();
                tracing::Span::current().record("http.response.status_code", status.as_u16());
                let bytes = response.bytes().await?;
                Ok::<_, reqwest::Error>((status, bytes))
            }
            .instrument(span)
            .await;
            let elapsed = started.elapsed();
            match answer {
                Ok((status, bytes)) if status.is_success() => {
                    self.mark(index, UP);
                    self.observer.called(lookup, "ok", elapsed);
                    return serde_json::from_slice(&bytes).map_err(|e| {
                        Failure::Answered(
                            StatusCode::BAD_GATEWAY,
                            ErrorBody {
                                error_code: None,
                                message: Some(format!(
                                    "the registry's answer is not readable: {e}"
                                )),
                            },
                        )
                    });
                }
                Ok((status, bytes))
                    if status.is_client_error()
                        && status != StatusCode::REQUEST_TIMEOUT
                        && status != StatusCode::TOO_MANY_REQUESTS =>
                {
                    self.mark(index, UP);
                    let outcome = match status {
                        StatusCode::NOT_FOUND => "not_found",
                        _ => "refused",
                    };
                    self.observer.called(lookup, outcome, elapsed);
                    let error = serde_json::from_slice(&bytes).unwrap_or_default();
                    return Err(Failure::Answered(status, error));
                }
                Ok((status, _)) => {
                    self.observer.called(lookup, "error", elapsed);
                    last_error = format!("{} answered {status}", host_of(&self.urls[index]));
                }
                Err(error) => {
                    self.observer.called(lookup, "error", elapsed);
                    let why = if error.is_timeout() {
                        "timed out"
                    } else if error.is_connect() {
                        "refused the connection"
                    } else {
                        "failed"
                    };
                    last_error = format!("{} {why}", host_of(&self.urls[index]));
                }
            }
        }
        self.state.store(DOWN, Ordering::Relaxed);
        *self.down_since.lock().expect("down lock") = Some(Instant::now());
        tracing::warn!(lookup, error = %last_error, "Schema Registry unreachable");
        Err(Failure::Unreachable(last_error))
    }

    fn mark(&self, index: usize, state: u8) {
        self.preferred.store(index, Ordering::Relaxed);
        self.state.store(state, Ordering::Relaxed);
    }
}

/// A URL without its credentials or path, for messages.
pub(super) fn host_of(url: &Url) -> String {
    format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default())
        + &url.port().map(|p| format!(":{p}")).unwrap_or_default()
}

pub(super) fn format_of(schema_type: Option<&str>) -> Result<Format, SchemaError> {
    match schema_type {
        None => Ok(Format::Avro),
        Some(name) => Format::parse(name)
            .ok_or_else(|| SchemaError::Invalid(format!("schema type {name:?} is not supported"))),
    }
}

pub(super) fn failure(failure: Failure, not_found: String) -> SchemaError {
    match failure {
        Failure::Unreachable(why) => {
            SchemaError::Unavailable(format!("the Schema Registry is unreachable: {why}"))
        }
        Failure::Answered(status, body) => {
            let reason = body.message.unwrap_or_else(|| status.to_string());
            match status {
                StatusCode::NOT_FOUND if !not_found.is_empty() => SchemaError::NotFound(not_found),
                StatusCode::NOT_FOUND => SchemaError::NotFound(reason),
                StatusCode::CONFLICT => SchemaError::Incompatible(format!(
                    "the Schema Registry refused the schema: {reason}"
                )),
                StatusCode::UNPROCESSABLE_ENTITY => SchemaError::Invalid(format!(
                    "the Schema Registry refused the schema ({}): {reason}",
                    body.error_code.unwrap_or(42201)
                )),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => SchemaError::Refused(format!(
                    "the Schema Registry refused the service's credentials ({status})"
                )),
                _ => {
                    SchemaError::Refused(format!("the Schema Registry answered {status}: {reason}"))
                }
            }
        }
    }
}
