//! Records whose key or value names a schema: what every API parses into ([`Typed`], [`Draft`]),
//! and the one step that writes them in Confluent's wire format ([`Encoder`]), after admission
//! and before the producer. A request's records that name the same schema resolve it once.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::problem::ApiError;
use super::state::AppState;
use crate::kafka::OutgoingRecord;
use crate::schema::{
    Format, Part, Resolved, SchemaChoice, SchemaError, Source, SubjectStrategy, Used,
};

/// The key or value of a record, to be written with a schema.
#[derive(Debug, Clone)]
pub struct Typed {
    /// Boxed: a record is moved a few times before it is written, schema or not.
    pub choice: Box<SchemaChoice>,
    /// The JSON as given.
    pub data: Box<RawValue>,
}

/// A record as parsed: its key and value are bytes already, or are written by [`Encoder`] from
/// their JSON and schema.
#[derive(Debug)]
pub struct Draft {
    pub record: OutgoingRecord,
    pub key: Option<Typed>,
    pub value: Option<Typed>,
}

impl From<OutgoingRecord> for Draft {
    fn from(record: OutgoingRecord) -> Self {
        Draft {
            record,
            key: None,
            value: None,
        }
    }
}

/// A record ready for the producer, and the schemas its key and value were written with.
#[derive(Debug)]
pub struct Encoded {
    pub record: OutgoingRecord,
    pub key: Option<Used>,
    pub value: Option<Used>,
}

/// The schema of a record's key or value in the service's own API (`keySchema`,
/// `valueSchema`): by `id`, by `subject` (and `version`, by default the latest), or its text
/// (`schema`, registered under the subject the strategy names, `<topic>-key|value` by default).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"format": "AVRO", "subject": "orders-value"}))]
pub struct SchemaField {
    /// `AVRO`, `JSON` (or `JSONSCHEMA`) or `PROTOBUF`; when given, the schema found must be of
    /// it. Needed with `schema` (default `AVRO`).
    #[schema(value_type = Option<FormatName>)]
    pub format: Option<String>,
    /// A registered schema's id.
    #[schema(minimum = 1)]
    pub id: Option<u32>,
    /// A subject, whose `version` (default its latest) is used.
    #[schema(min_length = 1)]
    pub subject: Option<String>,
    #[schema(minimum = 1)]
    pub version: Option<i32>,
    /// The schema's text: registered (if new) under the strategy's subject, then used.
    #[schema(min_length = 1)]
    pub schema: Option<String>,
    /// `TOPIC_NAME` (default), `RECORD_NAME` or `TOPIC_RECORD_NAME`.
    #[schema(value_type = Option<StrategyName>)]
    pub subject_name_strategy: Option<String>,
    /// Protobuf: the message to write (full name, or relative to the package); by default the
    /// schema's first.
    #[schema(min_length = 1)]
    pub message: Option<String>,
}

/// A schema format's name (any case).
#[derive(ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
enum FormatName {
    AVRO,
    JSON,
    JSONSCHEMA,
    PROTOBUF,
}

/// A subject name strategy (any case).
#[derive(ToSchema)]
#[allow(dead_code, non_camel_case_types, clippy::upper_case_acronyms)]
enum StrategyName {
    TOPIC_NAME,
    RECORD_NAME,
    TOPIC_RECORD_NAME,
}

impl SchemaField {
    /// The choice this field makes; `field` names it in errors (`valueSchema`).
    pub fn choice(&self, field: &str) -> Result<SchemaChoice, ApiError> {
        let bad = |detail: String| ApiError::bad_field("invalid-property", field, detail);
        let format = self
            .format
            .as_deref()
            .map(|f| {
                Format::parse(f)
                    .ok_or_else(|| bad(format!("format {f:?} is not AVRO, JSON or PROTOBUF")))
            })
            .transpose()?;
        let strategy = self
            .subject_name_strategy
            .as_deref()
            .map(|s| SubjectStrategy::parse(s).ok_or_else(|| bad(format!("subjectNameStrategy {s:?} is not TOPIC_NAME, RECORD_NAME or TOPIC_RECORD_NAME"))))
            .transpose()?
            .unwrap_or_default();
        let source = choose(
            self.id,
            self.subject.clone(),
            self.version,
            self.schema.clone(),
        )
        .map_err(bad)?;
        Ok(SchemaChoice {
            format,
            source,
            strategy,
            message: self.message.clone(),
        })
    }
}

/// One of id, subject (+ version) or text; with none, the topic's subject's latest.
pub fn choose(
    id: Option<u32>,
    subject: Option<String>,
    version: Option<i32>,
    text: Option<String>,
) -> Result<Source, String> {
    match (id, subject, version, text) {
        (Some(id), None, None, None) => Ok(Source::Id(id)),
        (None, subject, version, None) => {
            if version.is_some_and(|v| v < 1) {
                return Err("a version is 1 or more".into());
            }
            Ok(Source::Subject { subject, version })
        }
        (None, None, None, Some(text)) => Ok(Source::Text(text)),
        _ => Err("name the schema one way: its id, its subject (and version), or its text".into()),
    }
}

/// The schema a key or value was written with, in answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UsedSchema {
    /// `AVRO`, `JSON` or `PROTOBUF`.
    pub format: &'static str,
    pub id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
}

impl From<&Used> for UsedSchema {
    fn from(used: &Used) -> Self {
        UsedSchema {
            format: used.format.registry_name(),
            id: used.id,
            subject: used.subject.clone(),
            version: used.version,
        }
    }
}

/// A JSON value given for a key or message without a schema: a string is its text, any other
/// value its JSON text as given.
pub fn plain_text(raw: &RawValue) -> Result<String, serde_json::Error> {
    let text = raw.get();
    if text.starts_with('"') {
        serde_json::from_str(text)
    } else {
        Ok(text.to_owned())
    }
}

impl From<OutgoingRecord> for Encoded {
    fn from(record: OutgoingRecord) -> Self {
        Encoded {
            record,
            key: None,
            value: None,
        }
    }
}

/// Schemas one request remembers, at most.
const MEMO: usize = 64;

/// What a schema is resolved for: a topic, a part of its records, a choice.
type Resolving = (String, Part, SchemaChoice);

/// Writes the records' schema'd parts: each schema resolved once per request.
pub struct Encoder<'a> {
    state: &'a AppState,
    resolved: Vec<(Resolving, Result<Arc<Resolved>, SchemaError>)>,
}

impl<'a> Encoder<'a> {
    pub fn new(state: &'a AppState) -> Self {
        Encoder {
            state,
            resolved: Vec::new(),
        }
    }

    pub async fn encode(&mut self, draft: Draft) -> Result<Encoded, ApiError> {
        let Draft {
            mut record,
            key,
            value,
        } = draft;
        let mut used = [None, None];
        for (part, typed) in [(Part::Key, key), (Part::Value, value)] {
            let Some(typed) = typed else { continue };
            let resolved = self
                .resolve(record.topic.as_str(), part, &typed.choice)
                .await
                .map_err(|error| ApiError::Schema {
                    error,
                    field: Some(part.as_str().into()),
                })?;
            let bytes = resolved
                .encode(typed.data.get())
                .map_err(|m| ApiError::mismatch(part.as_str(), m))?;
            match part {
                Part::Key => {
                    record.key = Some(bytes);
                    used[0] = Some(resolved.used.clone());
                }
                Part::Value => {
                    record.value = Some(bytes);
                    used[1] = Some(resolved.used.clone());
                }
            }
        }
        let [key, value] = used;
        Ok(Encoded { record, key, value })
    }

    pub async fn resolve(
        &mut self,
        topic: &str,
        part: Part,
        choice: &SchemaChoice,
    ) -> Result<Arc<Resolved>, SchemaError> {
        if let Some((_, found)) = self
            .resolved
            .iter()
            .find(|((t, p, c), _)| t == topic && *p == part && c == choice)
        {
            return found.clone();
        }
        let schemas = self
            .state
            .schemas
            .as_ref()
            .ok_or(SchemaError::NotConfigured)?;
        let found = schemas.resolve(topic, part, choice).await.map(Arc::new);
        if matches!(found, Err(SchemaError::Unavailable(_))) {
            // Not remembered: a stream's later records ask again once the registry is back.
            return found;
        }
        if self.resolved.len() >= MEMO {
            // A request naming many schemas (a long stream) keeps the registry's caches only.
            self.resolved.clear();
        }
        self.resolved
            .push(((topic.to_owned(), part, choice.clone()), found.clone()));
        found
    }
}

/// A record's key or message as given, and its schema if one is named: the text to write as it
/// is, or the JSON to write with the schema. `field` and `schema_field` name them in errors
/// (`key`, `keySchema`). Without a schema a key must be a string; a message may be any JSON
/// (a string is written as its text, anything else as its JSON text).
pub fn given_part(
    raw: Option<&RawValue>,
    schema: Option<&SchemaField>,
    part: Part,
    field: &str,
    schema_field: &str,
) -> Result<(Option<String>, Option<Typed>), ApiError> {
    let bad = |detail: &str| ApiError::bad_field("invalid-property", field, detail);
    match schema {
        Some(schema) => {
            let choice = schema.choice(schema_field)?;
            let data = match raw {
                Some(raw) => raw.to_owned(),
                None if part == Part::Key => {
                    return Err(bad("a key is needed with keySchema"));
                }
                None => RawValue::NULL.to_owned(),
            };
            // The key's text is replaced when it is written with its schema.
            let placeholder = (part == Part::Key).then(String::new);
            Ok((
                placeholder,
                Some(Typed {
                    choice: Box::new(choice),
                    data,
                }),
            ))
        }
        None => match raw {
            None => Ok((None, None)),
            Some(raw) if part == Part::Key && !raw.get().starts_with('"') => Err(bad(
                "property key: a key is a string (or give keySchema to write JSON with a schema)",
            )),
            Some(raw) => Ok((
                Some(plain_text(raw).map_err(|e| bad(&e.to_string()))?),
                None,
            )),
        },
    }
}
