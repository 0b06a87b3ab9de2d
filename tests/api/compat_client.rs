//! A real client written for the REST proxies, unchanged: `kafka-bridge-client` 0.7.1 from PyPI
//! (a Python client of Strimzi Kafka Bridge, whose requests are Confluent REST Proxy v2's too),
//! pointed at the service's base URL. What it sends is read back from the broker.

use std::time::Duration;

use support::*;

const CLIENT: &str = r#"
import sys
from kafka_bridge_client import KafkaBridgeProducer, Message
from kafka_bridge_client.exceptions import KafkaBridgeTopicNotFoundError

base, topic, missing_base, missing = sys.argv[1:5]
producer = KafkaBridgeProducer(base, timeout=20)
assert producer.send(topic, Message(key="order-1", value={"amount": 42, "currency": "EUR"}))
assert producer.sends(topic, [Message(key="order-2", value="paid"), Message(key=None, value=[1, 2])])
assert producer.send(topic, Message(key="blob", value=b"\x00\x01binary\xff"), binary=True)
try:
    KafkaBridgeProducer(missing_base, timeout=20).send(missing, Message(key="k", value="v"))
    raise SystemExit("an unknown topic must raise")
except KafkaBridgeTopicNotFoundError:
    print("topic not found, as the client expects")
print("sent")
"#;

#[tokio::test]
async fn kafka_bridge_client_from_pypi_produces_unchanged() {
    let app = TestApp::spawn().await;
    let noauto = TestApp::spawn_with(&noauto_bootstrap(), &[]).await;
    let topic = unique_topic("bridge-client");
    let missing = unique_topic("bridge-client-missing");
    let (base, noauto_base, topic_arg) = (app.base.clone(), noauto.base.clone(), topic.clone());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args(["-c", CLIENT, &base, &topic_arg, &noauto_base, &missing])
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "kafka-bridge-client (scripts/test installs it): {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("topic not found"), "{stdout}");

    let records = read_topic(&bootstrap(), &topic, 4, Duration::from_secs(20)).await;
    assert_eq!(records.len(), 4, "each record once: {records:?}");
    let by_key = |key: &str| {
        records
            .iter()
            .find(|r| r.key.as_deref() == Some(key))
            .unwrap_or_else(|| panic!("{key} in {records:?}"))
    };
    assert_eq!(
        by_key(r#""order-1""#).value,
        r#"{"amount":42,"currency":"EUR"}"#
    );
    assert_eq!(by_key(r#""order-2""#).value, r#""paid""#);
    let unkeyed = records.iter().find(|r| r.raw_key.is_none()).unwrap();
    assert_eq!(unkeyed.value, "[1,2]");
    assert_eq!(
        by_key("blob").raw_value.as_deref(),
        Some(&b"\x00\x01binary\xff"[..])
    );
    for record in &records {
        assert_service_headers(record, "idempotent", "sync");
    }
}
