//! The Schema Registry's figures: cache hits and misses, calls by outcome, and their latency.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::latency_histogram;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    lookup: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    lookup: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LookupLabels {
    lookup: &'static str,
}

/// Labels are fixed sets: lookups `id`, `version`, `latest`, `register`, `probe`; results
/// `hit`, `miss`; outcomes `ok`, `not_found`, `refused`, `error`.
pub(super) struct RegistryFigures {
    cache: Family<CacheLabels, Counter>,
    calls: Family<CallLabels, Counter>,
    duration: Family<LookupLabels, Histogram>,
}

impl RegistryFigures {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let cache = Family::<CacheLabels, Counter>::default();
        registry.register(
            "schema_registry_cache_lookups",
            "Schema lookups answered from the cache (hit) or sent to the Schema Registry (miss)",
            cache.clone(),
        );
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "schema_registry_calls",
            "Calls to the Schema Registry, by lookup and outcome (error: unreachable, 5xx, timeout)",
            calls.clone(),
        );
        let duration =
            Family::<LookupLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        registry.register(
            "schema_registry_call_duration_seconds",
            "Time of a call to the Schema Registry, by lookup",
            duration.clone(),
        );
        RegistryFigures {
            cache,
            calls,
            duration,
        }
    }

    pub(super) fn cached(&self, lookup: &'static str, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.cache
            .get_or_create(&CacheLabels { lookup, result })
            .inc();
    }

    pub(super) fn called(&self, lookup: &'static str, outcome: &'static str, elapsed: Duration) {
        self.calls
            .get_or_create(&CallLabels { lookup, outcome })
            .inc();
        self.duration
            .get_or_create(&LookupLabels { lookup })
            .observe(elapsed.as_secs_f64());
    }
}
