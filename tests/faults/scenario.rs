//! What the fault scenarios share: the Toxiproxy API, the brokers' scripts, the counts each
//! scenario reports, and keyed, numbered records.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use support::Read;

/// The test broker reached through Toxiproxy (its PROXIED listener advertises the proxy).
pub fn proxied_bootstrap() -> String {
    std::env::var("TEST_KAFKA_PROXIED_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:19094".into())
}

/// The 3-node cluster through Toxiproxy: one proxy per node ("cluster-1".."cluster-3"), each
/// node advertising its own proxy on that listener.
pub fn cluster_proxied_bootstrap() -> String {
    std::env::var("TEST_KAFKA_CLUSTER_PROXIED_BOOTSTRAP")
        .unwrap_or_else(|_| "127.0.0.1:19412,127.0.0.1:19413,127.0.0.1:19414".into())
}

/// The 3-node cluster.
pub fn cluster_bootstrap() -> String {
    std::env::var("TEST_KAFKA_CLUSTER_BOOTSTRAP")
        .unwrap_or_else(|_| "127.0.0.1:19392,127.0.0.1:19393,127.0.0.1:19394".into())
}

pub fn cluster_name() -> String {
    std::env::var("TEST_KAFKA_CLUSTER").unwrap_or_else(|_| "cluster".into())
}

/// Runs `scripts/kafka ARGS` and panics with its output if it fails.
pub fn scripts_kafka(args: &[&str]) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(root.join("scripts/kafka"))
        .args(args)
        .current_dir(&root)
        .output()
        .expect("scripts/kafka runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "scripts/kafka {args:?}: {text}");
    text
}

/// The real Toxiproxy server's HTTP API, for the proxy in front of the test broker.
pub struct Toxiproxy {
    pub url: String,
    pub proxy: String,
    client: reqwest::Client,
}

impl Toxiproxy {
    pub fn from_env() -> Self {
        Toxiproxy::at(
            &std::env::var("TOXIPROXY_URL").unwrap_or_else(|_| "http://127.0.0.1:8474".into()),
            &std::env::var("TOXIPROXY_PROXY").unwrap_or_else(|_| "kafka-test".into()),
        )
    }

    pub fn at(url: &str, proxy: &str) -> Self {
        Toxiproxy {
            url: url.into(),
            proxy: proxy.into(),
            client: reqwest::Client::new(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("Toxiproxy at {} ({e}); run scripts/test", self.url));
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(
            status.is_success(),
            "Toxiproxy {method} {path}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Creates (or replaces) this proxy: `listen` → `upstream`.
    pub async fn create(&self, listen: &str, upstream: &str) {
        let _ = self
            .client
            .delete(format!("{}/proxies/{}", self.url, self.proxy))
            .send()
            .await;
        self.call(
            reqwest::Method::POST,
            "/proxies",
            Some(json!({"name": self.proxy, "listen": listen, "upstream": upstream, "enabled": true})),
        )
        .await;
    }

    /// Removes every toxic and enables every proxy; checks that ours exists.
    pub async fn reset(&self) {
        self.call(reqwest::Method::POST, "/reset", None).await;
        let proxy = self
            .call(
                reqwest::Method::GET,
                &format!("/proxies/{}", self.proxy),
                None,
            )
            .await;
        assert_eq!(proxy["enabled"], true, "{proxy}");
    }

    /// Adds a toxic to the proxy; `stream` is `downstream` (broker → service) or `upstream`.
    pub async fn add(&self, name: &str, kind: &str, stream: &str, attributes: Value) {
        self.call(
            reqwest::Method::POST,
            &format!("/proxies/{}/toxics", self.proxy),
            Some(json!({"name": name, "type": kind, "stream": stream, "toxicity": 1.0, "attributes": attributes})),
        )
        .await;
    }

    /// Removes toxic `name`. Toxiproxy drains what the toxic still holds before it answers, and
    /// its API gives up after a few seconds (503 "Timeout") while the removal goes on: then
    /// this waits until the toxic is no longer listed (30 s at most).
    pub async fn remove(&self, name: &str) {
        let answer = self
            .client
            .delete(format!("{}/proxies/{}/toxics/{name}", self.url, self.proxy))
            .send()
            .await
            .unwrap_or_else(|e| panic!("Toxiproxy at {} ({e}); run scripts/test", self.url));
        if answer.status().is_success() {
            return;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while self.toxic_names().await.iter().any(|n| n == name) {
            assert!(
                std::time::Instant::now() < deadline,
                "Toxiproxy did not remove {name}: {}",
                answer.status()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn toxic_names(&self) -> Vec<String> {
        let toxics = self
            .call(
                reqwest::Method::GET,
                &format!("/proxies/{}/toxics", self.proxy),
                None,
            )
            .await;
        toxics
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// What a scenario sent and what came of it; printed and kept for `docs/RELIABILITY.md`.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub scenario: String,
    pub mode: String,
    /// Requests made.
    pub sent: usize,
    /// Answered 200 (sync) or 202 (async).
    pub acknowledged: usize,
    /// Answered 503 or 504.
    pub refused: usize,
    /// Distinct records found on the topic.
    pub landed: usize,
    /// Acknowledged records missing from the topic.
    pub lost: usize,
    /// Records found more than once (extra copies).
    pub duplicates: usize,
    pub max_answer: Duration,
    pub note: String,
}

impl Tally {
    pub fn new(scenario: &str, mode: &str) -> Self {
        Tally {
            scenario: scenario.into(),
            mode: mode.into(),
            ..Tally::default()
        }
    }

    /// Prints the row and keeps it under `target/tmp/reliability/`, where `scripts/test`
    /// collects the rows into the table of `docs/RELIABILITY.md`.
    pub fn report(&self) {
        let row = format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            self.scenario,
            self.mode,
            self.sent,
            self.acknowledged,
            self.refused,
            self.landed,
            self.lost,
            self.duplicates,
            self.max_answer.as_millis(),
            self.note
        );
        println!("RELIABILITY {row}");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reliability");
        std::fs::create_dir_all(&dir).unwrap();
        let file: String = format!("{}-{}", self.scenario, self.mode)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        std::fs::write(dir.join(format!("{file}.md")), format!("{row}\n")).unwrap();
    }
}

/// The value of record number `seq` for `key`: the two can be read back from the value alone.
pub fn numbered(key: &str, seq: usize) -> String {
    format!("{key}#{seq}")
}

/// Counts every (key, seq) read back. Panics on a value that is not a numbered record.
pub fn copies(records: &[Read]) -> BTreeMap<(String, usize), usize> {
    let mut copies = BTreeMap::new();
    for r in records {
        let (key, seq) = r
            .value
            .rsplit_once('#')
            .unwrap_or_else(|| panic!("not a numbered record: {r:?}"));
        assert_eq!(r.key.as_deref(), Some(key), "{r:?}");
        *copies
            .entry((key.to_string(), seq.parse::<usize>().unwrap()))
            .or_default() += 1;
    }
    copies
}

/// Extra copies in `copies` (a record there twice counts one).
pub fn duplicates(copies: &BTreeMap<(String, usize), usize>) -> usize {
    copies.values().map(|n| n.saturating_sub(1)).sum()
}

/// Asserts that, for each key, the acknowledged records appear in the order they were sent
/// (ascending offsets within the key's partition).
pub fn assert_in_order_per_key(records: &[Read], acknowledged: &[(String, usize)]) {
    let acked: std::collections::HashSet<&(String, usize)> = acknowledged.iter().collect();
    let mut last: BTreeMap<String, (usize, i32, i64)> = BTreeMap::new();
    let mut sorted: Vec<&Read> = records.iter().collect();
    sorted.sort_by_key(|r| (r.partition, r.offset));
    for r in sorted {
        let (key, seq) = r.value.rsplit_once('#').unwrap();
        let id = (key.to_string(), seq.parse::<usize>().unwrap());
        if !acked.contains(&id) {
            continue;
        }
        if let Some((prev, partition, offset)) = last.get(key) {
            assert_eq!(*partition, r.partition, "key {key} changed partition");
            assert!(
                *prev < id.1,
                "key {key}: #{} at offset {} after #{prev} at offset {offset}",
                id.1,
                r.offset
            );
        }
        last.insert(key.to_string(), (id.1, r.partition, r.offset));
    }
}

/// One request of a load and how it was answered (`status` 0: no HTTP answer at all).
#[derive(Debug, Clone)]
pub struct Sent {
    pub key: String,
    pub seq: usize,
    pub status: u16,
    /// When the request was made, and how long its answer took.
    pub at: std::time::Instant,
    pub elapsed: Duration,
    pub body: Value,
    /// With `status` 0: the connection was made (the request may have been served) rather than
    /// refused.
    pub connected: bool,
}

/// How a load sends: the producer mode and sync (200) or async (202).
#[derive(Debug, Clone, Copy)]
pub struct LoadMode {
    pub idempotent: bool,
    pub asynchronous: bool,
}

impl LoadMode {
    pub fn name(self) -> String {
        format!(
            "{}-{}",
            if self.idempotent {
                "idempotent"
            } else {
                "plain"
            },
            if self.asynchronous { "async" } else { "sync" }
        )
    }

    pub fn success(self) -> u16 {
        if self.asynchronous {
            202
        } else {
            200
        }
    }
}

/// The longest a request may take: the mode's `message.timeout.ms` (3 s plain, 5 s
/// idempotent) plus the 2 s the service waits past it for librdkafka's verdict, plus 1 s for
/// HTTP and scheduling. An async request only queues the record.
pub fn answer_bound(mode: LoadMode) -> Duration {
    if mode.asynchronous {
        Duration::from_secs(1)
    } else if mode.idempotent {
        Duration::from_millis(5000 + 2000 + 1000)
    } else {
        Duration::from_millis(3000 + 2000 + 1000)
    }
}

/// The four ways to send: plain and idempotent, sync and async.
pub const ALL_MODES: [LoadMode; 4] = [
    LoadMode {
        idempotent: false,
        asynchronous: false,
    },
    LoadMode {
        idempotent: true,
        asynchronous: false,
    },
    LoadMode {
        idempotent: false,
        asynchronous: true,
    },
    LoadMode {
        idempotent: true,
        asynchronous: true,
    },
];

/// Sends record number `seq` of `key` through `/api/v1/send` in `mode`.
pub async fn send_numbered(
    app: &support::TestApp,
    topic: &str,
    key: &str,
    seq: usize,
    mode: LoadMode,
) -> support::Answer {
    app.post_json(
        "/api/v1/send",
        &json!({"topic": topic, "key": key, "message": numbered(key, seq),
                "isIdempotent": mode.idempotent, "isAsync": mode.asynchronous}),
    )
    .await
}

/// `workers` keys, each sending its numbered records one after another to `base` until `stop`
/// is set (or `per_worker` records are sent). Each request may take up to 60 s: longer counts as
/// a hang and fails the scenario that checks answer times.
pub async fn keyed_load(
    base: &str,
    topic: &str,
    prefix: &str,
    mode: LoadMode,
    workers: usize,
    per_worker: usize,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<Sent> {
    // A new connection per request: a pooled one may be closed under a request, and the client
    // would then send it again on its own, so that a "connection refused" could hide a request
    // the service did take. Without reuse, a refused connection means nothing was sent.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let (client, base, topic, stop) = (
            client.clone(),
            base.to_string(),
            topic.to_string(),
            stop.clone(),
        );
        let key = format!("{prefix}{worker}");
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            for seq in 0..per_worker {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let started = std::time::Instant::now();
                let answer = client
                    .post(format!("{base}/api/v1/send"))
                    .json(&json!({
                        "topic": topic,
                        "key": key,
                        "message": numbered(&key, seq),
                        "isIdempotent": mode.idempotent,
                        "isAsync": mode.asynchronous,
                    }))
                    .send()
                    .await;
                let (status, body, connected) = match answer {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let text = response.text().await.unwrap_or_default();
                        (
                            status,
                            serde_json::from_str(&text).unwrap_or(Value::String(text)),
                            true,
                        )
                    }
                    Err(e) => (0, Value::String(e.to_string()), !e.is_connect()),
                };
                sent.push(Sent {
                    key: key.clone(),
                    seq,
                    status,
                    at: started,
                    elapsed: started.elapsed(),
                    body,
                    connected,
                });
            }
            sent
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

/// Counts a load against what is on its topic. Returns the tally (acknowledged records missing
/// counted as `lost`, duplicates over every record on the topic) and the acknowledged ids;
/// panics on an answer that is neither the mode's success nor a 503/504 problem.
pub fn tally_load(
    scenario: &str,
    mode: LoadMode,
    sent: &[Sent],
    records: &[Read],
) -> (Tally, Vec<(String, usize)>) {
    let mut tally = Tally::new(scenario, &mode.name());
    tally.sent = sent.len();
    let mut acknowledged = Vec::new();
    for s in sent {
        tally.max_answer = tally.max_answer.max(s.elapsed);
        if s.status == mode.success() {
            acknowledged.push((s.key.clone(), s.seq));
        } else if s.status == 503 || s.status == 504 {
            tally.refused += 1;
            assert!(
                s.body["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("urn:kafka-producer:problem:")),
                "a {} without a problem body: {s:?}",
                s.status
            );
        } else {
            panic!("{scenario} {}: unexpected answer {s:?}", mode.name());
        }
    }
    tally.acknowledged = acknowledged.len();
    let copies = copies(records);
    tally.landed = copies.len();
    tally.duplicates = duplicates(&copies);
    let missing: Vec<&(String, usize)> = acknowledged
        .iter()
        .filter(|id| !copies.contains_key(*id))
        .collect();
    tally.lost = missing.len();
    (tally, acknowledged)
}

/// Starts [`keyed_load`] with six keys on `app` in the background, until `stop` is set.
pub fn spawn_load(
    app: &support::TestApp,
    topic: &str,
    prefix: &str,
    mode: LoadMode,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Vec<Sent>> {
    let (base, topic, prefix, stop) = (
        app.base.clone(),
        topic.to_string(),
        prefix.to_string(),
        stop.clone(),
    );
    tokio::spawn(async move { keyed_load(&base, &topic, &prefix, mode, 6, 1_000_000, stop).await })
}

/// Requests of `sent` made at `from` or later and answered before `to`.
pub fn within(sent: &[Sent], from: Instant, to: Instant) -> Vec<&Sent> {
    sent.iter()
        .filter(|s| s.at >= from && s.at + s.elapsed < to)
        .collect()
}

/// Polls `GET /health/ready` until `accept` holds for its status and body; returns how long
/// that took and the body. Panics after `limit` with the last answer.
pub async fn wait_readiness(
    app: &support::TestApp,
    what: &str,
    limit: Duration,
    accept: impl Fn(u16, &Value) -> bool,
) -> (Duration, Value) {
    let started = Instant::now();
    loop {
        let answer = app.get("/health/ready").await;
        if accept(answer.status.as_u16(), &answer.body) {
            return (started.elapsed(), answer.body);
        }
        assert!(
            started.elapsed() < limit,
            "/health/ready never said {what} within {limit:?}; last: {} {}",
            answer.status,
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The node ids `/health/ready` lists as unreachable.
pub fn unreachable_of(body: &Value) -> Vec<i64> {
    body["unreachable"]
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

/// The same service instance, after a fault: 5 numbered records per mode (keys
/// `{label}-{mode}`) are each answered with the mode's success and on the topic exactly once.
pub async fn assert_every_mode_delivers(
    app: &support::TestApp,
    bootstrap: &str,
    topic: &str,
    label: &str,
) {
    for mode in ALL_MODES {
        let key = format!("{label}-{}", mode.name());
        for seq in 0..5 {
            let answer = send_numbered(app, topic, &key, seq, mode).await;
            assert_eq!(
                answer.status.as_u16(),
                mode.success(),
                "{} {label}: {answer:?}",
                mode.name()
            );
        }
    }
    assert_eq!(app.producers.flush(Duration::from_secs(15)).await, 0);
    let records = support::read_topic(bootstrap, topic, 1, Duration::from_secs(30)).await;
    let copies = copies(&records);
    for mode in ALL_MODES {
        let key = format!("{label}-{}", mode.name());
        for seq in 0..5 {
            assert_eq!(
                copies.get(&(key.clone(), seq)),
                Some(&1),
                "{key} #{seq} not on the topic exactly once"
            );
        }
    }
}

/// Sync sends in both producer modes at once, six keys each (`plain0`..`plain5` and
/// `idem0`..`idem5`): the load the cluster scenarios put a fault under.
pub struct SyncLoads {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    loads: Vec<(LoadMode, &'static str, tokio::task::JoinHandle<Vec<Sent>>)>,
}

impl SyncLoads {
    pub fn start(app: &support::TestApp, topic: &str) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let loads = [(ALL_MODES[0], "plain"), (ALL_MODES[1], "idem")]
            .into_iter()
            .map(|(mode, prefix)| (mode, prefix, spawn_load(app, topic, prefix, mode, &stop)))
            .collect();
        SyncLoads { stop, loads }
    }

    /// Stops both; per mode, its key prefix and what it sent.
    pub async fn finish(self) -> Vec<(LoadMode, &'static str, Vec<Sent>)> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut done = Vec::new();
        for (mode, prefix, load) in self.loads {
            done.push((mode, prefix, load.await.unwrap()));
        }
        done
    }
}

/// The records whose key starts with `prefix`.
pub fn keyed(records: &[support::Read], prefix: &str) -> Vec<support::Read> {
    records
        .iter()
        .filter(|r| r.key.as_deref().is_some_and(|k| k.starts_with(prefix)))
        .cloned()
        .collect()
}

/// The partition each key's records went to.
pub fn partition_of_keys(records: &[support::Read]) -> BTreeMap<String, i32> {
    records
        .iter()
        .filter_map(|r| Some((r.key.clone()?, r.partition)))
        .collect()
}
