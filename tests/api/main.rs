//! The API against a real Apache Kafka broker (started by `scripts/test`).
//!
//! One test binary: the shared support (`tests/support`) spawns the real router on a free port
//! and reads records back from the broker with a consumer.

mod batch;
mod browser;
mod campaign;
mod compat_client;
mod compat_v2;
mod compat_v3;
mod dashboard;
mod kafka_security;
mod lab;
mod lambda;
mod lambda_package;
#[cfg(feature = "msk-iam")]
mod msk_iam;
mod openapi;
#[cfg(feature = "otlp")]
mod otlp;
mod process;
mod prometheus;
mod schemas;
mod send;
mod status;
mod trace_context;
mod unknown_topic;
mod unreachable;
