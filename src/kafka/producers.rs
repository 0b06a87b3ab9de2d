//! The producers every request shares (the plain and idempotent modes', and outside Lambda one
//! more per mode for async sends), built once at start-up (or in Lambda's init phase):
//! their librdkafka clients and context, queue depth, fatal errors, and the flush at shutdown.
//! Sending is [`super::pipeline`]'s.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryResult, Producer, ThreadedProducer};

use super::config::{InvalidSetting, ProducerOptions, Properties};
use super::delivery::{ErrorClass, SendError};
use super::health::BrokerHealth;
use super::observer::{ClientStats, DeliveryObserver};
use super::record::{Acks, ProducerMode, SendMode, Via};
use super::report::{Counting, Report};

/// How long past `message.timeout.ms` a sync request waits for librdkafka's own verdict before
/// answering 504 by itself. librdkafka reports a queued record at `message.timeout.ms` and times
/// out in-flight requests at about the same time; this margin only bounds the answer should a
/// report not come (the record may still land).
const DELIVERY_GUARD_MARGIN: Duration = Duration::from_secs(2);

/// The context of every producer: forwards librdkafka's global errors to the logs and to
/// [`BrokerHealth`], its statistics to the observer, delivery reports to their requests (or
/// counts them: [`super::report`]), and makes MSK IAM tokens.
pub struct ProducerContext {
    mode: ProducerMode,
    /// Whether librdkafka's statistics go to the observer (the mode's own producer does; one
    /// built for async sends or a request's `acks` does not, so that the mode's figures stay
    /// its own).
    reports_stats: bool,
    counting: Counting,
    #[cfg(feature = "msk-iam")]
    msk_iam: Option<super::msk_iam::MskIam>,
}

impl ClientContext for ProducerContext {
    /// OAUTHBEARER tokens come from [`super::msk_iam`], the service's one token source.
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
        Err("sasl.mechanism=OAUTHBEARER needs Amazon MSK IAM authentication: its tokens are the only OAUTHBEARER tokens this service makes".into())
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            self.counting.health.set(false);
        }
        tracing::warn!(producer = self.mode.as_str(), error = %error, reason, "kafka client error");
    }

    fn stats(&self, statistics: rdkafka::Statistics) {
        self.counting.health.observe(&statistics);
        if !self.reports_stats {
            return;
        }
        self.counting
            .observer
            .client_stats(self.mode, ClientStats::of(&statistics));
    }
}

impl rdkafka::producer::ProducerContext for ProducerContext {
    type DeliveryOpaque = Box<Report>;

    fn delivery(&self, result: &DeliveryResult<'_>, report: Box<Report>) {
        self.counting.deliver(result, *report);
    }
}

/// A librdkafka producer with its own thread serving delivery reports.
pub(super) type KafkaProducer = ThreadedProducer<ProducerContext>;

pub(super) struct ModeProducer {
    pub(super) producer: KafkaProducer,
    /// The mode's `message.timeout.ms` plus a margin: the longest a sync request waits.
    pub(super) delivery_guard: Duration,
    /// The effective settings, secrets redacted, for `/api/v1/status` and the start-up log.
    summary: BTreeMap<String, String>,
}

pub(super) struct Inner {
    pub(super) plain: ModeProducer,
    pub(super) idempotent: ModeProducer,
    /// The plain producer's configured `acks`.
    plain_acks: Option<Acks>,
    /// Plain producers for the other `acks` levels, each built on the first request that asks
    /// for it (indexed by [`Acks`]), then shared like the others.
    by_acks: [OnceLock<ModeProducer>; 3],
    /// The producers of async sends (indexed by [`ProducerMode`]): the mode's settings with a
    /// linger, built with the others (none in Lambda, whose async sends wait for their report
    /// and go through the mode's own). Built up front, not on the first async request: a
    /// producer built then would meet its first records cold (connections, producer id), and a
    /// fault at that moment would fail them (the first async records of fault scenario 1).
    pub(super) batching: [OnceLock<ModeProducer>; 2],
    /// Held while one of `by_acks` is being built, so that it is built once.
    building: Mutex<()>,
    /// What the producers were built from, for the ones built later.
    options: ProducerOptions,
    /// The cluster's id, once asked (it never changes while the cluster lives).
    pub(super) cluster_id: OnceLock<String>,
    pub(super) health: Arc<BrokerHealth>,
    pub(super) observer: Arc<dyn DeliveryObserver>,
    pub(super) enqueue_timeout: Duration,
    /// Async sends wait for their delivery report before returning (Lambda).
    pub(super) await_async_delivery: bool,
    /// Async records answered 202 whose outcome has not been counted yet (by the producers'
    /// delivery callback): what the flush at shutdown waits for, and reports as lost if it
    /// gives up.
    pub(super) unsettled: Arc<AtomicI64>,
}

/// The plain and idempotent producers, shared by every request. Cloning is an `Arc` bump.
#[derive(Clone)]
pub struct Producers {
    pub(super) inner: Arc<Inner>,
}

impl Producers {
    /// Builds the producers; `observer` is told of every outcome and of librdkafka's statistics.
    pub fn build(
        options: &ProducerOptions,
        observer: Arc<dyn DeliveryObserver>,
    ) -> Result<Self, InvalidSetting> {
        let counting = Counting {
            health: Arc::new(BrokerHealth::default()),
            observer: observer.clone(),
            unsettled: Arc::new(AtomicI64::new(0)),
        };
        let own = |mode| build_one(mode, None, false, options, &counting);
        let plain = own(ProducerMode::Plain)?;
        let inner = Inner {
            plain_acks: plain.summary.get("acks").and_then(|a| Acks::parse(a).ok()),
            plain,
            idempotent: own(ProducerMode::Idempotent)?,
            by_acks: Default::default(),
            batching: Default::default(),
            building: Mutex::new(()),
            options: options.clone(),
            cluster_id: OnceLock::new(),
            health: counting.health.clone(),
            observer,
            enqueue_timeout: options.enqueue_timeout,
            await_async_delivery: options.await_async_delivery,
            unsettled: counting.unsettled.clone(),
        };
        if !options.await_async_delivery {
            for mode in ProducerMode::ALL {
                let producer = build_one(mode, None, true, options, &counting)?;
                let _ = inner.batching[mode as usize].set(producer);
            }
        }
        let producers = Producers {
            inner: Arc::new(inner),
        };
        producers.spawn_health_watch();
        Ok(producers)
    }

    pub(super) fn mode(&self, mode: ProducerMode) -> &ModeProducer {
        match mode {
            ProducerMode::Plain => &self.inner.plain,
            ProducerMode::Idempotent => &self.inner.idempotent,
        }
    }

    /// The producer that sends what goes `via`: the mode's own (or its async one for an async
    /// send, when there is one: not in Lambda), or for the plain mode with another `acks` than
    /// its configured one, a producer of that level, built on first use.
    pub(super) fn via(&self, via: Via, send: SendMode) -> Result<&ModeProducer, SendError> {
        let acks = match (via.mode, via.acks) {
            (ProducerMode::Plain, Some(acks)) if Some(acks) != self.inner.plain_acks => acks,
            (mode, _) => {
                let batching = self.inner.batching[mode as usize].get();
                return Ok(match batching {
                    Some(producer) if send == SendMode::Async => producer,
                    _ => self.mode(mode),
                });
            }
        };
        let cell = &self.inner.by_acks[acks as usize];
        self.built(cell, || {
            build_producer(ProducerMode::Plain, Some(acks), self)
        })
    }

    /// The producer in `cell`, built by `build` the first time (once, whoever asks at once).
    fn built<'a>(
        &'a self,
        cell: &'a OnceLock<ModeProducer>,
        build: impl FnOnce() -> Result<ModeProducer, InvalidSetting>,
    ) -> Result<&'a ModeProducer, SendError> {
        if let Some(producer) = cell.get() {
            return Ok(producer);
        }
        let _building = self
            .inner
            .building
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(producer) = cell.get() {
            return Ok(producer);
        }
        let producer = build().map_err(|e| SendError::new(ErrorClass::Fatal, e.to_string()))?;
        tracing::info!(
            client = producer.summary.get("client.id").map_or("", String::as_str),
            "producer built on first use"
        );
        Ok(cell.get_or_init(|| producer))
    }

    /// The effective librdkafka settings of the mode's async producer (none in Lambda).
    pub fn async_summary(&self, mode: ProducerMode) -> Option<&BTreeMap<String, String>> {
        self.inner.batching[mode as usize].get().map(|p| &p.summary)
    }

    /// Every producer built so far: the two modes', then those built for async sends and for a
    /// request's `acks`.
    fn all(&self) -> impl Iterator<Item = &ModeProducer> {
        [&self.inner.plain, &self.inner.idempotent]
            .into_iter()
            .chain(
                self.inner
                    .batching
                    .iter()
                    .chain(&self.inner.by_acks)
                    .filter_map(OnceLock::get),
            )
    }

    /// The effective librdkafka settings of one producer, secrets redacted.
    pub fn summary(&self, mode: ProducerMode) -> &BTreeMap<String, String> {
        &self.mode(mode).summary
    }

    /// The `acks` levels served by a producer of their own, built for the requests that asked.
    pub fn extra_acks(&self) -> Vec<Acks> {
        Acks::ALL
            .into_iter()
            .filter(|a| self.inner.by_acks[*a as usize].get().is_some())
            .collect()
    }

    /// Records queued or in flight in every producer.
    pub fn queued(&self) -> i64 {
        self.all()
            .map(|p| i64::from(p.producer.in_flight_count()))
            .sum()
    }

    /// A fatal producer error (the producer can no longer send), if one has one.
    pub fn fatal_error(&self) -> Option<String> {
        self.all()
            .find_map(|p| p.producer.client().fatal_error())
            .map(|(code, reason)| format!("{code:?}: {reason}"))
    }

    /// Waits until every producer has delivered (or failed) everything queued, at most
    /// `timeout` in all. Returns how many records were still queued when it gave up.
    /// Blocking: call from `spawn_blocking`.
    fn flush_blocking(&self, timeout: Duration) -> i64 {
        let deadline = Instant::now() + timeout;
        for p in self.all() {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Err(error) = p.producer.flush(left) {
                tracing::warn!(error = %error, "flush did not complete");
            }
        }
        self.queued()
    }

    /// `flush_blocking` off the async runtime, then waits (within the same
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
        // A report being counted on the polling thread as the flush returned is done a moment
        // later.
        while self.unsettled() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.unsettled()
    }

    /// Async records accepted whose outcome is not counted yet.
    fn unsettled(&self) -> i64 {
        self.inner.unsettled.load(Ordering::SeqCst).max(0)
    }
}

/// A producer built after the others: the mode's, acknowledging at `acks`.
fn build_producer(
    mode: ProducerMode,
    acks: Option<Acks>,
    producers: &Producers,
) -> Result<ModeProducer, InvalidSetting> {
    let inner = &producers.inner;
    let counting = Counting {
        health: inner.health.clone(),
        observer: inner.observer.clone(),
        unsettled: inner.unsettled.clone(),
    };
    build_one(mode, acks, false, &inner.options, &counting)
}

/// The mode's producer, or with `acks`, one that acknowledges at that level instead, or with
/// `for_async`, the one for its async sends.
fn build_one(
    mode: ProducerMode,
    acks: Option<Acks>,
    for_async: bool,
    options: &ProducerOptions,
    counting: &Counting,
) -> Result<ModeProducer, InvalidSetting> {
    let mut properties = Properties::of(mode, options);
    if let Some(acks) = acks {
        properties = properties.with_acks(acks);
    }
    if for_async {
        properties = properties.for_async();
    }
    let producer: KafkaProducer = properties
        .client_config()
        .create_with_context(ProducerContext {
            mode,
            reports_stats: acks.is_none() && !for_async,
            counting: counting.clone(),
            #[cfg(feature = "msk-iam")]
            msk_iam: options
                .msk_iam_region
                .as_ref()
                .map(|region| super::msk_iam::MskIam::new(&region.value)),
        })
        .map_err(|error| properties.refused(&error))?;
    Ok(ModeProducer {
        producer,
        delivery_guard: properties.message_timeout() + DELIVERY_GUARD_MARGIN,
        summary: properties.summary(),
    })
}
