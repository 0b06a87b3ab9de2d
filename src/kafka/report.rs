//! A record's delivery report, as librdkafka hands it over on the producer's polling thread:
//! into its request's [`Awaited`] (sync sends, and async ones in Lambda), or, for async sends
//! nobody waits for, counted right there, with no task, timer or wake-up per record.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rdkafka::error::KafkaError;
use rdkafka::producer::DeliveryResult;
use rdkafka::Message;
use tokio::sync::Notify;

use super::delivery::{Delivered, ErrorClass, SendError};
use super::health::BrokerHealth;
use super::observer::{Delivery, DeliveryObserver};
use super::record::{ProducerMode, SendMode, TopicName};

/// What librdkafka said of one record.
pub(super) type Verdict = Result<Delivered, KafkaError>;

/// Where a record's report goes: the producers' delivery opaque.
pub enum Report {
    /// Into its request's collection of reports.
    Awaited(Slot),
    /// Counted on arrival: an async record answered 202.
    Counted(Unawaited),
}

/// The reports of one request's records, as they come: one place per record, filled by the
/// producer's polling thread. The request is woken when the last record of a producer mode is
/// settled, not once per record, and nothing is allocated per record but the report's box.
pub(super) struct Awaited {
    /// A record's verdict by its index in the request; `None` inside when the producer let go
    /// of the record without a report (it was closed first).
    verdicts: Box<[OnceLock<Option<Verdict>>]>,
    /// Records queued (or being queued) and not settled yet, by [`ProducerMode`].
    unsettled: [AtomicUsize; 2],
    /// Told when a mode's last record is settled.
    settled: Notify,
}

/// One record's place in its request's [`Awaited`]. A slot dropped unfilled (the producer let
/// go of the record, or it was never queued) settles as "no report".
pub struct Slot {
    awaited: Arc<Awaited>,
    index: usize,
    mode: ProducerMode,
    filled: bool,
}

impl Awaited {
    /// Room for `records` reports.
    pub(super) fn new(records: usize) -> Arc<Self> {
        Arc::new(Awaited {
            verdicts: (0..records).map(|_| OnceLock::new()).collect(),
            unsettled: [AtomicUsize::new(0), AtomicUsize::new(0)],
            settled: Notify::new(),
        })
    }

    /// The slot of the record at `index`, sent through a `mode` producer.
    pub(super) fn slot(self: &Arc<Self>, index: usize, mode: ProducerMode) -> Slot {
        self.unsettled[mode as usize].fetch_add(1, Ordering::AcqRel);
        Slot {
            awaited: Arc::clone(self),
            index,
            mode,
            filled: false,
        }
    }

    /// Waits until every record is settled, or, for the records of each mode, until that
    /// mode's deadline (`deadlines[mode as usize]`, `None` for a mode with no records).
    pub(super) async fn wait(&self, deadlines: [Option<Instant>; 2]) {
        loop {
            let now = Instant::now();
            let next = (0..2)
                .filter(|&mode| self.unsettled[mode].load(Ordering::Acquire) > 0)
                .filter_map(|mode| deadlines[mode].filter(|deadline| *deadline > now))
                .min();
            let Some(next) = next else { return };
            // A mode settled since the check above left a permit: the loop looks again.
            tokio::select! {
                () = self.settled.notified() => {}
                () = tokio::time::sleep_until(next.into()) => {}
            }
        }
    }

    /// The record's report: `None` while it has none, `Some(None)` when the producer let go of
    /// the record without one.
    pub(super) fn verdict(&self, index: usize) -> Option<&Option<Verdict>> {
        self.verdicts[index].get()
    }
}

impl Slot {
    fn fill(&mut self, verdict: Option<Verdict>) {
        self.filled = true;
        // A slot is filled once (a record has one report); a second value could not be.
        let _ = self.awaited.verdicts[self.index].set(verdict);
        if self.awaited.unsettled[self.mode as usize].fetch_sub(1, Ordering::AcqRel) == 1 {
            self.awaited.settled.notify_one();
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if !self.filled {
            self.fill(None);
        }
    }
}

/// What counting an async record needs once its report comes.
pub struct Unawaited {
    pub(super) topic: TopicName,
    pub(super) bytes: usize,
    pub(super) mode: ProducerMode,
    /// When its request started: the delivery latency runs from there.
    pub(super) started: Instant,
    /// Its request's span: the report's log line carries the request's id.
    pub(super) span: tracing::Span,
}

/// What the producers' context needs to count the reports nobody awaits.
#[derive(Clone)]
pub(super) struct Counting {
    pub(super) health: Arc<BrokerHealth>,
    pub(super) observer: Arc<dyn DeliveryObserver>,
    /// Async records answered 202 whose outcome is not counted yet: what the shutdown flush
    /// waits for, and reports as lost if it gives up.
    pub(super) unsettled: Arc<AtomicI64>,
}

impl Counting {
    /// Hands a report to its request, or counts it.
    pub(super) fn deliver(&self, result: &DeliveryResult<'_>, report: Report) {
        let verdict = result
            .as_ref()
            .map(|message| Delivered {
                partition: message.partition(),
                offset: (message.offset() >= 0).then_some(message.offset()),
                timestamp: message.timestamp().to_millis(),
            })
            .map_err(|(error, _)| error.clone());
        match report {
            // The request may have given up (its guard ran out, the client went away): the
            // report then goes unread, as the request counted its record already.
            Report::Awaited(mut slot) => slot.fill(Some(verdict)),
            Report::Counted(record) => self.count(record, verdict),
        }
    }

    fn count(&self, record: Unawaited, verdict: Verdict) {
        let topic = record.topic.as_str();
        match verdict {
            Ok(delivered) => {
                // The request's span is entered only for a line that will be written.
                if tracing::enabled!(tracing::Level::DEBUG) {
                    record.span.in_scope(|| {
                        tracing::debug!(
                            mode = record.mode.as_str(),
                            send = SendMode::Async.as_str(),
                            partition = delivered.partition,
                            offset = delivered.offset,
                            "record delivered"
                        );
                    });
                }
                self.health.set(true);
                let delivery = Delivery {
                    records: 1,
                    bytes: record.bytes,
                    latency: record.started.elapsed(),
                };
                self.observer
                    .delivered(record.mode, SendMode::Async, topic, delivery);
            }
            Err(error) => {
                let error = failure(&error, &self.health);
                self.observer
                    .failed(record.mode, SendMode::Async, topic, error.class);
                let _request = record.span.enter();
                tracing::warn!(
                    records = 1,
                    mode = record.mode.as_str(),
                    send = SendMode::Async.as_str(),
                    topic,
                    class = error.class.as_str(),
                    error = %error.message,
                    "record not delivered"
                );
            }
        }
        self.unsettled.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The caller's view of a failed report: a record that timed out while no broker answered was
/// never reachable, and says so.
pub(super) fn failure(error: &KafkaError, health: &BrokerHealth) -> SendError {
    let mut error = SendError::from_kafka(error);
    if error.class == ErrorClass::Timeout && health.is_down() {
        error.class = ErrorClass::Unavailable;
    }
    error
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn delivered(offset: i64) -> Option<Verdict> {
        Some(Ok(Delivered {
            partition: 0,
            offset: Some(offset),
            timestamp: None,
        }))
    }

    #[tokio::test]
    async fn the_request_wakes_once_every_record_is_settled() {
        let awaited = Awaited::new(3);
        let mut slots: Vec<Slot> = (0..3)
            .map(|i| awaited.slot(i, ProducerMode::Idempotent))
            .collect();
        let filler = std::thread::spawn(move || {
            for (offset, slot) in slots.iter_mut().enumerate().rev() {
                std::thread::sleep(Duration::from_millis(5));
                slot.fill(delivered(offset as i64));
            }
        });
        let far = Instant::now() + Duration::from_secs(30);
        tokio::time::timeout(Duration::from_secs(10), awaited.wait([None, Some(far)]))
            .await
            .expect("woken when the last report came, long before the deadline");
        filler.join().unwrap();
        for index in 0..3 {
            let verdict = awaited.verdict(index).expect("settled").as_ref();
            assert_eq!(
                verdict.unwrap().as_ref().unwrap().offset,
                Some(index as i64)
            );
        }
    }

    #[tokio::test]
    async fn a_mode_out_of_time_stops_waiting_for_its_records_only() {
        let awaited = Awaited::new(2);
        let _late = awaited.slot(0, ProducerMode::Plain);
        let mut other = awaited.slot(1, ProducerMode::Idempotent);
        let now = Instant::now();
        let plain = Some(now + Duration::from_millis(20));
        let idempotent = Some(now + Duration::from_millis(200));
        let filler = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(80));
            other.fill(delivered(7));
        });
        let mut deadlines = [None; 2];
        deadlines[ProducerMode::Plain as usize] = plain;
        deadlines[ProducerMode::Idempotent as usize] = idempotent;
        awaited.wait(deadlines).await;
        let waited = now.elapsed();
        filler.join().unwrap();
        assert!(
            waited >= Duration::from_millis(80),
            "waited for the other mode's report"
        );
        assert!(
            awaited.verdict(0).is_none(),
            "the late record has no report"
        );
        assert!(matches!(awaited.verdict(1), Some(Some(Ok(_)))));
    }

    #[test]
    fn a_slot_let_go_of_without_a_report_settles_as_none() {
        let awaited = Awaited::new(1);
        drop(awaited.slot(0, ProducerMode::Plain));
        assert!(matches!(awaited.verdict(0), Some(None)));
        assert_eq!(
            awaited.unsettled[ProducerMode::Plain as usize].load(Ordering::Acquire),
            0
        );
    }
}
