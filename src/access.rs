//! Who may send, and where: API keys and topic allow-lists. Knows nothing of HTTP.
//!
//! - API keys (`API_KEYS`, `API_KEYS_FILE`) are off unless configured. Each entry is
//!   `name:key` or `name:key:pattern,pattern…`: a name for the logs (the key itself is never
//!   logged), the key (16 characters or more), and optionally the topics that key may write to.
//!   Entries are separated by new lines or `;`; in a file, `#` starts a comment.
//! - `ALLOWED_TOPICS`: the topics anyone may write to, as exact names or globs (`*`, `?`, `[…]`),
//!   separated by commas. Unset means every topic.
//! - Internal topics (`__consumer_offsets`, `__transaction_state`, any `__*`) are always refused.
//!
//! A presented key is compared with every configured key, by their SHA-256 digests and in
//! constant time, so that neither the position of a match nor a common prefix shows in the time
//! taken.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The shortest key accepted: shorter keys are guessable.
pub const MIN_KEY_LENGTH: usize = 16;

/// Topics as exact names or globs; empty means every topic.
#[derive(Clone, Default)]
pub struct TopicPolicy {
    patterns: Vec<glob::Pattern>,
}

impl TopicPolicy {
    /// Parses `pattern,pattern…` (commas or white space between them).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut patterns = Vec::new();
        for raw in list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
        {
            let pattern =
                glob::Pattern::new(raw).map_err(|e| format!("{raw:?} is not a topic glob: {e}"))?;
            patterns.push(pattern);
        }
        Ok(TopicPolicy { patterns })
    }

    pub fn is_open(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn allows(&self, topic: &str) -> bool {
        self.is_open() || self.patterns.iter().any(|p| p.matches(topic))
    }
}

impl fmt::Debug for TopicPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<&str> = self.patterns.iter().map(glob::Pattern::as_str).collect();
        f.debug_tuple("TopicPolicy").field(&list).finish()
    }
}

/// One configured key: its name and the digest of its value (the value itself is not kept).
#[derive(Clone)]
struct ApiKey {
    name: String,
    digest: [u8; 32],
    topics: TopicPolicy,
}

/// Never prints a key, only its name.
impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("topics", &self.topics)
            .finish_non_exhaustive()
    }
}

fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

/// The access rules of the service.
#[derive(Debug, Clone, Default)]
pub struct Access {
    keys: Vec<ApiKey>,
    topics: TopicPolicy,
}

/// Who is sending: the key's name and its topics, or anyone when keys are off.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's name; `None` when API keys are off.
    pub name: Option<String>,
    topics: TopicPolicy,
}

impl Caller {
    /// The caller when API keys are off.
    pub fn anyone() -> Self {
        Caller {
            name: None,
            topics: TopicPolicy::default(),
        }
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// Keys are on and none was presented.
    MissingKey,
    /// The presented key is not one of the configured keys.
    UnknownKey,
    /// The topic is internal, outside the allow-list, or outside the key's topics.
    Topic { topic: String, reason: &'static str },
}

impl Access {
    /// Rules from `API_KEYS` entries (see the module documentation) and the global allow-list.
    /// Errors never quote a key.
    pub fn new(key_entries: &str, topics: TopicPolicy) -> Result<Self, String> {
        let mut keys: Vec<ApiKey> = Vec::new();
        let entries = key_entries
            .split(['\n', ';'])
            .map(|line| line.split('#').next().unwrap_or("").trim())
            .filter(|line| !line.is_empty());
        for (index, entry) in entries.enumerate() {
            let mut fields = entry.splitn(3, ':');
            let name = fields.next().unwrap_or("").trim();
            let key = fields.next().map(str::trim).unwrap_or("");
            let key_topics = fields.next().unwrap_or("");
            // Errors name the entry by its place: a malformed entry could be a bare key.
            let at = || format!("entry {}", index + 1);
            let name_ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if !name_ok {
                return Err(format!(
                    "entry {}: a key needs a name of letters, digits, '.', '_' or '-' before its ':'",
                    index + 1
                ));
            }
            if key.chars().count() < MIN_KEY_LENGTH || key.chars().any(char::is_whitespace) {
                return Err(format!(
                    "{}: the key must be {MIN_KEY_LENGTH} characters or more, without spaces",
                    at()
                ));
            }
            let topics = TopicPolicy::parse(key_topics).map_err(|e| format!("{}: {e}", at()))?;
            let digest = digest(key);
            if keys.iter().any(|k| k.name == name) {
                return Err(format!("{}: the name is used twice", at()));
            }
            if keys.iter().any(|k| k.digest == digest) {
                return Err(format!("{}: the same key is given twice", at()));
            }
            keys.push(ApiKey {
                name: name.to_owned(),
                digest,
                topics,
            });
        }
        Ok(Access { keys, topics })
    }

    /// True when requests must present a key.
    pub fn keys_required(&self) -> bool {
        !self.keys.is_empty()
    }

    pub fn key_names(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.name.as_str()).collect()
    }

    pub fn topics(&self) -> &TopicPolicy {
        &self.topics
    }

    /// The caller that presented `key` (none when keys are off).
    pub fn authenticate(&self, key: Option<&str>) -> Result<Caller, Denied> {
        if !self.keys_required() {
            return Ok(Caller::anyone());
        }
        let presented = digest(key.ok_or(Denied::MissingKey)?);
        // Every key is compared, whatever matched before, so the time taken tells nothing.
        let mut found = None;
        for key in &self.keys {
            if bool::from(key.digest.ct_eq(&presented)) {
                found = Some(key);
            }
        }
        let key = found.ok_or(Denied::UnknownKey)?;
        Ok(Caller {
            name: Some(key.name.clone()),
            topics: key.topics.clone(),
        })
    }

    /// May `caller` write to `topic`?
    pub fn check_topic(&self, caller: &Caller, topic: &str) -> Result<(), Denied> {
        let refuse = |reason| {
            Err(Denied::Topic {
                topic: topic.to_owned(),
                reason,
            })
        };
        if topic.starts_with("__") {
            return refuse("internal topics (__*) are never written through this service");
        }
        if !self.topics.allows(topic) {
            return refuse("the topic is not on the service's allow-list (ALLOWED_TOPICS)");
        }
        if !caller.topics.allows(topic) {
            return refuse("the API key may not write to this topic");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "a-key-of-sixteen-chars";
    const KEY_B: &str = "another-key-0123456789";

    #[test]
    fn keys_off_lets_anyone_in_but_never_to_internal_topics() {
        let access = Access::new("", TopicPolicy::default()).unwrap();
        assert!(!access.keys_required());
        let caller = access.authenticate(None).unwrap();
        assert_eq!(caller.name, None);
        assert_eq!(access.check_topic(&caller, "orders"), Ok(()));
        for internal in ["__consumer_offsets", "__transaction_state", "__x"] {
            assert!(
                matches!(
                    access.check_topic(&caller, internal),
                    Err(Denied::Topic { .. })
                ),
                "{internal}"
            );
        }
    }

    #[test]
    fn keys_are_checked_and_named() {
        let access = Access::new(
            &format!("app:{KEY_A}; ops:{KEY_B}:audit"),
            TopicPolicy::default(),
        )
        .unwrap();
        assert!(access.keys_required());
        assert_eq!(access.authenticate(None).unwrap_err(), Denied::MissingKey);
        assert_eq!(
            access
                .authenticate(Some("a-key-of-sixteen-charz"))
                .unwrap_err(),
            Denied::UnknownKey
        );
        assert_eq!(
            access.authenticate(Some("")).unwrap_err(),
            Denied::UnknownKey
        );
        let app = access.authenticate(Some(KEY_A)).unwrap();
        assert_eq!(app.name.as_deref(), Some("app"));
        assert_eq!(access.check_topic(&app, "anything"), Ok(()));
        let ops = access.authenticate(Some(KEY_B)).unwrap();
        assert_eq!(ops.name.as_deref(), Some("ops"));
        assert_eq!(access.check_topic(&ops, "audit"), Ok(()));
        assert!(access.check_topic(&ops, "orders").is_err());
    }

    #[test]
    fn the_global_list_and_the_keys_list_both_apply() {
        let access = Access::new(
            &format!("# comment line\napp:{KEY_A}:orders.*\n"),
            TopicPolicy::parse("orders.*, payments").unwrap(),
        )
        .unwrap();
        let app = access.authenticate(Some(KEY_A)).unwrap();
        assert_eq!(access.check_topic(&app, "orders.eu"), Ok(()));
        // On the global list, not on the key's.
        assert!(access.check_topic(&app, "payments").is_err());
        let open = Access::new("", TopicPolicy::parse("orders.*,pay?ents").unwrap()).unwrap();
        let anyone = Caller::anyone();
        assert_eq!(open.check_topic(&anyone, "payments"), Ok(()));
        assert_eq!(open.check_topic(&anyone, "orders.us"), Ok(()));
        assert!(open.check_topic(&anyone, "orders").is_err());
        assert!(open.check_topic(&anyone, "audit").is_err());
    }

    #[test]
    fn bad_entries_are_refused_without_quoting_the_key() {
        let secret = "0123456789abcdef-secret";
        for entries in [
            secret.to_owned(),
            format!(":{secret}"),
            format!("bad name:{secret}"),
            "app:short".to_owned(),
            format!("app:{secret}\napp:{KEY_A}"),
            format!("app:{secret}\nother:{secret}"),
            format!("app:{secret}:[unclosed"),
        ] {
            let error = Access::new(&entries, TopicPolicy::default()).unwrap_err();
            assert!(!error.contains(secret), "{error}");
            assert!(!error.contains("short"), "{error}");
        }
        assert!(TopicPolicy::parse("[bad").is_err());
    }

    #[test]
    fn debug_output_shows_names_only() {
        let access = Access::new(&format!("app:{KEY_A}"), TopicPolicy::default()).unwrap();
        let shown = format!("{access:?}");
        assert!(shown.contains("app"));
        assert!(!shown.contains(KEY_A));
    }
}
