//! Statuses, problem types and Retry-After for every error, and the 5xx that hide internals.

use super::*;
use crate::kafka::ErrorClass;
use axum::http::header;
use rdkafka::error::RDKafkaErrorCode;

fn status_of(class: ErrorClass) -> u16 {
    ApiError::Send(SendError {
        class,
        code: Some(RDKafkaErrorCode::Fail),
        message: String::new(),
    })
    .problem()
    .status
}

#[test]
fn statuses_follow_the_contract() {
    assert_eq!(status_of(ErrorClass::Backpressure), 503);
    assert_eq!(status_of(ErrorClass::Unavailable), 503);
    assert_eq!(status_of(ErrorClass::Timeout), 504);
    assert_eq!(status_of(ErrorClass::TopicNotFound), 404);
    assert_eq!(status_of(ErrorClass::PartitionNotFound), 404);
    assert_eq!(status_of(ErrorClass::RecordTooLarge), 413);
    assert_eq!(status_of(ErrorClass::InvalidRecord), 400);
    assert_eq!(status_of(ErrorClass::NotAuthorized), 403);
    assert_eq!(status_of(ErrorClass::Fatal), 500);
    assert_eq!(ApiError::BodyTooLarge { limit: 1 }.problem().status, 413);
    assert_eq!(
        ApiError::Unauthorized { missing: true }.problem().status,
        401
    );
    let forbidden = ApiError::TopicForbidden {
        topic: "__consumer_offsets".into(),
        reason: "internal",
    };
    assert_eq!(forbidden.problem().status, 403);
    assert_eq!(ApiError::Overloaded { limit: 1 }.problem().status, 503);
}

#[test]
fn unavailable_answers_carry_retry_after_and_the_problem_type() {
    let response = ApiError::Send(SendError::new(ErrorClass::Unavailable, "down")).into_response();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        PROBLEM_CONTENT_TYPE
    );
}

#[test]
fn internal_errors_do_not_leak_their_detail() {
    let problem = ApiError::Internal("sasl.password=hunter2".into()).problem();
    assert!(!problem.detail.contains("hunter2"));
}
