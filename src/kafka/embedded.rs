//! The in-process Kafka (librdkafka's mock cluster) for a run with nothing configured.
//!
//! The mock cluster is not `Send`, so it lives on a thread of its own from creation to drop;
//! the rest of the service only sees its bootstrap address. It keeps records in memory: it is
//! for trying the service, never for data that matters.

use std::sync::mpsc;
use std::thread::JoinHandle;

use rdkafka::mocking::MockCluster;

/// A running in-process cluster; dropping it stops the cluster.
pub struct EmbeddedKafka {
    bootstrap_servers: String,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedKafka {
    /// Starts a cluster of `brokers` brokers and waits until it listens.
    pub fn start(brokers: i32) -> Result<Self, String> {
        let (ready_tx, ready_rx) = mpsc::channel::<Result<String, String>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("embedded-kafka".into())
            .spawn(move || match MockCluster::new(brokers) {
                Ok(cluster) => {
                    let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                    // Blocks until the handle is dropped (the sender closes).
                    let _ = stop_rx.recv();
                    drop(cluster);
                }
                Err(error) => {
                    let _ = ready_tx.send(Err(error.to_string()));
                }
            })
            .map_err(|e| format!("could not start the embedded Kafka thread: {e}"))?;
        let bootstrap_servers = ready_rx
            .recv()
            .map_err(|_| "the embedded Kafka thread ended before starting".to_owned())??;
        Ok(EmbeddedKafka {
            bootstrap_servers,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }
}

impl Drop for EmbeddedKafka {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::{
        Acks, ClientStats, Delivery, DeliveryObserver, ErrorClass, Given, Outcome, OutgoingRecord,
        Overrides, ProducerMode, ProducerOptions, Producers, SendMode, TopicName, Via,
    };
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// Counts what the producers report.
    #[derive(Default)]
    struct Tally(AtomicUsize, AtomicUsize);

    impl DeliveryObserver for Tally {
        fn delivered(&self, _: ProducerMode, _: SendMode, _: &str, d: Delivery) {
            self.0.fetch_add(d.records, Ordering::SeqCst);
        }
        fn failed(&self, _: ProducerMode, _: SendMode, _: &str, _: ErrorClass) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
        fn client_stats(&self, _: ProducerMode, _: ClientStats) {}
    }

    /// Fast check of the whole send path on the mock cluster; the real broker tests live in
    /// `tests/api`.
    #[tokio::test]
    async fn both_producers_get_real_offsets_from_the_embedded_cluster() {
        let cluster = EmbeddedKafka::start(1).unwrap();
        assert!(!cluster.bootstrap_servers().is_empty());
        let tally = Arc::new(Tally::default());
        let options = ProducerOptions {
            bootstrap_servers: Given::new(cluster.bootstrap_servers(), "embedded"),
            overrides: Overrides::default(),
            enqueue_timeout: Duration::from_millis(100),
            await_async_delivery: false,
            msk_iam_region: None,
        };
        let producers = Producers::build(&options, tally.clone()).unwrap();
        let record = OutgoingRecord {
            topic: TopicName::parse("embedded-test").unwrap(),
            key: Some(b"k".to_vec()),
            value: Some(b"v".to_vec()),
            headers: vec![],
            partition: Some(0),
            timestamp: None,
        };
        let mut offsets = Vec::new();
        for mode in ProducerMode::ALL {
            for _ in 0..2 {
                offsets.push(sync(&producers, &record, Via::of(mode)).await);
            }
        }
        // A request's own acks: 0 answers without an offset, all with one (a producer each).
        let unacknowledged = Via::new(ProducerMode::Plain, Some(Acks::None)).unwrap();
        offsets.push(sync(&producers, &record, unacknowledged).await);
        let all = Via::new(ProducerMode::Plain, Some(Acks::All)).unwrap();
        offsets.push(sync(&producers, &record, all).await);
        assert_eq!(
            offsets,
            vec![
                (0, Some(0)),
                (0, Some(1)),
                (0, Some(2)),
                (0, Some(3)),
                (0, None),
                (0, Some(5))
            ]
        );
        assert_eq!(producers.extra_acks(), vec![Acks::None, Acks::All]);
        assert_eq!(producers.probe(Duration::from_secs(2)).await.unwrap(), 1);
        assert_eq!(tally.0.load(Ordering::SeqCst), 6);
        assert_eq!(tally.1.load(Ordering::SeqCst), 0);
        assert_eq!(producers.flush(Duration::from_secs(2)).await, 0);
    }

    async fn sync(producers: &Producers, record: &OutgoingRecord, via: Via) -> (i32, Option<i64>) {
        match producers.send(record, via, SendMode::Sync).await.unwrap() {
            Outcome::Acknowledged(d) => (d.partition, d.offset),
            Outcome::Queued => panic!("sync send must be acknowledged"),
        }
    }
}
