//! A rate over the last minute, cheap enough for the delivery path: atomics only.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counts per second over the last minute: 60 buckets, each tagged with the second it counts,
/// reused when that second has passed. Approximate under races (a count may land in a bucket
/// being reset), which is fine for a rate on a status page.
pub(super) struct LastMinute {
    buckets: [(AtomicU64, AtomicU64); 60],
}

impl LastMinute {
    pub(super) fn new() -> Self {
        LastMinute {
            buckets: std::array::from_fn(|_| (AtomicU64::new(u64::MAX), AtomicU64::new(0))),
        }
    }

    pub(super) fn add(&self, second: u64) {
        self.add_n(second, 1);
    }

    pub(super) fn add_n(&self, second: u64, n: u64) {
        let (tag, count) = &self.buckets[(second % 60) as usize];
        let seen = tag.load(Ordering::Relaxed);
        if seen != second
            && tag
                .compare_exchange(seen, second, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            count.store(0, Ordering::Relaxed);
        }
        count.fetch_add(n, Ordering::Relaxed);
    }

    /// Events per second over the 60 seconds up to `now` (the current second included).
    pub(super) fn per_second(&self, now: u64) -> f64 {
        let total: u64 = self
            .buckets
            .iter()
            .filter(|(tag, _)| {
                let t = tag.load(Ordering::Relaxed);
                t != u64::MAX && t <= now && now - t < 60
            })
            .map(|(_, count)| count.load(Ordering::Relaxed))
            .sum();
        total as f64 / 60.0
    }
}
