//! A thin client of a Confluent-compatible Schema Registry's REST API, and its caches.
//!
//! - Schemas by id never change: each is fetched and compiled once for the process's life;
//!   concurrent misses for one id wait for a single fetch (a `OnceCell` per id). Failures are
//!   never cached.
//! - A subject's version is as immutable; its latest is kept `latest_ttl`
//!   (`SCHEMA_REGISTRY_CACHE_TTL_MS`), "no such subject" included.
//! - A schema registered from its text is kept by (subject, format, text).
//! - Several URLs: each call tries them in turn from the last one that answered; a refused
//!   connection, a timeout or a 5xx moves on to the next. None answering is
//!   [`SchemaError::Unavailable`] (503 with `Retry-After` for the records that needed it).
//! - Basic or bearer credentials, a custom CA; credentials never appear in a log or an error.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode, Url};
use serde_json::json;
use tokio::sync::OnceCell;

use self::http::{failure, format_of, host_of, Failure, SchemaBody, VersionBody};
use super::{Compiled, Format, SchemaError};

mod http;

/// A secret setting: shown as `***` by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// How to reach the registry (`SCHEMA_REGISTRY_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryConfig {
    /// One or more base URLs, tried in turn.
    pub urls: Vec<String>,
    /// `user:password` for HTTP basic authentication.
    pub basic_auth: Option<Secret>,
    pub bearer_token: Option<Secret>,
    /// A PEM file of the CA(s) to trust beyond the system's.
    pub ca_file: Option<String>,
    /// Per call and URL.
    pub timeout: Duration,
    /// How long a subject's latest version is trusted.
    pub latest_ttl: Duration,
}

/// Told of every lookup, for the metrics: `lookup` is `id`, `version`, `latest` or `register`.
pub trait RegistryObserver: Send + Sync {
    fn cached(&self, lookup: &'static str, hit: bool);
    /// `outcome`: `ok`, `not_found`, `refused` or `error` (unreachable, 5xx, timeout).
    fn called(&self, lookup: &'static str, outcome: &'static str, elapsed: Duration);
}

/// A schema by id, compiled.
#[derive(Debug)]
pub struct Known {
    pub id: u32,
    pub format: Format,
    pub compiled: Compiled,
}

/// A subject's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub subject: String,
    pub id: u32,
    pub version: i32,
}

/// Schema texts kept with their subject and id, at most (beyond, they are looked up again).
const MAX_REGISTERED: usize = 10_000;

/// How long after no URL answered calls fail at once, instead of each waiting for the timeout.
const DOWN_FOR: Duration = Duration::from_secs(1);

/// Subjects whose latest version is kept at most (beyond, a lookup is not cached).
const MAX_LATEST: usize = 10_000;

const UNKNOWN: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

pub struct Registry {
    /// Built on the first call: a TLS client loads the system's trust store and OpenSSL's code
    /// (~5 MiB of a process that has not used the registry yet).
    http: std::sync::OnceLock<Result<reqwest::Client, String>>,
    timeout: Duration,
    /// The CA file's certificates, read at start (a bad file stops the start).
    certificates: Vec<reqwest::Certificate>,
    urls: Vec<Url>,
    /// The URL that answered last.
    preferred: AtomicUsize,
    authorization: Option<HeaderValue>,
    latest_ttl: Duration,
    ids: Mutex<HashMap<u32, Arc<OnceCell<Arc<Known>>>>>,
    versions: Mutex<HashMap<(String, i32), Version>>,
    latest: Mutex<HashMap<String, (Instant, Option<Version>)>>,
    registered: Mutex<HashMap<(String, Format, String), Version>>,
    observer: Arc<dyn RegistryObserver>,
    /// What the last call found: unknown, up or down.
    state: AtomicU8,
    /// When no URL last answered.
    down_since: Mutex<Option<Instant>>,
}

impl Registry {
    pub fn new(
        config: &RegistryConfig,
        observer: Arc<dyn RegistryObserver>,
    ) -> Result<Self, String> {
        let urls = config
            .urls
            .iter()
            .map(|raw| {
                // The URL is not shown: it may hold credentials.
                let url =
                    Url::parse(raw).map_err(|e| format!("one of the URLs does not parse: {e}"))?;
                if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
                    return Err("one of the URLs is not an http(s) URL".to_owned());
                }
                Ok(url)
            })
            .collect::<Result<Vec<_>, String>>()?;
        if urls.is_empty() {
            return Err("no URL".into());
        }
        let certificates = match &config.ca_file {
            Some(file) => {
                let pem = std::fs::read(file)
                    .map_err(|e| format!("cannot read the CA file {file:?}: {e}"))?;
                reqwest::Certificate::from_pem_bundle(&pem)
                    .map_err(|e| format!("the CA file {file:?} is not PEM: {e}"))?
            }
            None => Vec::new(),
        };
        let authorization = match (&config.bearer_token, &config.basic_auth) {
            (Some(token), _) => Some(format!("Bearer {}", token.0)),
            (None, Some(user_info)) => {
                use base64::Engine;
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(&user_info.0)
                ))
            }
            (None, None) => None,
        }
        .map(|value| {
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| "the registry credentials are not valid header text".to_owned())?;
            value.set_sensitive(true);
            Ok::<_, String>(value)
        })
        .transpose()?;
        Ok(Registry {
            http: std::sync::OnceLock::new(),
            timeout: config.timeout,
            certificates,
            urls,
            preferred: AtomicUsize::new(0),
            authorization,
            latest_ttl: config.latest_ttl,
            ids: Mutex::default(),
            versions: Mutex::default(),
            latest: Mutex::default(),
            registered: Mutex::default(),
            observer,
            state: AtomicU8::new(UNKNOWN),
            down_since: Mutex::new(None),
        })
    }

    /// The registry's addresses, without credentials or paths (for logs).
    pub fn hosts(&self) -> Vec<String> {
        self.urls.iter().map(host_of).collect()
    }

    /// A schema registered from its text before (by this process), if any.
    pub fn registered(&self, subject: &str, format: Format, text: &str) -> Option<Version> {
        let key = (subject.to_owned(), format, text.to_owned());
        let found = self
            .registered
            .lock()
            .expect("registered lock")
            .get(&key)
            .cloned();
        self.observer.cached("register", found.is_some());
        found
    }

    /// What the last call found: `None` before any, then whether the registry answered.
    pub fn reachable(&self) -> Option<bool> {
        match self.state.load(Ordering::Relaxed) {
            UP => Some(true),
            DOWN => Some(false),
            _ => None,
        }
    }

    /// Asks the registry now (for `/health/ready`).
    pub async fn probe(&self) -> bool {
        let answer = self
            .call::<serde_json::Value>("probe", Method::GET, &["subjects"], None)
            .await;
        !matches!(answer, Err(Failure::Unreachable(_)))
    }

    /// The schema with this id, compiled (cached for the process's life).
    pub async fn by_id(&self, id: u32) -> Result<Arc<Known>, SchemaError> {
        let cell = {
            let mut ids = self.ids.lock().expect("ids lock");
            ids.entry(id).or_default().clone()
        };
        if let Some(known) = cell.get() {
            self.observer.cached("id", true);
            return Ok(known.clone());
        }
        self.observer.cached("id", false);
        let found = cell
            .get_or_try_init(|| async {
                let path = ["schemas", "ids", &id.to_string()];
                let body: SchemaBody = self
                    .call("id", Method::GET, &path, None)
                    .await
                    .map_err(|f| failure(f, format!("schema {id} not found")))?;
                if !body.references.is_empty() {
                    return Err(SchemaError::Invalid(format!(
                        "schema {id} has references, which are not supported"
                    )));
                }
                let format = format_of(body.schema_type.as_deref())?;
                let compiled = Compiled::parse(format, &body.schema)?;
                Ok(Arc::new(Known {
                    id,
                    format,
                    compiled,
                }))
            })
            .await
            .cloned();
        if found.is_err() {
            // Nothing is kept for an id that was not found (or not fetched): ids asked for at
            // random must not grow the map.
            let mut ids = self.ids.lock().expect("ids lock");
            if ids
                .get(&id)
                .is_some_and(|c| Arc::ptr_eq(c, &cell) && !c.initialized())
            {
                ids.remove(&id);
            }
        }
        found
    }

    /// Keeps a schema compiled elsewhere (from its text) under its id.
    pub fn known(&self, id: u32, format: Format, compiled: Compiled) -> Arc<Known> {
        let cell = {
            let mut ids = self.ids.lock().expect("ids lock");
            ids.entry(id).or_default().clone()
        };
        let known = Arc::new(Known {
            id,
            format,
            compiled,
        });
        match cell.set(known.clone()) {
            Ok(()) => known,
            Err(_) => cell.get().cloned().unwrap_or(known),
        }
    }

    /// A subject's version, or its latest (`None`).
    pub async fn version(
        &self,
        subject: &str,
        version: Option<i32>,
    ) -> Result<Version, SchemaError> {
        let missing = || match version {
            Some(v) => format!("subject {subject:?} has no version {v}"),
            None => format!("subject {subject:?} not found"),
        };
        match version {
            Some(v) => {
                let key = (subject.to_owned(), v);
                if let Some(found) = self.versions.lock().expect("versions lock").get(&key) {
                    self.observer.cached("version", true);
                    return Ok(found.clone());
                }
                self.observer.cached("version", false);
                let found = self
                    .fetch_version(subject, &v.to_string(), "version")
                    .await?;
                let found = found.ok_or_else(|| SchemaError::NotFound(missing()))?;
                self.versions
                    .lock()
                    .expect("versions lock")
                    .insert(key, found.clone());
                Ok(found)
            }
            None => self
                .latest(subject)
                .await?
                .ok_or_else(|| SchemaError::NotFound(missing())),
        }
    }

    /// The id of the subject's latest schema, `None` if the subject has none.
    pub async fn latest_id(&self, subject: &str) -> Result<Option<u32>, SchemaError> {
        Ok(self.latest(subject).await?.map(|v| v.id))
    }

    async fn latest(&self, subject: &str) -> Result<Option<Version>, SchemaError> {
        if let Some((at, found)) = self.latest.lock().expect("latest lock").get(subject) {
            if at.elapsed() < self.latest_ttl {
                self.observer.cached("latest", true);
                return Ok(found.clone());
            }
        }
        self.observer.cached("latest", false);
        let found = self.fetch_version(subject, "latest", "latest").await?;
        let mut latest = self.latest.lock().expect("latest lock");
        if latest.len() >= MAX_LATEST {
            // Subjects asked for at random must not grow the map: what has expired goes.
            let ttl = self.latest_ttl;
            latest.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        if latest.len() < MAX_LATEST {
            latest.insert(subject.to_owned(), (Instant::now(), found.clone()));
        }
        Ok(found)
    }

    /// `None` when the registry says the subject or version does not exist.
    async fn fetch_version(
        &self,
        subject: &str,
        version: &str,
        lookup: &'static str,
    ) -> Result<Option<Version>, SchemaError> {
        let path = ["subjects", subject, "versions", version];
        match self
            .call::<VersionBody>(lookup, Method::GET, &path, None)
            .await
        {
            Ok(body) => {
                let found = Version {
                    subject: body.subject,
                    id: body.id,
                    version: body.version,
                };
                // The version's schema comes with it: compiled now, it saves a fetch by id.
                if let Some(text) = body.schema {
                    if let Ok(format) = format_of(body.schema_type.as_deref()) {
                        let cached = self
                            .ids
                            .lock()
                            .expect("ids lock")
                            .get(&found.id)
                            .is_some_and(|c| c.initialized());
                        if !cached {
                            if let Ok(compiled) = Compiled::parse(format, &text) {
                                self.known(found.id, format, compiled);
                            }
                        }
                    }
                }
                Ok(Some(found))
            }
            Err(Failure::Answered(StatusCode::NOT_FOUND, _)) => Ok(None),
            Err(f) => Err(failure(f, String::new())),
        }
    }

    /// Registers the schema under the subject (the registry answers the existing id if it has
    /// it already), then reads its version.
    pub async fn register(
        &self,
        subject: &str,
        format: Format,
        text: &str,
        may_register: bool,
    ) -> Result<Version, SchemaError> {
        let key = (subject.to_owned(), format, text.to_owned());
        let mut body = json!({ "schema": text });
        if format != Format::Avro {
            body["schemaType"] = format.registry_name().into();
        }
        if may_register {
            // The answer's id is read from the lookup below, with the version.
            self.call::<serde::de::IgnoredAny>(
                "register",
                Method::POST,
                &["subjects", subject, "versions"],
                Some(&body),
            )
            .await
            .map_err(|f| failure(f, format!("subject {subject:?} not found")))?;
        }
        let found = match self
            .call::<VersionBody>(
                "register",
                Method::POST,
                &["subjects", subject],
                Some(&body),
            )
            .await
        {
            Ok(v) => Version {
                subject: v.subject,
                id: v.id,
                version: v.version,
            },
            Err(f) => {
                return Err(failure(
                    f,
                    format!("the schema is not registered under {subject:?}"),
                ))
            }
        };
        let mut registered = self.registered.lock().expect("registered lock");
        if registered.len() < MAX_REGISTERED {
            registered.insert(key, found.clone());
        }
        drop(registered);
        Ok(found)
    }
}
