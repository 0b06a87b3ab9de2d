//! Typed settings, read once at start-up from the environment and passed down.
//!
//! Owns every environment variable name the service understands. Nothing else in the crate reads
//! the environment (but for the OpenTelemetry exporter, which reads its standard `OTEL_EXPORTER_OTLP_*`
//! variables itself). Misconfiguration is an error here, naming the setting, so the process fails at
//! start-up instead of on the first request.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::access::{Access, TopicPolicy};

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

/// `APP_ENV` (or the seed's `ASPNETCORE_ENVIRONMENT`): production forbids the embedded cluster
/// and switches logs to JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Where the producers connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// `bootstrap.servers` as configured.
    Servers(String),
    /// Nothing configured, in server mode outside production: start the in-process cluster.
    Embedded,
}

/// librdkafka properties from the environment, by the producer they apply to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KafkaOverrides {
    /// `KAFKA_<NAME>`: both producers.
    pub common: BTreeMap<String, String>,
    /// `KAFKA_PLAIN_<NAME>`: the plain producer only.
    pub plain: BTreeMap<String, String>,
    /// `KAFKA_IDEMPOTENT_<NAME>`: the idempotent producer only.
    pub idempotent: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub runtime: RuntimeKind,
    pub environment: Environment,
    /// `PORT`, default 8080 (server mode only).
    pub port: u16,
    pub bootstrap: Bootstrap,
    pub kafka: KafkaOverrides,
    /// `SHUTDOWN_TIMEOUT_MS`: how long shutdown may spend draining requests and flushing records.
    pub shutdown_timeout: Duration,
    /// `ENQUEUE_TIMEOUT_MS`: how long a request may wait for room in a full producer queue
    /// before it is answered 503.
    pub enqueue_timeout: Duration,
    /// `READINESS_TIMEOUT_MS`: how long `/health/ready` waits for the cluster's metadata.
    pub readiness_timeout: Duration,
    /// `MAX_BODY_BYTES`: the largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// `METRICS_TOPICS`: comma-separated topics that get a Prometheus label of their own; every
    /// other topic is counted as `other`, so that label values stay few.
    pub metrics_topics: Vec<String>,
    /// `LOG_LEVEL` (or `RUST_LOG`): a tracing filter directive.
    pub log_filter: String,
    /// `LOG_FORMAT`: `json` or `text`; defaults to JSON in Lambda and production.
    pub log_json: bool,
    /// Where spans are exported over OTLP, if anywhere (the standard `OTEL_*` variables).
    pub trace_export: TraceExport,
    /// `API_KEYS`, `API_KEYS_FILE` and `ALLOWED_TOPICS`: who may send, and where.
    pub access: Access,
    /// `MAX_RECORD_HEADERS`: headers a record may carry from the request (default 64).
    pub max_record_headers: usize,
    /// `MAX_HEADER_BYTES`: the names and values of a record's headers together (default 64 KiB).
    pub max_header_bytes: usize,
    /// `REQUEST_TIMEOUT_MS`: the longest a request may take, body reading included (default 30 s).
    pub request_timeout: Duration,
    /// `MAX_CONCURRENT_REQUESTS`: sends handled at once; beyond it, 503 with `Retry-After`
    /// (default 512). Health, metrics and documentation are not counted.
    pub max_concurrent_requests: usize,
    /// `MAX_BATCH_RECORDS`: records in one batch (default 10 000).
    pub max_batch_records: usize,
    /// `MAX_BATCH_BODY_BYTES`: the largest batch body (default 16 MiB).
    pub max_batch_body_bytes: usize,
    /// `CORS_ALLOWED_ORIGINS`: origins browsers may call from (`*` for any); empty, CORS is off.
    pub cors_origins: Vec<String>,
    /// `MSK_IAM=true`: IAM authentication to Amazon MSK, for the region in `MSK_IAM_REGION`
    /// (or `AWS_REGION`, which Lambda sets).
    pub msk_iam_region: Option<String>,
}

/// OpenTelemetry span export, read from the standard `OTEL_*` variables. It is on when an OTLP
/// endpoint is set (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`) or when
/// `OTEL_TRACES_EXPORTER=otlp`; `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn it
/// off. The exporter itself (a build with the `otlp` feature) reads the rest of the variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceExport {
    Off,
    /// OTLP over HTTP/protobuf; `None` is the OTLP default endpoint (`http://localhost:4318`).
    /// `service_name` is `OTEL_SERVICE_NAME`, by default `kafka-producer`.
    Otlp {
        endpoint: Option<String>,
        service_name: String,
    },
}

/// A setting that could not be used, named so the operator can fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub setting: String,
    pub reason: String,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid setting {}: {}", self.setting, self.reason)
    }
}

impl std::error::Error for SettingsError {}

fn invalid(setting: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError {
        setting: setting.to_owned(),
        reason: reason.into(),
    }
}

/// The default body limit: 1 MiB, librdkafka's default `message.max.bytes` is about the same.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

impl Settings {
    /// Reads the process environment, and the seed's `appsettings.json` (plus
    /// `appsettings.<environment>.json`) from the working directory when present.
    pub fn from_env() -> Result<Self, SettingsError> {
        let vars: BTreeMap<String, String> = std::env::vars().collect();
        let file_bootstrap = appsettings_bootstrap(Path::new("."), &vars)?;
        Self::from_vars(&vars, file_bootstrap)
    }

    /// Builds settings from a variable map; `file_bootstrap` is `Kafka:BootstrapServers` from a
    /// settings file, the lowest-priority source of the bootstrap servers.
    pub fn from_vars(
        vars: &BTreeMap<String, String>,
        file_bootstrap: Option<String>,
    ) -> Result<Self, SettingsError> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };

        let runtime = if get("AWS_LAMBDA_RUNTIME_API").is_some() {
            RuntimeKind::Lambda
        } else {
            RuntimeKind::Server
        };

        let environment = match get("APP_ENV").or_else(|| get("ASPNETCORE_ENVIRONMENT")) {
            Some(env) if env.eq_ignore_ascii_case("production") => Environment::Production,
            _ => Environment::Development,
        };

        let port = match get("PORT") {
            None => 8080,
            Some(raw) => raw
                .parse::<u16>()
                .map_err(|_| invalid("PORT", format!("{raw:?} is not a TCP port (0-65535)")))?,
        };

        let bootstrap_setting = get("KAFKA_BOOTSTRAP_SERVERS")
            .map(|v| ("KAFKA_BOOTSTRAP_SERVERS", v))
            .or_else(|| get("Kafka__BootstrapServers").map(|v| ("Kafka__BootstrapServers", v)))
            .or_else(|| file_bootstrap.map(|v| ("Kafka:BootstrapServers", v)));
        let bootstrap = match bootstrap_setting {
            Some((name, servers)) => {
                validate_bootstrap(name, &servers)?;
                Bootstrap::Servers(servers)
            }
            None if runtime == RuntimeKind::Lambda => {
                return Err(invalid(
                    "KAFKA_BOOTSTRAP_SERVERS",
                    "is required in Lambda (the embedded cluster is for local runs only)",
                ))
            }
            None if environment == Environment::Production => return Err(invalid(
                "KAFKA_BOOTSTRAP_SERVERS",
                "is required when APP_ENV=production (the embedded cluster is for local runs only)",
            )),
            None => Bootstrap::Embedded,
        };

        let millis = |name: &str, default: u64| -> Result<Duration, SettingsError> {
            match get(name) {
                None => Ok(Duration::from_millis(default)),
                Some(raw) => raw
                    .parse::<u64>()
                    .map(Duration::from_millis)
                    .map_err(|_| invalid(name, format!("{raw:?} is not a number of milliseconds"))),
            }
        };

        let max_body_bytes = match get("MAX_BODY_BYTES") {
            None => DEFAULT_MAX_BODY_BYTES,
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(invalid(
                        "MAX_BODY_BYTES",
                        format!("{raw:?} is not a positive number of bytes"),
                    ))
                }
            },
        };

        let mut metrics_topics = Vec::new();
        for topic in get("METRICS_TOPICS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            crate::kafka::TopicName::parse(topic)
                .map_err(|e| invalid("METRICS_TOPICS", format!("{topic:?}: {e}")))?;
            metrics_topics.push(topic.to_owned());
        }

        let log_json = match get("LOG_FORMAT").map(|v| v.to_ascii_lowercase()) {
            None => runtime == RuntimeKind::Lambda || environment == Environment::Production,
            Some(v) if v == "json" => true,
            Some(v) if v == "text" || v == "pretty" => false,
            Some(v) => {
                return Err(invalid(
                    "LOG_FORMAT",
                    format!("{v:?} is neither json nor text"),
                ))
            }
        };

        let trace_export = trace_export(&get)?;
        let access = access(&get)?;
        let msk_iam_region = msk_iam_region(&get)?;
        let count = |name: &str, default: usize| -> Result<usize, SettingsError> {
            match get(name) {
                None => Ok(default),
                Some(raw) => match raw.parse::<usize>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(invalid(name, format!("{raw:?} is not a positive number"))),
                },
            }
        };
        let cors_origins = get("CORS_ALLOWED_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>();
        for origin in cors_origins.iter().filter(|o| *o != "*") {
            let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
                && axum::http::HeaderValue::from_str(origin).is_ok()
                && !origin.ends_with('/');
            if !valid {
                return Err(invalid(
                    "CORS_ALLOWED_ORIGINS",
                    format!("{origin:?} is not an origin such as https://app.example.com"),
                ));
            }
        }

        Ok(Settings {
            runtime,
            environment,
            port,
            bootstrap,
            kafka: kafka_overrides(vars)?,
            shutdown_timeout: millis("SHUTDOWN_TIMEOUT_MS", 10_000)?,
            enqueue_timeout: millis("ENQUEUE_TIMEOUT_MS", 100)?,
            readiness_timeout: millis("READINESS_TIMEOUT_MS", 2_000)?,
            max_body_bytes,
            metrics_topics,
            log_filter: get("LOG_LEVEL")
                .or_else(|| get("RUST_LOG"))
                .unwrap_or_else(|| "info".to_owned()),
            log_json,
            trace_export,
            access,
            max_record_headers: count("MAX_RECORD_HEADERS", 64)?,
            max_header_bytes: count("MAX_HEADER_BYTES", 64 * 1024)?,
            request_timeout: millis("REQUEST_TIMEOUT_MS", 30_000)?,
            max_concurrent_requests: count("MAX_CONCURRENT_REQUESTS", 512)?,
            max_batch_records: count("MAX_BATCH_RECORDS", 10_000)?,
            max_batch_body_bytes: count("MAX_BATCH_BODY_BYTES", 16 * 1024 * 1024)?,
            cors_origins,
            msk_iam_region,
        })
    }
}

/// `API_KEYS` and the file `API_KEYS_FILE` names (both may be given), and `ALLOWED_TOPICS`.
fn access(get: &dyn Fn(&str) -> Option<String>) -> Result<Access, SettingsError> {
    let mut entries = get("API_KEYS").unwrap_or_default();
    let mut setting = "API_KEYS";
    if let Some(path) = get("API_KEYS_FILE") {
        let file = std::fs::read_to_string(&path)
            .map_err(|e| invalid("API_KEYS_FILE", format!("{path:?} cannot be read: {e}")))?;
        entries.push('\n');
        entries.push_str(&file);
        setting = if get("API_KEYS").is_some() {
            "API_KEYS/API_KEYS_FILE"
        } else {
            "API_KEYS_FILE"
        };
    }
    let topics = TopicPolicy::parse(&get("ALLOWED_TOPICS").unwrap_or_default())
        .map_err(|reason| invalid("ALLOWED_TOPICS", reason))?;
    Access::new(&entries, topics).map_err(|reason| invalid(setting, reason))
}

fn msk_iam_region(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, SettingsError> {
    let on = match get("MSK_IAM").map(|v| v.to_ascii_lowercase()) {
        None => false,
        Some(v) if v == "true" || v == "1" => true,
        Some(v) if v == "false" || v == "0" => false,
        Some(v) => {
            return Err(invalid(
                "MSK_IAM",
                format!("{v:?} is neither true nor false"),
            ))
        }
    };
    if !on {
        return Ok(None);
    }
    if !cfg!(feature = "msk-iam") {
        return Err(invalid(
            "MSK_IAM",
            "this build has no `msk-iam` feature (build with the default features)",
        ));
    }
    let region = get("MSK_IAM_REGION")
        .or_else(|| get("AWS_REGION"))
        .or_else(|| get("AWS_DEFAULT_REGION"))
        .ok_or_else(|| {
            invalid(
                "MSK_IAM_REGION",
                "MSK_IAM=true needs the cluster's region (MSK_IAM_REGION or AWS_REGION)",
            )
        })?;
    Ok(Some(region))
}

fn trace_export(get: &dyn Fn(&str) -> Option<String>) -> Result<TraceExport, SettingsError> {
    let disabled = get("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let endpoint =
        get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| get("OTEL_EXPORTER_OTLP_ENDPOINT"));
    let wanted = match get("OTEL_TRACES_EXPORTER").map(|v| v.to_ascii_lowercase()) {
        None => endpoint.is_some(),
        Some(v) if v == "otlp" => true,
        Some(v) if v == "none" => false,
        Some(v) => {
            return Err(invalid(
                "OTEL_TRACES_EXPORTER",
                format!("{v:?} is not supported (otlp or none)"),
            ))
        }
    };
    if disabled || !wanted {
        return Ok(TraceExport::Off);
    }
    for name in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        if let Some(protocol) = get(name).filter(|p| p != "http/protobuf") {
            return Err(invalid(
                name,
                format!("{protocol:?} is not supported: spans are exported as http/protobuf"),
            ));
        }
    }
    Ok(TraceExport::Otlp {
        endpoint,
        service_name: get("OTEL_SERVICE_NAME").unwrap_or_else(|| "kafka-producer".to_owned()),
    })
}

fn validate_bootstrap(setting: &str, servers: &str) -> Result<(), SettingsError> {
    for server in servers.split(',').map(str::trim) {
        // Accept `host:port` and librdkafka's `proto://host:port`.
        let address = server.rsplit("://").next().unwrap_or(server);
        let valid = match address.rsplit_once(':') {
            Some((host, port)) => !host.is_empty() && port.parse::<u16>().is_ok(),
            None => false,
        };
        if !valid {
            return Err(invalid(
                setting,
                format!("{server:?} is not host:port (expected a comma-separated list such as kafka-1:9092,kafka-2:9092)"),
            ));
        }
    }
    Ok(())
}

/// Kubernetes injects `<SERVICE>_PORT`, `<SERVICE>_PORT_<n>_TCP…` and `<SERVICE>_SERVICE_…` for
/// every Service in the namespace: a Service named `kafka` would otherwise turn into unknown
/// librdkafka properties and stop the pod from starting.
fn is_service_link(name: &str) -> bool {
    name == "KAFKA_PORT" || name.starts_with("KAFKA_PORT_") || name.starts_with("KAFKA_SERVICE_")
}

fn kafka_overrides(vars: &BTreeMap<String, String>) -> Result<KafkaOverrides, SettingsError> {
    let mut overrides = KafkaOverrides::default();
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("KAFKA_") else {
            continue;
        };
        if name == "KAFKA_BOOTSTRAP_SERVERS" || is_service_link(name) {
            continue;
        }
        let (target, property) = if let Some(p) = rest.strip_prefix("PLAIN_") {
            (&mut overrides.plain, p)
        } else if let Some(p) = rest.strip_prefix("IDEMPOTENT_") {
            (&mut overrides.idempotent, p)
        } else {
            (&mut overrides.common, rest)
        };
        if property.is_empty() {
            return Err(invalid(name, "names no librdkafka property"));
        }
        if property == "BOOTSTRAP_SERVERS" {
            return Err(invalid(
                name,
                "both producers share one cluster: set KAFKA_BOOTSTRAP_SERVERS",
            ));
        }
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        target.insert(
            property.to_ascii_lowercase().replace('_', "."),
            value.to_owned(),
        );
    }
    Ok(overrides)
}

/// `Kafka:BootstrapServers` from the seed's `appsettings.json`, overridden by
/// `appsettings.<environment>.json` as ASP.NET does.
fn appsettings_bootstrap(
    dir: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<Option<String>, SettingsError> {
    let mut files = vec!["appsettings.json".to_owned()];
    if let Some(env) = vars
        .get("ASPNETCORE_ENVIRONMENT")
        .or_else(|| vars.get("APP_ENV"))
    {
        files.push(format!("appsettings.{env}.json"));
    }
    let mut found = None;
    for file in files {
        let path = dir.join(&file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| invalid(&file, format!("is not valid JSON: {e}")))?;
        if let Some(servers) = json
            .get("Kafka")
            .and_then(|k| k.get("BootstrapServers"))
            .and_then(|v| v.as_str())
        {
            found = Some(servers.to_owned());
        }
    }
    Ok(found)
}

/// True for librdkafka properties whose values must never be printed.
pub fn is_secret_property(name: &str) -> bool {
    const MARKERS: [&str; 6] = ["password", "secret", "key", "token", "jaas", "credentials"];
    let name = name.to_ascii_lowercase();
    MARKERS.iter().any(|m| name.contains(m)) || name.ends_with(".pem")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_to_the_embedded_cluster_in_development() {
        let s = Settings::from_vars(&vars(&[]), None).unwrap();
        assert_eq!(s.bootstrap, Bootstrap::Embedded);
        assert_eq!(s.port, 8080);
        assert_eq!(s.runtime, RuntimeKind::Server);
        assert!(!s.log_json);
    }

    #[test]
    fn bootstrap_sources_in_priority_order() {
        let s = Settings::from_vars(
            &vars(&[("Kafka__BootstrapServers", "a:1")]),
            Some("f:3".into()),
        )
        .unwrap();
        assert_eq!(s.bootstrap, Bootstrap::Servers("a:1".into()));
        let s = Settings::from_vars(
            &vars(&[
                ("KAFKA_BOOTSTRAP_SERVERS", "b:2"),
                ("Kafka__BootstrapServers", "a:1"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(s.bootstrap, Bootstrap::Servers("b:2".into()));
        let s = Settings::from_vars(&vars(&[]), Some("f:3".into())).unwrap();
        assert_eq!(s.bootstrap, Bootstrap::Servers("f:3".into()));
    }

    #[test]
    fn production_and_lambda_refuse_the_embedded_cluster() {
        let err = Settings::from_vars(&vars(&[("APP_ENV", "production")]), None).unwrap_err();
        assert_eq!(err.setting, "KAFKA_BOOTSTRAP_SERVERS");
        let err = Settings::from_vars(&vars(&[("ASPNETCORE_ENVIRONMENT", "Production")]), None)
            .unwrap_err();
        assert_eq!(err.setting, "KAFKA_BOOTSTRAP_SERVERS");
        let err = Settings::from_vars(&vars(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")]), None)
            .unwrap_err();
        assert_eq!(err.setting, "KAFKA_BOOTSTRAP_SERVERS");
        assert!(err.to_string().contains("Lambda"));
    }

    #[test]
    fn bad_values_name_their_setting() {
        for (name, value) in [
            ("PORT", "eighty"),
            ("PORT", "70000"),
            ("SHUTDOWN_TIMEOUT_MS", "-1"),
            ("MAX_BODY_BYTES", "0"),
            ("LOG_FORMAT", "xml"),
            ("KAFKA_BOOTSTRAP_SERVERS", "localhost"),
            ("Kafka__BootstrapServers", "a:1,b"),
            ("KAFKA_PLAIN_BOOTSTRAP_SERVERS", "a:1"),
            ("OTEL_TRACES_EXPORTER", "zipkin"),
            ("MSK_IAM", "yes"),
        ] {
            let err = Settings::from_vars(&vars(&[(name, value)]), None).unwrap_err();
            assert_eq!(err.setting, name, "{name}={value}");
        }
    }

    #[test]
    fn kafka_variables_become_librdkafka_properties() {
        let s = Settings::from_vars(
            &vars(&[
                ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
                ("KAFKA_LINGER_MS", "10"),
                ("KAFKA_PLAIN_ACKS", "0"),
                ("KAFKA_IDEMPOTENT_MESSAGE_TIMEOUT_MS", "9000"),
                ("KAFKA_BOOTSTRAP_SERVERS", "k:9092"),
                ("KAFKA_PORT", "tcp://10.0.0.1:9092"),
                ("KAFKA_PORT_9092_TCP_ADDR", "10.0.0.1"),
                ("KAFKA_SERVICE_HOST", "10.0.0.1"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(
            s.kafka.common,
            vars(&[("security.protocol", "SASL_SSL"), ("linger.ms", "10")])
        );
        assert_eq!(s.kafka.plain, vars(&[("acks", "0")]));
        assert_eq!(s.kafka.idempotent, vars(&[("message.timeout.ms", "9000")]));
    }

    #[test]
    fn appsettings_file_is_read_with_its_environment_variant() {
        let dir = std::env::temp_dir().join(format!("kp-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("appsettings.json"),
            r#"{"Kafka":{"BootstrapServers":"base:9092"}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("appsettings.K8s.json"),
            r#"{"Kafka":{"BootstrapServers":"kafka:9092"}}"#,
        )
        .unwrap();
        let none = appsettings_bootstrap(&dir, &vars(&[])).unwrap();
        assert_eq!(none.as_deref(), Some("base:9092"));
        let k8s = appsettings_bootstrap(&dir, &vars(&[("ASPNETCORE_ENVIRONMENT", "K8s")])).unwrap();
        assert_eq!(k8s.as_deref(), Some("kafka:9092"));
        std::fs::write(dir.join("appsettings.json"), "{not json").unwrap();
        let err = appsettings_bootstrap(&dir, &vars(&[])).unwrap_err();
        assert_eq!(err.setting, "appsettings.json");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn secret_properties_are_recognised() {
        for name in [
            "sasl.password",
            "ssl.key.password",
            "ssl.key.pem",
            "sasl.oauthbearer.client.secret",
            "ssl.certificate.pem",
        ] {
            assert!(is_secret_property(name), "{name}");
        }
        for name in [
            "acks",
            "bootstrap.servers",
            "security.protocol",
            "sasl.username",
            "linger.ms",
        ] {
            assert!(!is_secret_property(name), "{name}");
        }
    }

    #[test]
    fn span_export_follows_the_standard_otel_variables() {
        let export = |pairs: &[(&str, &str)]| {
            Settings::from_vars(&vars(pairs), None).map(|s| s.trace_export)
        };
        assert_eq!(export(&[]), Ok(TraceExport::Off));
        let collector = Some("http://collector:4318".to_owned());
        assert_eq!(
            export(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")]),
            Ok(TraceExport::Otlp {
                endpoint: collector.clone(),
                service_name: "kafka-producer".into()
            })
        );
        assert_eq!(
            export(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://other:4318"),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    "http://collector:4318"
                ),
                ("OTEL_SERVICE_NAME", "orders-gateway"),
            ]),
            Ok(TraceExport::Otlp {
                endpoint: collector,
                service_name: "orders-gateway".into()
            })
        );
        assert_eq!(
            export(&[("OTEL_TRACES_EXPORTER", "otlp")]),
            Ok(TraceExport::Otlp {
                endpoint: None,
                service_name: "kafka-producer".into()
            })
        );
        for off in [
            ("OTEL_SDK_DISABLED", "true"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ] {
            assert_eq!(
                export(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), off]),
                Ok(TraceExport::Off),
                "{off:?}"
            );
        }
        let grpc = export(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ])
        .unwrap_err();
        assert_eq!(grpc.setting, "OTEL_EXPORTER_OTLP_PROTOCOL");
    }

    #[test]
    #[cfg(feature = "msk-iam")]
    fn msk_iam_needs_a_region() {
        let region = |pairs: &[(&str, &str)]| {
            Settings::from_vars(&vars(pairs), None).map(|s| s.msk_iam_region)
        };
        assert_eq!(region(&[]), Ok(None));
        assert_eq!(
            region(&[("MSK_IAM", "false"), ("AWS_REGION", "eu-west-1")]),
            Ok(None)
        );
        let missing = region(&[("MSK_IAM", "true")]).unwrap_err();
        assert_eq!(missing.setting, "MSK_IAM_REGION");
        assert_eq!(
            region(&[("MSK_IAM", "true"), ("AWS_REGION", "eu-west-1")]),
            Ok(Some("eu-west-1".into()))
        );
        assert_eq!(
            region(&[
                ("MSK_IAM", "true"),
                ("AWS_REGION", "eu-west-1"),
                ("MSK_IAM_REGION", "us-east-2")
            ]),
            Ok(Some("us-east-2".into()))
        );
    }
}
