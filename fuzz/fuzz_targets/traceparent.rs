//! W3C `traceparent` values: what parses prints back as version 00 and parses to the same.
#![no_main]

use kafka_producer::http::context::TraceParent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(parsed) = TraceParent::parse(text) {
        let printed = parsed.to_string();
        assert!(printed.starts_with("00-"));
        assert_eq!(printed.len(), 55);
        assert_eq!(TraceParent::parse(&printed), Some(parsed));
    }
});
