//! `API_KEYS` entries and `ALLOWED_TOPICS`, then a presented key and a topic: never a panic,
//! internal topics always refused, and no refusal message quotes a configured key.
#![no_main]

use kafka_producer::access::{Access, Denied, TopicPolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
});
