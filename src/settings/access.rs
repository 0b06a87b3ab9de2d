//! Who may send, and where: `API_KEYS`, `API_KEYS_FILE`, `ALLOWED_TOPICS`; and which browser
//! origins may call (`CORS_ALLOWED_ORIGINS`).

use super::vars::Vars;
use super::SettingsError;
use crate::access::{Access, TopicPolicy};

/// `API_KEYS` and the file `API_KEYS_FILE` names (both may be given), and `ALLOWED_TOPICS`.
pub(super) fn access(vars: &Vars) -> Result<Access, SettingsError> {
    let mut entries = vars.get("API_KEYS").unwrap_or_default();
    let mut setting = "API_KEYS";
    if let Some(path) = vars.get("API_KEYS_FILE") {
        let file = std::fs::read_to_string(&path).map_err(|e| {
            SettingsError::new("API_KEYS_FILE", format!("{path:?} cannot be read: {e}"))
        })?;
        entries.push('\n');
        entries.push_str(&file);
        setting = if vars.get("API_KEYS").is_some() {
            "API_KEYS/API_KEYS_FILE"
        } else {
            "API_KEYS_FILE"
        };
    }
    let topics = TopicPolicy::parse(&vars.get("ALLOWED_TOPICS").unwrap_or_default())
        .map_err(|reason| SettingsError::new("ALLOWED_TOPICS", reason))?;
    Access::new(&entries, topics).map_err(|reason| SettingsError::new(setting, reason))
}

/// `CORS_ALLOWED_ORIGINS`: `*`, or origins such as `https://app.example.com`.
pub(super) fn cors_origins(vars: &Vars) -> Result<Vec<String>, SettingsError> {
    let origins = vars.list("CORS_ALLOWED_ORIGINS");
    for origin in origins.iter().filter(|o| *o != "*") {
        let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
            && axum::http::HeaderValue::from_str(origin).is_ok()
            && !origin.ends_with('/');
        if !valid {
            return Err(SettingsError::new(
                "CORS_ALLOWED_ORIGINS",
                format!("{origin:?} is not an origin such as https://app.example.com"),
            ));
        }
    }
    Ok(origins)
}
