//! Scenario 9: a Confluent v3 stream of records cut by its client mid-stream (the connection
//! aborted in the middle of a record, as when the client's process dies). Every record the
//! client saw answered `error_code` 200 is on the topic exactly once; nothing is on the topic
//! twice, nor anything the client never finished sending. What the client cannot know (records
//! written whose answers it never read) the service says in one log line, with their count.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::scenario::*;
use support::*;

const PER_CHUNK: usize = 200;
const CHUNKS: usize = 10;
/// Answers the client reads before it cuts the stream.
const READ_BEFORE_CUT: usize = 500;

fn chunk(from: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for seq in from..from + PER_CHUNK {
        let record = json!({"key": {"type": "STRING", "data": "cut"},
                            "value": {"type": "STRING", "data": numbered("cut", seq)}});
        bytes.extend_from_slice(record.to_string().as_bytes());
        bytes.push(b'\n');
    }
    bytes
}

/// The JSON log line that starts with `message`, waiting for it up to `limit`.
async fn wait_log_line(log: &std::path::Path, message: &str, limit: Duration) -> Option<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let line = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| {
                l["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(message))
            });
        if line.is_some() || Instant::now() >= deadline {
            return line;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_v3_stream_cut_mid_stream_keeps_every_answered_record_once() {
    let log = std::env::temp_dir().join(format!("kp-v3-cut-{}.log", std::process::id()));
    let (child, base) = start_binary(
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", bootstrap()),
            ("LOG_FORMAT", "json".into()),
        ],
        &log,
    )
    .await;
    let mut child = KillOnDrop(child);
    let client = reqwest::Client::new();
    let clusters = get_json(&client, &format!("{base}/v3/clusters")).await;
    let cluster = clusters["data"][0]["cluster_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let topic = unique_topic("v3-cut");

    // The upload: whole chunks of records, then (once enough answers were read) half a record
    // and an abort of the connection.
    let (chunks, upload) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(2);
    let (cut_now, cut) = tokio::sync::oneshot::channel::<()>();
    let sender = tokio::spawn(async move {
        for n in 0..CHUNKS {
            if chunks.send(Ok(chunk(n * PER_CHUNK))).await.is_err() {
                return n * PER_CHUNK;
            }
        }
        let _ = cut.await;
        let half = br#"{"key":{"type":"STRING","data":"cut"},"value":"#.to_vec();
        let _ = chunks.send(Ok(half)).await;
        let _ = chunks
            .send(Err(std::io::Error::other("the client dies")))
            .await;
        CHUNKS * PER_CHUNK
    });
    let body = futures_util::stream::unfold(upload, |mut upload| async move {
        upload.recv().await.map(|item| (item, upload))
    });
    let response = client
        .post(format!(
            "{base}/v3/clusters/{cluster}/topics/{topic}/records"
        ))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut answers: Vec<Value> = Vec::new();
    let mut pending = Vec::new();
    let mut stream = response.bytes_stream();
    let mut cut_now = Some(cut_now);
    while let Some(Ok(bytes)) = stream.next().await {
        pending.extend_from_slice(&bytes);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            answers.push(serde_json::from_slice(&line).unwrap());
        }
        if answers.len() >= READ_BEFORE_CUT {
            if let Some(cut) = cut_now.take() {
                let _ = cut.send(());
            }
            break;
        }
    }
    drop(stream);
    // Had the answers ended early, the sender would wait for the cut forever: let it go on.
    drop(cut_now.take());
    assert!(
        answers.len() >= READ_BEFORE_CUT,
        "the answers ended after {} lines",
        answers.len()
    );
    let sent = sender.await.unwrap();
    for (seq, answer) in answers.iter().enumerate() {
        assert_eq!(answer["error_code"], 200, "answer {seq}: {answer}");
    }
    let acknowledged = answers.len();

    // The line comes only when some answers could not be handed to the connection any more;
    // when the cut came after every answer was buffered for it, there is none.
    let said = wait_log_line(
        &log,
        "v3 stream: the client went away",
        Duration::from_secs(10),
    )
    .await;
    let count = |field: &str| {
        said.as_ref()
            .map_or(0, |l| l["fields"][field].as_u64().unwrap() as usize)
    };
    let (unread, written) = (count("unread"), count("written"));
    assert!(written <= unread, "{said:?}");
    let records = read_topic(&bootstrap(), &topic, acknowledged, Duration::from_secs(30)).await;
    let copies = copies(&records);
    let mut tally = Tally::new("9 v3 stream cut mid-stream", "v3 stream (idempotent sync)");
    tally.sent = sent;
    tally.acknowledged = acknowledged;
    tally.landed = copies.len();
    tally.duplicates = duplicates(&copies);
    tally.lost = (0..acknowledged)
        .filter(|seq| !copies.contains_key(&("cut".to_string(), *seq)))
        .count();
    tally.note = format!(
        "cut after reading {acknowledged} answers, in the middle of record {sent}; the service logged {unread} answers unread, {written} of them written; {} more written records' answers were on their way to the client",
        tally.landed.saturating_sub(acknowledged + written)
    );
    tally.report();
    assert_eq!(tally.lost, 0, "records answered 200 are missing: {tally:?}");
    assert_eq!(tally.duplicates, 0, "duplicates: {tally:?}");
    assert!(
        copies.keys().all(|(_, seq)| *seq < sent),
        "a record the client never finished sending is on the topic"
    );
    assert!(
        acknowledged + written <= tally.landed,
        "the log counts more written records than the topic has: {tally:?}"
    );
    // And the service goes on: a new stream of one record, then a clean stop.
    let one = client
        .post(format!("{base}/v3/clusters/{cluster}/topics/{topic}/records"))
        .header("content-type", "application/json")
        .body(json!({"key": {"type": "STRING", "data": "after"}, "value": {"type": "STRING", "data": "after#0"}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
    sigterm(&child.0);
    let status = tokio::task::block_in_place(|| wait_exit(&mut child.0, Duration::from_secs(30)));
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    let _ = std::fs::remove_file(&log);
}
