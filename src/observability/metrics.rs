//! Counters and latency histograms for the records the service sends.
//!
//! Written by the delivery path (every outcome, sync or async) and by the HTTP layer (requests
//! refused before a producer saw them); read by `/api/v1/metrics`. Cheap on the hot path: atomics,
//! and one short-held lock per record for the latency histogram.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use utoipa::ToSchema;

use super::prometheus::Exposition;
use super::rate::LastMinute;
use crate::kafka::{ClientStats, Delivery, DeliveryObserver, ErrorClass, ProducerMode, SendMode};

/// One counter set for each (producer mode, send mode) pair.
struct Slot {
    delivered: AtomicU64,
    failed: AtomicU64,
    delivered_last_minute: LastMinute,
    failed_last_minute: LastMinute,
    /// Enqueue → acknowledgement, in microseconds.
    delivery_latency: Mutex<Histogram<u64>>,
}

impl Slot {
    fn new() -> Self {
        Slot {
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            delivered_last_minute: LastMinute::new(),
            failed_last_minute: LastMinute::new(),
            // 1 µs to 10 min, 3 significant figures: a few tens of KiB per slot.
            delivery_latency: Mutex::new(
                Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds"),
            ),
        }
    }
}

pub struct Metrics {
    started: Instant,
    slots: [Slot; 4],
    /// Failures by error class, for every mode together.
    failures_by_class: Mutex<BTreeMap<&'static str, u64>>,
    /// Send requests refused for bad input before any producer saw them.
    rejected_requests: AtomicU64,
    /// The same figures and more, for Prometheus (`GET /metrics`).
    exposition: Exposition,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn slot_index(mode: ProducerMode, send: SendMode) -> usize {
    let m = match mode {
        ProducerMode::Plain => 0,
        ProducerMode::Idempotent => 1,
    };
    let s = match send {
        SendMode::Sync => 0,
        SendMode::Async => 1,
    };
    m * 2 + s
}

impl Metrics {
    pub fn new() -> Self {
        Self::with_topics(Vec::new())
    }

    /// `topics`: the topics that get a Prometheus label of their own (`METRICS_TOPICS`).
    pub fn with_topics(topics: Vec<String>) -> Self {
        Metrics {
            started: Instant::now(),
            slots: [Slot::new(), Slot::new(), Slot::new(), Slot::new()],
            failures_by_class: Mutex::new(BTreeMap::new()),
            rejected_requests: AtomicU64::new(0),
            exposition: Exposition::new(topics),
        }
    }

    pub fn exposition(&self) -> &Exposition {
        &self.exposition
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Whole seconds since start: the rate windows' clock.
    fn second(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    pub fn record_rejected_request(&self) {
        self.exposition.rejected_request();
        self.rejected_requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let mut per_mode = Vec::with_capacity(4);
        let mut totals = Counts::default();
        let mut total_rates = Rates::default();
        let now = self.second();
        for mode in ProducerMode::ALL {
            for send in SendMode::ALL {
                let slot = &self.slots[slot_index(mode, send)];
                let counts = Counts {
                    delivered: slot.delivered.load(Ordering::Relaxed),
                    failed: slot.failed.load(Ordering::Relaxed),
                };
                totals.delivered += counts.delivered;
                totals.failed += counts.failed;
                let rates = Rates {
                    delivered_per_second: slot.delivered_last_minute.per_second(now),
                    failed_per_second: slot.failed_last_minute.per_second(now),
                };
                total_rates.delivered_per_second += rates.delivered_per_second;
                total_rates.failed_per_second += rates.failed_per_second;
                let latency = slot
                    .delivery_latency
                    .lock()
                    .map(|h| LatencyMs::of(&h))
                    .unwrap_or_default();
                per_mode.push(ModeFigures {
                    mode: mode.as_str(),
                    send_type: send.as_str(),
                    delivered: counts.delivered,
                    failed: counts.failed,
                    rates_last_minute: rates,
                    delivery_latency_ms: latency,
                });
            }
        }
        MetricsSnapshot {
            uptime_seconds: self.uptime().as_secs_f64(),
            totals,
            rates_last_minute: total_rates,
            per_mode,
            failures_by_class: self
                .failures_by_class
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
            rejected_requests: self.rejected_requests.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct Counts {
    pub delivered: u64,
    pub failed: u64,
}

/// Records per second over the last minute.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Rates {
    pub delivered_per_second: f64,
    pub failed_per_second: f64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema, PartialEq)]
pub struct LatencyMs {
    pub count: u64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl LatencyMs {
    fn of(h: &Histogram<u64>) -> Self {
        let ms = |micros: u64| micros as f64 / 1000.0;
        LatencyMs {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.50)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModeFigures {
    pub mode: &'static str,
    pub send_type: &'static str,
    pub delivered: u64,
    pub failed: u64,
    pub rates_last_minute: Rates,
    pub delivery_latency_ms: LatencyMs,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsSnapshot {
    pub uptime_seconds: f64,
    pub totals: Counts,
    pub rates_last_minute: Rates,
    pub per_mode: Vec<ModeFigures>,
    pub failures_by_class: BTreeMap<&'static str, u64>,
    pub rejected_requests: u64,
}

/// The producers report every outcome here.
impl crate::schema::RegistryObserver for Metrics {
    fn cached(&self, lookup: &'static str, hit: bool) {
        self.exposition.schema_cached(lookup, hit);
    }

    fn called(&self, lookup: &'static str, outcome: &'static str, elapsed: Duration) {
        self.exposition.schema_called(lookup, outcome, elapsed);
    }
}

impl DeliveryObserver for Metrics {
    /// Records of one mode and topic acknowledged by Kafka (a request's): labels are looked up
    /// once, not once a record.
    fn delivered(&self, mode: ProducerMode, send: SendMode, topic: &str, delivery: Delivery) {
        let count = delivery.records as u64;
        self.exposition
            .delivered(mode.as_str(), send.as_str(), topic, delivery);
        let slot = &self.slots[slot_index(mode, send)];
        slot.delivered.fetch_add(count, Ordering::Relaxed);
        slot.delivered_last_minute.add_n(self.second(), count);
        if let Ok(mut histogram) = slot.delivery_latency.lock() {
            let micros = u64::try_from(delivery.latency.as_micros())
                .unwrap_or(u64::MAX)
                .max(1);
            histogram.saturating_record_n(micros, count);
        }
    }

    fn failed(&self, mode: ProducerMode, send: SendMode, topic: &str, class: ErrorClass) {
        self.exposition
            .failed(mode.as_str(), send.as_str(), topic, class.as_str());
        let slot = &self.slots[slot_index(mode, send)];
        slot.failed.fetch_add(1, Ordering::Relaxed);
        slot.failed_last_minute.add(self.second());
        if let Ok(mut by_class) = self.failures_by_class.lock() {
            *by_class.entry(class.as_str()).or_default() += 1;
        }
    }

    fn client_stats(&self, mode: ProducerMode, stats: ClientStats) {
        self.exposition.client_stats(mode.as_str(), stats);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_percentiles_follow_what_was_recorded() {
        let m = Metrics::new();
        for ms in 1..=100 {
            m.delivered(
                ProducerMode::Plain,
                SendMode::Sync,
                "t",
                Delivery {
                    records: 1,
                    bytes: 10,
                    latency: Duration::from_millis(ms),
                },
            );
        }
        m.failed(
            ProducerMode::Idempotent,
            SendMode::Async,
            "t",
            ErrorClass::Timeout,
        );
        let s = m.snapshot();
        assert_eq!(
            s.totals,
            Counts {
                delivered: 100,
                failed: 1
            }
        );
        assert!((s.rates_last_minute.delivered_per_second - 100.0 / 60.0).abs() < 1e-9);
        assert!((s.rates_last_minute.failed_per_second - 1.0 / 60.0).abs() < 1e-9);
        let plain_sync = &s.per_mode[0];
        assert_eq!((plain_sync.mode, plain_sync.send_type), ("plain", "sync"));
        assert_eq!(plain_sync.delivery_latency_ms.count, 100);
        assert!((plain_sync.delivery_latency_ms.p50 - 50.0).abs() < 0.5);
        assert!((plain_sync.delivery_latency_ms.p99 - 99.0).abs() < 0.5);
        let idem_async = &s.per_mode[3];
        assert_eq!(
            (idem_async.mode, idem_async.send_type),
            ("idempotent", "async")
        );
        assert_eq!(idem_async.failed, 1);
        assert_eq!(s.failures_by_class.get("timeout"), Some(&1));
    }

    #[test]
    fn a_batch_counts_as_its_records() {
        let m = Metrics::new();
        m.delivered(
            ProducerMode::Idempotent,
            SendMode::Sync,
            "t",
            Delivery {
                records: 40,
                bytes: 4000,
                latency: Duration::from_millis(20),
            },
        );
        let s = m.snapshot();
        assert_eq!(s.totals.delivered, 40);
        let idem_sync = &s.per_mode[2];
        assert_eq!(idem_sync.delivered, 40);
        assert_eq!(idem_sync.delivery_latency_ms.count, 40);
        assert!((idem_sync.delivery_latency_ms.p50 - 20.0).abs() < 0.5);
        let text = m.exposition().render();
        assert!(
            text.lines()
                .any(|l| l.starts_with("kafka_producer_records_total{")
                    && l.contains("outcome=\"delivered\"")
                    && l.ends_with(" 40")),
            "{text}"
        );
    }
}
