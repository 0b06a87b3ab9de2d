//! Sending: one path for one record and for many. Records are queued in input order (so order
//! per partition is kept within each producer), then their delivery reports are awaited under
//! one timer and counted once through the observer. A single record is a batch of one.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::BaseRecord;

use super::delivery::{Delivered, ErrorClass, SendError};
use super::observer::Delivery;
use super::producers::{ModeProducer, Producers};
use super::record::{
    OutgoingRecord, ProducerMode, SendMode, TopicName, Via, HEADER_PRODUCER_MODE, HEADER_SEND_MODE,
    HEADER_TIMESTAMP,
};
use super::report::{failure, Awaited, Report, Unawaited};

/// How a send ended from the caller's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The broker acknowledged the record.
    Acknowledged(Delivered),
    /// The record is queued in the producer; its outcome will be counted and logged.
    Queued,
}

/// What the delivery path needs to count a record once its outcome is known.
struct Sent {
    /// The record's place in its request (and in the request's [`Awaited`]).
    index: usize,
    topic: TopicName,
    bytes: usize,
    mode: ProducerMode,
    send: SendMode,
    /// The longest the producer's report may take (its `message.timeout.ms` and a margin).
    guard: Duration,
}

/// Now, in RFC 3339 (UTC): the value of every record's `timestamp` header.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Producers {
    /// Sends one record: a batch of one.
    pub async fn send(
        &self,
        record: &OutgoingRecord,
        via: Via,
        send: SendMode,
    ) -> Result<Outcome, SendError> {
        let mut results = self.send_batch(&[(record, via)], send).await;
        results.pop().expect("one result per record")
    }

    /// Sends records: all are queued first, in input order, then their outcomes are awaited
    /// together under one timer. Sync: one result per record once all are settled. Async: once
    /// all are queued, `Queued` for each queued record; their outcomes are counted later (in
    /// Lambda, awaited before returning, as nothing may stay queued). A record that cannot be
    /// queued gets its error.
    pub async fn send_batch(
        &self,
        records: &[(&OutgoingRecord, Via)],
        send: SendMode,
    ) -> Vec<Result<Outcome, SendError>> {
        let started = Instant::now();
        if !self.reachable().await {
            return records
                .iter()
                .map(|(record, via)| {
                    Err(self.refused(record, via.mode, send, SendError::unreachable()))
                })
                .collect();
        }
        let mut results = Vec::with_capacity(records.len());
        let timestamp = now_rfc3339();
        if send == SendMode::Async && !self.inner.await_async_delivery {
            // Nobody waits: each report is counted as it comes ([`super::report`]).
            let span = tracing::Span::current();
            for (record, via) in records {
                let counted = Unawaited {
                    topic: record.topic.clone(),
                    bytes: record.size(),
                    mode: via.mode,
                    started,
                    span: span.clone(),
                };
                let queued = self
                    .enqueue(record, *via, send, &timestamp, Report::Counted(counted))
                    .await;
                results.push(match queued {
                    Ok(_) => Ok(Outcome::Queued),
                    Err(error) => Err(self.refused(record, via.mode, send, error)),
                });
            }
            return results;
        }
        let awaited = Awaited::new(records.len());
        let mut pending = Vec::with_capacity(records.len());
        for (index, (record, via)) in records.iter().enumerate() {
            let report = Report::Awaited(awaited.slot(index, via.mode));
            match self.enqueue(record, *via, send, &timestamp, report).await {
                Ok(guard) => {
                    pending.push(Sent {
                        index,
                        topic: record.topic.clone(),
                        bytes: record.size(),
                        mode: via.mode,
                        send,
                        guard,
                    });
                    results.push(Ok(Outcome::Queued));
                }
                Err(error) => results.push(Err(self.refused(record, via.mode, send, error))),
            }
        }
        // Each record's guard runs from when all were queued (a wait for room in a full queue,
        // bounded by the enqueue timeout, does not eat into it); latencies from the start.
        let queued = Instant::now();
        if pending.is_empty() {
            return results;
        }
        let settled = self.settle_all(&awaited, &pending, started, queued).await;
        for (s, result) in pending.iter().zip(settled) {
            results[s.index] = result.map(Outcome::Acknowledged);
        }
        results
    }

    /// Counts a record that never reached the queue, and hands its error back.
    fn refused(
        &self,
        record: &OutgoingRecord,
        mode: ProducerMode,
        send: SendMode,
        error: SendError,
    ) -> SendError {
        self.inner
            .observer
            .failed(mode, send, record.topic.as_str(), error.class);
        error
    }

    /// Puts the record in the producer's queue with the service's headers, waiting up to the
    /// enqueue timeout for room; `timestamp` is the `timestamp` header's value (one for all the
    /// records of a batch); its delivery report goes where `report` says. Hands back how long the
    /// report may take.
    async fn enqueue(
        &self,
        record: &OutgoingRecord,
        via: Via,
        send: SendMode,
        timestamp: &str,
        report: Report,
    ) -> Result<Duration, SendError> {
        // The service's three headers, except those the caller gave (the compatible APIs pass
        // a caller's headers through as given; the service's own API refuses those names).
        let given = |name: &str| record.headers.iter().any(|(n, _)| n == name);
        let mut headers = OwnedHeaders::new_with_capacity(3 + record.headers.len());
        for (name, value) in [
            (HEADER_PRODUCER_MODE, via.mode.as_str()),
            (HEADER_SEND_MODE, send.as_str()),
            (HEADER_TIMESTAMP, timestamp),
        ] {
            if !given(name) {
                headers = headers.insert(Header {
                    key: name,
                    value: Some(value),
                });
            }
        }
        for (name, value) in &record.headers {
            headers = headers.insert(Header {
                key: name.as_str(),
                value: value.as_deref(),
            });
        }
        let counted = matches!(report, Report::Counted(_));
        let mut base_record: BaseRecord<'_, [u8], [u8], Box<Report>> =
            BaseRecord::with_opaque_to(record.topic.as_str(), Box::new(report)).headers(headers);
        if let Some(key) = &record.key {
            base_record = base_record.key(key.as_slice());
        }
        if let Some(value) = &record.value {
            base_record = base_record.payload(value.as_slice());
        }
        if let Some(partition) = record.partition {
            base_record = base_record.partition(partition);
        }
        if let Some(timestamp) = record.timestamp {
            base_record = base_record.timestamp(timestamp);
        }

        let ModeProducer {
            producer,
            delivery_guard,
            ..
        } = self.via(via, send)?;
        // Read the clock only when the queue is full.
        let mut deadline = None;
        loop {
            match producer.send(base_record) {
                Ok(()) => {
                    // Counted once queued, with no await in between (a request dropped while it
                    // waits for room above has counted nothing); its report may come first and
                    // take the count below zero for a moment.
                    if counted {
                        self.inner.unsettled.fetch_add(1, Ordering::SeqCst);
                    }
                    return Ok(*delivery_guard);
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                    if Instant::now()
                        < *deadline
                            .get_or_insert_with(|| Instant::now() + self.inner.enqueue_timeout) =>
                {
                    base_record = back;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((error, _)) => return Err(SendError::from_kafka(&error)),
            }
        }
    }

    /// Waits for the delivery reports of queued records (a request's, which started at
    /// `started` and had queued them all at `queued`), each bounded by its mode's delivery guard
    /// from `queued`, and counts them. The request is woken when a mode's last report is in
    /// ([`Awaited`]), not once per record.
    async fn settle_all(
        &self,
        awaited: &Awaited,
        pending: &[Sent],
        started: Instant,
        queued: Instant,
    ) -> Vec<Result<Delivered, SendError>> {
        let mut deadlines: [Option<Instant>; 2] = [None; 2];
        for s in pending {
            let deadline = &mut deadlines[s.mode as usize];
            *deadline = (*deadline).max(Some(queued + s.guard));
        }
        awaited.wait(deadlines).await;
        let results: Vec<_> = pending
            .iter()
            .map(|s| match awaited.verdict(s.index) {
                Some(Some(Ok(delivered))) => Ok(*delivered),
                Some(Some(Err(error))) => Err(failure(error, &self.inner.health)),
                Some(None) => Err(SendError::new(
                    ErrorClass::Fatal,
                    "the producer was closed before the record was delivered",
                )),
                // Out of time: only a report already there counts.
                None => Err(SendError::no_report(s.guard)),
            })
            .collect();
        self.count(pending, &results, started);
        results
    }

    /// Counts settled records: deliveries by mode and topic (one observer call per group; a
    /// batch's latency runs to its last report), failures one by one, with one warning line for
    /// all of them.
    fn count(&self, sent: &[Sent], results: &[Result<Delivered, SendError>], started: Instant) {
        let observer = &self.inner.observer;
        let latency = started.elapsed();
        // (mode, send, topic, bytes, records): a request has one or two groups.
        let mut groups: Vec<(ProducerMode, SendMode, &TopicName, usize, usize)> = Vec::new();
        let mut failed: Option<(usize, &Sent, &SendError)> = None;
        for (s, result) in sent.iter().zip(results) {
            match result {
                Ok(delivered) => {
                    if sent.len() == 1 {
                        tracing::debug!(
                            mode = s.mode.as_str(),
                            send = s.send.as_str(),
                            partition = delivered.partition,
                            offset = delivered.offset,
                            "record delivered"
                        );
                    }
                    let group = groups
                        .iter_mut()
                        .find(|g| g.0 == s.mode && g.1 == s.send && *g.2 == s.topic);
                    match group {
                        Some(group) => {
                            group.3 += s.bytes;
                            group.4 += 1;
                        }
                        None => groups.push((s.mode, s.send, &s.topic, s.bytes, 1)),
                    }
                }
                Err(error) => {
                    observer.failed(s.mode, s.send, s.topic.as_str(), error.class);
                    let (n, _, _) = failed.get_or_insert((0, s, error));
                    *n += 1;
                }
            }
        }
        if !groups.is_empty() {
            self.inner.health.set(true);
        }
        for (mode, send, topic, bytes, records) in groups {
            let delivery = Delivery {
                records,
                bytes,
                latency,
            };
            observer.delivered(mode, send, topic.as_str(), delivery);
        }
        if let Some((n, s, error)) = failed {
            tracing::warn!(
                records = n,
                mode = s.mode.as_str(),
                send = s.send.as_str(),
                class = error.class.as_str(),
                error = %error.message,
                "record not delivered"
            );
        }
    }
}
