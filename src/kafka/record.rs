//! What a request becomes before it reaches a producer: a validated topic, a key, a payload and
//! headers, and the two choices the caller makes (producer mode, send mode).

use std::fmt;
use std::sync::Arc;

/// A topic name that Kafka will accept: 1 to 249 of `[a-zA-Z0-9._-]`, and not `.` or `..`.
/// Shared, not copied: the records of a batch and their results hold the same name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicName(Arc<str>);

/// Why a topic name was refused; the text is shown to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidTopicName(pub String);

/// Kafka's own limit (`Topic.MAX_NAME_LENGTH`).
pub const MAX_TOPIC_NAME_LENGTH: usize = 249;

impl TopicName {
    pub fn parse(name: &str) -> Result<Self, InvalidTopicName> {
        if name.is_empty() {
            return Err(InvalidTopicName("topic name is empty".into()));
        }
        if name == "." || name == ".." {
            return Err(InvalidTopicName(format!("topic name {name:?} is reserved")));
        }
        if name.len() > MAX_TOPIC_NAME_LENGTH {
            return Err(InvalidTopicName(format!(
                "topic name is {} characters long; the limit is {MAX_TOPIC_NAME_LENGTH}",
                name.chars().count()
            )));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(InvalidTopicName(format!(
                "topic name contains {bad:?}; only ASCII letters, digits, '.', '_' and '-' are allowed"
            )));
        }
        Ok(TopicName(Arc::from(name)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for TopicName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which of the two shared producers sends the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProducerMode {
    /// `acks=1`, no idempotence: fast, may duplicate on retries.
    Plain,
    /// `acks=all`, idempotence on: no duplicates from retries, order kept per partition.
    Idempotent,
}

impl ProducerMode {
    pub const ALL: [ProducerMode; 2] = [ProducerMode::Plain, ProducerMode::Idempotent];

    /// The idempotent producer when `idempotent`, the plain one otherwise.
    pub fn of(idempotent: bool) -> Self {
        if idempotent {
            ProducerMode::Idempotent
        } else {
            ProducerMode::Plain
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProducerMode::Plain => "plain",
            ProducerMode::Idempotent => "idempotent",
        }
    }
}

/// Whether the caller waits for the broker's acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendMode {
    /// Answer after the acknowledgement, with partition and offset.
    Sync,
    /// Answer once the record is queued; the outcome is counted and logged.
    Async,
}

impl SendMode {
    pub const ALL: [SendMode; 2] = [SendMode::Sync, SendMode::Async];

    /// Async when `asynchronous`, sync otherwise.
    pub fn of(asynchronous: bool) -> Self {
        if asynchronous {
            SendMode::Async
        } else {
            SendMode::Sync
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SendMode::Sync => "sync",
            SendMode::Async => "async",
        }
    }
}

/// The headers every record carries, named as the workshop names them.
pub const HEADER_PRODUCER_MODE: &str = "producer-mode";
pub const HEADER_SEND_MODE: &str = "send-mode";
pub const HEADER_TIMESTAMP: &str = "timestamp";
pub const RESERVED_HEADERS: [&str; 3] = [HEADER_PRODUCER_MODE, HEADER_SEND_MODE, HEADER_TIMESTAMP];

/// A record ready for a producer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRecord {
    pub topic: TopicName,
    pub key: String,
    pub value: Vec<u8>,
    /// The caller's headers, in the order given; the service adds its three when sending.
    pub headers: Vec<(String, Vec<u8>)>,
    /// An explicit partition, or the producer's partitioner (by key) when `None`.
    pub partition: Option<i32>,
}

impl OutgoingRecord {
    /// Bytes of key, value and the caller's headers (names and values).
    pub fn size(&self) -> usize {
        self.key.len()
            + self.value.len()
            + self
                .headers
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_kafka_legal_names() {
        for name in ["test-topic", "a", "A.b_c-9", &"x".repeat(249), "..."] {
            assert_eq!(TopicName::parse(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn refuses_what_kafka_refuses() {
        for name in [
            "",
            ".",
            "..",
            "with space",
            "slash/topic",
            "é",
            "semi;colon",
            &"x".repeat(250),
        ] {
            assert!(
                TopicName::parse(name).is_err(),
                "{name:?} should be refused"
            );
        }
    }
}
