//! The Schema Registry: `SCHEMA_REGISTRY_URL` and how to reach it.

use super::vars::Vars;
use super::SettingsError;
use crate::schema::{RegistryConfig, Secret};

/// `SCHEMA_REGISTRY_URL` (one URL, or several separated by commas, tried in turn), with
/// `SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO` (`user:password`) or `SCHEMA_REGISTRY_BEARER_TOKEN`,
/// `SCHEMA_REGISTRY_SSL_CA_LOCATION` (a PEM file of CAs to trust), `SCHEMA_REGISTRY_TIMEOUT_MS`
/// (5000, per call and URL) and `SCHEMA_REGISTRY_CACHE_TTL_MS` (30000: how long a subject's
/// latest version is trusted). `None` without a URL: records that name a schema are refused.
pub(super) fn registry(vars: &Vars) -> Result<Option<RegistryConfig>, SettingsError> {
    let urls = vars.list("SCHEMA_REGISTRY_URL");
    if urls.is_empty() {
        return Ok(None);
    }
    for url in &urls {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(SettingsError::new(
                "SCHEMA_REGISTRY_URL",
                // Not the URL itself: it may hold credentials.
                "each URL must start with http:// or https://",
            ));
        }
    }
    let basic_auth = vars.get("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO");
    if basic_auth.as_ref().is_some_and(|v| !v.contains(':')) {
        return Err(SettingsError::new(
            "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO",
            "expected user:password",
        ));
    }
    Ok(Some(RegistryConfig {
        urls,
        basic_auth: basic_auth.map(Secret),
        bearer_token: vars.get("SCHEMA_REGISTRY_BEARER_TOKEN").map(Secret),
        ca_file: vars.get("SCHEMA_REGISTRY_SSL_CA_LOCATION"),
        timeout: vars.millis("SCHEMA_REGISTRY_TIMEOUT_MS", 5_000)?,
        latest_ttl: vars.millis("SCHEMA_REGISTRY_CACHE_TTL_MS", 30_000)?,
    }))
}
