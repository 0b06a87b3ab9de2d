//! A real browser: headless Chromium (Debian's) driven by playwright-core opens Swagger UI,
//! uses "Try it out" on POST /api/v1/send and executes it; the record is on the broker. The
//! page loads nothing from another origin. The screenshot is kept as
//! `target/tmp/swagger-ui.png`.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_try_it_out_sends_a_record() {
    let app = TestApp::spawn().await;
    let topic = unique_topic("browser");
    let root = env!("CARGO_MANIFEST_DIR");
    let screenshot = format!("{}/swagger-ui.png", env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::remove_file(&screenshot);
    // Under a host name that is not loopback (Chromium maps it to 127.0.0.1): the page must
    // still reach nothing outside, e.g. no online validator.
    let port = app.base.rsplit(':').next().unwrap().to_owned();
    let base = format!("http://kafka-producer.test:{port}");
    let (t, shot) = (topic.clone(), screenshot.clone());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(format!("{root}/tests/browser/swagger-try-it-out.mjs"))
            .args([&base, &t, "from-the-browser", &shot])
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser script failed (scripts/test installs chromium and playwright-core):\n{stdout}\n{stderr}"
    );
    let result: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(result["status"], "200", "{result}");
    let shown: Value = serde_json::from_str(result["body"].as_str().unwrap()).unwrap();
    assert_eq!(shown["topic"], topic.as_str());
    assert!(shown["offset"].is_i64(), "{shown}");
    assert_eq!(
        result["outside"],
        Value::Array(vec![]),
        "requests to other origins"
    );
    let png = std::fs::read(&screenshot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);

    let records = read_topic(&bootstrap(), &topic, 1, Duration::from_secs(20)).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key.as_deref(), Some("from-the-browser"));
    assert_eq!(records[0].value, "sent from Swagger UI");
    assert_eq!(records[0].offset, shown["offset"].as_i64().unwrap());
    assert_service_headers(&records[0], "idempotent", "sync");
}
