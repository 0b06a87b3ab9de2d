//! A record's delivery report, as librdkafka hands it over on the producer's polling thread:
//! to the request that waits for it (sync sends, and async ones in Lambda), or, for async sends
//! nobody waits for, counted right there, with no task, timer or wake-up per record.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rdkafka::error::KafkaError;
use rdkafka::producer::DeliveryResult;
use rdkafka::Message;
use tokio::sync::oneshot;

use super::delivery::{Delivered, ErrorClass, SendError};
use super::health::BrokerHealth;
use super::observer::{Delivery, DeliveryObserver};
use super::record::{ProducerMode, SendMode, TopicName};

/// What librdkafka said of one record.
pub(super) type Verdict = Result<Delivered, KafkaError>;

/// Where a record's report goes: the producers' delivery opaque.
pub enum Report {
    /// To the request awaiting it.
    Awaited(oneshot::Sender<Verdict>),
    /// Counted on arrival: an async record answered 202.
    Counted(Unawaited),
}

/// The report a request awaits; an error when the producer was closed first.
pub(super) type ReportFuture = oneshot::Receiver<Verdict>;

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
            // report is then dropped, as the request counted its record already.
            Report::Awaited(request) => drop(request.send(verdict)),
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
