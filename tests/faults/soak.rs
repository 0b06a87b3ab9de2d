//! Scenario 10: a soak. The real binary on the 3-node cluster under mixed traffic for
//! `SOAK_SECONDS` (120 in CI; `scripts/soak` runs an hour): sync and async records in both modes
//! and sync idempotent batches, while the leader of partition 0 is killed with SIGKILL every
//! `SOAK_KILL_EVERY_SECONDS` (60; the hour: 600) and restarted. The process's RSS, threads and
//! open files are sampled all along and must stay flat after the warm-up; no idempotent record
//! answered as written is lost or duplicated. The samples (and, per interval, the client's
//! throughput and p99) go to `target/tmp/soak.csv` for `scripts/soak`'s chart.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cluster::{create_topic, partitions, start_missing_nodes, wait_whole};
use crate::scenario::*;
use support::*;

fn seconds(name: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

/// RSS (KiB), threads and open file descriptors of `pid`.
fn sample(pid: u32) -> (u64, u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    (field("VmRSS:"), field("Threads:"), fds)
}

/// Sync idempotent batches of 20 numbered records of one key until `stop`; each record's
/// outcome as a `Sent`, with its own status and problem from the batch's results.
async fn batch_load(base: String, topic: String, stop: Arc<AtomicBool>) -> Vec<Sent> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let key = "batch-0".to_string();
    let (mut sent, mut seq) = (Vec::new(), 0);
    while !stop.load(Ordering::SeqCst) {
        let records: Vec<Value> = (seq..seq + 20)
            .map(|n| json!({"key": key, "message": numbered(&key, n)}))
            .collect();
        let started = Instant::now();
        let answer = client
            .post(format!("{base}/api/v1/send/batch"))
            .json(&json!({"topic": topic, "isIdempotent": true, "records": records}))
            .send()
            .await;
        let body: Value = match answer {
            Ok(response) => response.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        for n in 0..20 {
            // Each record's own status (200 written), and its problem when it was not.
            let result = &body["results"][n];
            let status = result["status"].as_u64().map_or(0, |s| s as u16);
            let body = result["problem"].clone();
            sent.push(Sent {
                key: key.clone(),
                seq: seq + n,
                status,
                at: started,
                elapsed: started.elapsed(),
                body,
                connected: true,
            });
        }
        seq += 20;
    }
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_soak_with_leader_kills_keeps_memory_threads_and_files_flat() {
    let duration = seconds("SOAK_SECONDS", 120);
    let kill_every = seconds("SOAK_KILL_EVERY_SECONDS", 60);
    let every = seconds("SOAK_SAMPLE_SECONDS", 5);
    let warm_up = duration / 4;
    let bootstrap = cluster_bootstrap();
    let cluster = cluster_name();
    let topic = unique_topic("soak");
    // A node an earlier scenario left down (it failed half-way) is started first.
    start_missing_nodes().await;
    create_topic(&bootstrap, &topic, 3).await;
    wait_whole(&bootstrap, &topic, Duration::from_secs(30)).await;
    let log = std::env::temp_dir().join(format!("kp-soak-{}.log", std::process::id()));
    let (child, base) = start_binary(
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", bootstrap.clone()),
            ("LOG_LEVEL", "warn".into()),
        ],
        &log,
    )
    .await;
    let mut child = KillOnDrop(child);
    let pid = child.0.id();

    let stop = Arc::new(AtomicBool::new(false));
    let mut loads = Vec::new();
    for (mode, workers) in [
        (ALL_MODES[1], 2),
        (ALL_MODES[0], 1),
        (ALL_MODES[2], 1),
        (ALL_MODES[3], 1),
    ] {
        let (base, topic, stop) = (base.clone(), topic.clone(), stop.clone());
        let prefix = format!("{}-", mode.name());
        loads.push(tokio::spawn(async move {
            (
                mode,
                keyed_load(&base, &topic, &prefix, mode, workers, usize::MAX, stop).await,
            )
        }));
    }
    let batches = tokio::spawn(batch_load(base.clone(), topic.clone(), stop.clone()));

    // Samples every `every`, a leader kill every `kill_every`.
    let started = Instant::now();
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampler = {
        let (samples, stop) = (samples.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let (rss, threads, fds) = sample(pid);
                let at = started.elapsed();
                // Progress, for a run of an hour.
                println!(
                    "soak: {:>5} s  RSS {:>6} KiB  threads {threads:>3}  open files {fds:>3}",
                    at.as_secs(),
                    rss
                );
                samples.lock().unwrap().push((at, rss, threads, fds));
                tokio::time::sleep(every).await;
            }
        })
    };
    let mut kills = Vec::new();
    let mut next_kill = kill_every;
    while started.elapsed() < duration {
        if started.elapsed() >= next_kill && duration - started.elapsed() > Duration::from_secs(30)
        {
            let leader = partitions(&bootstrap, &topic)
                .and_then(|ps| ps.first().map(|p| p.0))
                .unwrap_or(-1);
            if leader > 0 {
                let node = format!("{cluster}-{leader}");
                tokio::task::spawn_blocking(move || scripts_kafka(&["kill", "--name", &node]))
                    .await
                    .unwrap();
                kills.push((started.elapsed(), leader));
                tokio::time::sleep(Duration::from_secs(5)).await;
                start_missing_nodes().await;
                wait_whole(&bootstrap, &topic, Duration::from_secs(120)).await;
            }
            next_kill += kill_every;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    stop.store(true, Ordering::SeqCst);
    sampler.await.unwrap();
    let mut by_mode = Vec::new();
    for load in loads {
        by_mode.push(load.await.unwrap());
    }
    by_mode.push((ALL_MODES[1], batches.await.unwrap()));
    assert_eq!(
        reqwest::get(format!("{base}/health"))
            .await
            .unwrap()
            .status(),
        200,
        "not live after the soak"
    );
    sigterm(&child.0);
    let status = tokio::task::block_in_place(|| wait_exit(&mut child.0, Duration::from_secs(30)));
    assert!(status.success(), "exit after SIGTERM: {status:?}");

    // Flat after the warm-up: RSS within max(10 %, 16 MiB) of the warm-up's, threads and files
    // within a few of theirs.
    let samples = samples.lock().unwrap().clone();
    let warm: Vec<_> = samples.iter().filter(|s| s.0 >= warm_up).collect();
    assert!(
        warm.len() >= 3,
        "too few samples after the warm-up: {samples:?}"
    );
    let (_, rss0, threads0, fds0) = *warm[0];
    let rss_max = warm.iter().map(|s| s.1).max().unwrap();
    let (threads_max, fds_max) = (
        warm.iter().map(|s| s.2).max().unwrap(),
        warm.iter().map(|s| s.3).max().unwrap(),
    );
    let allowed = (rss0 / 10).max(16 * 1024);
    println!(
        "soak: RSS {} MiB after the warm-up, at most {} MiB later; threads {threads0} -> at most {threads_max}; open files {fds0} -> at most {fds_max}",
        rss0 / 1024,
        rss_max / 1024
    );

    // The samples, with the client's throughput and p99 per interval, for the chart: written
    // before the records are read back, so that a long run keeps them whatever follows.
    let all_sent: Vec<(Instant, Duration)> = by_mode
        .iter()
        .flat_map(|(mode, sent)| {
            sent.iter()
                .filter(|s| s.status == mode.success())
                .map(|s| (s.at, s.elapsed))
        })
        .collect();
    // When each acknowledged request was answered (from the start) and how long it took,
    // in order: each interval's answers are then one slice.
    let mut answered: Vec<(Duration, u128)> = all_sent
        .iter()
        .map(|(t, e)| (t.duration_since(started) + *e, e.as_millis()))
        .collect();
    answered.sort_unstable();
    let mut csv = String::from("seconds,rss_kib,threads,fds,acknowledged_per_s,p99_ms\n");
    for (i, (at, rss, threads, fds)) in samples.iter().enumerate() {
        let from = if i == 0 {
            Duration::ZERO
        } else {
            samples[i - 1].0
        };
        let (lo, hi) = (
            answered.partition_point(|a| a.0 <= from),
            answered.partition_point(|a| a.0 <= *at),
        );
        let mut times: Vec<u128> = answered[lo..hi].iter().map(|a| a.1).collect();
        times.sort_unstable();
        let span = (*at - from).as_secs_f64().max(0.001);
        let p99 = times
            .get((times.len() * 99 / 100).min(times.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0);
        csv.push_str(&format!(
            "{:.0},{rss},{threads},{fds},{:.0},{p99}\n",
            at.as_secs_f64(),
            times.len() as f64 / span
        ));
    }
    std::fs::write(
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("soak.csv"),
        csv,
    )
    .unwrap();
    // What came of each load: an hour's records (millions) take minutes to read back.
    let read_limit = Duration::from_secs(60) + duration / 6;
    let records = read_topic(&bootstrap, &topic, 1, read_limit).await;
    // Each load's records, moved (not copied: an hour's are millions) by key prefix.
    let prefixes: Vec<String> = by_mode
        .iter()
        .enumerate()
        .map(|(i, (mode, _))| {
            if i == by_mode.len() - 1 {
                "batch-".to_string()
            } else {
                format!("{}-", mode.name())
            }
        })
        .collect();
    let mut by_load: Vec<Vec<Read>> = vec![Vec::new(); prefixes.len()];
    for record in records {
        let load = prefixes.iter().position(|p| {
            record
                .key
                .as_deref()
                .is_some_and(|k| k.starts_with(p.as_str()))
        });
        if let Some(load) = load {
            by_load[load].push(record);
        }
    }
    for (i, (mode, sent)) in by_mode.iter().enumerate() {
        let mine = &by_load[i];
        let what = if i == by_mode.len() - 1 {
            "10 soak (batches of 20)"
        } else {
            "10 soak"
        };
        let (mut tally, _) = tally_load(what, *mode, sent, mine);
        tally.note = format!(
            "{} s, leader killed at {:?}",
            duration.as_secs(),
            kills
                .iter()
                .map(|(at, node)| format!("{} s (node {node})", at.as_secs()))
                .collect::<Vec<_>>()
        );
        tally.report();
        if mode.idempotent {
            assert_eq!(
                tally.lost, 0,
                "idempotent records answered as written are missing: {tally:?}"
            );
            assert_eq!(tally.duplicates, 0, "idempotent duplicates: {tally:?}");
        }
    }
    assert!(
        !kills.is_empty() || duration < kill_every + Duration::from_secs(30),
        "no leader was killed"
    );

    assert!(
        rss_max <= rss0 + allowed,
        "RSS grew from {rss0} KiB to {rss_max} KiB: {samples:?}"
    );
    assert!(
        threads_max <= threads0 + 4,
        "threads grew from {threads0} to {threads_max}: {samples:?}"
    );
    assert!(
        fds_max <= fds0 + 16,
        "open files grew from {fds0} to {fds_max}: {samples:?}"
    );
    let _ = std::fs::remove_file(&log);
}
