//! Logs and span export: `LOG_LEVEL`, `LOG_FORMAT`, and the standard `OTEL_*` variables.

use super::vars::Vars;
use super::{Environment, RuntimeKind, SettingsError};

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

/// `LOG_FORMAT`: JSON by default in Lambda and production, text elsewhere.
pub(super) fn log_json(
    vars: &Vars,
    runtime: RuntimeKind,
    environment: Environment,
) -> Result<bool, SettingsError> {
    match vars.get("LOG_FORMAT").map(|v| v.to_ascii_lowercase()) {
        None => Ok(runtime == RuntimeKind::Lambda || environment == Environment::Production),
        Some(v) if v == "json" => Ok(true),
        Some(v) if v == "text" || v == "pretty" => Ok(false),
        Some(v) => Err(SettingsError::new(
            "LOG_FORMAT",
            format!("{v:?} is neither json nor text"),
        )),
    }
}

pub(super) fn trace_export(vars: &Vars) -> Result<TraceExport, SettingsError> {
    let disabled = vars
        .get("OTEL_SDK_DISABLED")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let endpoint = vars
        .get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .or_else(|| vars.get("OTEL_EXPORTER_OTLP_ENDPOINT"));
    let wanted = match vars
        .get("OTEL_TRACES_EXPORTER")
        .map(|v| v.to_ascii_lowercase())
    {
        None => endpoint.is_some(),
        Some(v) if v == "otlp" => true,
        Some(v) if v == "none" => false,
        Some(v) => {
            return Err(SettingsError::new(
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
        if let Some(protocol) = vars.get(name).filter(|p| p != "http/protobuf") {
            return Err(SettingsError::new(
                name,
                format!("{protocol:?} is not supported: spans are exported as http/protobuf"),
            ));
        }
    }
    Ok(TraceExport::Otlp {
        endpoint,
        service_name: vars
            .get("OTEL_SERVICE_NAME")
            .unwrap_or_else(|| "kafka-producer".to_owned()),
    })
}
