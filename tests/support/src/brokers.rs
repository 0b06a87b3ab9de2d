//! The test brokers started by `scripts/test`, and topics read back from them.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// The broker with topic auto-creation on (as in the workshop's lab).
pub fn bootstrap() -> String {
    std::env::var("TEST_KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:19092".into())
}

/// A second broker with topic auto-creation off.
pub fn noauto_bootstrap() -> String {
    std::env::var("TEST_KAFKA_NOAUTO_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:19192".into())
}

/// A broker for the generated requests alone (schemathesis): they list the topics they find
/// and write into them, which would add records to the topics other tests count.
pub fn generated_bootstrap() -> String {
    std::env::var("TEST_KAFKA_GENERATED_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:19992".into())
}

pub fn unique_topic(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A record read back from the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub value: String,
    pub headers: Vec<(String, String)>,
    /// The bytes as stored: `None` for a record without a key, a value, a header's value.
    pub raw_key: Option<Vec<u8>>,
    pub raw_value: Option<Vec<u8>>,
    pub raw_headers: Vec<(String, Option<Vec<u8>>)>,
    /// The record's timestamp (milliseconds since the epoch).
    pub timestamp: Option<i64>,
}

impl Read {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn consumer(bootstrap: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("test-{}", uuid::Uuid::new_v4()))
        .set("enable.auto.commit", "false")
        .set("allow.auto.create.topics", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer")
}

/// Partition count of `topic`, or `None` when the broker does not know it.
pub fn partitions(bootstrap: &str, topic: &str) -> Option<i32> {
    let c = consumer(bootstrap);
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .ok()?;
    let t = md.topics().iter().find(|t| t.name() == topic)?;
    if t.error().is_some() || t.partitions().is_empty() {
        return None;
    }
    Some(t.partitions().len() as i32)
}

/// Records on `topic` by the broker's own count (high − low watermarks); 0 when it does not exist.
pub async fn record_count(bootstrap: &str, topic: &str) -> i64 {
    let (bootstrap, topic) = (bootstrap.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        let Some(n) = partitions(&bootstrap, &topic) else {
            return 0;
        };
        let c = consumer(&bootstrap);
        (0..n)
            .map(|p| {
                let (low, high) = c
                    .fetch_watermarks(&topic, p, Duration::from_secs(10))
                    .expect("watermarks");
                high - low
            })
            .sum()
    })
    .await
    .unwrap()
}

/// Reads every record of `topic` from the beginning. It reads at least up to each partition's
/// high watermark as the broker gives it when reading starts, and at least `expected` records
/// (or until `timeout`); then it goes on while records keep coming, and 1.5 s past the last
/// one, so that records still arriving (duplicates) show too.
pub async fn read_topic(
    bootstrap: &str,
    topic: &str,
    expected: usize,
    timeout: Duration,
) -> Vec<Read> {
    let (bootstrap, topic) = (bootstrap.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + timeout;
        let n = loop {
            if let Some(n) = partitions(&bootstrap, &topic) {
                break n;
            }
            assert!(Instant::now() < deadline, "topic {topic} never appeared");
            std::thread::sleep(Duration::from_millis(200));
        };
        let c = consumer(&bootstrap);
        let on_broker: usize = (0..n)
            .map(|p| {
                let (low, high) = c
                    .fetch_watermarks(&topic, p, Duration::from_secs(10))
                    .expect("watermarks");
                usize::try_from(high - low).unwrap_or(0)
            })
            .sum();
        let expected = expected.max(on_broker);
        let mut tpl = TopicPartitionList::new();
        for p in 0..n {
            tpl.add_partition_offset(&topic, p, Offset::Beginning)
                .unwrap();
        }
        c.assign(&tpl).unwrap();
        let mut out = Vec::new();
        let mut quiet_until: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if now > deadline || quiet_until.is_some_and(|q| now > q) {
                break;
            }
            if let Some(message) = c.poll(Duration::from_millis(100)) {
                out.push(to_read(&message.expect("consume")));
                if out.len() >= expected {
                    quiet_until = Some(Instant::now() + Duration::from_millis(1500));
                }
            } else if out.len() >= expected && quiet_until.is_none() {
                quiet_until = Some(Instant::now() + Duration::from_millis(1500));
            }
        }
        assert!(
            out.len() >= on_broker,
            "read {} of the {on_broker} records on {topic} within {timeout:?}",
            out.len()
        );
        out
    })
    .await
    .unwrap()
}

/// The single record at `topic`/`partition`/`offset`.
pub async fn read_at(bootstrap: &str, topic: &str, partition: i32, offset: i64) -> Read {
    let (bootstrap, topic) = (bootstrap.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        let c = consumer(&bootstrap);
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&topic, partition, Offset::Offset(offset))
            .unwrap();
        c.assign(&tpl).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(message) = c.poll(Duration::from_millis(200)) {
                return to_read(&message.expect("consume"));
            }
        }
        panic!("no record at {topic}/{partition}/{offset}");
    })
    .await
    .unwrap()
}

fn to_read(m: &rdkafka::message::BorrowedMessage<'_>) -> Read {
    let text =
        |bytes: Option<&[u8]>| String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned();
    Read {
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(|k| text(Some(k))),
        value: text(m.payload()),
        headers: m
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| (h.key.to_owned(), text(h.value)))
                    .collect()
            })
            .unwrap_or_default(),
        raw_key: m.key().map(<[u8]>::to_vec),
        raw_value: m.payload().map(<[u8]>::to_vec),
        raw_headers: m
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default(),
        timestamp: m.timestamp().to_millis(),
    }
}

/// Asserts the service's three headers (`producer-mode`, `send-mode`, `timestamp`) on a record
/// read back.
pub fn assert_service_headers(record: &Read, mode: &str, send: &str) {
    assert_eq!(record.header("producer-mode"), Some(mode), "{record:?}");
    assert_eq!(record.header("send-mode"), Some(send), "{record:?}");
    let ts = record.header("timestamp").expect("timestamp header");
    let parsed = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("timestamp {ts:?} is not RFC 3339: {e}"));
    assert_eq!(
        parsed.offset(),
        time::UtcOffset::UTC,
        "timestamp must be UTC: {ts}"
    );
    // Sent by this run: not ahead of the clock, and not older than a test on a busy machine
    // can take between sending a record and reading it back.
    let age = time::OffsetDateTime::now_utc() - parsed;
    assert!(
        age.whole_seconds() > -5 && age.whole_minutes() < 10,
        "timestamp {ts} is not recent ({age} ago)"
    );
}

/// Asserts there are no two records with the same key in `records`.
pub fn assert_no_duplicate_keys(records: &[Read]) {
    let mut seen = std::collections::HashSet::new();
    for r in records {
        assert!(
            seen.insert(r.key.clone()),
            "duplicate record for key {:?}",
            r.key
        );
    }
}
