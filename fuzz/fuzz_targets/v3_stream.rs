//! v3 streamed produce bodies: a cut byte, then JSON records one after another.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kafka_producer_fuzz_checks::v3_stream(data));
