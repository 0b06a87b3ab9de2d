//! Which brokers the producers want and cannot reach, read from librdkafka's statistics of
//! every producer (every `statistics.interval.ms`): what `/health/ready` calls `degraded`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// One producer's connection to one broker, as its latest statistics report tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Link {
    /// Connected (librdkafka state `UP`) and something was received on it since the previous
    /// report: an idle connection proves nothing (one to a black-holed broker stays `UP`).
    up: bool,
    /// Not connected although the producer wants it: a connection attempt failed within the
    /// last [`FAILED_REPORTS`] reports, or one has been under way for a second or more.
    failing: bool,
    /// Reports left during which the last failed attempt still counts.
    failed_left: u8,
    /// librdkafka's counters, for the next report: connection attempts (successful or not),
    /// connections lost after they were set up, and bytes received.
    connects: i64,
    disconnects: i64,
    rx: u64,
}

/// librdkafka's broker states of a connection under way (not `TRY_CONNECT`, which is also the
/// wait between attempts, nor `INIT`: no connection wanted, with sparse connections).
const CONNECTING: &[&str] = &[
    "CONNECT",
    "SSL_HANDSHAKE",
    "AUTH_LEGACY",
    "AUTH_HANDSHAKE",
    "AUTH_REQ",
    "APIVERSION_QUERY",
];

/// How long a connection may stay under way before it counts as failing (a healthy broker
/// takes milliseconds).
const STUCK_CONNECTING_US: i64 = 1_000_000;

/// How many reports a failed connection attempt counts for: librdkafka waits up to
/// `reconnect.backoff.max.ms` (10 s) between attempts, two reports at the 5 s interval.
const FAILED_REPORTS: u8 = 3;

/// Each broker of one statistics report (node id, not the bootstrap entries), given what the
/// same producer said before. An attempt failed when the attempts grew by more than the
/// connections lost after being set up: a connection dropped after a request timed out and set
/// up again is not a failure.
fn links(
    statistics: &rdkafka::Statistics,
    before: Option<&BTreeMap<i32, Link>>,
) -> BTreeMap<i32, Link> {
    statistics
        .brokers
        .values()
        .filter(|b| b.nodeid >= 0)
        .map(|b| {
            let connects = b.connects.unwrap_or(0);
            let disconnects = b.disconnects.unwrap_or(0);
            let previous = before.and_then(|links| links.get(&b.nodeid));
            let connected = b.state == "UP";
            let failed =
                previous.is_some_and(|p| connects - p.connects > disconnects - p.disconnects);
            let failed_left = if failed {
                FAILED_REPORTS
            } else {
                previous.map_or(0, |p| p.failed_left.saturating_sub(1))
            };
            let stuck = CONNECTING.contains(&b.state.as_str()) && b.stateage >= STUCK_CONNECTING_US;
            let link = Link {
                up: connected && previous.is_some_and(|p| b.rx > p.rx),
                failing: !connected && (failed_left > 0 || stuck),
                failed_left,
                connects,
                disconnects,
                rx: b.rx,
            };
            (b.nodeid, link)
        })
        .collect()
}

/// What each producer's latest statistics said of each broker, by librdkafka client name.
#[derive(Debug, Default)]
pub(super) struct Links(Mutex<BTreeMap<String, BTreeMap<i32, Link>>>);

impl Links {
    /// Takes in one producer's statistics report.
    pub(super) fn observe(&self, statistics: &rdkafka::Statistics) {
        let mut links = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let now = self::links(statistics, links.get(&statistics.name));
        links.insert(statistics.name.clone(), now);
    }

    /// The brokers some producer fails to reach and none has received from since its previous
    /// report, by node id.
    pub(super) fn unreachable(&self) -> Vec<i32> {
        let links = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let up: BTreeSet<i32> = links
            .values()
            .flat_map(|l| l.iter().filter(|(_, link)| link.up).map(|(id, _)| *id))
            .collect();
        let failing: BTreeSet<i32> = links
            .values()
            .flat_map(|l| l.iter().filter(|(_, link)| link.failing).map(|(id, _)| *id))
            .collect();
        failing.difference(&up).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A broker in one report: node id, state, state age (µs), connection attempts,
    /// connections lost, bytes received.
    type Seen = (i32, &'static str, i64, i64, i64, u64);

    fn report(name: &str, brokers: &[Seen]) -> rdkafka::Statistics {
        let mut statistics = rdkafka::Statistics {
            name: name.into(),
            ..Default::default()
        };
        // The bootstrap entry (node id -1) is never a broker of the cluster.
        for &(nodeid, state, stateage, connects, disconnects, rx) in
            brokers
                .iter()
                .chain(&[(-1, "TRY_CONNECT", 9_000_000, 40, 0, 0)])
        {
            statistics.brokers.insert(
                format!("127.0.0.1:{}/{nodeid}", 9092 + nodeid),
                rdkafka::statistics::Broker {
                    nodeid,
                    state: state.into(),
                    stateage,
                    connects: Some(connects),
                    disconnects: Some(disconnects),
                    rx,
                    ..Default::default()
                },
            );
        }
        statistics
    }

    fn failing(links: &BTreeMap<i32, Link>) -> Vec<i32> {
        links
            .iter()
            .filter(|(_, link)| link.failing)
            .map(|(id, _)| *id)
            .collect()
    }

    #[test]
    fn failed_attempts_and_stuck_connections_count_but_idle_or_reconnected_brokers_do_not() {
        let first = links(
            &report(
                "p",
                &[
                    (1, "UP", 5_000_000, 1, 0, 100),
                    // Sparse connections: a broker the producer needs nothing from.
                    (2, "INIT", 60_000_000, 0, 0, 0),
                    // A connection set up, its first request unanswered for 3 s (black hole).
                    (3, "APIVERSION_QUERY", 3_000_000, 1, 0, 0),
                    // A healthy broker caught in the middle of connecting.
                    (4, "APIVERSION_QUERY", 2_000, 1, 0, 0),
                    // Waiting before another attempt: not enough on its own.
                    (5, "TRY_CONNECT", 3_000_000, 0, 0, 0),
                ],
            ),
            None,
        );
        assert_eq!(failing(&first), [3]);
        // A first report proves no traffic yet.
        assert!(!first[&1].up && !first[&4].up);
        assert!(!first.contains_key(&-1));

        let second = links(
            &report(
                "p",
                &[
                    // Received since: up.
                    (1, "UP", 10_000_000, 1, 0, 250),
                    // Tried and refused (no connection was set up): failing.
                    (2, "INIT", 10_000, 1, 0, 0),
                    (3, "APIVERSION_QUERY", 8_000_000, 1, 0, 0),
                    // Up, but nothing received since the previous report: not proof.
                    (4, "UP", 4_000_000, 1, 0, 0),
                    // A request timed out, the connection was dropped and set up again.
                    (5, "TRY_CONNECT", 50_000, 1, 1, 0),
                ],
            ),
            Some(&first),
        );
        assert_eq!(failing(&second), [2, 3]);
        assert!(second[&1].up && !second[&4].up);

        // No attempt since: broker 2's failure still counts for two more reports, then not.
        let mut links_now = second;
        for expected in [true, true, false] {
            links_now = links(
                &report("p", &[(2, "TRY_CONNECT", 4_000_000, 1, 0, 0)]),
                Some(&links_now),
            );
            assert_eq!(links_now[&2].failing, expected);
        }
        // Connected again: never failing while up.
        let up = links(
            &report("p", &[(2, "UP", 100_000, 9, 0, 10)]),
            Some(&links_now),
        );
        assert!(failing(&up).is_empty());
    }

    #[test]
    fn a_broker_is_unreachable_until_some_producer_receives_from_it() {
        let health = Links::default();
        let seen = |health: &Links, name: &str, brokers: &[Seen]| {
            health.observe(&report(name, brokers));
        };
        seen(
            &health,
            "a",
            &[(1, "UP", 1, 1, 0, 10), (2, "CONNECT", 2_000_000, 3, 0, 0)],
        );
        seen(
            &health,
            "b",
            &[(1, "UP", 1, 1, 0, 10), (3, "CONNECT", 2_000_000, 3, 0, 0)],
        );
        assert_eq!(health.unreachable(), [2, 3]);
        // Producer b is up to 2 but idle (nothing received): 2 stays unreachable.
        seen(
            &health,
            "b",
            &[(2, "UP", 1, 4, 0, 0), (3, "CONNECT", 2_000_000, 5, 0, 0)],
        );
        assert_eq!(health.unreachable(), [2, 3]);
        // Now b receives from 2: reachable, whatever a says.
        seen(
            &health,
            "b",
            &[(2, "UP", 1, 4, 0, 50), (3, "CONNECT", 2_000_000, 6, 0, 0)],
        );
        assert_eq!(health.unreachable(), [3]);
        seen(
            &health,
            "b",
            &[(2, "UP", 1, 4, 0, 90), (3, "UP", 1, 7, 0, 20)],
        );
        seen(
            &health,
            "b",
            &[(2, "UP", 1, 4, 0, 95), (3, "UP", 1, 7, 0, 30)],
        );
        assert!(health.unreachable().is_empty());
    }
}
