//! A v3 produce body read as it arrives: JSON records one after another, sent as soon as they
//! are read (the records of one chunk of the body together, as a batch: one timer and one
//! timestamp for them all), each answered on its own line as soon as it is settled, in order,
//! while later ones may still be arriving (the lines of one chunk's records are written
//! together). At most [`WINDOW`] records (and [`WINDOW_BYTES`] of their text) are in flight and
//! [`ANSWERS_BUFFERED`] pieces of answers wait for the client: a stream of any length flows in
//! bounded memory.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::Response;
use futures_util::future::Either;
use futures_util::stream::{FuturesOrdered, StreamExt};
use tracing::Instrument;

use super::super::split::Splitter;
use super::super::V3_ANSWER_TYPE;
use super::records::{read_admitted, Read, Target, V3Delivery};
use crate::access::Caller;
use crate::http::context::RequestContext;
use crate::http::problem::ApiError;
use crate::http::record::Admission;
use crate::http::schemas::Encoder;
use crate::http::state::AppState;
use crate::kafka::{OutgoingRecord, SendMode, TopicName, Via};

/// Records of one stream sent and not yet answered beyond which no more of the body is read
/// (one chunk's records may go past it). The more records in flight, the more share each of the
/// broker's round trips, and the more memory the stream holds: BENCHMARKS.md (step 20) has one
/// stream's pace and peak memory from 1024 to 16384.
pub const WINDOW: usize = 4096;
/// The same bound on the records' text (their JSON as read), for streams of large records.
pub const WINDOW_BYTES: usize = 16 << 20;
/// Pieces of answers (each the lines of one chunk's records) waiting for the client to read
/// them, at most: a client that stops reading holds the stream after a few chunks' worth.
pub const ANSWERS_BUFFERED: usize = 4;

/// Records as they arrive, those of each chunk sent together as soon as it is read, answered in
/// order as they settle.
pub(super) fn stream(
    state: AppState,
    context: RequestContext,
    caller: Caller,
    target: Target,
    body: Body,
) -> Response {
    let (answers, lines) = tokio::sync::mpsc::channel::<Bytes>(ANSWERS_BUFFERED);
    let work = async move {
        let admission = Admission::new(&state, &caller, &context);
        // Records with a schema are written here, in order, before they are sent: each schema
        // is resolved once for the stream.
        let mut encoder = Encoder::new(&state);
        let mut splitter = Splitter::new(state.limits.max_body_bytes);
        let mut data = body.into_data_stream();
        let mut in_flight = FuturesOrdered::new();
        // Records sent and not answered yet (each of `in_flight` answers one or more), and the
        // bytes of their text.
        let (mut pending, mut pending_bytes) = (0usize, 0usize);
        let mut reading = true;
        // Once the client has gone: the answers it will never read, and how many of them said
        // "written" (a record on the topic that the client cannot know of).
        let mut unread = Unread::default();
        loop {
            tokio::select! {
                biased;
                Some(settled) = in_flight.next(), if !in_flight.is_empty() => {
                    let settled: Answers = settled;
                    pending -= settled.lines;
                    pending_bytes -= settled.read_bytes;
                    if unread.lines > 0 || answers.send(settled.text.clone()).await.is_err() {
                        // The client went away: what is in flight still settles, and is
                        // counted here and in the metrics.
                        reading = false;
                        unread.count(&settled);
                    }
                }
                chunk = data.next(), if reading && pending < WINDOW && pending_bytes < WINDOW_BYTES => {
                    let mut failed = None;
                    match chunk {
                        Some(Ok(bytes)) => {
                            splitter.push(bytes);
                            let mut reads = Vec::new();
                            let mut read_bytes = 0;
                            loop {
                                match splitter.next_object() {
                                    Ok(Some(object)) => {
                                        read_bytes += object.len();
                                        reads.push(read_admitted(&state, &admission, &mut encoder, &object, &target.topic).await);
                                    }
                                    Ok(None) => break,
                                    Err(error) => {
                                        failed = Some(error.to_string());
                                        break;
                                    }
                                }
                            }
                            if !reads.is_empty() {
                                pending += reads.len();
                                pending_bytes += read_bytes;
                                in_flight.push_back(Either::Right(send_all(&state, &target, reads, read_bytes)));
                            }
                        }
                        Some(Err(error)) => failed = Some(format!("the body could not be read: {error}")),
                        None => {
                            reading = false;
                            failed = splitter.finish().err().map(|e| e.to_string());
                        }
                    }
                    if let Some(error) = failed {
                        // What cannot be cut into records ends the stream, with its own line.
                        reading = false;
                        let error = ApiError::unprocessable("invalid-payload", None, error);
                        pending += 1;
                        in_flight.push_back(Either::Left(std::future::ready(Answers::one(&target, Err(error)))));
                    }
                }
                else => break,
            }
        }
        unread.report(&target.topic);
    };
    tokio::spawn(work.in_current_span());
    let body = futures_util::stream::unfold(lines, |mut lines| async move {
        lines
            .recv()
            .await
            .map(|line| (Ok::<_, Infallible>(line), lines))
    });
    let mut response = Response::new(Body::from_stream(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(V3_ANSWER_TYPE),
    );
    response
}

/// The answers to some records of a stream: their lines one after another, written to the client
/// as one piece.
struct Answers {
    lines: usize,
    /// The bytes of the records' text these lines answer.
    read_bytes: usize,
    text: Bytes,
}

impl Answers {
    fn one(target: &Target, answer: Result<V3Delivery, ApiError>) -> Self {
        let mut text = Vec::new();
        target.write_line(&mut text, answer);
        Answers {
            lines: 1,
            read_bytes: 0,
            text: text.into(),
        }
    }
}

/// Sends the records read from one chunk together (or answers why one was not read): their
/// answer lines, in order.
async fn send_all(
    state: &AppState,
    target: &Target,
    reads: Vec<Result<Read, ApiError>>,
    read_bytes: usize,
) -> Answers {
    let outcomes = {
        let to_send: Vec<(&OutgoingRecord, Via)> = reads
            .iter()
            .filter_map(|read| read.as_ref().ok())
            .map(|read| (&read.record, target.via))
            .collect();
        state.producers.send_batch(&to_send, SendMode::Sync).await
    };
    let mut outcomes = outcomes.into_iter();
    let lines = reads.len();
    // A delivery's line is ~150 bytes.
    let mut text = Vec::with_capacity(lines * 160);
    for read in reads {
        let answer = match read {
            Ok(read) => {
                let outcome = outcomes.next().expect("one outcome per record sent");
                target.delivery(&read, outcome.map_err(ApiError::Send))
            }
            Err(error) => {
                state.metrics.record_rejected_request();
                Err(error)
            }
        };
        target.write_line(&mut text, answer);
    }
    Answers {
        lines,
        read_bytes,
        text: text.into(),
    }
}

/// The answers of a stream whose client went away before reading them.
#[derive(Default)]
struct Unread {
    lines: usize,
    written: usize,
}

impl Unread {
    fn count(&mut self, answers: &Answers) {
        self.lines += answers.lines;
        // Each line ends with CRLF; a JSON line holds none of its own.
        self.written += answers
            .text
            .split(|b| *b == b'\n')
            .filter(|line| line.starts_with(br#"{"error_code":200,"#))
            .count();
    }

    /// One line for the operator: records the client may resend, not knowing they were written.
    fn report(&self, topic: &TopicName) {
        if self.lines > 0 {
            tracing::warn!(
                topic = %topic,
                unread = self.lines,
                written = self.written,
                "v3 stream: the client went away before reading every answer; the records answered 'written' are on the topic"
            );
        }
    }
}
