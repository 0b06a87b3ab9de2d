//! Fault scenarios on real parts: the test broker behind the real Toxiproxy server, and a
//! 3-node KRaft cluster, all started by `scripts/test`. Slow: a target of its own
//! (`cargo test --test faults -- --test-threads=1`), left out of a plain `cargo test`.
//!
//! The scenarios share one proxy, so they run one at a time.

mod broker_down;
mod cluster;
mod cut_off;
mod duplicates;
mod failover;
mod frozen;
mod lab;
mod quorum_lost;
mod rolling_restart;
mod scenario;
mod schema_registry;
mod shutdown;
mod soak;
mod toxics;
mod v3_stream_cut;
