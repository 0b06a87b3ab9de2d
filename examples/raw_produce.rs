//! The limit of the stack: produce straight to Kafka with rdkafka, with the service's producer
//! settings, no HTTP. `bench/run` compares the service against it.
//!
//! ```sh
//! cargo run --release --example raw_produce -- --bootstrap 127.0.0.1:19692 --topic t \
//!     --mode throughput --count 200000 --size 100 --producer idempotent
//! cargo run --release --example raw_produce -- --bootstrap 127.0.0.1:19692 --topic t \
//!     --mode latency --count 2000 --size 100 --producer idempotent --linger 0
//! cargo run --release --example raw_produce -- --bootstrap 127.0.0.1:19692 --topic t \
//!     --mode latency --count 20000 --size 100 --producer idempotent --in-flight 64
//! ```
//!
//! `--linger MS` sets `linger.ms` (the service's 0 when not given); `--in-flight N`
//! runs N one-at-a-time loops at once (latency mode), as N clients each awaiting its answer.
//!
//! Its records are the service's: a key, the payload, and the four headers the service adds to
//! every record (`producer-mode`, `send-mode`, `timestamp`, `traceparent`), values of the same
//! lengths. Prints one JSON object: records, seconds, records per second, latency percentiles
//! (latency mode: one record at a time, each awaited), and the CPU seconds the process used.

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

/// The service's allocator (src/main.rs), librdkafka's `malloc` included: the limit is measured
/// on the same stack.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

struct Args {
    bootstrap: String,
    topic: String,
    mode: String,
    count: usize,
    size: usize,
    producer: String,
    linger: Option<String>,
    in_flight: usize,
}

fn args() -> Args {
    let mut args = Args {
        bootstrap: "127.0.0.1:9092".into(),
        topic: "raw-produce".into(),
        mode: "throughput".into(),
        count: 100_000,
        size: 100,
        producer: "idempotent".into(),
        linger: None,
        in_flight: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--bootstrap" => args.bootstrap = value,
            "--topic" => args.topic = value,
            "--mode" => args.mode = value,
            "--count" => args.count = value.parse().expect("--count is a number"),
            "--size" => args.size = value.parse().expect("--size is a number"),
            "--producer" => args.producer = value,
            "--linger" => args.linger = Some(value),
            "--in-flight" => args.in_flight = value.parse().expect("--in-flight is a number"),
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

/// The service's settings for each producer (src/kafka/mod.rs), nothing else.
fn producer(args: &Args) -> FutureProducer {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &args.bootstrap)
        .set("topic.metadata.propagation.max.ms", "2000")
        .set("queue.buffering.max.kbytes", "65536")
        .set("linger.ms", args.linger.as_deref().unwrap_or("0"));
    match args.producer.as_str() {
        "plain" => config
            .set("acks", "1")
            .set("enable.idempotence", "false")
            .set("message.send.max.retries", "2")
            .set("retry.backoff.ms", "500")
            .set("message.timeout.ms", "3000"),
        _ => config
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("message.send.max.retries", "3")
            .set("retry.backoff.ms", "1000")
            .set("message.timeout.ms", "5000")
            .set("max.in.flight", "5"),
    };
    config.create().expect("producer")
}

fn cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The headers the service puts on a record (a sync, idempotent send; one request's trace).
fn service_headers(producer: &str) -> OwnedHeaders {
    const TIMESTAMP: &str = "2026-11-27T09:00:00.123456789Z";
    const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    [
        ("producer-mode", producer),
        ("send-mode", "sync"),
        ("timestamp", TIMESTAMP),
        ("traceparent", TRACEPARENT),
    ]
    .into_iter()
    .fold(
        OwnedHeaders::new_with_capacity(4),
        |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value),
            })
        },
    )
}

#[tokio::main]
async fn main() {
    let args = args();
    let producer = producer(&args);
    let payload = vec![b'x'; args.size];
    // Warm up: metadata and connections, as the service has them once it is ready.
    for i in 0..10 {
        let key = format!("warm-{i}");
        producer
            .send(
                FutureRecord::to(&args.topic)
                    .key(&key)
                    .payload(&payload)
                    .headers(service_headers(&args.producer)),
                Duration::from_secs(10),
            )
            .await
            .expect("warm-up record");
    }
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut failed = 0usize;
    if args.mode == "latency" {
        // `in_flight` loops, each sending one record and awaiting it; the records are shared out.
        let loops = args.in_flight.max(1);
        let each = args.count / loops;
        let mut tasks = Vec::with_capacity(loops);
        for l in 0..loops {
            let producer = producer.clone();
            let topic = args.topic.clone();
            let payload = payload.clone();
            let mode = args.producer.clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(each);
                let mut failed = 0usize;
                for i in 0..each {
                    let key = format!("k{l}-{i}");
                    let sent = Instant::now();
                    let result = producer
                        .send(
                            FutureRecord::to(&topic)
                                .key(&key)
                                .payload(&payload)
                                .headers(service_headers(&mode)),
                            Duration::from_secs(10),
                        )
                        .await;
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                    failed += usize::from(result.is_err());
                }
                (latencies, failed)
            }));
        }
        for task in tasks {
            let (l, f) = task.await.expect("a latency loop");
            latencies.extend(l);
            failed += f;
        }
    } else {
        // Records go in chunks of 1000 (as a batch request hands them over), with a window of
        // chunks in flight well inside the producer's queue (32 MiB of payload, 50 000 records
        // at most): when it is full, the oldest chunk's reports are awaited. The loop never
        // backs off on a full queue.
        const CHUNK: usize = 1000;
        let window = ((32 << 20) / args.size.max(1)).clamp(CHUNK, 50_000) / CHUNK;
        let mut chunks: std::collections::VecDeque<Vec<rdkafka::producer::DeliveryFuture>> =
            std::collections::VecDeque::with_capacity(window + 1);
        for i in 0..args.count {
            if i % CHUNK == 0 {
                if chunks.len() >= window {
                    for delivery in chunks.pop_front().expect("a chunk in flight") {
                        failed += usize::from(!matches!(delivery.await, Ok(Ok(_))));
                    }
                }
                chunks.push_back(Vec::with_capacity(CHUNK));
            }
            let key = format!("k{i}");
            loop {
                match producer.send_result(
                    FutureRecord::to(&args.topic)
                        .key(&key)
                        .payload(&payload)
                        .headers(service_headers(&args.producer)),
                ) {
                    Ok(delivery) => {
                        chunks.back_mut().expect("a chunk").push(delivery);
                        break;
                    }
                    Err((_, _)) => tokio::time::sleep(Duration::from_millis(1)).await,
                }
            }
        }
        for delivery in chunks.into_iter().flatten() {
            failed += usize::from(!matches!(delivery.await, Ok(Ok(_))));
        }
    }
    producer.flush(Duration::from_secs(30)).expect("flush");
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    latencies.sort_by(f64::total_cmp);
    let records = if args.mode == "latency" {
        latencies.len()
    } else {
        args.count
    };
    println!(
        "{{\"mode\":\"{}\",\"producer\":\"{}\",\"size\":{},\"lingerMs\":\"{}\",\"inFlight\":{},\"records\":{},\"failed\":{},\"seconds\":{:.3},\"recordsPerSecond\":{:.1},\"p50Ms\":{:.3},\"p99Ms\":{:.3},\"cpuSeconds\":{:.3}}}",
        args.mode,
        args.producer,
        args.size,
        args.linger.as_deref().unwrap_or("0"),
        args.in_flight,
        records,
        failed,
        seconds,
        records as f64 / seconds,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        cpu
    );
}
