//! v2 produce bodies (Confluent REST Proxy, Strimzi Kafka Bridge): a format byte, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kafka_producer_fuzz_checks::v2_body(data));
