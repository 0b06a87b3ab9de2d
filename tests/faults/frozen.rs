//! Scenario 8: the service frozen and thawed, as a Lambda sandbox is between invocations or a
//! pod whose node is paused. The real binary is stopped with SIGSTOP long enough for its broker
//! (`connections.max.idle.ms` 10 s) to close every connection it had, and to forget the
//! idempotent producer's id (`producer.id.expiration.ms` 15 s). Thawed with SIGCONT, it is sent
//! three records in each mode at once: each is answered with its mode's success within its
//! bound and is on the topic exactly once. The same for the function under the Lambda emulator
//! (`cargo lambda watch`): the function's process is frozen between invocations, and invoked
//! right after the thaw.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::scenario::*;
use support::*;

/// The broker's idle limit: it closes a connection unused this long.
const IDLE: Duration = Duration::from_secs(10);
/// How long the service stays frozen at least: past the idle limit and the producer id's expiry.
const FROZEN_FOR: Duration = Duration::from_secs(20);
const BROKER: &str = "faults-idle";

/// How long an answer may take after the thaw: a sync answer waits for a new connection and
/// the broker's acknowledgement (the idempotent one for a new producer id too); an async one
/// only for the queue.
fn bound(mode: LoadMode) -> Duration {
    match (mode.asynchronous, mode.idempotent) {
        (true, _) => Duration::from_secs(1),
        (false, false) => Duration::from_secs(6),
        (false, true) => Duration::from_secs(8),
    }
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    topic: &str,
    key: &str,
    mode: LoadMode,
) -> (u16, Duration, String) {
    let started = Instant::now();
    let answer = client
        .post(format!("{base}/api/v1/send"))
        .json(
            &json!({"topic": topic, "key": key, "message": numbered(key, 0),
                      "isIdempotent": mode.idempotent, "isAsync": mode.asynchronous}),
        )
        .send()
        .await;
    match answer {
        Ok(response) => {
            let status = response.status().as_u16();
            (
                status,
                started.elapsed(),
                response.text().await.unwrap_or_default(),
            )
        }
        Err(e) => (0, started.elapsed(), e.to_string()),
    }
}

/// The scenario's broker, started afresh: it closes idle connections after `IDLE` and forgets
/// producer ids after 15 s. Returns its port.
async fn idle_broker() -> u16 {
    let port = std::env::var("TEST_KAFKA_IDLE_PORT").unwrap_or_else(|_| "19792".into());
    let idle = format!("connections.max.idle.ms={}", IDLE.as_millis());
    let started = port.clone();
    tokio::task::spawn_blocking(move || {
        scripts_kafka(&["wipe", "--name", BROKER]);
        scripts_kafka(&[
            "start",
            "--name",
            BROKER,
            "--port",
            &started,
            "--auto-create",
            "true",
            "--property",
            &idle,
            "--property",
            "producer.id.expiration.ms=15000",
            "--property",
            "producer.id.expiration.check.interval.ms=1000",
        ])
    })
    .await
    .unwrap();
    port.parse().unwrap()
}

async fn wipe_idle_broker() {
    tokio::task::spawn_blocking(|| scripts_kafka(&["wipe", "--name", BROKER]))
        .await
        .unwrap();
}

/// Freezes `pid` until the broker has closed every connection it had open to it (all in
/// CLOSE_WAIT on this side) and `FROZEN_FOR` has passed; returns the guard that thaws it, how
/// long it has been frozen, and the sockets' states.
async fn freeze_until_closed(
    pid: u32,
    broker_port: u16,
) -> (
    Frozen,
    Duration,
    std::collections::BTreeMap<&'static str, usize>,
) {
    let before = tcp_states(pid, broker_port);
    assert!(
        before.get("ESTABLISHED").is_some_and(|n| *n > 0),
        "no connection to the broker before the freeze: {before:?}"
    );
    let frozen = Frozen::freeze(pid);
    let frozen_at = Instant::now();
    tokio::time::sleep(IDLE).await;
    loop {
        let states = tcp_states(pid, broker_port);
        let closed = !states.contains_key("ESTABLISHED") && states.contains_key("CLOSE_WAIT");
        if closed && frozen_at.elapsed() >= FROZEN_FOR {
            return (frozen, frozen_at.elapsed(), states);
        }
        assert!(
            frozen_at.elapsed() < Duration::from_secs(90),
            "the broker did not close the frozen process's connections: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Counts what was sent (key, status, time), before the freeze and after the thaw, against
/// what `topic` holds, reports the row, and asserts every key is there exactly once.
async fn read_back_once(
    bootstrap: &str,
    topic: &str,
    scenario: &str,
    note: String,
    answers: &[(LoadMode, String, u16, Duration, String)],
    expected: &[String],
) {
    let mut tally = Tally::new(scenario, "all four");
    for (mode, key, status, elapsed, body) in answers {
        tally.sent += 1;
        tally.max_answer = tally.max_answer.max(*elapsed);
        assert_eq!(*status, mode.success(), "{key}: {body}");
        tally.acknowledged += 1;
    }
    let records = read_topic(bootstrap, topic, expected.len(), Duration::from_secs(30)).await;
    let copies = copies(&records);
    tally.landed = copies.len();
    tally.duplicates = duplicates(&copies);
    tally.lost = expected
        .iter()
        .filter(|key| !copies.contains_key(&((*key).clone(), 0)))
        .count();
    tally.note = note;
    tally.report();
    assert_eq!(tally.lost, 0, "acknowledged records missing: {tally:?}");
    assert_eq!(tally.duplicates, 0, "duplicates: {tally:?}");
    assert_eq!(tally.landed, expected.len(), "{tally:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_service_thaws_onto_closed_connections_and_delivers_every_record() {
    let broker_port = idle_broker().await;
    let bootstrap = format!("127.0.0.1:{broker_port}");
    let topic = unique_topic("frozen");
    let log = std::env::temp_dir().join(format!("kp-frozen-{}.log", std::process::id()));
    let (child, base) = start_binary(
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", bootstrap.clone()),
            ("LOG_FORMAT", "json".into()),
        ],
        &log,
    )
    .await;
    let mut child = KillOnDrop(child);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();

    // Before: one record per mode, so that every producer has its connections and the
    // idempotent ones their producer ids.
    let (mut expected, mut answers) = (Vec::new(), Vec::new());
    for mode in ALL_MODES {
        let key = format!("before-{}", mode.name());
        let (status, elapsed, body) = send(&client, &base, &topic, &key, mode).await;
        assert_eq!(status, mode.success(), "{key}: {body}");
        expected.push(key.clone());
        answers.push((mode, key, status, elapsed, body));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (frozen, frozen_for, at_thaw) = freeze_until_closed(child.0.id(), broker_port).await;

    // Thawed, then at once three records per mode, all at the same time.
    drop(frozen);
    let thawed = Instant::now();
    let mut tasks = Vec::new();
    for mode in ALL_MODES {
        for i in 0..3 {
            let key = format!("thawed-{}-{i}", mode.name());
            expected.push(key.clone());
            let (client, base, topic) = (client.clone(), base.clone(), topic.clone());
            tasks.push(tokio::spawn(async move {
                let (status, elapsed, body) = send(&client, &base, &topic, &key, mode).await;
                (mode, key, status, elapsed, body)
            }));
        }
    }
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let all_answered = thawed.elapsed();
    for (mode, key, _, elapsed, _) in answers.iter().filter(|a| a.1.starts_with("thawed-")) {
        assert!(
            *elapsed <= bound(*mode),
            "{key} answered after {elapsed:?}, over {:?}",
            bound(*mode)
        );
    }
    let health = client.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200, "not live after the thaw");

    let note = format!(
        "frozen {} s; its sockets to the broker at the thaw: {at_thaw:?}; all twelve answered {} ms after the thaw",
        frozen_for.as_secs(),
        all_answered.as_millis()
    );
    read_back_once(
        &bootstrap,
        &topic,
        "8a frozen past the idle limit, thawed",
        note,
        &answers,
        &expected,
    )
    .await;

    // And it still stops cleanly.
    sigterm(&child.0);
    let status = tokio::task::block_in_place(|| wait_exit(&mut child.0, Duration::from_secs(30)));
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    let _ = std::fs::remove_file(&log);
    wipe_idle_broker().await;
}

/// The function's own process under the emulator (its comm is the binary's name).
fn function_pids(emulator: u32) -> Vec<u32> {
    descendants(emulator)
        .into_iter()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "kafka-producer")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_lambda_function_is_invoked_right_after_the_thaw_and_delivers() {
    let broker_port = idle_broker().await;
    let bootstrap = format!("127.0.0.1:{broker_port}");
    let topic = unique_topic("frozen-lambda");
    let port = free_port();
    let log = std::env::temp_dir().join(format!("kp-frozen-lambda-{}.log", std::process::id()));
    // The faults target is built without features: so is the function (nothing to rebuild).
    let child = std::process::Command::new("cargo")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["lambda", "watch", "--ignore-changes", "-A", "127.0.0.1"])
        .args(["-P", &port.to_string()])
        .args(["--env-var", &format!("KAFKA_BOOTSTRAP_SERVERS={bootstrap}")])
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(log.with_extension("err")).unwrap())
        .spawn()
        .expect("cargo lambda is installed (scripts/test installs it)");
    let emulator = Emulator(child);
    let base = format!("http://127.0.0.1:{port}/lambda-url/kafka-producer");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let what = format!("the function; see {}", log.display());
    wait_healthy(&client, &base, Duration::from_secs(600), &what).await;

    let (mut expected, mut answers) = (Vec::new(), Vec::new());
    for mode in ALL_MODES {
        let key = format!("before-{}", mode.name());
        let (status, elapsed, body) = send(&client, &base, &topic, &key, mode).await;
        assert_eq!(status, mode.success(), "{key}: {body}");
        expected.push(key.clone());
        answers.push((mode, key, status, elapsed, body));
    }
    let pids = function_pids(emulator.0.id());
    assert_eq!(
        pids.len(),
        1,
        "one function process under the emulator: {pids:?}"
    );
    let function = pids[0];
    let (frozen, frozen_for, at_thaw) = freeze_until_closed(function, broker_port).await;

    // Thawed, then invoked at once, idempotent sync first, one invocation after another
    // (several at a time could make the emulator start an instance that was never frozen).
    drop(frozen);
    let thawed = Instant::now();
    let mut first = None;
    for mode in [ALL_MODES[1], ALL_MODES[0], ALL_MODES[2], ALL_MODES[3]] {
        for i in 0..3 {
            let key = format!("thawed-{}-{i}", mode.name());
            expected.push(key.clone());
            let (status, elapsed, body) = send(&client, &base, &topic, &key, mode).await;
            first.get_or_insert(thawed.elapsed());
            // In Lambda an async send waits for its delivery: the sync bounds apply.
            let limit = bound(LoadMode {
                asynchronous: false,
                ..mode
            });
            assert!(
                elapsed <= limit,
                "{key} answered after {elapsed:?}, over {limit:?}: {body}"
            );
            answers.push((mode, key, status, elapsed, body));
        }
    }
    assert_eq!(
        function_pids(emulator.0.id()),
        vec![function],
        "the thawed instance answered, not a new one"
    );

    let note = format!(
        "frozen {} s; its sockets to the broker at the thaw: {at_thaw:?}; first invocation answered {} ms after the thaw",
        frozen_for.as_secs(),
        first.unwrap_or_default().as_millis()
    );
    read_back_once(
        &bootstrap,
        &topic,
        "8b Lambda function frozen, invoked at the thaw",
        note,
        &answers,
        &expected,
    )
    .await;
    drop(emulator);
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(log.with_extension("err"));
    wipe_idle_broker().await;
}
