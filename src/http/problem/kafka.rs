//! The status of each Kafka error class: the only such mapping in the service.

use axum::http::StatusCode;

use super::Problem;
use crate::kafka::{ErrorClass, SendError};

/// The problem answered for a send Kafka refused or could not confirm.
pub(super) fn send_problem(error: &SendError) -> Problem {
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
