//! Reading a request body: its bytes within the route's limit, then one JSON object through
//! [`super::json`] (names case-insensitive, a name given twice refused). Every endpoint reads its
//! body here, whatever the `Content-Type` says (the workshop's curl lines send JSON, and
//! `curl -d` labels it form data).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::Deserialize;

use super::json::{self, NotAnObject};
use super::problem::ApiError;

/// The body's bytes, or why they could not be read (413 beyond `limit`).
pub fn read(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::BodyTooLarge { limit }
        } else {
            ApiError::bad_request("unreadable-body", rejection.body_text())
        }
    })
}

/// The body as the JSON object `T`, or `None` when there is none (empty, blank or `null`).
pub fn optional<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<Option<T>, ApiError> {
    match json::object(bytes) {
        Ok(value) => Ok(Some(value)),
        Err(Ok(NotAnObject::Absent)) => Ok(None),
        Err(Ok(NotAnObject::Other)) => Err(not_an_object()),
        Err(Err(error)) => Err(error),
    }
}

/// The body as the JSON object `T`; `missing` tells how to send one.
pub fn required<'de, T: Deserialize<'de>>(bytes: &'de [u8], missing: &str) -> Result<T, ApiError> {
    optional(bytes)?.ok_or_else(|| ApiError::bad_request("missing-body", missing.to_owned()))
}

fn not_an_object() -> ApiError {
    ApiError::bad_request("malformed-json", "the body must be a JSON object")
}
