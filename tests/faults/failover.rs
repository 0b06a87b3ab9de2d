//! Scenario 3: under steady sync idempotent load on the 3-node cluster (replication factor 3,
//! `min.insync.replicas=2`), the partition leader is killed with SIGKILL and restarted later.
//! Every record answered 200 is on the topic exactly once, in order per key.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cluster::{create_topic, partitions, start_missing_nodes, wait_whole};
use crate::scenario::*;
use support::*;

/// The leader of partition 0 of `topic` (-1 while there is none), and its in-sync replicas.
fn leader_of(bootstrap: &str, topic: &str) -> Option<(i32, Vec<i32>)> {
    partitions(bootstrap, topic)?.into_iter().next()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_partition_leader_loses_and_duplicates_nothing_acknowledged() {
    let bootstrap = cluster_bootstrap();
    let cluster = cluster_name();
    let topic = unique_topic("failover");
    // A node an earlier scenario left down (it failed half-way) is started first.
    start_missing_nodes().await;
    create_topic(&bootstrap, &topic, 1).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let (leader, isr) = loop {
        if let Some((leader, isr)) = leader_of(&bootstrap, &topic) {
            if leader >= 0 && isr.len() == 3 {
                break (leader, isr);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no leader with 3 in-sync replicas"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let app = TestApp::spawn_with(&bootstrap, &[]).await;
    let mode = LoadMode {
        idempotent: true,
        asynchronous: false,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let load = spawn_load(&app, &topic, "key", mode, &stop);

    // Steady load, then the leader crashes.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let node = format!("{cluster}-{leader}");
    tokio::task::spawn_blocking(move || scripts_kafka(&["kill", "--name", &node]))
        .await
        .unwrap();
    let killed_at = Instant::now();
    let (new_leader, election) = loop {
        if let Some((now, _)) = leader_of(&bootstrap, &topic) {
            if now >= 0 && now != leader {
                break (now, killed_at.elapsed());
            }
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(60),
            "no new leader within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Load on the new leader for a while, then the old one comes back and catches up.
    tokio::time::sleep(Duration::from_secs(4)).await;
    start_missing_nodes().await;
    wait_whole(&bootstrap, &topic, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    let sent = load.await.unwrap();
    assert_eq!(app.producers.flush(Duration::from_secs(15)).await, 0);

    let records = read_topic(&bootstrap, &topic, 1, Duration::from_secs(30)).await;
    let (mut tally, acknowledged) = tally_load("3 leader SIGKILL, restart", mode, &sent, &records);
    tally.note = format!(
        "leader {leader} of ISR {isr:?} killed; node {new_leader} led after {} ms (seen by metadata)",
        election.as_millis()
    );
    tally.report();
    assert!(tally.acknowledged > 100, "too little load: {tally:?}");
    // The load spanned the crash: requests were in flight when the leader died, and records
    // were acknowledged by the new leader.
    let killed = killed_at;
    let elected = killed_at + election;
    let in_flight_at_kill = sent
        .iter()
        .filter(|s| s.at <= killed && s.at + s.elapsed >= killed)
        .count();
    let acked_after_election = sent
        .iter()
        .filter(|s| s.at >= elected && s.status == 200)
        .count();
    assert!(in_flight_at_kill > 0, "no request in flight at the kill");
    assert!(
        acked_after_election > 0,
        "nothing acknowledged after the election"
    );
    assert_eq!(tally.lost, 0, "records answered 200 are missing: {tally:?}");
    assert_eq!(tally.duplicates, 0, "duplicates: {tally:?}");
    assert_in_order_per_key(&records, &acknowledged);
    app.stop().await;
}
