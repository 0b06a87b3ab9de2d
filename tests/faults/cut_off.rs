//! Scenario 12: one broker cut off from the service alone. The service reaches the 3-node cluster
//! through one Toxiproxy proxy per node (each node advertises its own proxy, so no connection
//! bypasses it); the nodes still see each other, so the cut node stays the leader of its
//! partitions. Under steady sync load in both producer modes, the proxy of the leader of
//! partition 0 drops everything both ways for 20 s (a network partition: connections stay open,
//! nothing gets through), then the cut ends:
//! - records for the partitions the other nodes lead keep being acknowledged during the cut;
//! - those for the cut node's partitions are refused within the mode's bounded time, never
//!   acknowledged;
//! - `/health/ready` stays 200 and says `degraded`, naming the cut node, then `ready` again;
//! - once the cut ends, they are acknowledged again, with no restart; nothing answered 200 is
//!   missing, and the idempotent producer wrote nothing twice.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cluster::{create_topic, partitions, start_missing_nodes, wait_whole};
use crate::scenario::*;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broker_cut_off_refuses_its_partitions_in_bounded_time_while_the_others_flow() {
    let direct = cluster_bootstrap();
    let proxied = cluster_proxied_bootstrap();
    let topic = unique_topic("cutoff");
    // A node an earlier scenario left down (it failed half-way) is started first.
    start_missing_nodes().await;
    create_topic(&direct, &topic, 3).await;
    wait_whole(&direct, &topic, Duration::from_secs(30)).await;
    let leaders: Vec<i32> = partitions(&direct, &topic)
        .expect("metadata")
        .into_iter()
        .map(|(leader, _)| leader)
        .collect();
    let cut = leaders[0];
    let url = std::env::var("TOXIPROXY_URL").unwrap_or_else(|_| "http://127.0.0.1:8474".into());
    let proxy = Toxiproxy::at(&url, &format!("cluster-{cut}"));
    proxy.reset().await;

    let app = TestApp::spawn_with(&proxied, &[]).await;
    let loads = SyncLoads::start(&app, &topic);

    tokio::time::sleep(Duration::from_secs(4)).await;
    for stream in ["upstream", "downstream"] {
        proxy
            .add(
                &format!("cut-{stream}"),
                "timeout",
                stream,
                json!({"timeout": 0}),
            )
            .await;
    }
    let cut_at = Instant::now();
    // Readiness tells: still 200 (the other nodes answer), degraded, naming the cut node.
    let (degraded_after, body) =
        wait_readiness(&app, "degraded", Duration::from_secs(18), |code, body| {
            code == 200 && body["status"] == "degraded" && unreachable_of(body) == [i64::from(cut)]
        })
        .await;
    tokio::time::sleep(
        (cut_at + Duration::from_secs(20)).saturating_duration_since(Instant::now()),
    )
    .await;
    // The cut ends when the first removal starts: a record may be answered in the instant
    // between Toxiproxy dropping the toxic and answering the call.
    let healed_at = Instant::now();
    for stream in ["upstream", "downstream"] {
        proxy.remove(&format!("cut-{stream}")).await;
    }
    let (ready_after, _) = wait_readiness(&app, "ready", Duration::from_secs(20), |code, body| {
        code == 200 && body["status"] == "ready"
    })
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let finished = loads.finish().await;
    assert_eq!(app.producers.flush(Duration::from_secs(15)).await, 0);

    let records = read_topic(&direct, &topic, 1, Duration::from_secs(30)).await;
    let key_partition = partition_of_keys(&records);
    let is_cut = |s: &Sent| {
        let partition = key_partition
            .get(&s.key)
            .unwrap_or_else(|| panic!("nothing of key {} on the topic", s.key));
        leaders[*partition as usize] == cut
    };
    // The cut as the service lives it: requests made a second after it began and answered
    // before it ended.
    let cut_window = cut_at + Duration::from_secs(1);
    for (mode, prefix, sent) in &finished {
        let mode = *mode;
        let mine = keyed(&records, prefix);
        let (mut tally, _) = tally_load("12 one broker cut off", mode, sent, &mine);
        let during = within(sent, cut_window, healed_at);
        let (cut_during, healthy_during): (Vec<&Sent>, Vec<&Sent>) =
            during.iter().copied().partition(|s| is_cut(s));
        let healthy_acknowledged = healthy_during.iter().filter(|s| s.status == 200).count();
        // After the cut: how long until each cut key was acknowledged again.
        let mut recovered = BTreeMap::new();
        for s in sent
            .iter()
            .filter(|s| s.at >= healed_at && s.status == 200 && is_cut(s))
        {
            let after = (s.at + s.elapsed).duration_since(healed_at);
            let first = recovered.entry(s.key.clone()).or_insert(after);
            *first = (*first).min(after);
        }
        let cut_keys: Vec<String> = key_partition
            .keys()
            .filter(|k| k.starts_with(*prefix))
            .filter(|k| leaders[key_partition[*k] as usize] == cut)
            .cloned()
            .collect();
        let slowest_recovery = recovered.values().max().copied().unwrap_or_default();
        tally.note = format!(
            "node {cut} (leader of partitions {:?}) cut off for 20 s; during the cut: healthy partitions {healthy_acknowledged} of {} acknowledged, cut ones {} refused of {}; cut keys acknowledged again within {} ms of the end; readiness degraded after {} ms ({}), ready {} ms after the end",
            leaders
                .iter()
                .enumerate()
                .filter(|(_, l)| **l == cut)
                .map(|(p, _)| p)
                .collect::<Vec<_>>(),
            healthy_during.len(),
            cut_during.iter().filter(|s| s.status != 200).count(),
            cut_during.len(),
            slowest_recovery.as_millis(),
            degraded_after.as_millis(),
            body["unreachable"],
            ready_after.as_millis()
        );
        tally.report();
        assert!(
            !cut_keys.is_empty() && !healthy_during.is_empty(),
            "{}: the keys must land both on the cut node's partitions and on others: {key_partition:?}",
            mode.name()
        );
        assert!(
            !cut_during.is_empty(),
            "{}: nothing sent to the cut node",
            mode.name()
        );
        for s in &cut_during {
            assert_ne!(s.status, 200, "acknowledged through a cut: {s:?}");
        }
        assert!(
            tally.max_answer <= answer_bound(mode),
            "{}: an answer took {:?}",
            mode.name(),
            tally.max_answer
        );
        assert!(
            healthy_acknowledged > 0,
            "{}: nothing acknowledged for the partitions of the nodes not cut off",
            mode.name()
        );
        if !mode.idempotent {
            let refused: Vec<&&Sent> = healthy_during.iter().filter(|s| s.status != 200).collect();
            assert!(
                refused.is_empty(),
                "healthy partitions refused: {refused:?}"
            );
        }
        for key in &cut_keys {
            assert!(
                recovered.contains_key(key),
                "{key}: never acknowledged again after the cut"
            );
        }
        assert_eq!(tally.lost, 0, "records answered 200 are missing: {tally:?}");
        if mode.idempotent {
            assert_eq!(tally.duplicates, 0, "duplicates: {tally:?}");
        }
    }
    assert_every_mode_delivers(&app, &direct, &topic, "after").await;
    app.stop().await;
}
