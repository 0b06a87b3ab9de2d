//! The shortcuts: a query string and a body, split at the first 0xff byte.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (query, body) = match data.iter().position(|b| *b == 0xff) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&data[..0], data),
    };
    let query = String::from_utf8_lossy(query);
    let body = Ok(bytes::Bytes::copy_from_slice(body));
    match kafka_producer::http::parse_shortcut(body, Some(&query), &common::LIMITS) {
        Ok(record) => common::check_record(&record),
        Err(error) => common::check_refusal(error),
    }
});
