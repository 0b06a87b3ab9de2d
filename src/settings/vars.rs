//! The one reader of configuration variables: trimmed values (an empty one counts as unset),
//! and typed reads whose errors name the variable.

use std::collections::BTreeMap;
use std::time::Duration;

use super::SettingsError;

/// The variables settings are read from: the process environment, or a map in tests.
pub(super) struct Vars<'a>(pub &'a BTreeMap<String, String>);

impl Vars<'_> {
    /// The variable's value, trimmed; `None` when unset or blank.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// Every variable, by name (for the `KAFKA_*` pass-through).
    pub fn all(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    /// A duration in milliseconds.
    pub fn millis(&self, name: &str, default: u64) -> Result<Duration, SettingsError> {
        match self.get(name) {
            None => Ok(Duration::from_millis(default)),
            Some(raw) => raw.parse::<u64>().map(Duration::from_millis).map_err(|_| {
                SettingsError::new(name, format!("{raw:?} is not a number of milliseconds"))
            }),
        }
    }

    /// A count above zero; `what` says what was expected ("a positive number of bytes").
    pub fn positive(&self, name: &str, default: usize, what: &str) -> Result<usize, SettingsError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(SettingsError::new(name, format!("{raw:?} is not {what}"))),
            },
        }
    }

    /// `true`/`1` or `false`/`0`, any case; `None` when unset.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, SettingsError> {
        match self.get(name).map(|v| v.to_ascii_lowercase()) {
            None => Ok(None),
            Some(v) if v == "true" || v == "1" => Ok(Some(true)),
            Some(v) if v == "false" || v == "0" => Ok(Some(false)),
            Some(v) => Err(SettingsError::new(
                name,
                format!("{v:?} is neither true nor false"),
            )),
        }
    }

    /// A comma-separated list, items trimmed, empty ones dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    }
}
