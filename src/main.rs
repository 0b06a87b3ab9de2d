//! Wiring only: settings → telemetry → run (server or Lambda).

use std::process::ExitCode;

use kafka_producer::{runtime, settings::Settings, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("kafka-producer: {error}");
            return ExitCode::from(2);
        }
    };
    if let Err(error) = telemetry::init(&settings) {
        eprintln!("kafka-producer: {error}");
        return ExitCode::from(2);
    }
    match runtime::run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("kafka-producer: {error}");
            ExitCode::FAILURE
        }
    }
}
