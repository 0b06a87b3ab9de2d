//! What the producers tell the layers above: each settled record and librdkafka's periodic
//! statistics. The service's metrics implement [`DeliveryObserver`]; this module knows nothing
//! of them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::delivery::ErrorClass;
use super::record::{ProducerMode, SendMode};

/// Records acknowledged together (a batch's, or one): how many, their bytes (keys, values and
/// the caller's headers), and the latency of each, from the request's start to the last report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub records: usize,
    pub bytes: usize,
    pub latency: Duration,
}

/// Told of every record once its outcome is known, and of each producer's statistics.
pub trait DeliveryObserver: Send + Sync + 'static {
    /// Records of one mode, send type and topic acknowledged by Kafka.
    fn delivered(&self, mode: ProducerMode, send: SendMode, topic: &str, delivery: Delivery);

    /// A record that was not delivered, and why.
    fn failed(&self, mode: ProducerMode, send: SendMode, topic: &str, class: ErrorClass);

    /// librdkafka's statistics of one producer (every `statistics.interval.ms`).
    fn client_stats(&self, mode: ProducerMode, stats: ClientStats);
}

/// The figures kept from one librdkafka statistics report of one producer.
#[derive(Debug, Clone, Default)]
pub struct ClientStats {
    /// Records in the producer's queues, and their bytes.
    pub queued_records: u64,
    pub queued_bytes: u64,
    /// Requests sent and awaiting an answer, over all brokers.
    pub in_flight_requests: i64,
    /// Retried requests and requests timed out, over all brokers (since start).
    pub retries: u64,
    pub request_timeouts: u64,
    /// Average round trip per broker (`host:port`), in seconds.
    pub broker_rtt_seconds: BTreeMap<String, f64>,
    /// The brokers connected (state `UP`) at this report.
    pub up_brokers: BTreeSet<String>,
    /// Average batch size over the topics produced to, in bytes and in records.
    pub batch_bytes: f64,
    pub batch_records: f64,
}

impl ClientStats {
    pub fn of(statistics: &rdkafka::Statistics) -> Self {
        let brokers = statistics.brokers.values().filter(|b| b.nodeid >= 0);
        let mut stats = ClientStats {
            queued_records: statistics.msg_cnt,
            queued_bytes: statistics.msg_size,
            ..ClientStats::default()
        };
        for broker in brokers {
            if broker.state == "UP" {
                stats.up_brokers.insert(broker.nodename.clone());
            }
            stats.in_flight_requests += broker.waitresp_cnt;
            stats.retries += broker.txretries;
            stats.request_timeouts += broker.req_timeouts;
            if let Some(rtt) = &broker.rtt {
                if rtt.cnt > 0 {
                    stats
                        .broker_rtt_seconds
                        .insert(broker.nodename.clone(), rtt.avg as f64 / 1_000_000.0);
                }
            }
        }
        let batches: Vec<_> = statistics
            .topics
            .values()
            .filter(|t| t.batchsize.cnt > 0)
            .collect();
        if !batches.is_empty() {
            let n = batches.len() as f64;
            stats.batch_bytes = batches.iter().map(|t| t.batchsize.avg as f64).sum::<f64>() / n;
            stats.batch_records = batches.iter().map(|t| t.batchcnt.avg as f64).sum::<f64>() / n;
        }
        stats
    }
}
