//! What the cluster says about itself: its id, its brokers, its topics and their partitions, as
//! the REST proxies' clients ask before producing. Read from the brokers' metadata through the
//! idempotent producer's connections; asking never creates a topic.

use std::time::Duration;

use rdkafka::producer::Producer;

use super::delivery::{ErrorClass, SendError};
use super::producers::Producers;

/// A broker of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: i32,
}

/// A partition: its leader and replicas by broker id (`leader` -1 when it has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    pub id: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub in_sync: Vec<i32>,
}

/// A topic and its partitions, in partition order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    pub name: String,
    pub partitions: Vec<PartitionInfo>,
}

/// The cluster as its metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    pub brokers: Vec<BrokerInfo>,
    /// Every topic, by name (internal ones too: the caller filters).
    pub topics: Vec<TopicInfo>,
}

impl Producers {
    /// The cluster's id (KRaft's `cluster.id`), asked once and kept.
    pub async fn cluster_id(&self, timeout: Duration) -> Result<String, SendError> {
        if let Some(id) = self.inner.cluster_id.get() {
            return Ok(id.clone());
        }
        let this = self.clone();
        let id = tokio::task::spawn_blocking(move || {
            this.inner
                .idempotent
                .producer
                .client()
                .fetch_cluster_id(timeout)
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(|| {
            SendError::new(
                ErrorClass::Unavailable,
                "the cluster did not say its id in time",
            )
        })?;
        Ok(self.inner.cluster_id.get_or_init(|| id).clone())
    }

    /// The cluster's brokers and topics, sorted by id and name.
    pub async fn cluster(&self, timeout: Duration) -> Result<ClusterInfo, SendError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.cluster_blocking(timeout))
            .await
            .unwrap_or_else(|_| Err(SendError::new(ErrorClass::Fatal, "metadata task failed")))
    }

    fn cluster_blocking(&self, timeout: Duration) -> Result<ClusterInfo, SendError> {
        let metadata = self
            .inner
            .idempotent
            .producer
            .client()
            .fetch_metadata(None, timeout)
            .map_err(|e| {
                let mut error = SendError::from_kafka(&e);
                error.class = ErrorClass::Unavailable;
                error
            })?;
        let mut brokers: Vec<BrokerInfo> = metadata
            .brokers()
            .iter()
            .map(|b| BrokerInfo {
                id: b.id(),
                host: b.host().to_owned(),
                port: b.port(),
            })
            .collect();
        brokers.sort_by_key(|b| b.id);
        let mut topics: Vec<TopicInfo> = metadata
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .map(|t| {
                let mut partitions: Vec<PartitionInfo> = t
                    .partitions()
                    .iter()
                    .map(|p| PartitionInfo {
                        id: p.id(),
                        leader: p.leader(),
                        replicas: p.replicas().to_vec(),
                        in_sync: p.isr().to_vec(),
                    })
                    .collect();
                partitions.sort_by_key(|p| p.id);
                TopicInfo {
                    name: t.name().to_owned(),
                    partitions,
                }
            })
            .collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(ClusterInfo { brokers, topics })
    }
}
