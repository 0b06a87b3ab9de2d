//! The Kafka client configuration: what the service sets for each producer, what the operator
//! overrides (each value with its origin, so that a refused value is named the way it was given),
//! and the one error type for a setting that cannot be used.
//!
//! The layers above fill [`ProducerOptions`]; nothing here reads the environment.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;

use super::record::{Acks, ProducerMode};

/// Settings every producer gets before the mode's own and the operator's.
const SERVICE_DEFAULTS: &[(&str, &str)] = &[
    // librdkafka waits 30 s by default before calling a topic missing, far beyond any
    // `message.timeout.ms` here: a send to a topic that does not exist would time out (504)
    // instead of answering 404. Two seconds still leaves an auto-created topic time to appear.
    ("topic.metadata.propagation.max.ms", "2000"),
    // Queue depth, in-flight requests, round trips, batch sizes and retries for `GET /metrics`.
    ("statistics.interval.ms", "5000"),
    // A bounded queue: librdkafka's default is 1 GiB per producer. Beyond 64 MiB a send waits
    // the enqueue timeout for room, then answers 503 with `Retry-After`.
    ("queue.buffering.max.kbytes", "65536"),
    // Sync sends go out as soon as the broker connection is free instead of librdkafka's
    // default 5 ms wait for more records: a sync answer then waits for the broker's round trip
    // alone (p50 0.5 ms instead of 6 ms on one broker), and batches still form from what queues
    // up while earlier requests are in flight (throughput unchanged in BENCHMARKS.md). Async
    // sends keep a linger (`Properties::for_async`). KAFKA_LINGER_MS sets one for all.
    ("linger.ms", "0"),
];

/// `linger.ms` of the producers that serve async sends (librdkafka's own default), unless the
/// operator set one: see [`Properties::for_async`].
const ASYNC_LINGER_MS: &str = "5";

/// `message.timeout.ms` of the producers that serve async sends, unless the operator set one.
/// No caller waits for it, and a leader election takes longer than the sync producers' 3 s and
/// 5 s (6 to 13 s in docs/RELIABILITY.md): with those, the async records in flight timed out,
/// were reported failed though some were written, and the idempotent producer's epoch bump sent
/// the ones queued behind them again (238 failed and 2 005 duplicates in one soak run with a
/// leader kill; none with 30 s).
const ASYNC_MESSAGE_TIMEOUT_MS: &str = "30000";

/// What Amazon MSK's IAM authentication sets: SASL/OAUTHBEARER over TLS, with tokens from
/// [`super::msk_iam`].
const MSK_IAM_DEFAULTS: &[(&str, &str)] = &[
    ("security.protocol", "SASL_SSL"),
    ("sasl.mechanism", "OAUTHBEARER"),
];

/// The workshop's plain producer: leader acknowledgement, no idempotence.
const PLAIN_DEFAULTS: &[(&str, &str)] = &[
    ("client.id", "kafka-producer-plain"),
    ("acks", "1"),
    ("enable.idempotence", "false"),
    ("message.send.max.retries", "2"),
    ("retry.backoff.ms", "500"),
    ("message.timeout.ms", "3000"),
];

/// The workshop's idempotent producer: all in-sync replicas, idempotence, at most 5 in flight.
const IDEMPOTENT_DEFAULTS: &[(&str, &str)] = &[
    ("client.id", "kafka-producer-idempotent"),
    ("acks", "all"),
    ("enable.idempotence", "true"),
    ("message.send.max.retries", "3"),
    ("retry.backoff.ms", "1000"),
    ("message.timeout.ms", "5000"),
    ("max.in.flight", "5"),
];

/// A value given by the operator, and where it was given (`KAFKA_LINGER_MS`,
/// `Kafka:BootstrapServers`…), named when librdkafka refuses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    pub value: String,
    pub origin: String,
}

impl Given {
    pub fn new(value: impl Into<String>, origin: impl Into<String>) -> Self {
        Given {
            value: value.into(),
            origin: origin.into(),
        }
    }
}

/// librdkafka properties the operator set, by property name: for both producers and for each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub common: BTreeMap<String, Given>,
    pub plain: BTreeMap<String, Given>,
    pub idempotent: BTreeMap<String, Given>,
}

/// What the producers are built from.
#[derive(Debug, Clone)]
pub struct ProducerOptions {
    /// The cluster, and where its address came from.
    pub bootstrap_servers: Given,
    pub overrides: Overrides,
    /// How long a send waits for room in a full queue before it is refused.
    pub enqueue_timeout: Duration,
    /// Async sends wait for their delivery report before returning (Lambda: the environment may
    /// be frozen as soon as the response is sent, so nothing may stay queued).
    pub await_async_delivery: bool,
    /// Amazon MSK IAM authentication: the region whose cluster the tokens are for, and the
    /// setting that asked for it.
    pub msk_iam_region: Option<Given>,
}

/// A setting that cannot be used, named so that the operator can fix it. The one error type of
/// configuration, whichever layer finds the fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting {setting}: {reason}")]
pub struct InvalidSetting {
    pub setting: String,
    pub reason: String,
}

impl InvalidSetting {
    pub fn new(setting: impl Into<String>, reason: impl Into<String>) -> Self {
        InvalidSetting {
            setting: setting.into(),
            reason: reason.into(),
        }
    }
}

/// True for librdkafka properties whose values must never be printed.
pub fn is_secret_property(name: &str) -> bool {
    const MARKERS: [&str; 6] = ["password", "secret", "key", "token", "jaas", "credentials"];
    let name = name.to_ascii_lowercase();
    MARKERS.iter().any(|m| name.contains(m)) || name.ends_with(".pem")
}

/// One producer's effective properties, each with its origin (`None`: the service's default).
pub(super) struct Properties(BTreeMap<String, (String, Option<String>)>);

impl Properties {
    /// Later sources win: service defaults, the mode's, MSK IAM's, the operator's common ones,
    /// the operator's for this mode, the cluster's address.
    pub(super) fn of(mode: ProducerMode, options: &ProducerOptions) -> Self {
        let (mode_defaults, mode_overrides) = match mode {
            ProducerMode::Plain => (PLAIN_DEFAULTS, &options.overrides.plain),
            ProducerMode::Idempotent => (IDEMPOTENT_DEFAULTS, &options.overrides.idempotent),
        };
        let mut properties = BTreeMap::new();
        for (k, v) in SERVICE_DEFAULTS.iter().chain(mode_defaults) {
            properties.insert((*k).to_owned(), ((*v).to_owned(), None));
        }
        if let Some(region) = &options.msk_iam_region {
            for (k, v) in MSK_IAM_DEFAULTS {
                properties.insert(
                    (*k).to_owned(),
                    ((*v).to_owned(), Some(region.origin.clone())),
                );
            }
        }
        for (k, g) in options.overrides.common.iter().chain(mode_overrides) {
            properties.insert(k.clone(), (g.value.clone(), Some(g.origin.clone())));
        }
        let cluster = &options.bootstrap_servers;
        properties.insert(
            "bootstrap.servers".to_owned(),
            (cluster.value.clone(), Some(cluster.origin.clone())),
        );
        Properties(properties)
    }

    /// The same producer acknowledging at `acks`, under a client id of its own.
    pub(super) fn with_acks(mut self, acks: Acks) -> Self {
        let origin = Some("a request's acks".to_owned());
        self.0
            .insert("acks".into(), (acks.as_str().to_owned(), origin.clone()));
        if let Some((id, _)) = self.0.get("client.id").cloned() {
            let id = format!("{id}-acks-{}", acks.as_str());
            self.0.insert("client.id".into(), (id, origin));
        }
        self
    }

    /// The same producer for async sends, under a client id of its own: unless the operator set
    /// them, it waits [`ASYNC_LINGER_MS`] for more records before a request goes out, and gives
    /// a record [`ASYNC_MESSAGE_TIMEOUT_MS`] to be delivered. An
    /// async answer does not wait for the broker, so the linger costs no caller anything, and
    /// records arriving one by one go out in a few full requests instead of many small ones
    /// (each of which would wake librdkafka's broker thread and the broker: a third fewer
    /// async requests a second with 0 in BENCHMARKS.md).
    pub(super) fn for_async(mut self) -> Self {
        let given = |properties: &Self, keys: &[&str]| {
            keys.iter().any(|k| {
                properties
                    .0
                    .get(*k)
                    .is_some_and(|(_, origin)| origin.is_some())
            })
        };
        if !given(&self, &["linger.ms", "queue.buffering.max.ms"]) {
            self.0
                .insert("linger.ms".into(), (ASYNC_LINGER_MS.to_owned(), None));
        }
        if !given(&self, &["message.timeout.ms", "delivery.timeout.ms"]) {
            self.0.insert(
                "message.timeout.ms".into(),
                (ASYNC_MESSAGE_TIMEOUT_MS.to_owned(), None),
            );
        }
        if let Some((id, origin)) = self.0.get("client.id").cloned() {
            self.0
                .insert("client.id".into(), (format!("{id}-async"), origin));
        }
        self
    }

    pub(super) fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        for (k, (v, _)) in &self.0 {
            config.set(k, v);
        }
        config
    }

    /// `message.timeout.ms`, librdkafka's default when unset or unreadable.
    pub(super) fn message_timeout(&self) -> Duration {
        let ms = self
            .0
            .get("message.timeout.ms")
            .and_then(|(v, _)| v.parse::<u64>().ok())
            .unwrap_or(300_000);
        Duration::from_millis(ms)
    }

    /// The effective settings with secrets redacted, for the status page and the start-up log.
    pub(super) fn summary(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .map(|(k, (v, _))| {
                let shown = if is_secret_property(k) {
                    "[redacted]".to_owned()
                } else {
                    v.clone()
                };
                (k.clone(), shown)
            })
            .collect()
    }

    /// Names the setting behind a property librdkafka refused, without its value when the
    /// property is a secret.
    pub(super) fn refused(&self, error: &KafkaError) -> InvalidSetting {
        match error {
            KafkaError::ClientConfig(_, description, key, _) => {
                let setting = self
                    .0
                    .get(key)
                    .and_then(|(_, origin)| origin.clone())
                    .unwrap_or_else(|| format!("librdkafka property {key}"));
                let reason = if is_secret_property(key) {
                    format!("librdkafka refused property {key}")
                } else {
                    format!("librdkafka refused property {key}: {description}")
                };
                InvalidSetting { setting, reason }
            }
            other => InvalidSetting::new(
                "the Kafka client configuration",
                format!("the Kafka producer could not be created: {other}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_properties_are_recognised() {
        for name in [
            "sasl.password",
            "ssl.key.password",
            "ssl.key.pem",
            "sasl.oauthbearer.client.secret",
            "ssl.certificate.pem",
        ] {
            assert!(is_secret_property(name), "{name}");
        }
        for name in [
            "acks",
            "bootstrap.servers",
            "security.protocol",
            "sasl.username",
            "linger.ms",
        ] {
            assert!(!is_secret_property(name), "{name}");
        }
    }

    /// Options with a bootstrap server and nothing else from the operator.
    fn options() -> ProducerOptions {
        ProducerOptions {
            bootstrap_servers: Given::new("k:9092", "KAFKA_BOOTSTRAP_SERVERS"),
            overrides: Overrides::default(),
            enqueue_timeout: Duration::from_millis(100),
            await_async_delivery: false,
            msk_iam_region: None,
        }
    }

    #[test]
    fn the_operator_wins_and_is_named_when_refused() {
        let mut options = options();
        options
            .overrides
            .common
            .insert("acks".into(), Given::new("0", "KAFKA_ACKS"));
        options
            .overrides
            .idempotent
            .insert("acks".into(), Given::new("all", "KAFKA_IDEMPOTENT_ACKS"));
        options.overrides.common.insert(
            "sasl.password".into(),
            Given::new("hunter2", "KAFKA_SASL_PASSWORD"),
        );
        let plain = Properties::of(ProducerMode::Plain, &options).summary();
        assert_eq!(plain["acks"], "0");
        assert_eq!(plain["bootstrap.servers"], "k:9092");
        assert_eq!(plain["sasl.password"], "[redacted]");
        let idempotent = Properties::of(ProducerMode::Idempotent, &options);
        assert_eq!(idempotent.summary()["acks"], "all");
        assert_eq!(idempotent.message_timeout(), Duration::from_millis(5000));
        let error = KafkaError::ClientConfig(
            rdkafka::types::RDKafkaConfRes::RD_KAFKA_CONF_INVALID,
            "bad".into(),
            "acks".into(),
            "all".into(),
        );
        assert_eq!(idempotent.refused(&error).setting, "KAFKA_IDEMPOTENT_ACKS");
    }

    #[test]
    fn async_producers_linger_and_wait_longer_unless_the_operator_said_otherwise() {
        let mut options = options();
        let sync = Properties::of(ProducerMode::Idempotent, &options);
        let asynchronous = Properties::of(ProducerMode::Idempotent, &options).for_async();
        assert_eq!(sync.summary()["linger.ms"], "0");
        assert_eq!(sync.message_timeout(), Duration::from_millis(5000));
        assert_eq!(asynchronous.summary()["linger.ms"], "5");
        assert_eq!(asynchronous.message_timeout(), Duration::from_secs(30));
        assert_eq!(
            asynchronous.summary()["client.id"],
            "kafka-producer-idempotent-async"
        );
        options.overrides.common.insert(
            "message.timeout.ms".into(),
            Given::new("8000", "KAFKA_MESSAGE_TIMEOUT_MS"),
        );
        let asynchronous = Properties::of(ProducerMode::Plain, &options).for_async();
        assert_eq!(asynchronous.message_timeout(), Duration::from_millis(8000));
    }
}
