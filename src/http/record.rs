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
use crate::kafka::{
    Acks, Outcome, OutgoingRecord, ProducerMode, SendMode, TopicName, Via, RESERVED_HEADERS,
};
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

/// What a request's headers may be named: the service's own API refuses the names of the
/// headers the service sets; the compatible APIs pass a client's headers through as given (the
/// service then does not add its own of that name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderNames {
    ServiceNamesRefused,
    AsGiven,
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
        let headers = headers
            .into_iter()
            .map(|(name, value)| (name, Some(value.into_bytes())))
            .collect();
        checked(
            OutgoingRecord {
                topic,
                key: Some(
                    key.unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
                        .into_bytes(),
                ),
                value: Some(message.unwrap_or_default().into_bytes()),
                headers,
                partition,
                timestamp: None,
            },
            limits,
            HeaderNames::ServiceNamesRefused,
        )
    }
}

/// How far ahead of the service's clock a record's timestamp may be: Kafka 4 brokers refuse a
/// record further ahead (`log.message.timestamp.after.max.ms`, one hour by default), and with
/// `acks=0` such a refusal drops the broker connection and the records of other requests
/// travelling with it. Refused here, before Kafka, like an invalid topic name.
pub const MAX_TIMESTAMP_AHEAD_MS: i64 = 3_600_000;

/// The record, if its partition, timestamp and headers are within what Kafka and the limits
/// allow.
pub fn checked(
    record: OutgoingRecord,
    limits: &Limits,
    names: HeaderNames,
) -> Result<OutgoingRecord, ApiError> {
    if let Some(p) = record.partition.filter(|p| *p < 0) {
        return Err(ApiError::bad_field(
            "invalid-property",
            "partition",
            format!("partition {p} is negative"),
        ));
    }
    if let Some(at) = record.timestamp {
        let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        if at < 0 || at > now + MAX_TIMESTAMP_AHEAD_MS {
            return Err(ApiError::bad_field(
                "invalid-property",
                "timestamp",
                format!(
                    "timestamp {at} ms is before 1970 or more than an hour ahead of now ({now} ms): Kafka refuses it"
                ),
            ));
        }
    }
    let headers = &record.headers;
    if headers.len() > limits.max_record_headers {
        return Err(ApiError::HeadersTooLarge {
            detail: format!(
                "{} headers are over the limit of {} per record (MAX_RECORD_HEADERS)",
                headers.len(),
                limits.max_record_headers
            ),
        });
    }
    let header_bytes: usize = headers
        .iter()
        .map(|(n, v)| n.len() + v.as_ref().map_or(0, Vec::len))
        .sum();
    if header_bytes > limits.max_header_bytes {
        return Err(ApiError::HeadersTooLarge {
            detail: format!(
                "the headers' names and values come to {header_bytes} bytes, over the limit of {} (MAX_HEADER_BYTES)",
                limits.max_header_bytes
            ),
        });
    }
    for (name, _) in headers {
        if name.is_empty() {
            return Err(ApiError::bad_field(
                "invalid-header",
                "headers",
                "a header name is empty",
            ));
        }
        if names == HeaderNames::ServiceNamesRefused
            && RESERVED_HEADERS
                .iter()
                .any(|r| r.eq_ignore_ascii_case(name))
        {
            return Err(ApiError::bad_field(
                "invalid-header",
                format!("headers.{name}"),
                format!("header {name:?} is set by the service on every record"),
            ));
        }
    }
    Ok(record)
}

/// An `acks` value as a request gives it: `"0"`, `"1"`, `"all"`, `"-1"`, or the numbers 0, 1
/// and -1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcksField(pub String);

impl<'de> serde::Deserialize<'de> for AcksField {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Given {
            Text(String),
            Number(i64),
        }
        Ok(AcksField(match Given::deserialize(deserializer)? {
            Given::Text(text) => text,
            Given::Number(n) => n.to_string(),
        }))
    }
}

impl utoipa::PartialSchema for AcksField {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["0", "1", "all", "-1"])),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .enum_values(Some([0, 1, -1])),
            )
            .description(Some(
                "How many replicas must have the record before it is acknowledged: 0 (no wait, no offset in the answer), 1 (the leader) or all; by default the producer's own (plain 1, idempotent all). 0 and 1 take the plain producer; the idempotent one needs all.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for AcksField {}

/// The producer a request asks for: `idempotent` (default true) and `acks` (default the
/// producer's own). Asking for acks 0 or 1 without naming a producer takes the plain one;
/// naming the idempotent one with them is a 400.
pub fn via(idempotent: Option<bool>, acks: Option<&str>) -> Result<Via, ApiError> {
    let acks = acks
        .map(Acks::parse)
        .transpose()
        .map_err(|e| ApiError::bad_field("invalid-property", "acks", e.to_string()))?;
    let mode = match (idempotent, acks) {
        (Some(idempotent), _) => ProducerMode::of(idempotent),
        (None, Some(Acks::None | Acks::Leader)) => ProducerMode::Plain,
        (None, _) => ProducerMode::Idempotent,
    };
    Via::new(mode, acks).map_err(|e| ApiError::bad_field("invalid-property", "acks", e.to_string()))
}

/// Lets parsed records in: may the caller write to the topic (403, with nothing produced, if
/// not), then the request's trace context joins the record's headers.
pub struct Admission<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    /// `traceparent` (and `tracestate`) to write into every record of the request.
    trace: Vec<(String, Option<Vec<u8>>)>,
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
        may_write(self.state, self.caller, record.topic.as_str())?;
        // The caller's own trace headers, when given in the body, are kept as they are.
        let given = |name: &str| record.headers.iter().any(|(n, _)| n == name);
        if !given(TRACEPARENT) && !given(TRACESTATE) {
            record.headers.extend_from_slice(&self.trace);
        }
        Ok(record)
    }
}

/// May the caller write to `topic`? 403 `topic-forbidden` if not.
pub fn may_write(state: &AppState, caller: &Caller, topic: &str) -> Result<(), ApiError> {
    state
        .access
        .check_topic(caller, topic)
        .map_err(|denied| match denied {
            Denied::Topic { topic, reason } => {
                tracing::info!(topic, reason, "topic refused");
                ApiError::TopicForbidden { topic, reason }
            }
            // Keys are checked before the handler runs.
            Denied::MissingKey | Denied::UnknownKey => ApiError::Unauthorized {
                missing: denied == Denied::MissingKey,
            },
        })
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
                offset: d.offset,
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
