//! # kafka-producer
//!
//! An HTTP service that produces records to Apache Kafka. One binary runs as a plain HTTP server,
//! as an AWS Lambda function and as a Knative/Kubernetes pod; all three serve the same router.
//!
//! ## Layout
//! A request flows one way: HTTP → validated record → producer → delivery → HTTP answer.
//!
//! - [`settings`]: typed settings read once from the environment (and the seed's .NET names).
//! - [`telemetry`]: tracing set-up (human-readable in development, JSON in Lambda and production).
//! - [`access`]: who may send, and where: API keys and topic allow-lists.
//! - [`kafka`]: the two shared producers (plain and idempotent), records, delivery and the
//!   sorting of Kafka errors into classes; the embedded in-process cluster. Knows nothing of HTTP.
//! - [`metrics`]: counters and latency histograms shared by the delivery path and the HTTP API.
//! - [`prometheus`]: the Prometheus exposition (`GET /metrics`) the metrics also feed.
//! - [`http`]: `app(state) -> Router`, the one router for the server, Lambda and the tests; the
//!   handlers and the `application/problem+json` error answer (HTTP statuses are decided there).
//! - [`runtime`]: serves the router as a server or through `lambda_http`; shutdown and flush.

pub mod access;
pub mod http;
pub mod kafka;
pub mod metrics;
pub mod prometheus;
pub mod runtime;
pub mod settings;
pub mod telemetry;
