//! Whether the cluster can be reached: librdkafka's "all brokers down" signal, metadata probes,
//! and the watch that notices a recovered cluster without waiting for a request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::Producer;

use super::delivery::{ErrorClass, SendError};
use super::links::Links;
use super::producers::{Inner, KafkaProducer, Producers};
use super::record::ProducerMode;

/// What the service knows about reaching the cluster, fed by librdkafka's error callback and by
/// metadata probes.
#[derive(Debug, Default)]
pub struct BrokerHealth {
    /// librdkafka said every broker connection is down, and no probe has succeeded since.
    all_down: AtomicBool,
    /// One probe at a time; the last one's time and result, shared by requests that arrive
    /// while the cluster is down so that a flood does not become a flood of probes.
    last_probe: tokio::sync::Mutex<Option<(Instant, bool)>>,
    /// What each producer's latest statistics said of each broker.
    links: Links,
}

impl BrokerHealth {
    pub fn is_down(&self) -> bool {
        self.all_down.load(Ordering::Relaxed)
    }

    pub(super) fn set(&self, reachable: bool) {
        self.all_down.store(!reachable, Ordering::Relaxed);
    }

    /// Takes in one producer's statistics report.
    pub(super) fn observe(&self, statistics: &rdkafka::Statistics) {
        self.links.observe(statistics);
    }

    /// The brokers some producer fails to reach and none has received from since its previous
    /// report, by node id.
    pub fn unreachable(&self) -> Vec<i32> {
        self.links.unreachable()
    }
}

impl Producers {
    /// Asks the cluster for its metadata (brokers and the topics this client knows; no topic is
    /// created) through every producer at once; the first answer counts. A broker answers the
    /// requests of one connection in order, so a producer's connection can be held up behind
    /// a send the broker keeps waiting (an `acks=all` record while replicas are missing, up to
    /// the request's timeout): another producer's connection then answers.
    pub async fn probe(&self, timeout: Duration) -> Result<usize, SendError> {
        let probes: Vec<_> = [
            (ProducerMode::Plain, false),
            (ProducerMode::Idempotent, false),
            (ProducerMode::Plain, true),
            (ProducerMode::Idempotent, true),
        ]
        .into_iter()
        .filter(|&(mode, for_async)| {
            !for_async || self.inner.batching[mode as usize].get().is_some()
        })
        .map(|(mode, for_async)| {
            let this = self.clone();
            Box::pin(async move {
                tokio::task::spawn_blocking(move || {
                    let producer = match this.inner.batching[mode as usize].get() {
                        Some(batching) if for_async => &batching.producer,
                        _ => &this.mode(mode).producer,
                    };
                    probe_brokers(producer, timeout)
                })
                .await
                .unwrap_or_else(|_| Err(SendError::new(ErrorClass::Fatal, "probe task failed")))
            })
        })
        .collect();
        let result = futures_util::future::select_ok(probes)
            .await
            .map(|(brokers, _)| brokers);
        self.inner.health.set(result.is_ok());
        result
    }

    /// Connects every producer (the modes' own and their async ones) to the cluster before the
    /// first request, at most `timeout` in all. A first metadata request through the bootstrap servers names the brokers (librdkafka
    /// then drops its bootstrap connection); a second one opens the connection to a named
    /// broker, which a first record would otherwise wait for until a timer of librdkafka's
    /// retries (`retry.backoff.ms`, 500 ms or more), and on which the idempotent producer asks
    /// for its producer id. Returns whether the cluster answered; one that does not is left to
    /// the requests (and to `/health/ready`).
    pub async fn warm_up(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let warm = |mode: ProducerMode, for_async: bool| {
            let this = self.clone();
            tokio::task::spawn_blocking(move || {
                let producer = if for_async {
                    match this.inner.batching[mode as usize].get() {
                        Some(producer) => &producer.producer,
                        None => return true,
                    }
                } else {
                    &this.mode(mode).producer
                };
                (0..2).all(|_| {
                    let left = deadline.saturating_duration_since(Instant::now());
                    probe_brokers(producer, left).is_ok()
                })
            })
        };
        let warmed = futures_util::future::join_all([
            warm(ProducerMode::Plain, false),
            warm(ProducerMode::Idempotent, false),
            warm(ProducerMode::Plain, true),
            warm(ProducerMode::Idempotent, true),
        ])
        .await;
        let warm = warmed.into_iter().all(|w| w.unwrap_or(false));
        // A cluster slower than the warm-up (TLS, IAM tokens) is not called down for it: only
        // librdkafka's "all brokers down" does that.
        if warm {
            self.inner.health.set(true);
        }
        warm
    }

    /// Whether librdkafka says no broker can be reached.
    pub fn is_unreachable(&self) -> bool {
        self.inner.health.is_down()
    }

    /// The brokers (node ids) the producers want to reach and cannot, by their latest
    /// statistics (every `statistics.interval.ms`): a cluster that still answers metadata
    /// through one node while others are down or cut off.
    pub fn unreachable_brokers(&self) -> Vec<i32> {
        self.inner.health.unreachable()
    }

    /// While librdkafka says every broker is down, requests do not queue records that would only
    /// time out: one probe at a time (reused for half a second) decides whether to try.
    pub(super) async fn reachable(&self) -> bool {
        if !self.inner.health.is_down() {
            return true;
        }
        let mut last = self.inner.health.last_probe.lock().await;
        if let Some((at, reachable)) = *last {
            if at.elapsed() < Duration::from_millis(500) {
                return reachable;
            }
        }
        let reachable = self.probe(Duration::from_millis(500)).await.is_ok();
        *last = Some((Instant::now(), reachable));
        reachable
    }

    /// Clears the "all brokers down" flag once the cluster answers again, so that a recovered
    /// cluster is noticed without waiting for a request.
    pub(super) fn spawn_health_watch(&self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        handle.spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let Some(inner) = weak.upgrade() else { return };
                if inner.health.is_down() {
                    let producers = Producers { inner };
                    let _ = producers.probe(Duration::from_secs(1)).await;
                }
            }
        });
    }
}

fn probe_brokers(producer: &KafkaProducer, timeout: Duration) -> Result<usize, SendError> {
    use rdkafka::bindings as rd;
    let mut metadata: *const rd::rd_kafka_metadata = std::ptr::null();
    let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: the client pointer is valid while `producer` is borrowed. With `all_topics = 0`
    // and no topic handle, librdkafka asks a broker for the brokers and the topics this client
    // already knows, so no topic is auto-created; the result is freed right after reading it.
    let (err, brokers) = unsafe {
        let err = rd::rd_kafka_metadata(
            producer.client().native_ptr(),
            0,
            std::ptr::null_mut(),
            &mut metadata,
            timeout_ms,
        );
        let brokers = if metadata.is_null() {
            0
        } else {
            let count = usize::try_from((*metadata).broker_cnt).unwrap_or(0);
            rd::rd_kafka_metadata_destroy(metadata);
            count
        };
        (err, brokers)
    };
    let code = RDKafkaErrorCode::from(err);
    if code != RDKafkaErrorCode::NoError {
        return Err(SendError {
            class: ErrorClass::Unavailable,
            code: Some(code),
            message: format!("the cluster did not answer a metadata request: {code}"),
        });
    }
    if brokers == 0 {
        return Err(SendError::new(
            ErrorClass::Unavailable,
            "the cluster answered with no broker",
        ));
    }
    Ok(brokers)
}
