//! What every handler shares: the producers, the metrics, the limits and access rules, and how
//! the service runs. Cloning is cheap (`Arc`s inside).

use std::sync::Arc;
use std::time::Duration;

use super::problem::ApiError;
use crate::access::Access;
use crate::kafka::Producers;
use crate::observability::Metrics;
use crate::settings::{Environment, Limits, RuntimeKind, Settings};

/// How the service runs, shown by `/api/v1/status`.
#[derive(Debug, Clone)]
pub struct ServiceInfo {
    pub runtime: RuntimeKind,
    pub environment: Environment,
    /// The in-process mock cluster is in use: records live in memory only.
    pub embedded: bool,
    pub bootstrap_servers: String,
}

#[derive(Clone)]
pub struct AppState {
    pub producers: Producers,
    /// Written by the producers (outcomes) and by the HTTP layer (requests, refusals); read by
    /// `/api/v1/metrics` and `/metrics`.
    pub metrics: Arc<Metrics>,
    pub info: Arc<ServiceInfo>,
    /// The metadata probe behind `/health/ready` and `/api/v1/status`.
    pub readiness_timeout: Duration,
    pub limits: Limits,
    pub access: Arc<Access>,
    /// Browser origins allowed by CORS; empty, CORS is off.
    pub cors_origins: Arc<[String]>,
    /// The Schema Registry's client and caches, when `SCHEMA_REGISTRY_URL` is set.
    pub schemas: Option<Arc<crate::schema::Schemas>>,
    /// One permit per send being handled: `MAX_CONCURRENT_REQUESTS` of them.
    pub(super) in_flight: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(
        producers: Producers,
        metrics: Arc<Metrics>,
        info: ServiceInfo,
        settings: &Settings,
    ) -> Self {
        AppState {
            producers,
            metrics,
            info: Arc::new(info),
            readiness_timeout: settings.readiness_timeout,
            in_flight: Arc::new(tokio::sync::Semaphore::new(
                settings.limits.max_concurrent_requests,
            )),
            limits: settings.limits,
            access: Arc::new(settings.access.clone()),
            cors_origins: settings.cors_origins.clone().into(),
            schemas: None,
        }
    }

    /// The same state, writing records that name a schema through `schemas`.
    pub fn with_schemas(mut self, schemas: Option<Arc<crate::schema::Schemas>>) -> Self {
        self.schemas = schemas;
        self
    }

    /// Counts a request refused before any producer saw it.
    pub(super) fn count_rejection<T>(&self, result: Result<T, ApiError>) -> Result<T, ApiError> {
        if result.is_err() {
            self.metrics.record_rejected_request();
        }
        result
    }
}
