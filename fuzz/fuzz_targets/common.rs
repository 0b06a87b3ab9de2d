//! What every parsing target checks: an accepted record obeys Kafka's and the service's rules;
//! a refusal is the client's fault (4xx) and a well-formed problem answer.

use axum::response::IntoResponse;
use kafka_producer::http::problem::ApiError;
use kafka_producer::http::Limits;
use kafka_producer::kafka::{OutgoingRecord, RESERVED_HEADERS};

pub const LIMITS: Limits = Limits {
    max_body_bytes: 1024 * 1024,
    max_record_headers: 8,
    max_header_bytes: 256,
    request_timeout: std::time::Duration::from_secs(30),
    max_concurrent_requests: 1,
    max_batch_records: 64,
    max_batch_body_bytes: 1024 * 1024,
};

pub fn check_record(record: &OutgoingRecord) {
    let topic = record.topic.as_str();
    assert!((1..=249).contains(&topic.len()), "{topic:?}");
    assert!(topic != "." && topic != "..");
    assert!(topic
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
    assert!(record.headers.len() <= LIMITS.max_record_headers);
    let bytes: usize = record.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    assert!(bytes <= LIMITS.max_header_bytes);
    for (name, _) in &record.headers {
        assert!(!name.is_empty());
        assert!(!RESERVED_HEADERS.iter().any(|r| r.eq_ignore_ascii_case(name)));
    }
    assert!(record.partition.is_none_or(|p| p >= 0));
}

pub fn check_refusal(error: ApiError) {
    assert!(error.is_client_fault(), "{error:?}");
    let response = error.into_response();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}
