//! What is read at scrape time: librdkafka's latest statistics per producer and broker
//! reachability (under the service's prefix), and the helpers that encode a family of constant
//! values.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::kafka::ClientStats;

/// What the collector reads at scrape time.
#[derive(Debug, Default)]
pub(super) struct Live {
    /// The last statistics report of each producer, by producer mode.
    pub(super) clients: Mutex<BTreeMap<&'static str, ClientStats>>,
    /// Whether the service can reach a broker (1) or not (0), as the producers last saw it.
    pub(super) reachable: AtomicU64,
}

#[derive(Debug)]
pub(super) struct LiveCollector(pub(super) Arc<Live>);

/// A gauge or counter of one value per label set.
pub(super) fn encode_each<L: EncodeLabelSet, M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    values: impl IntoIterator<Item = (L, M)>,
) -> Result<(), std::fmt::Error> {
    let mut values = values.into_iter().peekable();
    let Some((_, first)) = values.peek() else {
        return Ok(());
    };
    let mut family = encoder.encode_descriptor(name, help, None, first.metric_type())?;
    for (labels, metric) in values {
        metric.encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

/// A gauge or counter without labels.
pub(super) fn encode_one(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    metric: impl EncodeMetric,
) -> Result<(), std::fmt::Error> {
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

impl Collector for LiveCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let clients = self.0.clients.lock().map(|c| c.clone()).unwrap_or_default();
        let per_producer = |f: fn(&ClientStats) -> f64| {
            clients
                .iter()
                .map(move |(mode, s)| ([("producer", *mode)], ConstGauge::new(f(s))))
                .collect::<Vec<_>>()
        };
        encode_each(
            &mut encoder,
            "librdkafka_queued_records",
            "Records in the producer's queues (librdkafka msg_cnt)",
            per_producer(|s| s.queued_records as f64),
        )?;
        encode_each(
            &mut encoder,
            "librdkafka_queued_bytes",
            "Bytes of the records in the producer's queues (librdkafka msg_size)",
            per_producer(|s| s.queued_bytes as f64),
        )?;
        encode_each(
            &mut encoder,
            "librdkafka_in_flight_requests",
            "Requests sent to brokers and awaiting an answer",
            per_producer(|s| s.in_flight_requests as f64),
        )?;
        encode_each(
            &mut encoder,
            "librdkafka_batch_size_bytes",
            "Average size of the batches sent, in bytes",
            per_producer(|s| s.batch_bytes),
        )?;
        encode_each(
            &mut encoder,
            "librdkafka_batch_size_records",
            "Average number of records in the batches sent",
            per_producer(|s| s.batch_records),
        )?;
        encode_each(
            &mut encoder,
            "librdkafka_retries",
            "Requests retried by librdkafka since start",
            clients
                .iter()
                .map(|(mode, s)| ([("producer", *mode)], ConstCounter::new(s.retries))),
        )?;
        encode_each(
            &mut encoder,
            "librdkafka_request_timeouts",
            "Requests timed out by librdkafka since start",
            clients
                .iter()
                .map(|(mode, s)| ([("producer", *mode)], ConstCounter::new(s.request_timeouts))),
        )?;
        encode_each(
            &mut encoder,
            "librdkafka_broker_rtt_seconds",
            "Average round trip to each broker",
            clients.iter().flat_map(|(mode, s)| {
                s.broker_rtt_seconds.iter().map(move |(broker, rtt)| {
                    (
                        [("producer", mode.to_string()), ("broker", broker.clone())],
                        ConstGauge::new(*rtt),
                    )
                })
            }),
        )?;
        encode_one(
            &mut encoder,
            "kafka_reachable",
            "1 when the producers reach a broker, 0 when none answers",
            ConstGauge::new(self.0.reachable.load(std::sync::atomic::Ordering::Relaxed) as i64),
        )?;
        Ok(())
    }
}
