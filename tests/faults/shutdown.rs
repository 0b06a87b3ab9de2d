//! Scenario 5: SIGTERM to the real binary while async requests keep coming. Every record
//! accepted with 202 is delivered before the process exits; if the broker cannot be reached,
//! each one is counted and logged as not delivered. Either way the process exits within
//! `SHUTDOWN_TIMEOUT_MS`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::scenario::*;
use support::*;

const PLAIN_ASYNC: LoadMode = LoadMode {
    idempotent: false,
    asynchronous: true,
};
const IDEMPOTENT_ASYNC: LoadMode = LoadMode {
    idempotent: true,
    asynchronous: true,
};

/// The JSON log line with `message` (LOG_FORMAT=json).
fn log_line(log: &str, message: &str) -> Value {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["fields"]["message"] == message)
        .unwrap_or_else(|| panic!("no log line {message:?} in:\n{log}"))
}

/// Async load from both producers; SIGTERM after `before`, while the load goes on. Returns what
/// was sent (requests refused because the server stopped listening have status 0) and how long
/// the process took to exit after the signal.
async fn load_then_sigterm(
    child: &mut std::process::Child,
    base: &str,
    topic: &str,
    before: Duration,
    limit: Duration,
) -> (Vec<(LoadMode, Vec<Sent>)>, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let loads: Vec<_> = [PLAIN_ASYNC, IDEMPOTENT_ASYNC]
        .into_iter()
        .map(|mode| {
            let (base, topic, stop) = (base.to_string(), topic.to_string(), stop.clone());
            let prefix = format!("{}-", mode.name());
            tokio::spawn(async move {
                (
                    mode,
                    keyed_load(&base, &topic, &prefix, mode, 4, 1_000_000, stop).await,
                )
            })
        })
        .collect();
    tokio::time::sleep(before).await;
    sigterm(child);
    let signalled = Instant::now();
    let pid = child.id();
    let status = tokio::task::block_in_place(|| wait_exit(child, limit + Duration::from_secs(10)));
    let exited_after = signalled.elapsed();
    assert!(status.success(), "pid {pid}: {status:?}");
    stop.store(true, Ordering::SeqCst);
    let mut sent = Vec::new();
    for load in loads {
        sent.push(load.await.unwrap());
    }
    (sent, exited_after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_async_load_delivers_every_accepted_record() {
    let topic = unique_topic("sigterm");
    let log = std::env::temp_dir().join(format!("kp-sigterm-{}.log", std::process::id()));
    let shutdown = Duration::from_secs(10);
    // A linger keeps records queued when the signal arrives.
    let (mut child, base) = start_binary(
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", bootstrap()),
            ("KAFKA_LINGER_MS", "300".into()),
            ("SHUTDOWN_TIMEOUT_MS", shutdown.as_millis().to_string()),
            ("LOG_FORMAT", "json".into()),
        ],
        &log,
    )
    .await;
    let (sent, exited_after) =
        load_then_sigterm(&mut child, &base, &topic, Duration::from_secs(3), shutdown).await;
    let output = std::fs::read_to_string(&log).unwrap();
    let last = log_line(
        &output,
        "every queued record was delivered or reported before exit",
    );

    let records = read_topic(&bootstrap(), &topic, 1, Duration::from_secs(30)).await;
    let mut accepted_total = 0;
    for (mode, sent) in &sent {
        let refused_by_stop = sent.iter().filter(|s| s.status == 0).count();
        let answered: Vec<Sent> = sent.iter().filter(|s| s.status != 0).cloned().collect();
        let mine: Vec<Read> = records
            .iter()
            .filter(|r| {
                r.key
                    .as_deref()
                    .is_some_and(|k| k.starts_with(&format!("{}-", mode.name())))
            })
            .cloned()
            .collect();
        let (mut tally, _) = tally_load("5a SIGTERM under async load", *mode, &answered, &mine);
        accepted_total += tally.acknowledged;
        tally.sent = sent.len();
        tally.max_answer = tally
            .max_answer
            .max(sent.iter().map(|s| s.elapsed).max().unwrap_or_default());
        tally.note = format!(
            "exit {} ms after SIGTERM (limit {} ms); {refused_by_stop} requests unanswered (connection refused) once stopping",
            exited_after.as_millis(),
            shutdown.as_millis()
        );
        tally.report();
        assert!(tally.acknowledged > 50, "too little load: {tally:?}");
        assert_eq!(tally.lost, 0, "202-accepted records missing: {tally:?}");
        if mode.idempotent {
            assert_eq!(tally.duplicates, 0, "{tally:?}");
        }
    }
    assert_eq!(last["fields"]["async_delivered"], accepted_total, "{last}");
    assert_eq!(last["fields"]["async_failed"], 0, "{last}");
    assert!(
        exited_after <= shutdown + Duration::from_millis(300),
        "exit took {exited_after:?}"
    );
    assert!(output.contains("SIGTERM received"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_with_the_broker_unreachable_counts_and_logs_what_is_lost() {
    let toxiproxy = Toxiproxy::from_env();
    toxiproxy.reset().await;
    let topic = unique_topic("sigterm-cut");
    let log = std::env::temp_dir().join(format!("kp-sigterm-cut-{}.log", std::process::id()));
    let shutdown = Duration::from_secs(3);
    let (mut child, base) = start_binary(
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", proxied_bootstrap()),
            ("SHUTDOWN_TIMEOUT_MS", shutdown.as_millis().to_string()),
            ("LOG_FORMAT", "json".into()),
        ],
        &log,
    )
    .await;
    // Connected and the topic known; then everything the service sends is dropped on the way.
    let client = reqwest::Client::new();
    for idempotent in [false, true] {
        let warm = client
            .post(format!("{base}/api/v1/send"))
            .json(&json!({"topic": topic, "key": "warm", "message": numbered("warm", 0), "isIdempotent": idempotent}))
            .send()
            .await
            .unwrap();
        assert_eq!(warm.status(), 200);
    }
    toxiproxy
        .add("blackhole", "timeout", "upstream", json!({"timeout": 0}))
        .await;

    let (sent, exited_after) = load_then_sigterm(
        &mut child,
        &base,
        &topic,
        Duration::from_millis(1500),
        shutdown,
    )
    .await;
    toxiproxy.reset().await;
    let output = std::fs::read_to_string(&log).unwrap();
    let last = log_line(
        &output,
        "records still queued at the shutdown deadline are lost (raise SHUTDOWN_TIMEOUT_MS)",
    );
    let failed_lines = output.matches("record not delivered").count() as u64;

    let accepted: usize = sent
        .iter()
        .map(|(mode, s)| s.iter().filter(|s| s.status == mode.success()).count())
        .sum();
    let records = read_topic(&bootstrap(), &topic, 2, Duration::from_secs(20)).await;
    let landed = copies(&records).keys().filter(|(k, _)| k != "warm").count() as u64;
    let delivered = last["fields"]["async_delivered"].as_u64().unwrap();
    let failed = last["fields"]["async_failed"].as_u64().unwrap();
    let unflushed = last["fields"]["unflushed"].as_u64().unwrap();

    let unanswered = sent
        .iter()
        .map(|(_, s)| s.iter().filter(|s| s.status == 0 && s.connected).count())
        .sum::<usize>() as u64;
    let mut tally = Tally::new("5b SIGTERM, broker unreachable", "plain+idempotent async");
    tally.sent = sent.iter().map(|(_, s)| s.len()).sum();
    tally.acknowledged = accepted;
    tally.refused = sent
        .iter()
        .map(|(_, s)| {
            s.iter()
                .filter(|s| s.status == 503 || s.status == 504)
                .count()
        })
        .sum();
    tally.landed = landed as usize;
    tally.max_answer = sent
        .iter()
        .flat_map(|(_, s)| s.iter().map(|s| s.elapsed))
        .max()
        .unwrap_or_default();
    tally.note = format!(
        "exit {} ms after SIGTERM (limit {} ms); logged: {delivered} delivered, {failed} failed, {unflushed} unflushed; {} requests refused (port closed) once stopping, {unanswered} cut mid-request",
        exited_after.as_millis(),
        shutdown.as_millis(),
        sent.iter().map(|(_, s)| s.iter().filter(|s| s.status == 0 && !s.connected).count()).sum::<usize>()
    );
    tally.report();
    assert!(accepted > 10, "too little load: {tally:?}");
    // Every 202 the clients saw is in the service's count: none is lost without a word. The
    // count may be higher by requests whose answer the clients never got (the server stopped
    // under them, or the client's own retry of a closed connection was refused): their outcome
    // is unknown to the client, not to the service.
    let accounted = delivered + failed + unflushed;
    let unknown = sent
        .iter()
        .map(|(_, s)| s.iter().filter(|s| s.status == 0).count())
        .sum::<usize>() as u64;
    assert!(
        (accepted as u64..=accepted as u64 + unknown).contains(&accounted),
        "every accepted record is accounted for: {accepted} accepted, {last}"
    );
    // Records purged at exit are logged as they go, after the count of the unflushed.
    assert!(
        (failed..=failed + unflushed).contains(&failed_lines),
        "each failure is logged: {failed_lines} lines, {last}"
    );
    assert!(
        landed <= delivered,
        "landed {landed} > delivered {delivered}"
    );
    assert!(
        unflushed + failed > 0,
        "the cut never held a record back: {last}"
    );
    assert!(
        exited_after <= shutdown + Duration::from_millis(300),
        "exit took {exited_after:?}"
    );
}
