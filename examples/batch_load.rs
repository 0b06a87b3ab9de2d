//! A closed-loop load of one batch body: `CONCURRENCY` connections each POST the body again as
//! soon as it is answered, for `SECONDS`; prints one JSON line (requests, records per second,
//! failures). For `bench/schemas`, where the body holds the records and the records/s figure
//! matters, not the request latency.
//!
//!     cargo run --release --example batch_load -- URL BODY_FILE RECORDS_PER_BODY CONCURRENCY SECONDS

use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: batch_load URL BODY_FILE RECORDS_PER_BODY CONCURRENCY SECONDS");
        std::process::exit(2);
    }
    let url = args[1].clone();
    let body = bytes_of(&args[2]);
    let per_body: u64 = args[3].parse().expect("records per body");
    let concurrency: usize = args[4].parse().expect("concurrency");
    let seconds: u64 = args[5].parse().expect("seconds");
    let client = reqwest::Client::new();
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, body) = (client.clone(), url.clone(), body.clone());
            tokio::spawn(async move {
                let (mut ok, mut failed) = (0u64, 0u64);
                while Instant::now() < until {
                    let answer = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    match answer {
                        Ok(response) if response.status() == 200 => {
                            let _ = response.bytes().await;
                            ok += 1;
                        }
                        _ => failed += 1,
                    }
                }
                (ok, failed)
            })
        })
        .collect();
    let (mut ok, mut failed) = (0, 0);
    for task in tasks {
        let (o, f) = task.await.expect("a load task");
        ok += o;
        failed += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{{\"requests\": {ok}, \"failed\": {failed}, \"seconds\": {elapsed:.2}, \"records_per_s\": {:.0}}}",
        (ok * per_body) as f64 / elapsed
    );
}

fn bytes_of(path: &str) -> axum::body::Bytes {
    axum::body::Bytes::from(std::fs::read(path).expect("the body file"))
}
