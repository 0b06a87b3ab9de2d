//! The one record builder, used by every endpoint: body fields → topic → limits → access →
//! service headers (the trace context), in that order. Parsing ([`topic_from`], [`Fields`]) is
//! pure, so the fuzz targets drive it; admission ([`Admission`]) needs the caller and the
//! request's context.
//!
//! The service's other three headers (`producer-mode`, `send-mode`, `timestamp`) depend on how
//! the record is sent, and the producer adds them (see [`crate::kafka`]).

use std::collections::BTreeMap;

use axum::http::StatusCode;

use super::context::{RequestContext, TRACEPARENT, TRACESTATE};
use super::problem::ApiError;
use super::state::AppState;
use crate::access::{Caller, Denied};
use crate::kafka::{Outcome, OutgoingRecord, SendMode, TopicName, RESERVED_HEADERS};
use crate::settings::Limits;

/// The workshop's default topic.
pub const DEFAULT_TOPIC: &str = "test-topic";

/// The topic named, or the workshop's default; 400 `invalid-topic` if Kafka would refuse it.
pub fn topic_from(name: Option<&str>) -> Result<TopicName, ApiError> {
    TopicName::parse(name.unwrap_or(DEFAULT_TOPIC))
        .map_err(|e| ApiError::bad_field("invalid-topic", "topic", e.to_string()))
}

/// A record's fields as a request gives them, before they are checked.
#[derive(Debug, Default)]
pub struct Fields {
    pub key: Option<String>,
    pub message: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub partition: Option<i32>,
}

impl Fields {
    /// The record, once its fields are within the limits: a key (a new UUID by default), the
    /// message as its value, headers that are not the service's own.
    pub fn into_record(
        self,
        topic: TopicName,
        limits: &Limits,
    ) -> Result<OutgoingRecord, ApiError> {
        let Fields {
            key,
            message,
            headers,
            partition,
        } = self;
        if let Some(p) = partition.filter(|p| *p < 0) {
            return Err(ApiError::bad_field(
                "invalid-property",
                "partition",
                format!("partition {p} is negative"),
            ));
        }
        if headers.len() > limits.max_record_headers {
            return Err(ApiError::HeadersTooLarge {
                detail: format!(
                    "{} headers are over the limit of {} per record (MAX_RECORD_HEADERS)",
                    headers.len(),
                    limits.max_record_headers
                ),
            });
        }
        let header_bytes: usize = headers.iter().map(|(n, v)| n.len() + v.len()).sum();
        if header_bytes > limits.max_header_bytes {
            return Err(ApiError::HeadersTooLarge {
                detail: format!(
                    "the headers' names and values come to {header_bytes} bytes, over the limit of {} (MAX_HEADER_BYTES)",
                    limits.max_header_bytes
                ),
            });
        }
        let mut record_headers = Vec::with_capacity(headers.len());
        for (name, value) in headers {
            if name.is_empty() {
                return Err(ApiError::bad_field(
                    "invalid-header",
                    "headers",
                    "a header name is empty",
                ));
            }
            if RESERVED_HEADERS
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&name))
            {
                return Err(ApiError::bad_field(
                    "invalid-header",
                    format!("headers.{name}"),
                    format!("header {name:?} is set by the service on every record"),
                ));
            }
            record_headers.push((name, value.into_bytes()));
        }
        Ok(OutgoingRecord {
            topic,
            key: key.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            value: message.unwrap_or_default().into_bytes(),
            headers: record_headers,
            partition,
        })
    }
}

/// Lets parsed records in: may the caller write to the topic (403, with nothing produced, if
/// not), then the request's trace context joins the record's headers.
pub struct Admission<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    /// `traceparent` (and `tracestate`) to write into every record of the request.
    trace: Vec<(String, Vec<u8>)>,
}

impl<'a> Admission<'a> {
    pub fn new(state: &'a AppState, caller: &'a Caller, context: &RequestContext) -> Self {
        Admission {
            state,
            caller,
            trace: context.record_headers(),
        }
    }

    pub fn admit(&self, mut record: OutgoingRecord) -> Result<OutgoingRecord, ApiError> {
        self.state
            .access
            .check_topic(self.caller, record.topic.as_str())
            .map_err(|denied| match denied {
                Denied::Topic { topic, reason } => {
                    tracing::info!(topic, reason, "topic refused");
                    ApiError::TopicForbidden { topic, reason }
                }
                // Keys are checked before the handler runs.
                Denied::MissingKey | Denied::UnknownKey => ApiError::Unauthorized {
                    missing: denied == Denied::MissingKey,
                },
            })?;
        // The caller's own trace headers, when given in the body, are kept as they are.
        let given = |name: &str| record.headers.iter().any(|(n, _)| n == name);
        if !given(TRACEPARENT) && !given(TRACESTATE) {
            record.headers.extend_from_slice(&self.trace);
        }
        Ok(record)
    }
}

/// How a record's send is answered: sync 200 with the position; async 202, with the position
/// too when the runtime waited for it (Lambda), so clients can rely on the status code per send
/// mode.
#[derive(Debug, Clone, Copy)]
pub struct Answered {
    pub status: StatusCode,
    pub partition: Option<i32>,
    pub offset: Option<i64>,
    /// `acknowledged` (the broker has it) or `queued` (it will be sent; see the metrics).
    pub label: &'static str,
}

impl Answered {
    pub fn of(outcome: Outcome, send: SendMode) -> Self {
        let status = match send {
            SendMode::Sync => StatusCode::OK,
            SendMode::Async => StatusCode::ACCEPTED,
        };
        match outcome {
            Outcome::Acknowledged(d) => Answered {
                status,
                partition: Some(d.partition),
                offset: Some(d.offset),
                label: "acknowledged",
            },
            Outcome::Queued => Answered {
                status,
                partition: None,
                offset: None,
                label: "queued",
            },
        }
    }
}
