//! Scenario 7: a rolling restart of the 3-node cluster (replication factor 3,
//! `min.insync.replicas=2`) under steady sync idempotent load, the way Kafka is upgraded: each
//! node in turn stops cleanly (SIGTERM: a controlled shutdown moves its leaderships away first),
//! starts again and catches up before the next one goes. Every record answered 200 is on the
//! topic exactly once, in order per key, and the same service instance goes on answering in
//! every mode afterwards.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cluster::{create_topic, start_missing_nodes, wait_whole};
use crate::scenario::*;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_of_the_cluster_loses_and_duplicates_nothing_acknowledged() {
    let bootstrap = cluster_bootstrap();
    let cluster = cluster_name();
    let topic = unique_topic("rolling");
    // A node an earlier scenario left down (it failed half-way) is started first.
    start_missing_nodes().await;
    create_topic(&bootstrap, &topic, 3).await;
    wait_whole(&bootstrap, &topic, Duration::from_secs(30)).await;

    let app = TestApp::spawn_with(&bootstrap, &[]).await;
    let mode = LoadMode {
        idempotent: true,
        asynchronous: false,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let load = spawn_load(&app, &topic, "key", mode, &stop);

    // Node by node: a clean stop, a start, then wait until every partition has its three
    // replicas in sync again (the next stop would otherwise leave fewer than min.insync).
    let mut restarts = Vec::new();
    for node in 1..=3 {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let name = format!("{cluster}-{node}");
        let stopped_at = Instant::now();
        tokio::task::spawn_blocking(move || scripts_kafka(&["stop", "--name", &name]))
            .await
            .unwrap();
        let stop_took = stopped_at.elapsed();
        start_missing_nodes().await;
        wait_whole(&bootstrap, &topic, Duration::from_secs(90)).await;
        restarts.push((node, stopped_at, stop_took, stopped_at.elapsed()));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::SeqCst);
    let sent = load.await.unwrap();
    assert_eq!(app.producers.flush(Duration::from_secs(15)).await, 0);

    let records = read_topic(&bootstrap, &topic, 1, Duration::from_secs(30)).await;
    let (mut tally, acknowledged) = tally_load("7 rolling restart", mode, &sent, &records);
    tally.note = restarts
        .iter()
        .map(|(node, _, stop_took, whole)| {
            format!(
                "node {node}: stopped in {} ms, whole again after {} ms",
                stop_took.as_millis(),
                whole.as_millis()
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    tally.report();
    assert!(tally.acknowledged > 300, "too little load: {tally:?}");
    // The load spanned every stop: requests were in flight when each node went down.
    for (node, stopped_at, stop_took, _) in &restarts {
        let down = *stopped_at + *stop_took;
        let in_flight = sent
            .iter()
            .filter(|s| s.at <= down && s.at + s.elapsed >= *stopped_at)
            .count();
        assert!(
            in_flight > 0,
            "no request in flight while node {node} stopped"
        );
    }
    assert_eq!(tally.lost, 0, "records answered 200 are missing: {tally:?}");
    assert_eq!(tally.duplicates, 0, "duplicates: {tally:?}");
    assert_in_order_per_key(&records, &acknowledged);

    // The same instance, after the restart of every node: each mode still delivers.
    assert_every_mode_delivers(&app, &bootstrap, &topic, "after").await;
    app.stop().await;
}
