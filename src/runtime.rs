//! Serving the router, as a plain server or through `lambda_http`, and shutting down without
//! losing what was accepted.
//!
//! Knows the router and the producers' flush; nothing inside either.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use tokio::net::TcpListener;

use crate::http::{app, AppState, ServiceInfo};
use crate::kafka::embedded::EmbeddedKafka;
use crate::kafka::{Given, ProducerMode, ProducerOptions, Producers, SendMode};
use crate::observability::Metrics;
use crate::schema::Schemas;
use crate::settings::{Bootstrap, RuntimeKind, Settings};

/// Brokers in the embedded cluster: enough for a realistic metadata answer and partitioning.
const EMBEDDED_BROKERS: i32 = 3;
/// The longest start-up waits for the cluster before the port opens anyway.
const WARM_UP_TIMEOUT: Duration = Duration::from_secs(1);

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The producers, their metrics and the router built from the settings; what every runtime
/// serves. Cloning is cheap (`Arc`s inside).
#[derive(Clone)]
pub struct Service {
    pub producers: Producers,
    pub metrics: Arc<Metrics>,
    pub router: Router,
}

/// Builds the producers (once) and the router around them.
pub fn build(
    settings: &Settings,
    bootstrap_servers: &str,
    embedded: bool,
) -> Result<Service, Error> {
    let bootstrap_servers = match (&settings.bootstrap, embedded) {
        (_, true) => Given::new(bootstrap_servers, "the embedded cluster"),
        (Bootstrap::Servers(given), false) => Given::new(bootstrap_servers, given.origin.clone()),
        (Bootstrap::Embedded, false) => Given::new(bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS"),
    };
    let options = ProducerOptions {
        bootstrap_servers,
        overrides: settings.kafka.clone(),
        enqueue_timeout: settings.enqueue_timeout,
        await_async_delivery: settings.runtime == RuntimeKind::Lambda,
        msk_iam_region: settings.msk_iam_region.clone(),
    };
    let metrics = Arc::new(Metrics::with_topics(settings.metrics_topics.clone()));
    let producers = Producers::build(&options, metrics.clone())?;
    let schemas = match &settings.schema_registry {
        None => None,
        Some(config) => {
            let schemas = Schemas::new(config, metrics.clone())
                .map_err(|e| format!("SCHEMA_REGISTRY_URL: {e}"))?;
            tracing::info!(
                urls = ?schemas.registry().hosts(),
                auth = if config.bearer_token.is_some() { "bearer" } else if config.basic_auth.is_some() { "basic" } else { "none" },
                "Schema Registry configured"
            );
            Some(Arc::new(schemas))
        }
    };
    let state = AppState::new(
        producers.clone(),
        metrics.clone(),
        ServiceInfo {
            runtime: settings.runtime,
            environment: settings.environment,
            embedded,
            bootstrap_servers: options.bootstrap_servers.value,
        },
        settings,
    )
    .with_schemas(schemas);
    Ok(Service {
        producers,
        metrics,
        router: app(state),
    })
}

/// Says at start-up who may send and where, naming keys, never showing them.
fn log_access(settings: &Settings) {
    let access = &settings.access;
    let topics = if access.topics().is_open() {
        "any topic but internal ones (__*)".to_owned()
    } else {
        format!("{:?}, never internal ones (__*)", access.topics())
    };
    if access.keys_required() {
        tracing::info!(keys = ?access.key_names(), %topics, "API keys on");
    } else if settings.runtime == RuntimeKind::Lambda {
        tracing::warn!(
            %topics,
            "API keys off: the function URL's AWS_IAM auth or an API Gateway authorizer must be the gate"
        );
    } else {
        tracing::warn!(
            %topics,
            "API keys off: anyone who reaches the port may send (set API_KEYS or API_KEYS_FILE)"
        );
    }
    if !settings.cors_origins.is_empty() {
        tracing::info!(origins = ?settings.cors_origins, "CORS on");
    }
}

/// Runs the service until it is told to stop.
pub async fn run(settings: Settings) -> Result<(), Error> {
    let embedded = match &settings.bootstrap {
        Bootstrap::Servers(_) => None,
        Bootstrap::Embedded => Some(EmbeddedKafka::start(EMBEDDED_BROKERS)?),
    };
    let bootstrap_servers = match (&settings.bootstrap, &embedded) {
        (Bootstrap::Servers(servers), _) => servers.value.clone(),
        (_, Some(cluster)) => cluster.bootstrap_servers().to_owned(),
        (Bootstrap::Embedded, None) => unreachable!("the embedded cluster was started above"),
    };
    if embedded.is_some() {
        let line = "!".repeat(100);
        tracing::warn!("{line}");
        tracing::warn!("{}", crate::settings::EMBEDDED_WARNING);
        tracing::warn!("{line}");
    }

    let service = build(&settings, &bootstrap_servers, embedded.is_some())?;
    // Before the port opens (in Lambda: in the init phase, before the first invocation):
    // the first request then finds its broker connected.
    let warming = Instant::now();
    if service.producers.warm_up(WARM_UP_TIMEOUT).await {
        tracing::info!(
            took_ms = warming.elapsed().as_millis() as u64,
            "connected to the cluster"
        );
    } else {
        tracing::warn!(
            timeout_ms = WARM_UP_TIMEOUT.as_millis() as u64,
            "the cluster did not answer at start-up: requests will connect"
        );
    }
    for mode in ProducerMode::ALL {
        tracing::info!(
            producer = mode.as_str(),
            settings = ?service.producers.summary(mode),
            "producer ready"
        );
    }
    log_access(&settings);

    match settings.runtime {
        RuntimeKind::Server => {
            let listener = TcpListener::bind(("0.0.0.0", settings.port)).await?;
            tracing::info!(
                address = %listener.local_addr()?,
                runtime = "server",
                "listening"
            );
            serve(
                listener,
                service,
                shutdown_signal(),
                settings.shutdown_timeout,
            )
            .await?;
        }
        RuntimeKind::Lambda => {
            // Every async send already waits for its delivery report in Lambda; this flush is
            // for anything still queued when the environment is shut down.
            let flushed = service.clone();
            let timeout = settings.shutdown_timeout;
            lambda_runtime::spawn_graceful_shutdown_handler(move || async move {
                let remaining = flushed.producers.flush(timeout).await;
                report_flush(&flushed.metrics, remaining);
            })
            .await;
            tracing::info!(runtime = "lambda", "serving Lambda invocations");
            lambda_http::run_concurrent(lambda_handler(service.router)).await?;
        }
    }
    drop(embedded);
    Ok(())
}

/// The router as a Lambda handler: `lambda_http` needs a response body it can share between
/// threads, so each answer is collected first (they are small JSON documents).
fn lambda_handler(
    router: Router,
) -> impl tower::Service<
    lambda_http::Request,
    Response = lambda_http::Response<lambda_http::Body>,
    Error = Error,
    Future = impl Future<Output = Result<lambda_http::Response<lambda_http::Body>, Error>> + Send,
> + Clone
       + Send
       + 'static {
    tower::service_fn(move |request: lambda_http::Request| {
        let router = router.clone();
        async move {
            let response = tower::ServiceExt::oneshot(router, request).await?;
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await?;
            let body = if bytes.is_empty() {
                lambda_http::Body::Empty
            } else {
                match String::from_utf8(bytes.to_vec()) {
                    Ok(text) => lambda_http::Body::Text(text),
                    Err(binary) => lambda_http::Body::Binary(binary.into_bytes()),
                }
            };
            Ok(lambda_http::Response::from_parts(parts, body))
        }
    })
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets the
/// requests in progress finish and flushes every queued record, all within `shutdown_timeout`.
/// Returns how many records were still queued at the end (0 when nothing was lost).
pub async fn serve(
    listener: TcpListener,
    service: Service,
    shutdown: impl Future<Output = ()> + Send + 'static,
    shutdown_timeout: Duration,
) -> std::io::Result<i64> {
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<Instant>();
    let Service {
        producers,
        metrics,
        router,
    } = service;
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections; finishing requests in progress");
        let _ = stopping_tx.send(Instant::now());
    });
    let server = std::future::IntoFuture::into_future(server);
    tokio::pin!(server);
    let stopping_rx = async move {
        // If the server ends on its own (an I/O error), never resolve.
        match stopping_rx.await {
            Ok(at) => at,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::pin!(stopping_rx);

    let stopped_at = tokio::select! {
        result = &mut server => {
            result?;
            Instant::now()
        }
        at = &mut stopping_rx => {
            let deadline = at + shutdown_timeout.saturating_sub(teardown_reserve(shutdown_timeout));
            match tokio::time::timeout_at(deadline.into(), &mut server).await {
                Ok(result) => result?,
                Err(_) => tracing::warn!("requests still in progress at the shutdown deadline were cut"),
            }
            at
        }
    };
    let left = shutdown_timeout
        .saturating_sub(teardown_reserve(shutdown_timeout))
        .saturating_sub(stopped_at.elapsed());
    let remaining = producers.flush(left).await;
    report_flush(&metrics, remaining);
    Ok(remaining)
}

/// The part of `SHUTDOWN_TIMEOUT_MS` kept for closing the producers after the flush
/// (librdkafka purges what is left and stops its threads): a quarter, at most 500 ms.
fn teardown_reserve(shutdown_timeout: Duration) -> Duration {
    (shutdown_timeout / 4).min(Duration::from_millis(500))
}

/// The last word on the records accepted with 202: how many were delivered, how many were
/// reported failed (each also logged when it failed), and how many were still queued at the
/// deadline and are lost with the process.
fn report_flush(metrics: &Metrics, remaining: i64) {
    let (delivered, failed) = metrics
        .snapshot()
        .per_mode
        .iter()
        .filter(|f| f.send_type == SendMode::Async.as_str())
        .fold((0, 0), |(d, f), m| (d + m.delivered, f + m.failed));
    if remaining == 0 {
        tracing::info!(
            async_delivered = delivered,
            async_failed = failed,
            unflushed = 0,
            "every queued record was delivered or reported before exit"
        );
    } else {
        tracing::error!(
            async_delivered = delivered,
            async_failed = failed,
            unflushed = remaining,
            "records still queued at the shutdown deadline are lost (raise SHUTDOWN_TIMEOUT_MS)"
        );
    }
}

/// Resolves on SIGTERM (Kubernetes, Knative) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = terminate => tracing::info!("SIGTERM received"),
    }
}
