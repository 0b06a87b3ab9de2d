//! Wiring only: settings → telemetry → run (server or Lambda).

use std::process::ExitCode;

use kafka_producer::observability::telemetry;
use kafka_producer::{runtime, settings::Settings};

/// jemalloc, which also serves librdkafka's `malloc` (`unprefixed_malloc_on_supported_platforms`):
/// records are allocated on request threads and freed on librdkafka's, where glibc's malloc spent
/// about a quarter of the batch path's CPU (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("kafka-producer: {error}");
            return ExitCode::from(2);
        }
    };
    let telemetry = match telemetry::init(&settings) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("kafka-producer: {error}");
            return ExitCode::from(2);
        }
    };
    let code = match runtime::run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("kafka-producer: {error}");
            ExitCode::FAILURE
        }
    };
    // Exported spans still buffered get a second at most: shutdown is already bounded.
    tokio::task::spawn_blocking(move || telemetry.shutdown(std::time::Duration::from_secs(1)))
        .await
        .ok();
    code
}
