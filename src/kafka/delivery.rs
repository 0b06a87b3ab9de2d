//! The outcome of a send, and Kafka errors sorted into the classes the rest of the service acts on.
//!
//! This is the only place that looks at librdkafka error codes; the HTTP layer maps a class to a
//! status and never sees a raw code except to show it.

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// Where the broker put an acknowledged record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub partition: i32,
    /// `None` when the producer did not wait for the broker (`acks=0`): no offset comes back.
    pub offset: Option<i64>,
    /// The record's timestamp (milliseconds since the epoch), when the report carries one.
    pub timestamp: Option<i64>,
}

/// What kind of failure a send met, which decides what the caller should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The producer's queue is full: retry shortly.
    Backpressure,
    /// No broker can be reached (or the partition has no leader right now): retry later.
    Unavailable,
    /// The record was queued but not acknowledged within `message.timeout.ms`; it may still
    /// have been written (plain mode) and the caller cannot know.
    Timeout,
    /// The topic does not exist and the cluster did not create it.
    TopicNotFound,
    /// The requested partition does not exist.
    PartitionNotFound,
    /// The record is larger than the producer or the broker accepts.
    RecordTooLarge,
    /// The broker refused the record's content for good.
    InvalidRecord,
    /// The cluster refused the producer's credentials or permissions.
    NotAuthorized,
    /// The producer itself failed (for instance an idempotent producer's fatal error).
    Fatal,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Backpressure => "backpressure",
            ErrorClass::Unavailable => "unavailable",
            ErrorClass::Timeout => "timeout",
            ErrorClass::TopicNotFound => "topic_not_found",
            ErrorClass::PartitionNotFound => "partition_not_found",
            ErrorClass::RecordTooLarge => "record_too_large",
            ErrorClass::InvalidRecord => "invalid_record",
            ErrorClass::NotAuthorized => "not_authorized",
            ErrorClass::Fatal => "fatal",
        }
    }
}

/// A failed send: its class, and the Kafka error code behind it when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({})", class.as_str())]
pub struct SendError {
    pub class: ErrorClass,
    pub code: Option<RDKafkaErrorCode>,
    /// A short explanation safe to show to the caller (no configuration values in it).
    pub message: String,
}

impl SendError {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        SendError {
            class,
            code: None,
            message: message.into(),
        }
    }

    /// Every broker connection is down and a probe found none.
    pub fn unreachable() -> Self {
        SendError {
            class: ErrorClass::Unavailable,
            code: Some(RDKafkaErrorCode::AllBrokersDown),
            message: "no Kafka broker is reachable".into(),
        }
    }

    /// No delivery report within `guard` (the mode's `message.timeout.ms` and a margin).
    pub fn no_report(guard: std::time::Duration) -> Self {
        SendError {
            class: ErrorClass::Timeout,
            code: Some(RDKafkaErrorCode::MessageTimedOut),
            message: format!(
                "no delivery report within {} ms; the record may or may not have been written",
                guard.as_millis()
            ),
        }
    }

    /// Sorts a librdkafka error into its class.
    pub fn from_kafka(error: &KafkaError) -> Self {
        let code = error.rdkafka_error_code();
        let class = code.map_or(ErrorClass::Fatal, classify);
        SendError {
            class,
            code,
            message: error.to_string(),
        }
    }

    /// The numeric code as librdkafka and Kafka number them (negative for librdkafka's own).
    pub fn numeric_code(&self) -> Option<i32> {
        self.code.map(|c| c as i32)
    }
}

fn classify(code: RDKafkaErrorCode) -> ErrorClass {
    use RDKafkaErrorCode as C;
    match code {
        C::QueueFull => ErrorClass::Backpressure,
        C::MessageTimedOut => ErrorClass::Timeout,
        C::UnknownTopic | C::UnknownTopicOrPartition => ErrorClass::TopicNotFound,
        C::UnknownPartition => ErrorClass::PartitionNotFound,
        C::MessageSizeTooLarge | C::MessageBatchTooLarge => ErrorClass::RecordTooLarge,
        C::InvalidMessage
        | C::InvalidRecord
        | C::InvalidMessageSize
        | C::InvalidTimestamp
        | C::InvalidTopic
        | C::BadMessage
        | C::InvalidArgument => ErrorClass::InvalidRecord,
        C::TopicAuthorizationFailed
        | C::ClusterAuthorizationFailed
        | C::TransactionalIdAuthorizationFailed => ErrorClass::NotAuthorized,
        // The service's own credentials were refused: nothing the caller can fix, and nothing
        // is written until the configuration is: the cluster is unavailable to us.
        C::SaslAuthenticationFailed
        | C::Authentication
        | C::AllBrokersDown
        | C::BrokerTransportFailure
        | C::BrokerNotAvailable
        | C::LeaderNotAvailable
        | C::NotLeaderForPartition
        | C::NotEnoughReplicas
        | C::NotEnoughReplicasAfterAppend
        | C::NetworkException
        | C::RequestTimedOut
        | C::NotCoordinator
        | C::CoordinatorNotAvailable
        | C::KafkaStorageError
        | C::Resolve
        | C::OperationTimedOut
        | C::WaitingForCoordinator
        | C::PreviousInProgress
        | C::ThrottlingQuotaExceeded
        | C::FencedLeaderEpoch
        | C::UnknownLeaderEpoch => ErrorClass::Unavailable,
        _ => ErrorClass::Fatal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_a_representative_code() {
        let cases = [
            (RDKafkaErrorCode::QueueFull, ErrorClass::Backpressure),
            (RDKafkaErrorCode::MessageTimedOut, ErrorClass::Timeout),
            (
                RDKafkaErrorCode::UnknownTopicOrPartition,
                ErrorClass::TopicNotFound,
            ),
            (RDKafkaErrorCode::UnknownTopic, ErrorClass::TopicNotFound),
            (
                RDKafkaErrorCode::UnknownPartition,
                ErrorClass::PartitionNotFound,
            ),
            (
                RDKafkaErrorCode::MessageSizeTooLarge,
                ErrorClass::RecordTooLarge,
            ),
            (RDKafkaErrorCode::InvalidRecord, ErrorClass::InvalidRecord),
            (
                RDKafkaErrorCode::TopicAuthorizationFailed,
                ErrorClass::NotAuthorized,
            ),
            (RDKafkaErrorCode::AllBrokersDown, ErrorClass::Unavailable),
            (RDKafkaErrorCode::NotEnoughReplicas, ErrorClass::Unavailable),
            (RDKafkaErrorCode::Fatal, ErrorClass::Fatal),
            (
                RDKafkaErrorCode::OutOfOrderSequenceNumber,
                ErrorClass::Fatal,
            ),
        ];
        for (code, class) in cases {
            let error = SendError::from_kafka(&KafkaError::MessageProduction(code));
            assert_eq!(error.class, class, "{code:?}");
            assert_eq!(error.code, Some(code));
        }
    }
}
