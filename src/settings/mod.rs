//! Typed settings, read once at start-up from the environment and passed down.
//!
//! Owns every environment variable name the service understands. Nothing else in the crate reads
//! the environment (but for the OpenTelemetry exporter, which reads its standard `OTEL_EXPORTER_OTLP_*`
//! variables itself). Misconfiguration is an error here, naming the setting, so the process fails at
//! start-up instead of on the first request.

mod access;
mod kafka;
mod limits;
mod schema_registry;
mod telemetry;
#[cfg(test)]
mod tests;
mod vars;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

pub use self::kafka::{Bootstrap, EMBEDDED_WARNING};
pub use self::limits::Limits;
pub use self::telemetry::TraceExport;
use self::vars::Vars;
use crate::access::Access;
use crate::kafka::{Given, Overrides};

/// A setting that could not be used, named so that the operator can fix it: the same type the
/// Kafka client configuration answers with.
pub type SettingsError = crate::kafka::InvalidSetting;

/// Which way the binary is serving the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// Plain HTTP server (also what runs in a Knative/Kubernetes pod).
    Server,
    /// AWS Lambda, detected by `AWS_LAMBDA_RUNTIME_API`.
    Lambda,
}

impl RuntimeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeKind::Server => "server",
            RuntimeKind::Lambda => "lambda",
        }
    }
}

/// `APP_ENV` (or the workshop's `ASPNETCORE_ENVIRONMENT`): production forbids the embedded cluster
/// and switches logs to JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub runtime: RuntimeKind,
    pub environment: Environment,
    /// `PORT`: where the server listens (8080).
    pub port: u16,
    pub bootstrap: Bootstrap,
    /// `KAFKA_*`: librdkafka properties, each with the variable that set it.
    pub kafka: Overrides,
    /// `SHUTDOWN_TIMEOUT_MS`: finishing requests and flushing the producers at SIGTERM.
    pub shutdown_timeout: Duration,
    /// `ENQUEUE_TIMEOUT_MS`: how long a send waits for room in a full producer queue (503 after).
    pub enqueue_timeout: Duration,
    /// `READINESS_TIMEOUT_MS`: the metadata probe behind `/health/ready`.
    pub readiness_timeout: Duration,
    /// `METRICS_TOPICS`: topics that get a Prometheus label of their own.
    pub metrics_topics: Vec<String>,
    /// `LOG_LEVEL` (or `RUST_LOG`): a tracing filter.
    pub log_filter: String,
    /// `LOG_FORMAT`: JSON lines, or text for people.
    pub log_json: bool,
    pub trace_export: TraceExport,
    pub access: Access,
    pub limits: Limits,
    /// `CORS_ALLOWED_ORIGINS`: browser origins allowed (`*` for any); empty, CORS is off.
    pub cors_origins: Vec<String>,
    /// `MSK_IAM=true`: IAM authentication to Amazon MSK, for the cluster in this region
    /// (`MSK_IAM_REGION`, or `AWS_REGION`, which Lambda sets).
    pub msk_iam_region: Option<Given>,
    /// `SCHEMA_REGISTRY_*`: the registry of records that name a schema; `None`, none is used.
    pub schema_registry: Option<crate::schema::RegistryConfig>,
}

impl Settings {
    /// Reads the process environment, and the workshop's `appsettings.json` (plus
    /// `appsettings.<environment>.json`) from the working directory when present.
    pub fn from_env() -> Result<Self, SettingsError> {
        let vars: BTreeMap<String, String> = std::env::vars().collect();
        let file_bootstrap = kafka::appsettings_bootstrap(Path::new("."), &vars)?;
        Self::from_vars(&vars, file_bootstrap)
    }

    /// Builds settings from a variable map; `file_bootstrap` is `Kafka:BootstrapServers` from a
    /// settings file, the lowest-priority source of the bootstrap servers.
    pub fn from_vars(
        vars: &BTreeMap<String, String>,
        file_bootstrap: Option<String>,
    ) -> Result<Self, SettingsError> {
        let vars = Vars(vars);
        let runtime = if vars.get("AWS_LAMBDA_RUNTIME_API").is_some() {
            RuntimeKind::Lambda
        } else {
            RuntimeKind::Server
        };
        let environment = match vars
            .get("APP_ENV")
            .or_else(|| vars.get("ASPNETCORE_ENVIRONMENT"))
        {
            Some(env) if env.eq_ignore_ascii_case("production") => Environment::Production,
            _ => Environment::Development,
        };
        let port = match vars.get("PORT") {
            None => 8080,
            Some(raw) => raw.parse::<u16>().map_err(|_| {
                SettingsError::new("PORT", format!("{raw:?} is not a TCP port (0-65535)"))
            })?,
        };
        let metrics_topics = vars.list("METRICS_TOPICS");
        for topic in &metrics_topics {
            crate::kafka::TopicName::parse(topic)
                .map_err(|e| SettingsError::new("METRICS_TOPICS", format!("{topic:?}: {e}")))?;
        }
        Ok(Settings {
            runtime,
            environment,
            port,
            bootstrap: kafka::bootstrap(&vars, file_bootstrap, runtime, environment)?,
            kafka: kafka::overrides(&vars)?,
            shutdown_timeout: vars.millis("SHUTDOWN_TIMEOUT_MS", 10_000)?,
            enqueue_timeout: vars.millis("ENQUEUE_TIMEOUT_MS", 100)?,
            readiness_timeout: vars.millis("READINESS_TIMEOUT_MS", 2_000)?,
            metrics_topics,
            log_filter: vars
                .get("LOG_LEVEL")
                .or_else(|| vars.get("RUST_LOG"))
                .unwrap_or_else(|| "info".to_owned()),
            log_json: telemetry::log_json(&vars, runtime, environment)?,
            trace_export: telemetry::trace_export(&vars)?,
            access: access::access(&vars)?,
            limits: Limits::read(&vars)?,
            cors_origins: access::cors_origins(&vars)?,
            msk_iam_region: kafka::msk_iam_region(&vars)?,
            schema_registry: schema_registry::registry(&vars)?,
        })
    }
}
