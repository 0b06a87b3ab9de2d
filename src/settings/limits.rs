//! The limits every request is held to: body and header sizes, batch size, deadline, and the
//! number of sends handled at once.

use std::time::Duration;

use super::vars::Vars;
use super::SettingsError;

/// The default body limit: 1 MiB, librdkafka's default `message.max.bytes` is about the same.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The limits a request is held to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `MAX_BODY_BYTES`: the largest body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// `MAX_RECORD_HEADERS`: headers a record may carry from the request (413 beyond).
    pub max_record_headers: usize,
    /// `MAX_HEADER_BYTES`: names and values of a record's headers together (413 beyond).
    pub max_header_bytes: usize,
    /// `REQUEST_TIMEOUT_MS`: the longest a send request may take (504 beyond).
    pub request_timeout: Duration,
    /// `MAX_CONCURRENT_REQUESTS`: sends handled at once (503 beyond).
    pub max_concurrent_requests: usize,
    /// `MAX_BATCH_RECORDS`: records in one batch (413 beyond).
    pub max_batch_records: usize,
    /// `MAX_BATCH_BODY_BYTES`: the largest batch body (413 beyond).
    pub max_batch_body_bytes: usize,
}

impl Limits {
    pub(super) fn read(vars: &Vars) -> Result<Self, SettingsError> {
        let count = |name, default| vars.positive(name, default, "a positive number");
        Ok(Limits {
            max_body_bytes: vars.positive(
                "MAX_BODY_BYTES",
                DEFAULT_MAX_BODY_BYTES,
                "a positive number of bytes",
            )?,
            max_record_headers: count("MAX_RECORD_HEADERS", 64)?,
            max_header_bytes: count("MAX_HEADER_BYTES", 64 * 1024)?,
            request_timeout: vars.millis("REQUEST_TIMEOUT_MS", 30_000)?,
            max_concurrent_requests: count("MAX_CONCURRENT_REQUESTS", 512)?,
            max_batch_records: count("MAX_BATCH_RECORDS", 10_000)?,
            max_batch_body_bytes: count("MAX_BATCH_BODY_BYTES", 16 * 1024 * 1024)?,
        })
    }
}
