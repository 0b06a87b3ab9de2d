//! `POST /api/v1/send` bodies: any bytes.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let body = Ok(bytes::Bytes::copy_from_slice(data));
    match kafka_producer::http::parse_send(body, &common::LIMITS) {
        Ok((record, _, _)) => common::check_record(&record),
        Err(error) => common::check_refusal(error),
    }
});
