//! The two producers every request shares, and how a record is sent through them.
//!
//! `Producers` is built once at start-up (or in Lambda's init phase) and cloned into the HTTP
//! state; cloning is an `Arc` bump. This module knows nothing of HTTP: it takes an
//! [`OutgoingRecord`] and answers with a [`Delivered`] position or a classified [`SendError`].

mod delivery;
pub mod embedded;
#[cfg(feature = "msk-iam")]
pub mod msk_iam;
mod record;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};

pub use delivery::{Delivered, ErrorClass, SendError};
pub use record::{
    InvalidTopicName, OutgoingRecord, ProducerMode, SendMode, TopicName, HEADER_PRODUCER_MODE,
    HEADER_SEND_MODE, HEADER_TIMESTAMP, MAX_TOPIC_NAME_LENGTH, RESERVED_HEADERS,
};

use crate::metrics::Metrics;
use crate::prometheus::ClientStats;
use crate::settings::{is_secret_property, KafkaOverrides};
use tracing::Instrument;

/// Settings every producer gets before the mode's own and the environment's.
const SERVICE_DEFAULTS: &[(&str, &str)] = &[
    // librdkafka waits 30 s by default before calling a topic missing, far beyond any
    // `message.timeout.ms` here: a send to a topic that does not exist would time out (504)
    // instead of answering 404. Two seconds still leaves an auto-created topic time to appear.
    ("topic.metadata.propagation.max.ms", "2000"),
    // Queue depth, in-flight requests, round trips, batch sizes and retries for `GET /metrics`.
    ("statistics.interval.ms", "5000"),
    // A bounded queue: librdkafka's default is 1 GiB per producer. Beyond 64 MiB a send waits
    // `ENQUEUE_TIMEOUT_MS` for room, then answers 503 with `Retry-After`.
    ("queue.buffering.max.kbytes", "65536"),
];

/// What `MSK_IAM=true` sets: SASL/OAUTHBEARER over TLS, with tokens from [`msk_iam`].
const MSK_IAM_DEFAULTS: &[(&str, &str)] = &[
    ("security.protocol", "SASL_SSL"),
    ("sasl.mechanism", "OAUTHBEARER"),
];

/// The seed's plain producer: leader acknowledgement, no idempotence.
const PLAIN_DEFAULTS: &[(&str, &str)] = &[
    ("client.id", "kafka-producer-plain"),
    ("acks", "1"),
    ("enable.idempotence", "false"),
    ("message.send.max.retries", "2"),
    ("retry.backoff.ms", "500"),
    ("message.timeout.ms", "3000"),
];

/// The seed's idempotent producer: all in-sync replicas, idempotence, at most 5 in flight.
const IDEMPOTENT_DEFAULTS: &[(&str, &str)] = &[
    ("client.id", "kafka-producer-idempotent"),
    ("acks", "all"),
    ("enable.idempotence", "true"),
    ("message.send.max.retries", "3"),
    ("retry.backoff.ms", "1000"),
    ("message.timeout.ms", "5000"),
    ("max.in.flight", "5"),
];

/// How long past `message.timeout.ms` a sync request waits for librdkafka's own verdict before
/// answering 504 by itself. A record still queued is reported at `message.timeout.ms`, but one
/// in flight only when its request times out (`request.timeout.ms`, 30 s by default), e.g. when
/// the broker's answers are delayed: this bounds the answer, and the record may still land.
const DELIVERY_GUARD_MARGIN: Duration = Duration::from_secs(2);

/// A property value in a configuration summary: secrets are never shown.
fn shown(name: &str, value: &str) -> String {
    if is_secret_property(name) {
        "[redacted]".to_owned()
    } else {
        value.to_owned()
    }
}

/// What the service knows about reaching the cluster, fed by librdkafka's error callback and by
/// metadata probes.
#[derive(Debug, Default)]
pub struct BrokerHealth {
    /// librdkafka said every broker connection is down, and no probe has succeeded since.
    all_down: AtomicBool,
    /// One probe at a time; the last one's time and result, shared by requests that arrive
    /// while the cluster is down so that a flood does not become a flood of probes.
    last_probe: tokio::sync::Mutex<Option<(Instant, bool)>>,
}

impl BrokerHealth {
    pub fn is_down(&self) -> bool {
        self.all_down.load(Ordering::Relaxed)
    }

    fn set(&self, reachable: bool) {
        self.all_down.store(!reachable, Ordering::Relaxed);
    }
}

/// The context of both producers: forwards librdkafka's global errors to the logs and to
/// [`BrokerHealth`].
pub struct ProducerContext {
    mode: ProducerMode,
    health: Arc<BrokerHealth>,
    metrics: Arc<Metrics>,
    #[cfg(feature = "msk-iam")]
    msk_iam: Option<msk_iam::MskIam>,
}

impl ClientContext for ProducerContext {
    /// OAUTHBEARER tokens come from [`msk_iam`] (`MSK_IAM=true`), the service's one token source.
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn generate_oauth_token(
        &self,
        _oauthbearer_config: Option<&str>,
    ) -> Result<rdkafka::client::OAuthToken, Box<dyn std::error::Error>> {
        #[cfg(feature = "msk-iam")]
        if let Some(source) = &self.msk_iam {
            return source.token().map_err(|e| {
                tracing::error!(producer = self.mode.as_str(), error = %e, "no OAUTHBEARER token");
                e.into()
            });
        }
        Err("sasl.mechanism=OAUTHBEARER needs MSK_IAM=true: IAM tokens are the only OAUTHBEARER tokens this service makes".into())
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            self.health.set(false);
        }
        tracing::warn!(producer = self.mode.as_str(), error = %error, reason, "kafka client error");
    }

    /// librdkafka's statistics (every `statistics.interval.ms`), kept for `GET /metrics`.
    fn stats(&self, statistics: rdkafka::Statistics) {
        self.metrics
            .exposition()
            .client_stats(self.mode.as_str(), ClientStats::of(&statistics));
    }
}

type KafkaProducer = FutureProducer<ProducerContext>;

/// What the delivery path needs to count a record once its outcome is known.
struct Sent {
    topic: String,
    bytes: usize,
    mode: ProducerMode,
    send: SendMode,
    started: Instant,
}

struct ModeProducer {
    producer: KafkaProducer,
    /// The mode's `message.timeout.ms` plus a margin: the longest a sync request waits.
    delivery_guard: Duration,
    /// The effective settings, secrets redacted, for `/api/v1/status` and the start-up log.
    summary: BTreeMap<String, String>,
}

struct Inner {
    plain: ModeProducer,
    idempotent: ModeProducer,
    health: Arc<BrokerHealth>,
    metrics: Arc<Metrics>,
    enqueue_timeout: Duration,
    /// Async sends wait for their delivery report before returning (Lambda: the environment may
    /// be frozen as soon as the response is sent, so nothing may stay queued).
    await_async_delivery: bool,
    /// Async records answered 202 whose delivery report has not been counted yet.
    unsettled: AtomicI64,
}

/// The plain and idempotent producers, shared by every request.
#[derive(Clone)]
pub struct Producers {
    inner: Arc<Inner>,
}

/// How a send ended from the caller's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The broker acknowledged the record.
    Acknowledged(Delivered),
    /// The record is queued in the producer; its outcome will be counted and logged.
    Queued,
}

/// A producer could not be built; names the setting to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    pub setting: String,
    pub reason: String,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid setting {}: {}", self.setting, self.reason)
    }
}

impl std::error::Error for BuildError {}

/// What producers are built from, gathered from the settings.
pub struct ProducerOptions<'a> {
    pub bootstrap_servers: &'a str,
    pub overrides: &'a KafkaOverrides,
    pub enqueue_timeout: Duration,
    pub await_async_delivery: bool,
    /// `MSK_IAM=true`: the region whose MSK cluster the IAM tokens are for.
    pub msk_iam_region: Option<&'a str>,
}

impl Producers {
    pub fn build(options: ProducerOptions<'_>, metrics: Arc<Metrics>) -> Result<Self, BuildError> {
        let health = Arc::new(BrokerHealth::default());
        let build_one =
            |mode: ProducerMode| build_producer(mode, &options, health.clone(), metrics.clone());
        let inner = Inner {
            plain: build_one(ProducerMode::Plain)?,
            idempotent: build_one(ProducerMode::Idempotent)?,
            health: health.clone(),
            metrics,
            enqueue_timeout: options.enqueue_timeout,
            await_async_delivery: options.await_async_delivery,
            unsettled: AtomicI64::new(0),
        };
        let producers = Producers {
            inner: Arc::new(inner),
        };
        producers.spawn_health_watch();
        Ok(producers)
    }

    fn mode(&self, mode: ProducerMode) -> &ModeProducer {
        match mode {
            ProducerMode::Plain => &self.inner.plain,
            ProducerMode::Idempotent => &self.inner.idempotent,
        }
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The effective librdkafka settings of one producer, secrets redacted.
    pub fn summary(&self, mode: ProducerMode) -> &BTreeMap<String, String> {
        &self.mode(mode).summary
    }

    /// Sends one record. Sync: waits for the acknowledgement. Async: returns once queued (or,
    /// when async deliveries must settle, once acknowledged) and counts the outcome later.
    pub async fn send(
        &self,
        record: &OutgoingRecord,
        mode: ProducerMode,
        send: SendMode,
    ) -> Result<Outcome, SendError> {
        let started = Instant::now();
        let future = match self.queue(record, mode, send).await {
            Ok(future) => future,
            Err(error) => {
                self.inner
                    .metrics
                    .record_failed(mode, send, record.topic.as_str(), error.class);
                return Err(error);
            }
        };
        let sent = Sent {
            topic: record.topic.as_str().to_string(),
            bytes: record.size(),
            mode,
            send,
            started,
        };
        if send == SendMode::Async && !self.inner.await_async_delivery {
            let this = self.clone();
            this.inner.unsettled.fetch_add(1, Ordering::SeqCst);
            // In the request's span: the delivery report's log line carries its request id.
            tokio::spawn(
                async move {
                    // `settle` counts and logs the outcome; nobody is left to answer.
                    let _ = this.settle(future, sent).await;
                    this.inner.unsettled.fetch_sub(1, Ordering::SeqCst);
                }
                .in_current_span(),
            );
            return Ok(Outcome::Queued);
        }
        let delivered = self.settle(future, sent).await?;
        Ok(Outcome::Acknowledged(delivered))
    }

    /// Sends many records: all are queued first, in input order (so order per partition is kept
    /// within each producer), then their outcomes are awaited together. Sync: one result per
    /// record once all are settled. Async: once all are queued, `Queued` for each queued record;
    /// their outcomes are counted later. A record that cannot be queued gets its error.
    pub async fn send_batch(
        &self,
        records: &[(&OutgoingRecord, ProducerMode)],
        send: SendMode,
    ) -> Vec<Result<Outcome, SendError>> {
        let started = Instant::now();
        if self.inner.health.is_down() && !self.probe_while_down().await {
            return records
                .iter()
                .map(|(record, mode)| {
                    let error = SendError {
                        class: ErrorClass::Unavailable,
                        code: Some(RDKafkaErrorCode::AllBrokersDown),
                        message: "no Kafka broker is reachable".into(),
                    };
                    self.inner.metrics.record_failed(
                        *mode,
                        send,
                        record.topic.as_str(),
                        error.class,
                    );
                    Err(error)
                })
                .collect();
        }
        let mut queued = Vec::with_capacity(records.len());
        for (record, mode) in records {
            match self.enqueue(record, *mode, send).await {
                Ok(future) => queued.push(Ok((
                    future,
                    Sent {
                        topic: record.topic.as_str().to_string(),
                        bytes: record.size(),
                        mode: *mode,
                        send,
                        started,
                    },
                ))),
                Err(error) => {
                    self.inner.metrics.record_failed(
                        *mode,
                        send,
                        record.topic.as_str(),
                        error.class,
                    );
                    queued.push(Err(error));
                }
            }
        }
        if send == SendMode::Async && !self.inner.await_async_delivery {
            let mut results = Vec::with_capacity(queued.len());
            let mut pending = Vec::new();
            for entry in queued {
                match entry {
                    Ok(sent) => {
                        pending.push(sent);
                        results.push(Ok(Outcome::Queued));
                    }
                    Err(error) => results.push(Err(error)),
                }
            }
            let count = pending.len() as i64;
            let this = self.clone();
            this.inner.unsettled.fetch_add(count, Ordering::SeqCst);
            tokio::spawn(
                async move {
                    let settles = pending
                        .into_iter()
                        .map(|(future, sent)| this.settle(future, sent));
                    let _ = futures_util::future::join_all(settles).await;
                    this.inner.unsettled.fetch_sub(count, Ordering::SeqCst);
                }
                .in_current_span(),
            );
            return results;
        }
        let settles = queued.into_iter().map(|entry| async move {
            let (future, sent) = entry?;
            self.settle(future, sent).await.map(Outcome::Acknowledged)
        });
        futures_util::future::join_all(settles).await
    }

    /// Refuses at once when no broker is reachable, otherwise queues the record.
    async fn queue(
        &self,
        record: &OutgoingRecord,
        mode: ProducerMode,
        send: SendMode,
    ) -> Result<DeliveryFuture, SendError> {
        if self.inner.health.is_down() && !self.probe_while_down().await {
            return Err(SendError {
                class: ErrorClass::Unavailable,
                code: Some(RDKafkaErrorCode::AllBrokersDown),
                message: "no Kafka broker is reachable".into(),
            });
        }
        self.enqueue(record, mode, send).await
    }

    /// Puts the record in the producer's queue, waiting up to `enqueue_timeout` for room.
    async fn enqueue(
        &self,
        record: &OutgoingRecord,
        mode: ProducerMode,
        send: SendMode,
    ) -> Result<DeliveryFuture, SendError> {
        let timestamp = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let mut headers = OwnedHeaders::new_with_capacity(3 + record.headers.len())
            .insert(Header {
                key: HEADER_PRODUCER_MODE,
                value: Some(mode.as_str()),
            })
            .insert(Header {
                key: HEADER_SEND_MODE,
                value: Some(send.as_str()),
            })
            .insert(Header {
                key: HEADER_TIMESTAMP,
                value: Some(timestamp.as_str()),
            });
        for (name, value) in &record.headers {
            headers = headers.insert(Header {
                key: name.as_str(),
                value: Some(value.as_slice()),
            });
        }
        let mut future_record = FutureRecord::to(record.topic.as_str())
            .key(record.key.as_str())
            .payload(record.value.as_slice())
            .headers(headers);
        if let Some(partition) = record.partition {
            future_record = future_record.partition(partition);
        }

        let producer = &self.mode(mode).producer;
        let deadline = Instant::now() + self.inner.enqueue_timeout;
        loop {
            match producer.send_result(future_record) {
                Ok(future) => return Ok(future),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                    if Instant::now() < deadline =>
                {
                    future_record = back;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((error, _)) => return Err(SendError::from_kafka(&error)),
            }
        }
    }

    /// Waits for the delivery report of a queued record and counts it.
    async fn settle(&self, future: DeliveryFuture, sent: Sent) -> Result<Delivered, SendError> {
        let Sent {
            topic,
            bytes,
            mode,
            send,
            started,
        } = sent;
        let guard = self.mode(mode).delivery_guard;
        let result = match tokio::time::timeout(guard, future).await {
            Ok(Ok(Ok(delivery))) => Ok(Delivered {
                partition: delivery.partition,
                offset: delivery.offset,
            }),
            Ok(Ok(Err((error, _message)))) => {
                let mut error = SendError::from_kafka(&error);
                // A record that timed out while no broker answered was never reachable: say so.
                if error.class == ErrorClass::Timeout && self.inner.health.is_down() {
                    error.class = ErrorClass::Unavailable;
                }
                Err(error)
            }
            Ok(Err(_canceled)) => Err(SendError::new(
                ErrorClass::Fatal,
                "the producer was closed before the record was delivered",
            )),
            Err(_elapsed) => Err(SendError {
                class: ErrorClass::Timeout,
                code: Some(RDKafkaErrorCode::MessageTimedOut),
                message: format!(
                    "no delivery report within {} ms; the record may or may not have been written",
                    guard.as_millis()
                ),
            }),
        };
        let metrics = &self.inner.metrics;
        match &result {
            Ok(delivered) => {
                self.inner.health.set(true);
                metrics.record_delivered(mode, send, &topic, bytes, started.elapsed());
                tracing::debug!(
                    mode = mode.as_str(),
                    send = send.as_str(),
                    partition = delivered.partition,
                    offset = delivered.offset,
                    "record delivered"
                );
            }
            Err(error) => {
                metrics.record_failed(mode, send, &topic, error.class);
                tracing::warn!(
                    mode = mode.as_str(),
                    send = send.as_str(),
                    class = error.class.as_str(),
                    error = %error.message,
                    "record not delivered"
                );
            }
        }
        result
    }

    /// Asks the cluster for its metadata (brokers and the topics this client knows; no topic is
    /// created). Blocking: call from `spawn_blocking`.
    pub fn probe_blocking(&self, timeout: Duration) -> Result<usize, SendError> {
        let producer = &self.inner.idempotent.producer;
        let result = probe_brokers(producer, timeout);
        self.inner.health.set(result.is_ok());
        result
    }

    /// Probes the cluster off the async runtime.
    pub async fn probe(&self, timeout: Duration) -> Result<usize, SendError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.probe_blocking(timeout))
            .await
            .unwrap_or_else(|_| Err(SendError::new(ErrorClass::Fatal, "probe task failed")))
    }

    /// While librdkafka says every broker is down, requests do not queue records that would only
    /// time out: one probe at a time (reused for half a second) decides whether to try.
    async fn probe_while_down(&self) -> bool {
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
    fn spawn_health_watch(&self) {
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

    pub fn is_unreachable(&self) -> bool {
        self.inner.health.is_down()
    }

    /// Records queued or in flight in both producers.
    pub fn queued(&self) -> i64 {
        i64::from(self.inner.plain.producer.in_flight_count())
            + i64::from(self.inner.idempotent.producer.in_flight_count())
    }

    /// A fatal producer error (the producer can no longer send), if either has one.
    pub fn fatal_error(&self) -> Option<String> {
        [&self.inner.plain, &self.inner.idempotent]
            .iter()
            .find_map(|p| p.producer.client().fatal_error())
            .map(|(code, reason)| format!("{code:?}: {reason}"))
    }

    /// Waits until both producers have delivered (or failed) everything queued, at most
    /// `timeout` in all. Returns how many records were still queued when it gave up.
    /// Blocking: call from `spawn_blocking`.
    pub fn flush_blocking(&self, timeout: Duration) -> i64 {
        let deadline = Instant::now() + timeout;
        for p in [&self.inner.plain, &self.inner.idempotent] {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Err(error) = p.producer.flush(left) {
                tracing::warn!(error = %error, "flush did not complete");
            }
        }
        self.queued()
    }

    /// [`Producers::flush_blocking`] off the async runtime, then waits (within the same
    /// `timeout`) until every async record's outcome has been counted. Returns how many records
    /// accepted with 202 were neither delivered nor reported failed when it gave up: the ones
    /// lost if the process ends now. (Sync sends are settled by their own requests, which the
    /// server has finished or cut before this is called.)
    pub async fn flush(&self, timeout: Duration) -> i64 {
        let deadline = tokio::time::Instant::now() + timeout;
        let this = self.clone();
        // librdkafka's own queue length also counts events that are not records (errors,
        // statistics): the count that matters is of the accepted records not yet settled.
        let _ = tokio::task::spawn_blocking(move || this.flush_blocking(timeout)).await;
        // A report librdkafka has handed over is counted by its settle task a moment later.
        while self.unsettled() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.unsettled()
    }

    /// Async records accepted whose outcome is not counted yet.
    pub fn unsettled(&self) -> i64 {
        self.inner.unsettled.load(Ordering::SeqCst)
    }
}

fn build_producer(
    mode: ProducerMode,
    options: &ProducerOptions<'_>,
    health: Arc<BrokerHealth>,
    metrics: Arc<Metrics>,
) -> Result<ModeProducer, BuildError> {
    let (mode_defaults, mode_overrides, env_prefix) = match mode {
        ProducerMode::Plain => (PLAIN_DEFAULTS, &options.overrides.plain, "KAFKA_PLAIN_"),
        ProducerMode::Idempotent => (
            IDEMPOTENT_DEFAULTS,
            &options.overrides.idempotent,
            "KAFKA_IDEMPOTENT_",
        ),
    };
    // Later sources win: service defaults, the mode's, the environment's common, the mode's own.
    let mut properties: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    for (k, v) in SERVICE_DEFAULTS.iter().chain(mode_defaults) {
        properties.insert((*k).to_owned(), ((*v).to_owned(), None));
    }
    if options.msk_iam_region.is_some() {
        for (k, v) in MSK_IAM_DEFAULTS {
            properties.insert((*k).to_owned(), ((*v).to_owned(), Some("MSK_IAM".into())));
        }
    }
    let env_name = |prefix: &str, property: &str| {
        format!(
            "{prefix}{}",
            property.to_ascii_uppercase().replace('.', "_")
        )
    };
    for (k, v) in &options.overrides.common {
        properties.insert(k.clone(), (v.clone(), Some(env_name("KAFKA_", k))));
    }
    for (k, v) in mode_overrides {
        properties.insert(k.clone(), (v.clone(), Some(env_name(env_prefix, k))));
    }
    properties.insert(
        "bootstrap.servers".into(),
        (
            options.bootstrap_servers.to_owned(),
            Some("KAFKA_BOOTSTRAP_SERVERS".into()),
        ),
    );

    let mut config = ClientConfig::new();
    for (k, (v, _)) in &properties {
        config.set(k, v);
    }
    let producer: KafkaProducer = config
        .create_with_context(ProducerContext {
            mode,
            health,
            metrics,
            #[cfg(feature = "msk-iam")]
            msk_iam: options.msk_iam_region.map(msk_iam::MskIam::new),
        })
        .map_err(|error| build_error(&error, &properties))?;

    let timeout_ms = properties
        .get("message.timeout.ms")
        .and_then(|(v, _)| v.parse::<u64>().ok())
        .unwrap_or(300_000);
    let summary = properties
        .iter()
        .map(|(k, (v, _))| (k.clone(), shown(k, v)))
        .collect();
    Ok(ModeProducer {
        producer,
        delivery_guard: Duration::from_millis(timeout_ms) + DELIVERY_GUARD_MARGIN,
        summary,
    })
}

/// Names the environment variable behind a property librdkafka refused, without its value
/// when the property is a secret.
fn build_error(
    error: &KafkaError,
    properties: &BTreeMap<String, (String, Option<String>)>,
) -> BuildError {
    match error {
        KafkaError::ClientConfig(_, description, key, _) => {
            let setting = properties
                .get(key)
                .and_then(|(_, source)| source.clone())
                .unwrap_or_else(|| format!("librdkafka property {key}"));
            let reason = if is_secret_property(key) {
                format!("librdkafka refused property {key}")
            } else {
                format!("librdkafka refused property {key}: {description}")
            };
            BuildError { setting, reason }
        }
        other => BuildError {
            setting: "KAFKA_*".into(),
            reason: format!("the Kafka producer could not be created: {other}"),
        },
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
