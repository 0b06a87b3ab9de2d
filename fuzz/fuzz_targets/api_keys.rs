//! `API_KEYS` entries and `ALLOWED_TOPICS`, then a presented key and a topic (see
//! `kafka_producer_fuzz_checks::api_keys`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kafka_producer_fuzz_checks::api_keys(data));
