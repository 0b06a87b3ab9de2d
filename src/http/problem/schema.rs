//! The status of each schema failure.

use axum::http::StatusCode;

use super::Problem;
use crate::schema::{Part, SchemaError};

/// The problem answered for a record whose schema could not be found, registered or used.
pub(super) fn schema_problem(error: &SchemaError) -> Problem {
    let (status, kind, title) = match error {
        SchemaError::NotConfigured => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "schema-registry-not-configured",
            "No Schema Registry",
        ),
        SchemaError::Missing { part: Part::Key } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "key-schema-missing",
            "Key schema missing",
        ),
        SchemaError::Missing { part: Part::Value } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "value-schema-missing",
            "Value schema missing",
        ),
        SchemaError::NotFound(_) => (
            StatusCode::NOT_FOUND,
            "schema-not-found",
            "Schema not found",
        ),
        SchemaError::Invalid(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-schema",
            "Invalid schema",
        ),
        SchemaError::Incompatible(_) => (
            StatusCode::CONFLICT,
            "schema-incompatible",
            "Schema not compatible",
        ),
        SchemaError::Refused(_) => (
            StatusCode::BAD_GATEWAY,
            "schema-registry-refused",
            "Schema Registry refused the service",
        ),
        SchemaError::Unavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "schema-registry-unavailable",
            "Schema Registry unavailable",
        ),
    };
    let mut problem = Problem::new(status, kind, title, error.to_string());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        problem.retryable = Some(true);
    }
    problem
}
