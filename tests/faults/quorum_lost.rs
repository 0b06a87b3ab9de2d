//! Scenario 11: quorum lost. Two of the three nodes of the cluster (each a broker and a KRaft
//! controller; replication factor 3, `min.insync.replicas=2`) crash together under steady sync
//! load in both producer modes, and come back 20 s later. The survivor still answers metadata
//! (the same three brokers, the same leaders: no controller is left to change them), so:
//! - idempotent (`acks=all`) sends are never answered 200 while the two are down: the survivor
//!   cannot replicate, the record times out (504) or is refused (503);
//! - plain (`acks=1`) sends are answered 200 for the partitions the survivor leads, and refused
//!   in the mode's bounded time for the others, as the contract says of a leader that cannot be
//!   reached;
//! - `/health/ready` stays 200 (the cluster answers) but says `degraded`, with the two nodes;
//! - once the nodes are back, the same instance sends in every mode again, and nothing
//!   answered 200 at any time is missing.

use std::time::{Duration, Instant};

use crate::cluster::{create_topic, partitions, start_missing_nodes, wait_whole};
use crate::scenario::*;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_two_of_three_nodes_down_acks_all_is_never_acknowledged_and_all_recovers_in_place() {
    let bootstrap = cluster_bootstrap();
    let cluster = cluster_name();
    let topic = unique_topic("quorum");
    // A node an earlier scenario left down (it failed half-way) is started first.
    start_missing_nodes().await;
    create_topic(&bootstrap, &topic, 3).await;
    wait_whole(&bootstrap, &topic, Duration::from_secs(30)).await;
    let leaders_of = |bootstrap: &str| -> Vec<i32> {
        partitions(bootstrap, &topic)
            .expect("metadata")
            .into_iter()
            .map(|(leader, _)| leader)
            .collect()
    };
    let leaders_before = leaders_of(&bootstrap);
    let survivor = 1;
    let survivor_address = bootstrap.split(',').next().unwrap().to_string();

    let app = TestApp::spawn_with(&bootstrap, &[]).await;
    let (_, body) = wait_readiness(&app, "ready", Duration::from_secs(15), |code, body| {
        code == 200 && body["status"] == "ready"
    })
    .await;
    assert_eq!(body["brokers"], 3, "{body}");

    let loads = SyncLoads::start(&app, &topic);

    // Steady load, then two nodes crash at once: one controller is left of three.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let kill_start = Instant::now();
    let killed = tokio::task::spawn_blocking(move || {
        for node in [2, 3] {
            scripts_kafka(&["kill", "--name", &format!("{cluster}-{node}")]);
        }
    });
    killed.await.unwrap();
    let killed_at = Instant::now();
    // The leaders as the survivor now tells every client: a leadership may have moved in the
    // moment between the two kills, and nothing moves after (no controller is left).
    let leaders = leaders_of(&survivor_address);

    // Readiness tells: still 200 (the survivor answers), degraded, naming the two nodes.
    let (degraded_after, body) =
        wait_readiness(&app, "degraded", Duration::from_secs(20), |code, body| {
            let unreachable = unreachable_of(body);
            code == 200
                && body["status"] == "degraded"
                && unreachable.contains(&2)
                && unreachable.contains(&3)
        })
        .await;
    assert!(
        !unreachable_of(&body).contains(&i64::from(survivor)),
        "{body}"
    );

    // Twenty seconds without a quorum, then the two come back.
    tokio::time::sleep(
        (killed_at + Duration::from_secs(20)).saturating_duration_since(Instant::now()),
    )
    .await;
    let restart_at = Instant::now();
    start_missing_nodes().await;
    wait_whole(&bootstrap, &topic, Duration::from_secs(120)).await;
    let whole_after = restart_at.elapsed();
    let (ready_after, _) = wait_readiness(&app, "ready", Duration::from_secs(30), |code, body| {
        code == 200 && body["status"] == "ready"
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let finished = loads.finish().await;
    assert_eq!(app.producers.flush(Duration::from_secs(15)).await, 0);

    let records = read_topic(&bootstrap, &topic, 1, Duration::from_secs(30)).await;
    let key_partition = partition_of_keys(&records);
    // The window without a quorum: requests made a second after the crash and answered before
    // the restart began.
    let lost_quorum = killed_at + Duration::from_secs(1);
    for (mode, prefix, sent) in &finished {
        let mode = *mode;
        let mine = keyed(&records, prefix);
        let (mut tally, _) = tally_load("11 quorum lost", mode, sent, &mine);
        let during = within(sent, lost_quorum, restart_at);
        let acknowledged_during = during.iter().filter(|s| s.status == 200).count();
        tally.note = format!(
            "nodes 2 and 3 SIGKILLed for 20 s (leaders {leaders_before:?}, then {leaders:?}); in that window {} answered, {acknowledged_during} with 200; readiness degraded {} ms after the kills; restarted, every partition whole again after {} ms, readiness ready {} ms later{}",
            during.len(),
            degraded_after.as_millis(),
            whole_after.as_millis(),
            ready_after.as_millis(),
            if tally.lost > 0 {
                format!(
                    "; {} answered 200 and missing, each acknowledged by a dying leader in the second before the kill (acks=1)",
                    tally.lost
                )
            } else {
                String::new()
            }
        );
        tally.report();
        assert!(tally.acknowledged > 50, "too little load: {tally:?}");
        assert!(
            !during.is_empty(),
            "{}: no request answered while the quorum was lost",
            mode.name()
        );
        assert!(
            tally.max_answer <= answer_bound(mode),
            "{}: an answer took {:?}",
            mode.name(),
            tally.max_answer
        );
        if mode.idempotent {
            assert_eq!(tally.lost, 0, "records answered 200 are missing: {tally:?}");
            assert_eq!(
                acknowledged_during, 0,
                "acks=all acknowledged with one replica of three: {during:?}"
            );
            assert_eq!(tally.duplicates, 0, "duplicates: {tally:?}");
        } else {
            // acks=1 promises one copy: a record a dying leader acknowledged in the instant
            // before the kill, not yet copied to the survivor, may be gone when a new leader
            // is chosen. Only those may be missing.
            let on_topic = copies(&records);
            let kill_window = kill_start - Duration::from_secs(1)..=killed_at;
            for s in sent
                .iter()
                .filter(|s| s.status == 200 && !on_topic.contains_key(&(s.key.clone(), s.seq)))
            {
                let led_by_survivor = key_partition
                    .get(&s.key)
                    .is_some_and(|p| leaders_before.get(*p as usize) == Some(&survivor));
                assert!(
                    !led_by_survivor && kill_window.contains(&(s.at + s.elapsed)),
                    "acks=1 record answered 200 missing, not acknowledged by a node in the instant it died: {s:?}"
                );
            }
            // acks=1: the survivor's own partitions go on; the others' records are refused.
            for s in &during {
                let partition = key_partition.get(&s.key).copied();
                let led_by_survivor =
                    partition.is_some_and(|p| leaders.get(p as usize) == Some(&survivor));
                if !led_by_survivor {
                    assert_ne!(
                        s.status, 200,
                        "acks=1 acknowledged by a dead leader: {s:?} (partition {partition:?})"
                    );
                }
            }
            let survivor_keys = key_partition
                .iter()
                .filter(|(key, p)| {
                    key.starts_with(*prefix) && leaders.get(**p as usize) == Some(&survivor)
                })
                .count();
            if survivor_keys > 0 {
                assert!(
                    acknowledged_during > 0,
                    "node {survivor} leads a partition of {survivor_keys} plain keys, yet nothing was acknowledged"
                );
            }
        }
    }

    // The same instance, nodes back: every mode delivers, and liveness answers 200.
    assert_every_mode_delivers(&app, &bootstrap, &topic, "after").await;
    assert_eq!(app.get("/health").await.status.as_u16(), 200);
    app.stop().await;
}
