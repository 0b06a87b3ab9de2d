//! The embedded formats of the REST proxies' produce APIs: how a key or value given in a JSON body
//! becomes the bytes of a record. `binary`: base64 text; `json`: any JSON value, written as
//! compact JSON text (property order and numbers kept as given); `text` (Strimzi) and v3's
//! `STRING`: a string's UTF-8 bytes. Avro, JSON Schema and Protobuf: written with a Schema
//! Registry's schema (`crate::http::schemas`).

use base64::Engine;
use serde_json::value::RawValue;

use crate::http::problem::ApiError;
use crate::schema::Format as SchemaFormat;

/// How the keys and values of a request are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Binary,
    Json,
    Text,
}

impl Format {
    /// v3's name of the format.
    pub fn v3_name(self) -> &'static str {
        match self {
            Format::Binary => "BINARY",
            Format::Json => "JSON",
            Format::Text => "STRING",
        }
    }
}

/// The v2 content types, and the format each means. Without a Content-Type, binary (as Strimzi).
pub const V2_CONTENT_TYPES: [(&str, Format); 5] = [
    ("application/vnd.kafka.binary.v2+json", Format::Binary),
    ("application/vnd.kafka.json.v2+json", Format::Json),
    ("application/vnd.kafka.text.v2+json", Format::Text),
    ("application/vnd.kafka.v2+json", Format::Json),
    ("application/json", Format::Json),
];

/// The schema formats' v2 content types: written with a Schema Registry's schema.
const V2_SCHEMA_CONTENT_TYPES: [(&str, SchemaFormat); 3] = [
    ("application/vnd.kafka.avro.v2+json", SchemaFormat::Avro),
    (
        "application/vnd.kafka.jsonschema.v2+json",
        SchemaFormat::Json,
    ),
    (
        "application/vnd.kafka.protobuf.v2+json",
        SchemaFormat::Protobuf,
    ),
];

/// How a v2 request's keys and values are written: embedded in the JSON, or with a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V2Format {
    Embedded(Format),
    Schema(SchemaFormat),
}

/// The format a v2 request's Content-Type names (parameters such as `charset` ignored).
pub fn v2_format(content_type: Option<&str>) -> Result<V2Format, ApiError> {
    let Some(given) = content_type else {
        return Ok(V2Format::Embedded(Format::Binary));
    };
    let essence = given
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if let Some((_, format)) = V2_CONTENT_TYPES.iter().find(|(t, _)| *t == essence) {
        return Ok(V2Format::Embedded(*format));
    }
    if let Some((_, format)) = V2_SCHEMA_CONTENT_TYPES.iter().find(|(t, _)| *t == essence) {
        return Ok(V2Format::Schema(*format));
    }
    Err(ApiError::UnsupportedMediaType {
        given: given.to_owned(),
        accepted: "application/vnd.kafka.{binary,json,text,avro,jsonschema,protobuf}.v2+json, application/vnd.kafka.v2+json or application/json",
    })
}

/// A key or value given as `value` in `format`: its bytes, or `None` for JSON `null` (a record
/// without a key, or a tombstone). `field` names it in the error (`records[2].value`).
pub fn decode(format: Format, value: &RawValue, field: &str) -> Result<Option<Vec<u8>>, ApiError> {
    let text = value.get();
    if text == "null" {
        return Ok(None);
    }
    let refused = |expected: &str| {
        ApiError::unprocessable(
            "conversion-failed",
            Some(field.to_owned()),
            format!("{field}: expected {expected}"),
        )
    };
    match format {
        Format::Json => Ok(Some(compact(text))),
        Format::Text => {
            let s: String = serde_json::from_str(text).map_err(|_| refused("a string"))?;
            Ok(Some(s.into_bytes()))
        }
        Format::Binary => {
            let s: String = serde_json::from_str(text).map_err(|_| refused("a base64 string"))?;
            base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .map(Some)
                .map_err(|e| refused(&format!("base64 ({e})")))
        }
    }
}

/// Base64 text of a header value (v2 Strimzi headers, v3 headers).
pub fn decode_base64(text: &str, field: &str) -> Result<Vec<u8>, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|e| {
            ApiError::unprocessable(
                "conversion-failed",
                Some(field.to_owned()),
                format!("{field}: expected base64 ({e})"),
            )
        })
}

/// Valid JSON text without the whitespace between its tokens: what a JSON serializer would
/// write, with the property order and the numbers' spelling kept.
pub fn compact(json: &str) -> Vec<u8> {
    // Most texts have no whitespace at all (a client's serializer wrote them): copied whole.
    let spaced = json.as_bytes().iter().fold(false, |seen, b| {
        seen | matches!(b, b' ' | b'\t' | b'\n' | b'\r')
    });
    if !spaced {
        return json.as_bytes().to_vec();
    }
    let mut out = Vec::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for &b in json.as_bytes() {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            if b == b'"' {
                in_string = true;
            }
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn each_format_writes_the_bytes_its_peers_write() {
        let json = raw(r#"{ "b" : [1, 2.50, "x y"], "a": {"\"q\" ": null} }"#);
        assert_eq!(
            decode(Format::Json, &json, "value").unwrap().unwrap(),
            br#"{"b":[1,2.50,"x y"],"a":{"\"q\" ":null}}"#
        );
        assert_eq!(
            decode(Format::Binary, &raw(r#""AAECaGk=""#), "value").unwrap(),
            Some(b"\x00\x01\x02hi".to_vec())
        );
        assert_eq!(
            decode(Format::Text, &raw(r#""h\u00e9""#), "key").unwrap(),
            Some("hé".as_bytes().to_vec())
        );
        for format in [Format::Json, Format::Binary, Format::Text] {
            assert_eq!(decode(format, &raw("null"), "key").unwrap(), None);
        }
    }

    #[test]
    fn what_does_not_fit_the_format_is_refused_naming_the_field() {
        for (format, text) in [
            (Format::Binary, r#""not base64!""#),
            (Format::Binary, "12"),
            (Format::Text, "{}"),
        ] {
            let error = decode(format, &raw(text), "records[3].value").unwrap_err();
            let problem = error.problem();
            assert_eq!(problem.status, 422, "{text}");
            assert_eq!(problem.field.as_deref(), Some("records[3].value"));
        }
    }

    #[test]
    fn content_types_choose_the_format() {
        let embedded = |t: Option<&str>| v2_format(t).unwrap();
        assert_eq!(embedded(None), V2Format::Embedded(Format::Binary));
        assert_eq!(
            embedded(Some("application/vnd.kafka.json.v2+json; charset=utf-8")),
            V2Format::Embedded(Format::Json)
        );
        assert_eq!(
            embedded(Some("Application/JSON")),
            V2Format::Embedded(Format::Json)
        );
        assert_eq!(
            embedded(Some("application/vnd.kafka.text.v2+json")),
            V2Format::Embedded(Format::Text)
        );
        assert_eq!(
            v2_format(Some("text/plain")).unwrap_err().problem().status,
            415
        );
        assert_eq!(
            embedded(Some("application/vnd.kafka.avro.v2+json")),
            V2Format::Schema(SchemaFormat::Avro)
        );
        assert_eq!(
            embedded(Some("application/vnd.kafka.protobuf.v2+json")),
            V2Format::Schema(SchemaFormat::Protobuf)
        );
    }
}
