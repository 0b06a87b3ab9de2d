//! `GET /metrics`: the Prometheus text exposition, one registry per service instance.
//!
//! Counters and histograms are updated on the hot path (requests, deliveries); librdkafka's
//! statistics (every `statistics.interval.ms`) and the process's figures are read at scrape time
//! by collectors. The service's own metrics are named `kafka_producer_*`; the process's carry the
//! standard `process_*` names dashboards expect. Label values are bounded: routes are the router's templates,
//! modes, send types, outcomes and error classes are fixed sets, brokers are the cluster's
//! nodes, and a topic is a label only when it is on the configured list (`METRICS_TOPICS`);
//! every other topic counts as `other`.

mod collector;
#[cfg(target_os = "linux")]
mod process;
mod schema_registry;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use self::collector::{Live, LiveCollector};
use self::schema_registry::RegistryFigures;
use crate::kafka::{ClientStats, Delivery};

/// The content type of the classic Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The label of every topic that is not on the configured list.
pub const OTHER_TOPIC: &str = "other";

/// Latency buckets in seconds, 1 ms to 30 s (beyond every `message.timeout.ms` default).
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RecordLabels {
    mode: &'static str,
    send_type: &'static str,
    outcome: &'static str,
    topic: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabels {
    mode: &'static str,
    send_type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BytesLabels {
    mode: &'static str,
    topic: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabels {
    class: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The service's Prometheus registry and the metrics the hot path updates.
pub struct Exposition {
    registry: Registry,
    topics: BTreeSet<String>,
    requests: Family<RequestLabels, Counter>,
    request_duration: Family<RouteLabels, Histogram>,
    records: Family<RecordLabels, Counter>,
    record_bytes: Family<BytesLabels, Counter>,
    delivery_duration: Family<ModeLabels, Histogram>,
    failures: Family<ClassLabels, Counter>,
    rejected: Counter,
    schema_registry: RegistryFigures,
    live: Arc<Live>,
}

impl std::fmt::Debug for Exposition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exposition")
            .field("topics", &self.topics)
            .finish()
    }
}

impl Exposition {
    /// `topics`: the topics that get a label of their own.
    pub fn new(topics: impl IntoIterator<Item = String>) -> Self {
        let mut root = Registry::default();
        #[cfg(target_os = "linux")]
        root.register_collector(Box::new(process::ProcessCollector));
        let registry = root.sub_registry_with_prefix("kafka_producer");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let request_duration =
            Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method",
            request_duration.clone(),
        );
        let records = Family::<RecordLabels, Counter>::default();
        registry.register(
            "records",
            "Records whose outcome is known: delivered (acknowledged by Kafka) or failed",
            records.clone(),
        );
        let record_bytes = Family::<BytesLabels, Counter>::default();
        registry.register(
            "record_bytes",
            "Bytes of the records delivered (key, value and headers)",
            record_bytes.clone(),
        );
        let delivery_duration =
            Family::<ModeLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        registry.register(
            "delivery_duration_seconds",
            "From enqueue to Kafka's acknowledgement, for delivered records",
            delivery_duration.clone(),
        );
        let failures = Family::<ClassLabels, Counter>::default();
        registry.register(
            "failures",
            "Sends that failed, by error class (every mode together)",
            failures.clone(),
        );
        let rejected = Counter::default();
        registry.register(
            "rejected_requests",
            "Send requests refused for bad input before any producer saw them",
            rejected.clone(),
        );
        let schema_registry = RegistryFigures::register(registry);
        let live = Arc::new(Live::default());
        live.reachable
            .store(1, std::sync::atomic::Ordering::Relaxed);
        registry.register_collector(Box::new(LiveCollector(live.clone())));
        Exposition {
            registry: root,
            topics: topics.into_iter().collect(),
            requests,
            request_duration,
            records,
            record_bytes,
            delivery_duration,
            failures,
            rejected,
            schema_registry,
            live,
        }
    }

    /// The topic's label: itself when configured, `other` otherwise.
    fn topic_label(&self, topic: &str) -> String {
        if self.topics.contains(topic) {
            topic.to_string()
        } else {
            OTHER_TOPIC.to_string()
        }
    }

    pub fn request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                method: method.to_string(),
                status: status.to_string(),
            })
            .inc();
        self.request_duration
            .get_or_create(&RouteLabels {
                route: route.to_string(),
                method: method.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Records of one mode and topic delivered together, with their bytes and latency.
    pub fn delivered(
        &self,
        mode: &'static str,
        send_type: &'static str,
        topic: &str,
        delivery: Delivery,
    ) {
        let topic = self.topic_label(topic);
        self.records
            .get_or_create(&RecordLabels {
                mode,
                send_type,
                outcome: "delivered",
                topic: topic.clone(),
            })
            .inc_by(delivery.records as u64);
        self.record_bytes
            .get_or_create(&BytesLabels { mode, topic })
            .inc_by(delivery.bytes as u64);
        let histogram = self
            .delivery_duration
            .get_or_create(&ModeLabels { mode, send_type });
        for _ in 0..delivery.records {
            histogram.observe(delivery.latency.as_secs_f64());
        }
    }

    pub fn failed(
        &self,
        mode: &'static str,
        send_type: &'static str,
        topic: &str,
        class: &'static str,
    ) {
        self.records
            .get_or_create(&RecordLabels {
                mode,
                send_type,
                outcome: "failed",
                topic: self.topic_label(topic),
            })
            .inc();
        self.failures.get_or_create(&ClassLabels { class }).inc();
    }

    /// A schema lookup answered from the cache (`hit`) or not.
    pub fn schema_cached(&self, lookup: &'static str, hit: bool) {
        self.schema_registry.cached(lookup, hit);
    }

    /// A call to the Schema Registry.
    pub fn schema_called(&self, lookup: &'static str, outcome: &'static str, elapsed: Duration) {
        self.schema_registry.called(lookup, outcome, elapsed);
    }

    pub fn rejected_request(&self) {
        self.rejected.inc();
    }

    /// Keeps a producer's latest librdkafka statistics for the next scrape. Round trips and
    /// batch sizes are averages over the last interval, empty when nothing was sent: the last
    /// interval that had traffic is kept then, for brokers still connected (a broker that is
    /// down or gone loses its figure).
    pub fn client_stats(&self, producer: &'static str, mut stats: ClientStats) {
        if let Ok(mut clients) = self.live.clients.lock() {
            if let Some(previous) = clients.get(producer) {
                for (broker, rtt) in &previous.broker_rtt_seconds {
                    if stats.up_brokers.contains(broker) {
                        stats
                            .broker_rtt_seconds
                            .entry(broker.clone())
                            .or_insert(*rtt);
                    }
                }
                if stats.batch_records == 0.0 {
                    stats.batch_bytes = previous.batch_bytes;
                    stats.batch_records = previous.batch_records;
                }
            }
            clients.insert(producer, stats);
        }
    }

    pub fn set_reachable(&self, reachable: bool) {
        self.live
            .reachable
            .store(u64::from(reachable), std::sync::atomic::Ordering::Relaxed);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, line_start: &str) -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn counts_appear_with_bounded_labels() {
        let e = Exposition::new(["orders".to_string()]);
        e.delivered(
            "plain",
            "sync",
            "orders",
            Delivery {
                records: 1,
                bytes: 10,
                latency: Duration::from_millis(3),
            },
        );
        e.delivered(
            "plain",
            "sync",
            "user-1234",
            Delivery {
                records: 1,
                bytes: 5,
                latency: Duration::from_millis(3),
            },
        );
        e.failed("idempotent", "async", "secret-topic", "timeout");
        e.request("/api/v1/send", "POST", 200, Duration::from_millis(4));
        let up = |brokers: &[&str]| ClientStats {
            broker_rtt_seconds: brokers.iter().map(|b| (b.to_string(), 0.002)).collect(),
            up_brokers: brokers.iter().map(|b| b.to_string()).collect(),
            ..ClientStats::default()
        };
        e.client_stats("plain", up(&["b1:9092", "b2:9092"]));
        // b1 idle this interval (kept), b2 down (dropped).
        e.client_stats(
            "plain",
            ClientStats {
                up_brokers: ["b1:9092".to_string()].into(),
                ..ClientStats::default()
            },
        );
        let text = e.render();
        assert_eq!(
            value(&text, "kafka_producer_records_total{mode=\"plain\",send_type=\"sync\",outcome=\"delivered\",topic=\"orders\"}"),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            value(&text, "kafka_producer_records_total{mode=\"plain\",send_type=\"sync\",outcome=\"delivered\",topic=\"other\"}"),
            Some(1.0),
            "{text}"
        );
        assert!(
            !text.contains("user-1234") && !text.contains("secret-topic"),
            "{text}"
        );
        assert_eq!(
            value(&text, "kafka_producer_failures_total{class=\"timeout\"}"),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                "kafka_producer_record_bytes_total{mode=\"plain\",topic=\"orders\"}"
            ),
            Some(10.0)
        );
        assert_eq!(
            value(&text, "kafka_producer_http_requests_total{route=\"/api/v1/send\",method=\"POST\",status=\"200\"}"),
            Some(1.0)
        );
        assert!(
            text.contains("kafka_producer_delivery_duration_seconds_bucket{"),
            "{text}"
        );
        assert!(value(&text, "process_resident_memory_bytes").unwrap() > 0.0);
        assert!(value(&text, "process_open_fds").unwrap() > 0.0);
        assert_eq!(
            value(&text, "kafka_producer_librdkafka_broker_rtt_seconds{producer=\"plain\",broker=\"b1:9092\"}"),
            Some(0.002),
            "{text}"
        );
        assert!(
            !text.contains("b2:9092"),
            "a broker that is down keeps no round trip: {text}"
        );
    }
}
