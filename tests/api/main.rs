//! The API against a real Apache Kafka broker (started by `scripts/test`).
//!
//! One test binary: helpers spawn the real router on a free port and read records back from
//! the broker with a consumer.

mod bad_input;
mod browser;
mod dashboard;
mod helpers;
mod lab;
mod lambda;
mod lambda_package;
mod openapi;
mod process;
mod prometheus;
mod send;
mod status;
mod trace_context;
mod unreachable;
