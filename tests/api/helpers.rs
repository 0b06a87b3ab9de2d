//! Spawning the app on port 0 against the test brokers, and reading topics back.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kafka_producer::kafka::Producers;
use kafka_producer::runtime;
use kafka_producer::settings::Settings;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The broker with topic auto-creation on (the seed's lab).
pub fn bootstrap() -> String {
    std::env::var("TEST_KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:39092".into())
}

/// A second broker with topic auto-creation off.
pub fn noauto_bootstrap() -> String {
    std::env::var("TEST_KAFKA_NOAUTO_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:39192".into())
}

pub fn unique_topic(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// The service on a free port, with its own producers.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub producers: Producers,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<i64>>>,
}

/// An answer, its body parsed as JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub elapsed: Duration,
}

impl Answer {
    /// Asserts an `application/problem+json` answer of this status and problem type.
    pub fn assert_problem(&self, status: u16, kind: &str) {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.body);
        assert_eq!(
            self.headers[reqwest::header::CONTENT_TYPE],
            "application/problem+json",
            "{:?}",
            self.body
        );
        assert_eq!(self.body["status"], status, "{:?}", self.body);
        assert_eq!(
            self.body["type"],
            format!("urn:kafka-producer:problem:{kind}"),
            "{:?}",
            self.body
        );
        assert!(self.body["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(self.body["detail"].as_str().is_some_and(|t| !t.is_empty()));
        if status == 503 {
            assert!(self.headers.contains_key(reqwest::header::RETRY_AFTER));
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&bootstrap(), &[]).await
    }

    /// `vars` are environment-style settings (`KAFKA_LINGER_MS`, `MAX_BODY_BYTES`…).
    pub async fn spawn_with(bootstrap: &str, vars: &[(&str, &str)]) -> Self {
        let mut map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("KAFKA_BOOTSTRAP_SERVERS".into(), bootstrap.into());
        let settings = Settings::from_vars(&map, None).expect("test settings");
        let service = runtime::build(&settings, bootstrap, false).expect("service");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(runtime::serve(
            listener,
            service.router,
            service.producers.clone(),
            async {
                let _ = rx.await;
            },
            Duration::from_secs(15),
        ));
        TestApp {
            base,
            client: reqwest::Client::new(),
            producers: service.producers,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Answer {
        self.request(
            reqwest::Method::POST,
            path,
            Some(body.to_string()),
            Some("application/json"),
        )
        .await
    }

    /// POSTs `body` as JSON with extra request headers.
    pub async fn post_with_headers(
        &self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Answer {
        let started = Instant::now();
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer_of(request.send().await.expect("request sent"), started).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request(reqwest::Method::GET, path, None, None).await
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
        content_type: Option<&str>,
    ) -> Answer {
        let started = Instant::now();
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(ct) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, ct);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("request sent");
        answer_of(response, started).await
    }

    /// Stops the server as SIGTERM would, and returns how many records were left unflushed.
    pub async fn stop(mut self) -> i64 {
        let _ = self.shutdown.take().unwrap().send(());
        self.server.take().unwrap().await.unwrap().unwrap()
    }
}

pub async fn answer_of(response: reqwest::Response, started: Instant) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
        elapsed: started.elapsed(),
    }
}

/// A record read back from the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub value: String,
    pub headers: Vec<(String, String)>,
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
    }
}

/// Asserts the seed's three headers on a record read back.
pub fn assert_seed_headers(record: &Read, mode: &str, send: &str) {
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
    let age = time::OffsetDateTime::now_utc() - parsed;
    assert!(
        age.whole_seconds().abs() < 120,
        "timestamp {ts} is not recent"
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

/// A `cargo lambda watch` process (the Lambda runtime emulator), ended with everything it
/// started when dropped.
pub struct Emulator(pub Child);

impl Drop for Emulator {
    fn drop(&mut self) {
        // The emulator starts the function in a session of its own: find it among the
        // emulator's descendants before stopping the emulator, then end them all.
        let mut pids = descendants(self.0.id());
        pids.push(self.0.id());
        for pid in &pids {
            let _ = Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        for pid in &pids {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.0.wait();
    }
}

/// Every process below `root`, from `ps`.
pub fn descendants(root: u32) -> Vec<u32> {
    let output = Command::new("ps").args(["-e", "-o", "pid=,ppid="]).output();
    let table: Vec<(u32, u32)> = output
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().map(|f| f.parse::<u32>());
            Some((fields.next()?.ok()?, fields.next()?.ok()?))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            table
                .iter()
                .filter(|(_, ppid)| *ppid == parent)
                .map(|(pid, _)| *pid),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// GETs `url` and parses its JSON body.
pub async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// Polls `{base}/health` until it answers 200. Each probe has its own timeout: an emulator may
/// hold a request while it builds the function. Panics with `what` after `limit`.
pub async fn wait_healthy(client: &reqwest::Client, base: &str, limit: Duration, what: &str) {
    let deadline = Instant::now() + limit;
    loop {
        let probe = client
            .get(format!("{base}/health"))
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        if probe.is_ok_and(|r| r.status() == 200) {
            return;
        }
        assert!(Instant::now() < deadline, "no answer from /health: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A free loopback port for a child process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the binary with only `vars` (and PATH) in its environment, and waits for `/health`.
pub async fn start_binary(vars: &[(&str, String)], log: &std::path::Path) -> (Child, String) {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kafka-producer"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", port.to_string())
        .env("LOG_LEVEL", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    for (k, v) in vars {
        command.env(k, v);
    }
    let child = command.spawn().expect("binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_healthy(&client, &base, Duration::from_secs(20), "the binary").await;
    (child, base)
}

/// Sends SIGTERM, as Kubernetes does before stopping a pod.
pub fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the process to exit; kills it and panics after `limit`.
pub fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs schemathesis against the service's document with `args` (checks, mode, examples), with
/// a fixed seed (`SCHEMATHESIS_SEED`) and its cache beside the test artefacts; asserts it exits
/// 0 with "No issues found" and returns what it printed.
pub async fn schemathesis(base: &str, args: &[&str]) -> String {
    let seed = std::env::var("SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261127".into());
    let mut command = Command::new("schemathesis");
    command
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .args(["run", &format!("{base}/openapi.json")])
        .args(args)
        .args(["--seed", &seed, "--no-color"])
        .env("SCHEMATHESIS_HOOKS", "");
    let output = tokio::task::spawn_blocking(move || {
        command
            .output()
            .expect("schemathesis is installed (scripts/test installs it from PyPI)")
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{text}");
    assert!(output.status.success(), "{text}");
    assert!(text.contains("No issues found"), "{text}");
    text
}
