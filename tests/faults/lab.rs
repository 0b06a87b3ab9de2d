//! `scripts/lab/test-toxiproxy.sh` (the workshop's Module 6) against the service, the real
//! Toxiproxy and the test broker: it passes, and what it sent is on the topics.

use std::process::Command;
use std::time::Duration;

use crate::scenario::*;
use support::*;

fn run_script(base: &str, toxiproxy: &Toxiproxy, prefix: &str) -> (bool, String) {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("bash")
        .arg(root.join("scripts/lab/test-toxiproxy.sh"))
        .env("BASE_URL", base)
        .env("TOXIPROXY_URL", &toxiproxy.url)
        .env("PROXY_NAME", &toxiproxy.proxy)
        .env("TOPIC_PREFIX", prefix)
        .env("NO_COLOR", "1")
        .output()
        .expect("bash runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_toxiproxy_lab_script_passes_and_its_records_land() {
    let toxiproxy = Toxiproxy::from_env();
    toxiproxy.reset().await;
    let app = TestApp::spawn_with(&proxied_bootstrap(), &[]).await;
    let prefix = format!("{}-", unique_topic("lab6"));
    let (base, tp_prefix) = (app.base.clone(), prefix.clone());
    let (passed, output) =
        tokio::task::spawn_blocking(move || run_script(&base, &Toxiproxy::from_env(), &tp_prefix))
            .await
            .unwrap();
    println!("{output}");
    assert!(passed, "{output}");
    for toxic in ["latency_5s", "timeout_2s", "bandwidth_1kb"] {
        assert!(output.contains(&format!("toxic {toxic} added")), "{output}");
        assert!(
            output.contains(&format!("toxic {toxic} removed")),
            "{output}"
        );
        assert!(
            output.contains(&format!("sending again after {toxic} was removed")),
            "{output}"
        );
    }
    assert!(output.contains(", 0 failed"), "{output}");
    assert!(
        toxiproxy.toxic_names().await.is_empty(),
        "the script cleans up"
    );

    // Each topic holds its baseline record, the record sent after the toxic was removed, and
    // the one sent under the toxic when the script saw it answered 200.
    for (topic, toxic, shortcut) in [
        ("latency-test", "latency_5s", "idempotent"),
        ("timeout-test", "timeout_2s", "plain"),
        ("bandwidth-test", "bandwidth_1kb", "plain"),
    ] {
        let topic = format!("{prefix}{topic}");
        let records = read_topic(&bootstrap(), &topic, 2, Duration::from_secs(20)).await;
        let keys: Vec<&str> = records.iter().filter_map(|r| r.key.as_deref()).collect();
        assert!(keys.contains(&"baseline-1"), "{topic}: {keys:?}");
        assert!(
            keys.iter()
                .any(|k| k.starts_with(&format!("after-{toxic}-"))),
            "{topic}: {keys:?}"
        );
        let section = output
            .split("\n== ")
            .find(|s| s.starts_with(toxic))
            .unwrap_or_else(|| panic!("no {toxic} section: {output}"));
        if section.contains(&format!("POST /api/v1/test/{shortcut} → 200")) {
            assert!(
                keys.contains(&format!("{toxic}-1").as_str()),
                "{topic}: {keys:?}"
            );
        }
        assert_no_duplicate_keys(&records);
    }
    app.stop().await;
}

#[tokio::test]
async fn the_toxiproxy_lab_script_fails_when_toxiproxy_is_not_there() {
    let nobody = Toxiproxy::at(&format!("http://127.0.0.1:{}", free_port()), "kafka-test");
    let (passed, output) = run_script("http://127.0.0.1:9", &nobody, "none-");
    assert!(!passed, "{output}");
    assert!(output.contains("Toxiproxy API → 000"), "{output}");
}
