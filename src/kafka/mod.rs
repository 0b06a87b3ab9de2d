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
use std::future::Future;
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

/// Now, in RFC 3339 (UTC): the value of every record's `timestamp` header.
fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

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
    topic: TopicName,
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
            topic: record.topic.clone(),
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
    /// within each producer), then their outcomes are awaited together under one timer. Sync: one
    /// result per record once all are settled. Async: once all are queued, `Queued` for each
    /// queued record; their outcomes are counted later. A record that cannot be queued gets its
    /// error.
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
                    let error = SendError::unreachable();
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
        let mut results = Vec::with_capacity(records.len());
        let mut pending = Vec::with_capacity(records.len());
        let timestamp = now_rfc3339();
        for (record, mode) in records {
            match self.enqueue(record, *mode, send, &timestamp).await {
                Ok(future) => {
                    pending.push((
                        future,
                        Sent {
                            topic: record.topic.clone(),
                            bytes: record.size(),
                            mode: *mode,
                            send,
                            started,
                        },
                    ));
                    results.push(Ok(Outcome::Queued));
                }
                Err(error) => {
                    self.inner.metrics.record_failed(
                        *mode,
                        send,
                        record.topic.as_str(),
                        error.class,
                    );
                    results.push(Err(error));
                }
            }
        }
        if send == SendMode::Async && !self.inner.await_async_delivery {
            let count = pending.len() as i64;
            let this = self.clone();
            this.inner.unsettled.fetch_add(count, Ordering::SeqCst);
            tokio::spawn(
                async move {
                    this.settle_all(pending, started).await;
                    this.inner.unsettled.fetch_sub(count, Ordering::SeqCst);
                }
                .in_current_span(),
            );
            return results;
        }
        let mut settled = self.settle_all(pending, started).await.into_iter();
        for result in results.iter_mut().filter(|r| r.is_ok()) {
            *result = settled
                .next()
                .expect("one outcome per queued record")
                .map(Outcome::Acknowledged);
        }
        results
    }

    /// Refuses at once when no broker is reachable, otherwise queues the record.
    async fn queue(
        &self,
        record: &OutgoingRecord,
        mode: ProducerMode,
        send: SendMode,
    ) -> Result<DeliveryFuture, SendError> {
        if self.inner.health.is_down() && !self.probe_while_down().await {
            return Err(SendError::unreachable());
        }
        self.enqueue(record, mode, send, &now_rfc3339()).await
    }

    /// Puts the record in the producer's queue, waiting up to `enqueue_timeout` for room;
    /// `timestamp` is the `timestamp` header's value (one for all the records of a batch).
    async fn enqueue(
        &self,
        record: &OutgoingRecord,
        mode: ProducerMode,
        send: SendMode,
        timestamp: &str,
    ) -> Result<DeliveryFuture, SendError> {
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
                value: Some(timestamp),
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
        // Read the clock only when the queue is full.
        let mut deadline = None;
        loop {
            match producer.send_result(future_record) {
                Ok(future) => return Ok(future),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                    if Instant::now()
                        < *deadline
                            .get_or_insert_with(|| Instant::now() + self.inner.enqueue_timeout) =>
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
        let guard = self.mode(sent.mode).delivery_guard;
        let result = match tokio::time::timeout(guard, future).await {
            Ok(report) => self.verdict(report),
            Err(_elapsed) => Err(SendError::no_report(guard)),
        };
        self.count(std::slice::from_ref(&sent), std::slice::from_ref(&result));
        if let Ok(delivered) = &result {
            tracing::debug!(
                mode = sent.mode.as_str(),
                send = sent.send.as_str(),
                partition = delivered.partition,
                offset = delivered.offset,
                "record delivered"
            );
        }
        result
    }

    /// Waits for the delivery reports of many queued records (a batch's, all queued from
    /// `started`), each bounded by its mode's delivery guard, and counts them. They are awaited
    /// in order under one timer: by the time the first is acknowledged most of the others are
    /// too, so nothing is allocated or registered per record.
    async fn settle_all(
        &self,
        pending: Vec<(DeliveryFuture, Sent)>,
        started: Instant,
    ) -> Vec<Result<Delivered, SendError>> {
        use futures_util::FutureExt;

        let mut results = Vec::with_capacity(pending.len());
        let mut sent = Vec::with_capacity(pending.len());
        // Whether each mode's guard (`ProducerMode as usize`) has run out.
        let mut expired = [false; 2];
        let timer = tokio::time::sleep_until(started.into());
        tokio::pin!(timer);
        for (mut future, s) in pending {
            let guard = self.mode(s.mode).delivery_guard;
            let result = if expired[s.mode as usize] {
                // Out of time: only a report already there counts.
                (&mut future)
                    .now_or_never()
                    .map_or_else(|| Err(SendError::no_report(guard)), |r| self.verdict(r))
            } else {
                let deadline = (started + guard).into();
                if timer.deadline() != deadline {
                    timer.as_mut().reset(deadline);
                }
                tokio::select! {
                    biased;
                    report = &mut future => self.verdict(report),
                    () = &mut timer => {
                        expired[s.mode as usize] = true;
                        (&mut future)
                            .now_or_never()
                            .map_or_else(|| Err(SendError::no_report(guard)), |r| self.verdict(r))
                    }
                }
            };
            results.push(result);
            sent.push(s);
        }
        self.count(&sent, &results);
        results
    }

    /// The caller's view of a delivery report.
    fn verdict(&self, report: <DeliveryFuture as Future>::Output) -> Result<Delivered, SendError> {
        match report {
            Ok(Ok(delivery)) => Ok(Delivered {
                partition: delivery.partition,
                offset: delivery.offset,
            }),
            Ok(Err((error, _message))) => {
                let mut error = SendError::from_kafka(&error);
                // A record that timed out while no broker answered was never reachable: say so.
                if error.class == ErrorClass::Timeout && self.inner.health.is_down() {
                    error.class = ErrorClass::Unavailable;
                }
                Err(error)
            }
            Err(_canceled) => Err(SendError::new(
                ErrorClass::Fatal,
                "the producer was closed before the record was delivered",
            )),
        }
    }

    /// Counts settled records: deliveries by mode and topic (one metrics update per group; a
    /// batch's latency runs to its last report), failures one by one, with one warning line for
    /// all of them.
    fn count(&self, sent: &[Sent], results: &[Result<Delivered, SendError>]) {
        let metrics = &self.inner.metrics;
        let now = Instant::now();
        if let ([s], [Ok(_)]) = (sent, results) {
            self.inner.health.set(true);
            let latency = now.saturating_duration_since(s.started);
            metrics.record_delivered(s.mode, s.send, s.topic.as_str(), s.bytes, latency);
            return;
        }
        // (mode, send, topic, bytes, latencies): a batch has one or two groups.
        let mut groups: Vec<(ProducerMode, SendMode, &TopicName, usize, Vec<Duration>)> =
            Vec::new();
        let mut failed: Option<(usize, &Sent, &SendError)> = None;
        for (s, result) in sent.iter().zip(results) {
            match result {
                Ok(_) => {
                    let latency = now.saturating_duration_since(s.started);
                    match groups
                        .iter_mut()
                        .find(|g| g.0 == s.mode && g.1 == s.send && *g.2 == s.topic)
                    {
                        Some(group) => {
                            group.3 += s.bytes;
                            group.4.push(latency);
                        }
                        None => groups.push((s.mode, s.send, &s.topic, s.bytes, vec![latency])),
                    }
                }
                Err(error) => {
                    metrics.record_failed(s.mode, s.send, s.topic.as_str(), error.class);
                    let (n, _, _) = failed.get_or_insert((0, s, error));
                    *n += 1;
                }
            }
        }
        if !groups.is_empty() {
            self.inner.health.set(true);
        }
        for (mode, send, topic, bytes, latencies) in &groups {
            metrics.records_delivered(*mode, *send, topic.as_str(), *bytes, latencies);
        }
        if let Some((n, s, error)) = failed {
            tracing::warn!(
                records = n,
                mode = s.mode.as_str(),
                send = s.send.as_str(),
                class = error.class.as_str(),
                error = %error.message,
                "record not delivered"
            );
        }
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
