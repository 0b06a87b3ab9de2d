//! The 3-node cluster as the scenarios drive it: topics with replication factor 3, who leads
//! each partition and who is in sync, and bringing stopped or killed nodes back.

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

use crate::scenario::{cluster_name, scripts_kafka};

/// Each partition of `topic` in order: its leader (-1 while there is none) and its in-sync
/// replicas. None while the metadata cannot be had.
pub fn partitions(bootstrap: &str, topic: &str) -> Option<Vec<(i32, Vec<i32>)>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .ok()?;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .ok()?;
    let topic = metadata.topics().first()?;
    let mut out: Vec<(i32, i32, Vec<i32>)> = topic
        .partitions()
        .iter()
        .map(|p| (p.id(), p.leader(), p.isr().to_vec()))
        .collect();
    out.sort_by_key(|(id, _, _)| *id);
    (!out.is_empty()).then(|| out.into_iter().map(|(_, l, isr)| (l, isr)).collect())
}

/// Creates `topic` with `partitions` partitions, each on all three nodes.
pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("admin client");
    let results = admin
        .create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(3))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(20))),
        )
        .await
        .expect("create topic");
    for result in results {
        result.expect("topic created");
    }
}

/// Waits until every partition of `topic` has a leader and all three replicas in sync; returns
/// how long that took. Panics after `limit`.
pub async fn wait_whole(bootstrap: &str, topic: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let whole = partitions(bootstrap, topic).is_some_and(|ps| {
            ps.iter()
                .all(|(leader, isr)| *leader >= 0 && isr.len() == 3)
        });
        if whole {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "{topic}: not every partition led with 3 in-sync replicas within {limit:?}: {:?}",
            partitions(bootstrap, topic)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Starts the cluster's nodes that are not running (a stopped or killed one) and waits for them.
pub async fn start_missing_nodes() {
    let cluster = cluster_name();
    let port = std::env::var("TEST_KAFKA_CLUSTER_PORT").unwrap_or_else(|_| "19392".into());
    tokio::task::spawn_blocking(move || {
        scripts_kafka(&["cluster", "start", "--name", &cluster, "--port", &port])
    })
    .await
    .unwrap();
}
