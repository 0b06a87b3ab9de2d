//! Scenario 2: connections cut mid-flight (Toxiproxy `reset_peer` and `timeout` on the broker's
//! answers) while keyed, numbered records stream in. librdkafka retries the requests whose
//! answers were lost: the idempotent producer must write each record once and in order; the
//! plain one may write some twice, which is counted and reported, not asserted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::scenario::*;
use support::*;

/// Cuts the broker's answers on and off until `stop`: `reset_peer` (connection reset) and
/// `timeout` (answers stop, the connection closes after 1 s) in turn. Returns how many cuts.
async fn cut_connections(toxiproxy: &Toxiproxy, stop: Arc<AtomicBool>) -> usize {
    let mut cuts = 0;
    tokio::time::sleep(Duration::from_millis(700)).await;
    while !stop.load(Ordering::SeqCst) {
        let (name, kind, attributes) = if cuts % 2 == 0 {
            ("cut_reset", "reset_peer", json!({"timeout": 0}))
        } else {
            ("cut_timeout", "timeout", json!({"timeout": 1000}))
        };
        toxiproxy.add(name, kind, "downstream", attributes).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        toxiproxy.remove(name).await;
        cuts += 1;
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    cuts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cut_connections_never_duplicate_or_reorder_idempotent_records() {
    let toxiproxy = Toxiproxy::from_env();
    toxiproxy.reset().await;
    // Statistics every 500 ms: the retries librdkafka made are read from GET /metrics.
    let app = TestApp::spawn_with(
        &proxied_bootstrap(),
        &[("KAFKA_STATISTICS_INTERVAL_MS", "500")],
    )
    .await;
    let idempotent_topic = unique_topic("dups-idempotent");
    let plain_topic = unique_topic("dups-plain");
    let modes = [
        (
            LoadMode {
                idempotent: true,
                asynchronous: false,
            },
            idempotent_topic.clone(),
        ),
        (
            LoadMode {
                idempotent: false,
                asynchronous: false,
            },
            plain_topic.clone(),
        ),
    ];
    // Both topics exist before the cuts start.
    for (mode, topic) in &modes {
        let warm = app
            .post_json(
                "/api/v1/send",
                &json!({"topic": topic, "key": "warm", "message": numbered("warm", 0), "isIdempotent": mode.idempotent}),
            )
            .await;
        assert_eq!(warm.status, 200, "{:?}", warm.body);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let chaos = {
        let stop = stop.clone();
        tokio::spawn(async move { cut_connections(&Toxiproxy::from_env(), stop).await })
    };
    let loads: Vec<_> = modes
        .iter()
        .map(|(mode, topic)| {
            let (base, topic, stop, mode) = (app.base.clone(), topic.clone(), stop.clone(), *mode);
            tokio::spawn(
                async move { keyed_load(&base, &topic, "key", mode, 8, 100_000, stop).await },
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(15)).await;
    stop.store(true, Ordering::SeqCst);
    let cuts = chaos.await.unwrap();
    let mut results = Vec::new();
    for load in loads {
        results.push(load.await.unwrap());
    }
    toxiproxy.reset().await;
    assert!(cuts >= 6, "only {cuts} cuts");
    assert_eq!(app.producers.flush(Duration::from_secs(15)).await, 0);

    for ((mode, topic), sent) in modes.iter().zip(results) {
        let records: Vec<Read> = read_topic(&bootstrap(), topic, 1, Duration::from_secs(30))
            .await
            .into_iter()
            .filter(|r| r.key.as_deref() != Some("warm"))
            .collect();
        let (mut tally, acknowledged) = tally_load("2 cut connections", *mode, &sent, &records);
        tally.note = format!("{cuts} cuts in 15 s, 8 keys");
        tally.report();
        assert!(
            tally.acknowledged > 100,
            "too little got through to mean anything: {tally:?}"
        );
        // The cuts reached requests in flight: some waited on a cut connection (an answer
        // normally takes milliseconds) or ran out of time (503/504).
        assert!(
            tally.refused > 0 || tally.max_answer >= Duration::from_secs(1),
            "the cuts never reached a request: {tally:?}"
        );
        assert_eq!(tally.lost, 0, "acknowledged records missing: {tally:?}");
        if mode.idempotent {
            assert_eq!(
                tally.duplicates, 0,
                "duplicates in idempotent mode: {tally:?}"
            );
            assert_in_order_per_key(&records, &acknowledged);
        }
    }
    app.stop().await;
}
