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

/// How many replicas must have a record before the broker acknowledges it: the workshop's three
/// levels (fire and forget, the leader, all in-sync replicas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Acks {
    /// `acks=0`: the producer does not wait for the broker; no offset comes back.
    None,
    /// `acks=1`: the partition leader has it.
    Leader,
    /// `acks=all`: every in-sync replica has it.
    All,
}

/// Why an `acks` value was refused; the text is shown to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("acks must be 0, 1 or all (or -1), not {0:?}")]
pub struct InvalidAcks(pub String);

impl Acks {
    pub const ALL: [Acks; 3] = [Acks::None, Acks::Leader, Acks::All];

    /// `0`, `1`, `all` or `-1` (librdkafka's and Kafka's spellings).
    pub fn parse(value: &str) -> Result<Self, InvalidAcks> {
        match value.trim() {
            "0" => Ok(Acks::None),
            "1" => Ok(Acks::Leader),
            "all" | "ALL" | "All" | "-1" => Ok(Acks::All),
            other => Err(InvalidAcks(other.to_owned())),
        }
    }

    /// The value of librdkafka's `acks` property.
    pub fn as_str(self) -> &'static str {
        match self {
            Acks::None => "0",
            Acks::Leader => "1",
            Acks::All => "all",
        }
    }
}

/// The producer a record goes through: the mode, and the acknowledgement asked for when the
/// request names one (`None`: the mode's configured `acks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Via {
    pub mode: ProducerMode,
    pub acks: Option<Acks>,
}

/// Idempotence needs every in-sync replica's acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the idempotent producer needs acks=all; ask for acks={} with the plain producer (isIdempotent false)", .0.as_str())]
pub struct IdempotenceNeedsAll(pub Acks);

impl Via {
    /// The producer for `mode` with `acks`, if idempotence allows it.
    pub fn new(mode: ProducerMode, acks: Option<Acks>) -> Result<Self, IdempotenceNeedsAll> {
        match (mode, acks) {
            (ProducerMode::Idempotent, Some(acks @ (Acks::None | Acks::Leader))) => {
                Err(IdempotenceNeedsAll(acks))
            }
            _ => Ok(Via { mode, acks }),
        }
    }

    /// The mode's producer as configured.
    pub fn of(mode: ProducerMode) -> Self {
        Via { mode, acks: None }
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
    /// `None`: a record without a key (the partitioner spreads such records).
    pub key: Option<Vec<u8>>,
    /// `None`: a record without a value (a tombstone on a compacted topic).
    pub value: Option<Vec<u8>>,
    /// The caller's headers, in the order given (a header may have no value); the service adds
    /// its three when sending, except those the caller gave.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// An explicit partition, or the producer's partitioner (by key) when `None`.
    pub partition: Option<i32>,
    /// The record's timestamp in milliseconds since the epoch; `None`: when it is produced.
    pub timestamp: Option<i64>,
}

impl OutgoingRecord {
    /// Bytes of key, value and the caller's headers (names and values).
    pub fn size(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len)
            + self.value.as_ref().map_or(0, Vec::len)
            + self
                .headers
                .iter()
                .map(|(n, v)| n.len() + v.as_ref().map_or(0, Vec::len))
                .sum::<usize>()
    }

    /// The key as text, for answers that echo it (the service's own API takes text keys).
    pub fn key_text(&self) -> Option<String> {
        self.key
            .as_deref()
            .map(|k| String::from_utf8_lossy(k).into_owned())
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
    fn acks_are_read_in_every_spelling_and_idempotence_needs_all() {
        assert_eq!(Acks::parse("0"), Ok(Acks::None));
        assert_eq!(Acks::parse("1"), Ok(Acks::Leader));
        assert_eq!(Acks::parse("all"), Ok(Acks::All));
        assert_eq!(Acks::parse("-1"), Ok(Acks::All));
        assert!(Acks::parse("2").is_err());
        assert!(Acks::parse("").is_err());
        for acks in [Acks::None, Acks::Leader] {
            assert!(Via::new(ProducerMode::Idempotent, Some(acks)).is_err());
            assert!(Via::new(ProducerMode::Plain, Some(acks)).is_ok());
        }
        assert!(Via::new(ProducerMode::Idempotent, Some(Acks::All)).is_ok());
        assert!(Via::new(ProducerMode::Idempotent, None).is_ok());
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
