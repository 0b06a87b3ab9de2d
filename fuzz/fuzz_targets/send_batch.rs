//! `POST /api/v1/send/batch` bodies: any bytes. A batch is refused as a whole only as the
//! client's fault; each record it keeps obeys the rules, each it refuses is a 4xx problem.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let body = Ok(bytes::Bytes::copy_from_slice(data));
    match kafka_producer::http::parse_batch(body, &common::LIMITS) {
        Ok((records, _)) => {
            assert!(!records.is_empty() && records.len() <= common::LIMITS.max_batch_records);
            for record in records {
                match record {
                    Ok((record, _)) => common::check_record(&record),
                    Err(error) => common::check_refusal(error),
                }
            }
        }
        Err(error) => common::check_refusal(error),
    }
});
