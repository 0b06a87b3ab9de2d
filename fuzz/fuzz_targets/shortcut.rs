//! The shortcuts: a query string and a body, split at the first 0xff byte.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kafka_producer_fuzz_checks::shortcut(data));
