//! One Confluent v3 stream as fast as the service takes it: ONE HTTP/1.1 connection, one chunked
//! request whose body is JSON records one after another, each on its own line,
//!
//!     {"key":{"type":"STRING","data":"k7"},"value":{"type":"JSON","data":"xxxx…"}}
//!
//! (a value of `SIZE` x's, 100 by default; keys k0…k999 as in the batch bodies), written for
//! `SECONDS`, while the answer lines (one per record, in order, as each settles) are read as they
//! come. At most `AHEAD` records are written and not yet answered, so that the client never floods
//! memory; the service holds its own window (4096 records in flight). Prints one JSON line:
//! records acknowledged (`error_code` 200), the others, those never answered, records written,
//! the seconds from the first byte to the last answer, and records acknowledged per second. For
//! `bench/run`, where the records/s of the streaming mode matters.
//!
//!     cargo run --release --example stream_load -- URL SECONDS [SIZE]
//!
//! URL: `http://HOST:PORT/v3/clusters/{cluster_id}/topics/{topic}/records`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::{mpsc, Semaphore};

/// Records in one chunk of the request body.
const CHUNK: usize = 256;
/// Records written and not yet answered, at most.
const AHEAD: usize = 32768;
/// Distinct records (keys) the body cycles through.
const KEYS: usize = 1000;

/// All an answer line says that counts here: 200 is a delivery, anything else a failure.
#[derive(Deserialize)]
struct Line {
    error_code: u32,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !(3..=4).contains(&args.len()) {
        eprintln!("usage: stream_load URL SECONDS [SIZE]");
        std::process::exit(2);
    }
    let url = args[1].clone();
    let seconds: u64 = args[2].parse().expect("seconds");
    let size: usize = args.get(3).map_or(100, |s| s.parse().expect("size"));

    // The records, written once: the writer only copies them into chunks.
    let value = "x".repeat(size);
    let records: Vec<Vec<u8>> = (0..KEYS)
        .map(|i| {
            format!(
                "{{\"key\":{{\"type\":\"STRING\",\"data\":\"k{i}\"}},\"value\":{{\"type\":\"JSON\",\"data\":\"{value}\"}}}}\n"
            )
            .into_bytes()
        })
        .collect();

    // Credit for records not yet answered: the writer takes a chunk's worth before writing it,
    // the reader gives one back per answer line.
    let credit = Arc::new(Semaphore::new(AHEAD));
    let written = Arc::new(AtomicU64::new(0));
    let (chunks, upload) = mpsc::channel::<Vec<u8>>(4);
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    let writer = {
        let (credit, written) = (credit.clone(), written.clone());
        tokio::spawn(async move {
            let mut next = 0usize;
            while tokio::time::Instant::now() < deadline {
                match tokio::time::timeout_at(deadline, credit.acquire_many(CHUNK as u32)).await {
                    Ok(Ok(permits)) => permits.forget(),
                    // Time is up, or the answers ended (the semaphore is closed).
                    _ => break,
                }
                let mut bytes = Vec::with_capacity(CHUNK * records[0].len());
                for _ in 0..CHUNK {
                    bytes.extend_from_slice(&records[next]);
                    next = (next + 1) % KEYS;
                }
                if chunks.send(bytes).await.is_err() {
                    break; // the request body was dropped: the connection is gone
                }
                written.fetch_add(CHUNK as u64, Ordering::Relaxed);
            }
            // Dropping `chunks` ends the request body: the service answers what it has and
            // then ends the answer.
        })
    };
    let body = futures_util::stream::unfold(upload, |mut upload| async move {
        upload
            .recv()
            .await
            .map(|bytes| (Ok::<_, std::io::Error>(bytes), upload))
    });

    let client = reqwest::Client::builder()
        .http1_only()
        .build()
        .expect("an HTTP client");
    // `send` returns once the answer's head is in: the service answers 200 at the start of a
    // stream, and the body goes on being written by the connection while the lines are read.
    let response = client
        .post(&url)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .expect("the stream's answer");
    let status = response.status();
    if status != 200 {
        let text = response.text().await.unwrap_or_default();
        eprintln!("stream_load: the stream was answered {status}: {text}");
        std::process::exit(1);
    }

    let (mut acknowledged, mut failed) = (0u64, 0u64);
    let mut pending: Vec<u8> = Vec::new();
    let mut lines = response.bytes_stream();
    while let Some(chunk) = lines.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                eprintln!("stream_load: the answer broke off: {error}");
                break;
            }
        };
        pending.extend_from_slice(&chunk);
        let mut from = 0;
        let mut answered = 0usize;
        while let Some(end) = pending[from..].iter().position(|b| *b == b'\n') {
            let line = pending[from..from + end].trim_ascii();
            from += end + 1;
            if line.is_empty() {
                continue;
            }
            answered += 1;
            match serde_json::from_slice::<Line>(line) {
                Ok(Line { error_code: 200 }) => acknowledged += 1,
                _ => {
                    if failed == 0 {
                        eprintln!(
                            "stream_load: first failure: {}",
                            String::from_utf8_lossy(line)
                        );
                    }
                    failed += 1;
                }
            }
        }
        pending.drain(..from);
        credit.add_permits(answered);
    }
    let elapsed = started.elapsed().as_secs_f64();
    // The answer is over: a writer still waiting for credit stops.
    credit.close();
    writer.abort();
    let _ = writer.await;
    let written = written.load(Ordering::Relaxed);
    // Written but never answered: the answer broke off (zero in a sound run).
    let unanswered = written.saturating_sub(acknowledged + failed);
    if unanswered > 0 {
        eprintln!("stream_load: {unanswered} records written were not answered");
    }
    println!(
        "{{\"records\": {acknowledged}, \"failed\": {failed}, \"unanswered\": {unanswered}, \"written\": {written}, \"seconds\": {elapsed:.2}, \"records_per_s\": {:.0}}}",
        acknowledged as f64 / elapsed
    );
}
