//! # kafka-producer
//!
//! An HTTP service that produces records to Apache Kafka. One binary runs as a plain HTTP server,
//! as an AWS Lambda function and as a Knative/Kubernetes pod; all three serve the same router.
//!
//! ## Layout
//! A request flows one way: HTTP → the one record builder → producer → delivery → HTTP answer,
//! whichever endpoint it came in by.
//!
//! - [`settings`]: typed settings read once (a file per area, one small variable reader; the
//!   workshop's .NET configuration keys too). Nothing else reads the environment.
//! - [`access`]: who may send, and where: API keys and topic allow-lists.
//! - [`kafka`]: the shared producers, the send pipeline (one record or many), broker health,
//!   Kafka errors sorted into classes, the embedded cluster. Knows nothing of HTTP, metrics or
//!   settings: it defines the options it is built from and the observer it reports to.
//! - [`observability`]: logs and spans, trace context, the metrics the producers report to, and
//!   the Prometheus exposition.
//! - [`http`]: `app(state) -> Router`, the one router for the server, Lambda and the tests; the
//!   record builder, the JSON reader, problem answers (statuses are decided there), the OpenAPI
//!   document, the service's own API in `http::native`, and the REST proxies' APIs (Confluent
//!   REST Proxy v2/v3, Strimzi Kafka Bridge) in `http::compat`.
//! - [`schema`]: records in Avro, JSON Schema and Protobuf, in Confluent's wire format, and the
//!   Schema Registry client with its caches. Knows nothing of HTTP either.
//! - [`runtime`]: builds the service and serves it as a server or through `lambda_http`;
//!   shutdown and flush.

pub mod access;
pub mod http;
pub mod kafka;
pub mod observability;
pub mod runtime;
pub mod schema;
pub mod settings;
