//! Logging set-up: human-readable in development, JSON in Lambda and production.

use tracing_subscriber::EnvFilter;

use crate::settings::{Settings, SettingsError};

/// Installs the global subscriber. A filter that does not parse is a start-up error.
pub fn init(settings: &Settings) -> Result<(), SettingsError> {
    let filter = EnvFilter::try_new(&settings.log_filter).map_err(|e| SettingsError {
        setting: "LOG_LEVEL".into(),
        reason: format!("{:?} is not a log filter: {e}", settings.log_filter),
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if settings.log_json {
        builder.json().with_current_span(false).try_init()
    } else {
        builder.try_init()
    };
    // Already installed (tests set up their own): keep the first one.
    let _ = result;
    Ok(())
}
