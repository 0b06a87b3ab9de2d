//! Scenario 4: the service starts while its broker is down, says so, fails fast, and serves as
//! soon as the broker is started: no restart of the service.

use std::time::{Duration, Instant};

use crate::scenario::*;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broker_started_after_the_service_is_used_without_a_restart() {
    let name = "faults-late";
    let port = std::env::var("TEST_KAFKA_LATE_PORT").unwrap_or_else(|_| "19592".into());
    let late = format!("127.0.0.1:{port}");
    tokio::task::spawn_blocking(move || scripts_kafka(&["wipe", "--name", name]))
        .await
        .unwrap();

    let app = TestApp::spawn_with(&late, &[]).await;
    let topic = unique_topic("late");
    assert_eq!(app.get("/health").await.status, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ready = app.get("/health/ready").await;
        if ready.status == 503 {
            ready.assert_problem(503, "kafka-unavailable");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "ready while no broker runs: {:?}",
            ready.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Down: every mode answers 503 at once (sync and async alike: nothing is accepted that
    // cannot be sent).
    let mut tally_down = Tally::new("4a broker down at start", "all four");
    for mode in ALL_MODES {
        for n in 0..5 {
            let answer =
                send_numbered(&app, &topic, &format!("{}-down", mode.name()), n, mode).await;
            tally_down.sent += 1;
            tally_down.max_answer = tally_down.max_answer.max(answer.elapsed);
            assert!(
                answer.status == 503 || answer.status == 504,
                "{}: {:?}",
                mode.name(),
                answer.body
            );
            answer.assert_problem(
                answer.status.as_u16(),
                if answer.status == 503 {
                    "kafka-unavailable"
                } else {
                    "delivery-timeout"
                },
            );
            tally_down.refused += 1;
        }
    }
    assert!(
        tally_down.max_answer < Duration::from_secs(1),
        "not fail-fast: {:?}",
        tally_down.max_answer
    );
    assert_eq!(
        app.get("/health").await.status,
        200,
        "liveness does not depend on Kafka"
    );

    // The broker starts; the same service turns ready and sends.
    let started_at = Instant::now();
    let start_port = port.clone();
    tokio::task::spawn_blocking(move || {
        scripts_kafka(&[
            "start",
            "--name",
            name,
            "--port",
            &start_port,
            "--auto-create",
            "true",
        ])
    })
    .await
    .unwrap();
    let broker_up = started_at.elapsed();
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.get("/health/ready").await.status != 200 {
        assert!(
            Instant::now() < deadline,
            "not ready 30 s after the broker started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready_after = started_at.elapsed() - broker_up;

    let mut tally_up = Tally::new("4b broker started later", "all four");
    let mut acknowledged = Vec::new();
    for mode in ALL_MODES {
        for n in 0..5 {
            let key = format!("{}-up", mode.name());
            let answer = send_numbered(&app, &topic, &key, n, mode).await;
            tally_up.sent += 1;
            tally_up.max_answer = tally_up.max_answer.max(answer.elapsed);
            assert_eq!(
                answer.status.as_u16(),
                mode.success(),
                "{}: {:?}",
                mode.name(),
                answer.body
            );
            acknowledged.push((key, n));
        }
    }
    tally_up.acknowledged = acknowledged.len();
    assert_eq!(app.producers.flush(Duration::from_secs(15)).await, 0);
    let records = read_topic(&late, &topic, acknowledged.len(), Duration::from_secs(30)).await;
    let found = copies(&records);
    tally_up.landed = found.len();
    tally_up.duplicates = duplicates(&found);
    tally_up.lost = acknowledged
        .iter()
        .filter(|id| !found.contains_key(*id))
        .count();
    tally_up.note = format!(
        "ready {} ms after the broker answered",
        ready_after.as_millis()
    );
    tally_down.landed = found.keys().filter(|(k, _)| k.ends_with("-down")).count();
    tally_down.note = "503 at once, /health 200, /health/ready 503".into();
    tally_down.report();
    tally_up.report();
    assert_eq!(tally_down.landed, 0, "a refused record was written");
    assert_eq!(tally_up.lost, 0);
    assert_eq!(tally_up.duplicates, 0);
    app.stop().await;
    tokio::task::spawn_blocking(move || scripts_kafka(&["wipe", "--name", name]))
        .await
        .unwrap();
}
