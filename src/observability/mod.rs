//! What the service tells its operators: logs and spans ([`telemetry`]), the figures of records
//! and requests ([`metrics`], which the producers report to through
//! [`DeliveryObserver`](crate::kafka::DeliveryObserver)), and their Prometheus exposition
//! ([`prometheus`]: the service's own, librdkafka's statistics, the process's `process_*`).

pub mod metrics;
pub mod prometheus;
mod rate;
pub mod telemetry;
pub mod trace_context;

pub use metrics::Metrics;
