//! Request bodies read straight into typed structs, with property names matched
//! case-insensitively (as ASP.NET does) and a name given twice refused.
//!
//! Property names are lower-cased on the way to the struct's derived `Deserialize` (so structs
//! use `rename_all = "lowercase"`); values go through untouched, borrowed from the body where
//! they can be. Nothing is built in between: no `serde_json::Value`, no map of the object.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::error::Category;

use super::problem::ApiError;

/// A string property, borrowed from the body unless it has escapes. (`Option<Cow<str>>` alone
/// would always copy: serde borrows only a bare `Cow`.)
#[derive(Debug, PartialEq, Eq, Deserialize)]
pub struct Text<'a>(#[serde(borrow)] pub Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// What the body held, when it held no object.
#[derive(Debug, PartialEq, Eq)]
pub enum NotAnObject {
    /// Empty, blank or JSON `null`: no body.
    Absent,
    /// Valid JSON, but not an object.
    Other,
}

/// Reads `bytes` as one JSON object into `T`. `Err(Ok(..))` when the text is no object (empty,
/// `null`, another JSON value); `Err(Err(..))` for malformed JSON, a mistyped property or a
/// property given twice.
pub fn object<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
) -> Result<T, Result<NotAnObject, ApiError>> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(Ok(NotAnObject::Absent)),
        Some(b'{') => {}
        Some(_) => {
            return Err(
                match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                    Err(e) => Err(malformed(&e)),
                    Ok(_) if bytes.trim_ascii() == b"null" => Ok(NotAnObject::Absent),
                    Ok(_) => Ok(NotAnObject::Other),
                },
            )
        }
    }
    let duplicate = RefCell::new(None);
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let value = match T::deserialize(CaseInsensitive {
        inner: &mut json,
        duplicate: &duplicate,
    }) {
        Ok(value) => value,
        // Read again, tracking the path this time (a cost only faulty bodies pay).
        Err(_) => return Err(Err(fault::<T>(bytes))),
    };
    // Nothing but white space may follow the object.
    json.end().map_err(|e| Err(malformed(&e)))?;
    Ok(value)
}

/// Why `bytes` cannot be read as `T`: the first fault, with the property it is in.
fn fault<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> ApiError {
    let duplicate = RefCell::new(None);
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let Err(e) = serde_path_to_error::deserialize::<_, T>(CaseInsensitive {
        inner: &mut json,
        duplicate: &duplicate,
    }) else {
        return malformed_text("the body could not be read");
    };
    if let Some(name) = duplicate.into_inner() {
        return ApiError::bad_field(
            "duplicate-property",
            name.clone(),
            format!("property {name:?} is given twice (names are case-insensitive)"),
        );
    }
    let (path, inner) = (e.path().to_string(), e.into_inner());
    match inner.classify() {
        Category::Data => ApiError::bad_field(
            "invalid-property",
            path.clone(),
            format!("property {path}: {}", without_position(&inner)),
        ),
        Category::Syntax | Category::Eof | Category::Io => malformed(&inner),
    }
}

fn malformed_text(detail: &str) -> ApiError {
    ApiError::bad_request("malformed-json", detail.to_owned())
}

fn malformed(error: &serde_json::Error) -> ApiError {
    ApiError::bad_request(
        "malformed-json",
        format!("the body is not valid JSON: {error}"),
    )
}

/// A data error's message without serde_json's " at line 1 column 42": the property is named.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) if error.line() > 0 => text[..at].to_owned(),
        _ => text,
    }
}

/// The outermost object's names, lower-cased; anything inside is left to the target type.
struct CaseInsensitive<'a, D> {
    inner: D,
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for CaseInsensitive<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_struct("", &[], visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_map(LowerNames {
            visitor,
            fields,
            duplicate: self.duplicate,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

struct LowerNames<'a, V> {
    visitor: V,
    /// The target's property names (lower-case), to tell a name seen before without a list.
    fields: &'static [&'static str],
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for LowerNames<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_map(LowerNamesAccess {
            inner: map,
            fields: self.fields,
            known: 0,
            unknown: Vec::new(),
            duplicate: self.duplicate,
        })
    }
}

struct LowerNamesAccess<'de, 'a, A> {
    inner: A,
    fields: &'static [&'static str],
    /// The target's properties seen so far, one bit each (by their place in `fields`).
    known: u64,
    /// Other names seen so far (ignored, but still refused when given twice).
    unknown: Vec<Cow<'de, str>>,
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for LowerNamesAccess<'de, '_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some(name) = self.inner.next_key_seed(Name)? else {
            return Ok(None);
        };
        let lower = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(name.to_ascii_lowercase())
        } else {
            name.clone()
        };
        let seen = match self.fields.iter().position(|f| *f == lower) {
            Some(i) if i < 64 => {
                let bit = 1u64 << i;
                let seen = self.known & bit != 0;
                self.known |= bit;
                seen
            }
            _ => {
                let seen = self.unknown.contains(&lower);
                if !seen {
                    self.unknown.push(lower.clone());
                }
                seen
            }
        };
        if seen {
            *self.duplicate.borrow_mut() = Some(name.into_owned());
            return Err(de::Error::custom("property given twice"));
        }
        seed.deserialize(de::value::StrDeserializer::<A::Error>::new(&lower))
            .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// A property name, borrowed from the body when it has no escapes.
struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a property name")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    struct Body<'a> {
        #[serde(borrow)]
        topic: Option<Text<'a>>,
        isasync: Option<bool>,
        headers: Option<BTreeMap<String, String>>,
    }

    fn read(text: &str) -> Result<Body<'_>, Result<NotAnObject, ApiError>> {
        object(text.as_bytes())
    }

    fn problem(text: &str) -> (String, Option<String>, String) {
        match read(text) {
            Err(Err(e)) => {
                let p = e.problem();
                let kind = p.type_uri.rsplit(':').next().unwrap().to_owned();
                (kind, p.field.clone(), p.detail.clone())
            }
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn names_match_whatever_their_case_and_values_are_borrowed() {
        let body = read(r#"{"TOPIC":"t","IsAsync":true,"Headers":{"A":"b"},"other":[1]}"#).unwrap();
        assert!(matches!(body.topic, Some(Text(Cow::Borrowed("t")))));
        assert_eq!(body.isasync, Some(true));
        assert_eq!(
            body.headers.unwrap()["A"],
            "b",
            "header names keep their case"
        );
    }

    #[test]
    fn escaped_values_and_names_are_read() {
        let body = read(r#"{"top\u0069c":"a\"b"}"#).unwrap();
        assert_eq!(body.topic.as_deref(), Some("a\"b"));
    }

    #[test]
    fn no_object() {
        for text in ["", "  \n", "null", " null "] {
            assert_eq!(
                read(text).unwrap_err().unwrap(),
                NotAnObject::Absent,
                "{text:?}"
            );
        }
        for text in ["[1]", "\"s\"", "7"] {
            assert_eq!(
                read(text).unwrap_err().unwrap(),
                NotAnObject::Other,
                "{text:?}"
            );
        }
    }

    #[test]
    fn faults_are_named() {
        let (kind, field, _) = problem(r#"{"topic":"a","Topic":"b"}"#);
        assert_eq!(
            (kind.as_str(), field.as_deref()),
            ("duplicate-property", Some("Topic"))
        );
        let (kind, field, _) = problem(r#"{"x":1,"X":2}"#);
        assert_eq!(
            (kind.as_str(), field.as_deref()),
            ("duplicate-property", Some("X"))
        );
        let (kind, field, detail) = problem(r#"{"isAsync":"yes"}"#);
        assert_eq!(
            (kind.as_str(), field.as_deref()),
            ("invalid-property", Some("isasync"))
        );
        assert!(!detail.contains("line"), "{detail}");
        let (kind, field, _) = problem(r#"{"headers":{"a":1}}"#);
        assert_eq!(
            (kind.as_str(), field.as_deref()),
            ("invalid-property", Some("headers.a"))
        );
        for text in [
            r#"{"topic":"t","#,
            r#"{"topic":"t"} x"#,
            r#"{"topic":}"#,
            "[1,",
        ] {
            assert_eq!(problem(text).0, "malformed-json", "{text}");
        }
    }
}
