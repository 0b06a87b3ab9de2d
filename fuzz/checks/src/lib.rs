//! What each fuzz target checks, as plain functions: the libFuzzer targets (`fuzz/fuzz_targets`)
//! call them with generated inputs, and the service's test suite replays `fuzz/seeds` through
//! them on stable (`tests/fuzz_seeds.rs`). Each panics on a broken invariant: an accepted record
//! that Kafka or the service would refuse, a refusal that is not a client fault with a problem
//! answer, a configured key quoted in a message.

use axum::body::Bytes;
use axum::response::IntoResponse;
use kafka_producer::access::{Access, Denied, TopicPolicy};
use kafka_producer::http::context::TraceParent;
use kafka_producer::http::problem::ApiError;
use kafka_producer::http::Limits;
use kafka_producer::kafka::{OutgoingRecord, TopicName, RESERVED_HEADERS};

/// The targets, by name (the folders of `fuzz/seeds`).
pub const TARGETS: [(&str, fn(&[u8])); 7] = [
    ("api_keys", api_keys),
    ("send_batch", send_batch),
    ("send_body", send_body),
    ("shortcut", shortcut),
    ("traceparent", traceparent),
    ("v2_body", v2_body),
    ("v3_stream", v3_stream),
];

pub const LIMITS: Limits = Limits {
    max_body_bytes: 1024 * 1024,
    max_record_headers: 8,
    max_header_bytes: 256,
    request_timeout: std::time::Duration::from_secs(30),
    max_concurrent_requests: 1,
    max_batch_records: 64,
    max_batch_body_bytes: 1024 * 1024,
};

/// What every accepted record keeps to: a topic Kafka takes, headers within the limits, no
/// negative partition.
pub fn check_limits(record: &OutgoingRecord) {
    let topic = record.topic.as_str();
    assert!((1..=249).contains(&topic.len()), "{topic:?}");
    assert!(record.headers.len() <= LIMITS.max_record_headers);
    let bytes: usize = record
        .headers
        .iter()
        .map(|(n, v)| n.len() + v.as_ref().map_or(0, Vec::len))
        .sum();
    assert!(bytes <= LIMITS.max_header_bytes);
    assert!(record.headers.iter().all(|(name, _)| !name.is_empty()));
    assert!(record.partition.is_none_or(|p| p >= 0));
}

/// The service's own API: also a topic name Kafka takes, and none of the service's header
/// names.
pub fn check_record(record: &OutgoingRecord) {
    check_limits(record);
    let topic = record.topic.as_str();
    assert!(topic != "." && topic != "..");
    assert!(topic
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
    for (name, _) in &record.headers {
        assert!(!RESERVED_HEADERS
            .iter()
            .any(|r| r.eq_ignore_ascii_case(name)));
    }
}

pub fn check_refusal(error: ApiError) {
    assert!(error.is_client_fault(), "{error:?}");
    let response = error.into_response();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

/// `POST /api/v1/send` bodies: any bytes.
pub fn send_body(data: &[u8]) {
    let body = Ok(Bytes::copy_from_slice(data));
    match kafka_producer::http::parse_send(body, &LIMITS) {
        Ok((draft, _, _)) => check_draft(&draft),
        Err(error) => check_refusal(error),
    }
}

/// A record of the service's own API, whose key or value may still be written with a schema:
/// such a key has no text of its own yet (no UUID made up for it).
pub fn check_draft(draft: &kafka_producer::http::schemas::Draft) {
    check_record(&draft.record);
    if draft.key.is_some() {
        assert_eq!(draft.record.key.as_deref(), Some(&b""[..]));
    }
}

/// `POST /api/v1/send/batch` bodies: any bytes.
pub fn send_batch(data: &[u8]) {
    let body = Ok(Bytes::copy_from_slice(data));
    match kafka_producer::http::parse_batch(body, &LIMITS) {
        Ok((records, _)) => {
            assert!(!records.is_empty() && records.len() <= LIMITS.max_batch_records);
            for record in records {
                match record {
                    Ok((draft, _)) => check_draft(&draft),
                    Err(error) => check_refusal(error),
                }
            }
        }
        Err(error) => check_refusal(error),
    }
}

/// The shortcuts: a query string and a body, split at the first 0xff byte.
pub fn shortcut(data: &[u8]) {
    let (query, body) = match data.iter().position(|b| *b == 0xff) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&data[..0], data),
    };
    let query = String::from_utf8_lossy(query);
    let body = Ok(Bytes::copy_from_slice(body));
    match kafka_producer::http::parse_shortcut(body, Some(&query), &LIMITS) {
        Ok(record) => check_record(&record),
        Err(error) => check_refusal(error),
    }
}

/// `API_KEYS` entries and `ALLOWED_TOPICS`, then a presented key and a topic: never a panic,
/// internal topics always refused, and no refusal message quotes a configured key.
pub fn api_keys(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\u{1}');
    let (entries, allowed, key, topic) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let Ok(topics) = TopicPolicy::parse(allowed) else {
        return;
    };
    let access = match Access::new(entries, topics) {
        Ok(access) => access,
        Err(reason) => {
            // A refusal is one of the fixed messages, naming the entry by its place: it never
            // quotes a key (only a topic glob it could not read).
            let (place, rest) = reason.split_once(": ").expect("entry N: reason");
            assert!(place.starts_with("entry "), "{reason}");
            assert!(place["entry ".len()..].parse::<usize>().is_ok(), "{reason}");
            let fixed = [
                "a key needs a name of letters, digits, '.', '_' or '-' before its ':'",
                "the key must be 16 characters or more, without spaces",
                "the name is used twice",
                "the same key is given twice",
            ];
            assert!(
                fixed.contains(&rest) || rest.contains("is not a topic glob"),
                "{reason}"
            );
            return;
        }
    };
    match access.authenticate(Some(key).filter(|k| !k.is_empty())) {
        Ok(caller) => {
            let verdict = access.check_topic(&caller, topic);
            if topic.starts_with("__") {
                assert!(matches!(verdict, Err(Denied::Topic { .. })));
            }
        }
        Err(denied) => assert!(access.keys_required(), "{denied:?}"),
    }
}

/// W3C `traceparent` values: what parses prints back as itself.
pub fn traceparent(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(parsed) = TraceParent::parse(text) {
        let printed = parsed.to_string();
        assert!(printed.starts_with("00-"));
        assert_eq!(printed.len(), 55);
        assert_eq!(TraceParent::parse(&printed), Some(parsed));
    }
}

/// v2 produce bodies: the first byte picks the format (and, with its high bit, the partition
/// route), the rest is the body.
pub fn v2_body(data: &[u8]) {
    use kafka_producer::http::compat::formats::{Format, V2Format};
    use kafka_producer::schema::Format as SchemaFormat;
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let format = [
        V2Format::Embedded(Format::Binary),
        V2Format::Embedded(Format::Json),
        V2Format::Embedded(Format::Text),
        V2Format::Schema(SchemaFormat::Avro),
        V2Format::Schema(SchemaFormat::Json),
        V2Format::Schema(SchemaFormat::Protobuf),
    ][usize::from(first & 0x7f) % 6];
    let partition = (first & 0x80 != 0).then_some(1);
    let topic = TopicName::parse("fuzz").unwrap();
    let body = Ok(Bytes::copy_from_slice(body));
    match kafka_producer::http::compat::v2::parse_v2(body, format, &topic, partition, &LIMITS) {
        Ok(records) => {
            assert!(!records.is_empty() && records.len() <= LIMITS.max_batch_records);
            for draft in &records {
                check_limits(&draft.record);
                if partition.is_some() {
                    assert_eq!(draft.record.partition, partition);
                }
                // A key or value with a schema only with a schema content type.
                if let V2Format::Embedded(_) = format {
                    assert!(draft.key.is_none() && draft.value.is_none());
                }
            }
        }
        Err(error) => check_refusal(error),
    }
}

/// v3 streamed bodies, cut into records wherever the first byte says the first chunk ends:
/// the same records whatever the cut, each accepted within the limits or refused as the
/// client's fault.
pub fn v3_stream(data: &[u8]) {
    use kafka_producer::http::compat::split::Splitter;
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let cut = usize::from(first).min(body.len());
    let objects = |chunks: &[&[u8]]| {
        let mut splitter = Splitter::new(LIMITS.max_body_bytes);
        let mut out = Vec::new();
        for chunk in chunks {
            splitter.push_slice(chunk);
            loop {
                match splitter.next_object() {
                    Ok(Some(object)) => out.push(object),
                    Ok(None) => break,
                    Err(_) => return (out, false),
                }
            }
        }
        let finished = splitter.finish().is_ok();
        (out, finished)
    };
    let whole = objects(&[body]);
    assert_eq!(objects(&[&body[..cut], &body[cut..]]), whole);
    let topic = TopicName::parse("fuzz").unwrap();
    for object in whole.0 {
        assert_eq!(object.first(), Some(&b'{'));
        assert_eq!(object.last(), Some(&b'}'));
        match kafka_producer::http::compat::v3::records::parse_v3(&object, &topic, &LIMITS) {
            Ok(record) => check_limits(&record),
            Err(error) => check_refusal(error),
        }
    }
}
