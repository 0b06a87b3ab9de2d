//! Kafka: the producers every request shares, and how records are sent through them.
//!
//! Knows nothing of HTTP, metrics or settings. It defines what it takes: an [`OutgoingRecord`]
//! with a validated [`TopicName`], [`ProducerOptions`] filled by the layers above (each value
//! with its origin, for error messages), and a [`DeliveryObserver`] told of every outcome. It
//! answers with a [`Delivered`] position or a [`SendError`] sorted into an [`ErrorClass`].
//!
//! - `config`: librdkafka properties per producer: the service's defaults, the operator's.
//! - `producers`: the producer pair and, outside Lambda, one more per mode for async sends, built
//!   once (and a plain producer per other `acks` level a request asks for, built on first use);
//!   queue depth, fatal errors, flush.
//! - `pipeline`: enqueue and settle, one path for one record and for many; `report`: each
//!   record's delivery report, handed to its request or counted on arrival (async sends).
//! - `health`: broker reachability and metadata probes; `metadata`: the cluster's id, brokers,
//!   topics and partitions.
//! - `observer`: what the producers report upwards (outcomes, librdkafka statistics).
//! - `record`, `delivery`: the record sent, and the outcome with Kafka errors sorted into classes.
//! - `embedded`: librdkafka's in-process mock cluster; `msk_iam`: Amazon MSK IAM tokens.

mod config;
mod delivery;
pub mod embedded;
mod health;
mod links;
mod metadata;
#[cfg(feature = "msk-iam")]
pub mod msk_iam;
mod observer;
mod pipeline;
mod producers;
mod record;
mod report;

pub use config::{Given, InvalidSetting, Overrides, ProducerOptions};
pub use delivery::{Delivered, ErrorClass, SendError};
pub use metadata::{BrokerInfo, ClusterInfo, PartitionInfo, TopicInfo};
pub use observer::{ClientStats, Delivery, DeliveryObserver};
pub use pipeline::{now_rfc3339, Outcome};
pub use producers::Producers;
pub use record::{
    Acks, IdempotenceNeedsAll, InvalidAcks, InvalidTopicName, OutgoingRecord, ProducerMode,
    SendMode, TopicName, Via, HEADER_PRODUCER_MODE, HEADER_SEND_MODE, HEADER_TIMESTAMP,
    MAX_TOPIC_NAME_LENGTH, RESERVED_HEADERS,
};
