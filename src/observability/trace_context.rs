//! W3C Trace Context (`traceparent`, version 00): parsing the caller's, starting a trace, and
//! the child span id the service answers and writes into records.

/// A W3C `traceparent`: `00-<trace id, 32 hex>-<parent span id, 16 hex>-<flags, 2 hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: String,
    pub span_id: String,
    pub flags: String,
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `bytes` (at most 16) random bytes as lower-case hex, never all zeros (an invalid id). From
/// the thread's user-space generator (ChaCha, seeded by the system): a system call per request
/// and a string per byte were 6 % of a request's CPU.
fn random_hex(bytes: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 16];
    let buf = &mut buf[..bytes];
    loop {
        rand::Rng::fill_bytes(&mut rand::rng(), buf);
        if buf.iter().any(|b| *b != 0) {
            let mut hex = String::with_capacity(2 * bytes);
            for b in buf.iter() {
                hex.push(char::from(HEX[usize::from(b >> 4)]));
                hex.push(char::from(HEX[usize::from(b & 0x0f)]));
            }
            return hex;
        }
    }
}

impl TraceParent {
    /// Parses a `traceparent`: version 00 exactly; a later version by its first four fields (as
    /// the W3C recommendation asks). `None` when invalid (all-zero ids, version `ff`, …).
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let (version, trace_id, span_id, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let rest_ok = if version == "00" {
            parts.next().is_none()
        } else {
            is_lower_hex(version, 2) && version != "ff"
        };
        let valid = rest_ok
            && is_lower_hex(trace_id, 32)
            && is_lower_hex(span_id, 16)
            && is_lower_hex(flags, 2)
            && trace_id.bytes().any(|b| b != b'0')
            && span_id.bytes().any(|b| b != b'0');
        valid.then(|| TraceParent {
            trace_id: trace_id.to_owned(),
            span_id: span_id.to_owned(),
            flags: flags.to_owned(),
        })
    }

    /// A new trace, sampled.
    pub fn root() -> Self {
        TraceParent {
            trace_id: random_hex(16),
            span_id: random_hex(8),
            flags: "01".to_owned(),
        }
    }

    /// This service's hop of the same trace: same trace id and flags, a new span id.
    pub fn child(&self) -> Self {
        TraceParent {
            trace_id: self.trace_id.clone(),
            span_id: random_hex(8),
            flags: self.flags.clone(),
        }
    }
}

impl std::fmt::Display for TraceParent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "00-{}-{}-{}", self.trace_id, self.span_id, self.flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_parses_only_valid_version_00() {
        let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .expect("valid");
        assert_eq!(tp.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(tp.span_id, "00f067aa0ba902b7");
        let later =
            TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more")
                .expect("a later version is read by its first four fields");
        assert_eq!(later.trace_id, tp.trace_id);
        for bad in [
            "",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_child_keeps_the_trace_and_takes_a_new_span() {
        let parent = TraceParent::root();
        let child = parent.child();
        assert_eq!(child.trace_id, parent.trace_id);
        assert_ne!(child.span_id, parent.span_id);
        assert_eq!(TraceParent::parse(&child.to_string()), Some(child));
    }

    #[test]
    fn ids_are_random_in_every_position() {
        // A UUID v4 would fix a version digit; random bytes do not.
        let ids: Vec<String> = (0..64).map(|_| random_hex(8)).collect();
        for position in 0..16 {
            let digits: std::collections::BTreeSet<u8> =
                ids.iter().map(|id| id.as_bytes()[position]).collect();
            assert!(digits.len() > 1, "position {position} never changes");
        }
    }
}
