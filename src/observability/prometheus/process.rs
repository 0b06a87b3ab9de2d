//! The process's own figures under the standard names dashboards expect (`process_*`, as the
//! Prometheus client libraries export them), read from `/proc/self` at scrape time (Linux only;
//! a figure that cannot be read is left out).

use procfs::process::{LimitValue, Process};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use super::collector::encode_one;

#[derive(Debug)]
pub(super) struct ProcessCollector;

/// What one scrape reads of the process.
struct Figures {
    cpu_seconds: f64,
    resident_bytes: i64,
    virtual_bytes: i64,
    start_time_seconds: Option<f64>,
    threads: i64,
    open_fds: Option<i64>,
    max_fds: Option<i64>,
}

fn figures() -> Option<Figures> {
    let me = Process::myself().ok()?;
    let stat = me.stat().ok()?;
    let ticks = procfs::ticks_per_second() as f64;
    let max_fds = me
        .limits()
        .ok()
        .and_then(|l| match l.max_open_files.soft_limit {
            LimitValue::Value(n) => i64::try_from(n).ok(),
            LimitValue::Unlimited => None,
        });
    Some(Figures {
        cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
        resident_bytes: i64::try_from(stat.rss * procfs::page_size()).unwrap_or(i64::MAX),
        virtual_bytes: i64::try_from(stat.vsize).unwrap_or(i64::MAX),
        start_time_seconds: procfs::boot_time_secs()
            .ok()
            .map(|boot| boot as f64 + stat.starttime as f64 / ticks),
        threads: stat.num_threads,
        open_fds: me.fd_count().ok().and_then(|n| i64::try_from(n).ok()),
        max_fds,
    })
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(f) = figures() else {
            return Ok(());
        };
        let gauges = [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                Some(f.resident_bytes),
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes",
                Some(f.virtual_bytes),
            ),
            ("process_threads", "Number of OS threads", Some(f.threads)),
            (
                "process_open_fds",
                "Number of open file descriptors",
                f.open_fds,
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors",
                f.max_fds,
            ),
        ];
        encode_one(
            &mut encoder,
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds",
            ConstCounter::new(f.cpu_seconds),
        )?;
        for (name, help, value) in gauges {
            if let Some(value) = value {
                encode_one(&mut encoder, name, help, ConstGauge::new(value))?;
            }
        }
        if let Some(started) = f.start_time_seconds {
            encode_one(
                &mut encoder,
                "process_start_time_seconds",
                "Start time of the process since the Unix epoch in seconds",
                ConstGauge::new(started),
            )?;
        }
        Ok(())
    }
}
