//! Where the producers connect and how: `KAFKA_BOOTSTRAP_SERVERS` (or the workshop's .NET
//! configuration keys `Kafka__BootstrapServers` and `Kafka:BootstrapServers` in
//! `appsettings.json`), `KAFKA_*` librdkafka properties, Amazon MSK IAM.

use std::collections::BTreeMap;
use std::path::Path;

use super::vars::Vars;
use super::{Environment, RuntimeKind, SettingsError};
use crate::kafka::{Given, Overrides};

/// Said at start-up and in `/api/v1/status` whenever the embedded cluster is in use.
pub const EMBEDDED_WARNING: &str = "EMBEDDED KAFKA: no KAFKA_BOOTSTRAP_SERVERS is set, so records go to an in-memory \
     cluster inside this process and are lost when it stops. Set KAFKA_BOOTSTRAP_SERVERS to use a real cluster.";

/// Where the producers connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// `bootstrap.servers` as configured, and the setting that gave it.
    Servers(Given),
    /// Nothing configured, in server mode outside production: start the in-process cluster.
    Embedded,
}

/// The bootstrap servers from the first source that has them; the embedded cluster only for a
/// local server run.
pub(super) fn bootstrap(
    vars: &Vars,
    file_bootstrap: Option<String>,
    runtime: RuntimeKind,
    environment: Environment,
) -> Result<Bootstrap, SettingsError> {
    let given = ["KAFKA_BOOTSTRAP_SERVERS", "Kafka__BootstrapServers"]
        .into_iter()
        .find_map(|name| vars.get(name).map(|v| Given::new(v, name)))
        .or_else(|| file_bootstrap.map(|v| Given::new(v, "Kafka:BootstrapServers")));
    match given {
        Some(given) => {
            validate_bootstrap(&given)?;
            Ok(Bootstrap::Servers(given))
        }
        None if runtime == RuntimeKind::Lambda => Err(SettingsError::new(
            "KAFKA_BOOTSTRAP_SERVERS",
            "is required in Lambda (the embedded cluster is for local runs only)",
        )),
        None if environment == Environment::Production => Err(SettingsError::new(
            "KAFKA_BOOTSTRAP_SERVERS",
            "is required when APP_ENV=production (the embedded cluster is for local runs only)",
        )),
        None => Ok(Bootstrap::Embedded),
    }
}

fn validate_bootstrap(given: &Given) -> Result<(), SettingsError> {
    for server in given.value.split(',').map(str::trim) {
        // Accept `host:port` and librdkafka's `proto://host:port`.
        let address = server.rsplit("://").next().unwrap_or(server);
        let valid = match address.rsplit_once(':') {
            Some((host, port)) => !host.is_empty() && port.parse::<u16>().is_ok(),
            None => false,
        };
        if !valid {
            return Err(SettingsError::new(
                &given.origin,
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

/// `KAFKA_<NAME>` for both producers, `KAFKA_PLAIN_<NAME>` and `KAFKA_IDEMPOTENT_<NAME>` for
/// one: `<NAME>` lower-cased with `_` as `.` is the librdkafka property.
pub(super) fn overrides(vars: &Vars) -> Result<Overrides, SettingsError> {
    let mut overrides = Overrides::default();
    for (name, value) in vars.all() {
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
            return Err(SettingsError::new(name, "names no librdkafka property"));
        }
        if property == "BOOTSTRAP_SERVERS" {
            return Err(SettingsError::new(
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
            Given::new(value, name.as_str()),
        );
    }
    Ok(overrides)
}

/// `MSK_IAM=true`: the region of the cluster (`MSK_IAM_REGION`, or `AWS_REGION`, which Lambda
/// sets), given as coming from `MSK_IAM`.
pub(super) fn msk_iam_region(vars: &Vars) -> Result<Option<Given>, SettingsError> {
    if vars.flag("MSK_IAM")? != Some(true) {
        return Ok(None);
    }
    if !cfg!(feature = "msk-iam") {
        return Err(SettingsError::new(
            "MSK_IAM",
            "this build has no `msk-iam` feature (build with the default features)",
        ));
    }
    let region = ["MSK_IAM_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .find_map(|name| vars.get(name))
        .ok_or_else(|| {
            SettingsError::new(
                "MSK_IAM_REGION",
                "MSK_IAM=true needs the cluster's region (MSK_IAM_REGION or AWS_REGION)",
            )
        })?;
    Ok(Some(Given::new(region, "MSK_IAM")))
}

/// `Kafka:BootstrapServers` from the workshop's `appsettings.json`, overridden by
/// `appsettings.<environment>.json` as ASP.NET does.
pub(super) fn appsettings_bootstrap(
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
            .map_err(|e| SettingsError::new(&file, format!("is not valid JSON: {e}")))?;
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
