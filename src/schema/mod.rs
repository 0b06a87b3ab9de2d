//! Records in a Schema Registry's formats: Avro, JSON Schema and Protobuf, written in
//! Confluent's wire format (byte 0, the schema id as 4 big-endian bytes, for Protobuf the
//! message indexes, then the payload), so that Confluent's deserializers read them.
//!
//! A record names its schema ([`SchemaChoice`]: by id, by subject and version, by its text, or
//! the subject's latest); [`Schemas::resolve`] finds it through the registry ([`registry`], with
//! its caches) and compiles it once per id; [`Resolved::encode`] then writes each record with no
//! registry call and no schema parse. Imports nothing outside `crate::schema`.

mod avro;
mod json_schema;
mod protobuf;
mod registry;

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use self::registry::{Known, Version};
pub use self::registry::{Registry, RegistryConfig, RegistryObserver, Secret};

/// A schema format, as the registry names it (`schemaType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Avro,
    Json,
    Protobuf,
}

impl Format {
    /// `AVRO`, `JSON` (also `JSONSCHEMA`, the REST proxy's name) or `PROTOBUF`, any case.
    pub fn parse(name: &str) -> Option<Format> {
        match name.to_ascii_uppercase().as_str() {
            "AVRO" => Some(Format::Avro),
            "JSON" | "JSONSCHEMA" | "JSON_SCHEMA" => Some(Format::Json),
            "PROTOBUF" => Some(Format::Protobuf),
            _ => None,
        }
    }

    /// The registry's name (`schemaType`).
    pub fn registry_name(self) -> &'static str {
        match self {
            Format::Avro => "AVRO",
            Format::Json => "JSON",
            Format::Protobuf => "PROTOBUF",
        }
    }

    /// The REST proxy's name (`JSONSCHEMA` for JSON Schema).
    pub fn proxy_name(self) -> &'static str {
        match self {
            Format::Json => "JSONSCHEMA",
            other => other.registry_name(),
        }
    }
}

/// The record's key or its value: each has its own subject (`<topic>-key`, `<topic>-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Key,
    Value,
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Key => "key",
            Part::Value => "value",
        }
    }
}

/// How a subject is named from the topic and the schema (Confluent's strategies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SubjectStrategy {
    /// `<topic>-key` / `<topic>-value`.
    #[default]
    TopicName,
    /// The schema's record (message, title) full name.
    RecordName,
    /// `<topic>-<record name>`.
    TopicRecordName,
}

impl SubjectStrategy {
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "TOPIC_NAME" | "TOPIC" => Some(SubjectStrategy::TopicName),
            "RECORD_NAME" | "RECORD" => Some(SubjectStrategy::RecordName),
            "TOPIC_RECORD_NAME" | "TOPIC_RECORD" => Some(SubjectStrategy::TopicRecordName),
            _ => None,
        }
    }
}

/// Where the schema comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// A registered schema's id.
    Id(u32),
    /// A subject's version, or its latest (`None`); without a subject, the strategy's.
    Subject {
        subject: Option<String>,
        version: Option<i32>,
    },
    /// The schema's text: registered under the strategy's subject (if new), then used.
    Text(String),
}

/// The schema a record's key or value is written with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SchemaChoice {
    /// The format asked for; when given, the schema found must be of it.
    pub format: Option<Format>,
    pub source: Source,
    pub strategy: SubjectStrategy,
    /// Protobuf: the message (by default the file's first).
    pub message: Option<String>,
}

/// The schema a record was written with, for the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Used {
    pub format: Format,
    pub id: u32,
    pub subject: Option<String>,
    pub version: Option<i32>,
}

/// Why a record could not be written with a schema. The HTTP layer maps each to its status.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SchemaError {
    #[error("no Schema Registry is configured (SCHEMA_REGISTRY_URL)")]
    NotConfigured,
    /// The request names no schema where its content type says there is one.
    #[error("the {} schema is missing: give {0}_schema or {0}_schema_id", .part.as_str())]
    Missing { part: Part },
    #[error("{0}")]
    NotFound(String),
    /// The schema's text does not parse or compile, or is not of the format asked for.
    #[error("{0}")]
    Invalid(String),
    /// The registry refused to register the schema (not compatible with the subject's).
    #[error("{0}")]
    Incompatible(String),
    /// The registry refused the service's credentials, or answered what the service cannot
    /// read.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Unavailable(String),
}

/// Data that does not fit its schema: where, and what the schema expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// `.lines[3].total`, empty at the root.
    pub path: String,
    pub detail: String,
}

impl Mismatch {
    pub fn new(detail: impl Into<String>) -> Self {
        Mismatch {
            path: String::new(),
            detail: detail.into(),
        }
    }

    /// The same mismatch, one level further out.
    pub fn at(mut self, segment: impl Into<String>) -> Self {
        let mut segment = segment.into();
        segment.push_str(&self.path);
        self.path = segment;
        self
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.detail)
    }
}

/// A schema, compiled.
#[derive(Debug)]
pub enum Compiled {
    Avro(avro::AvroSchema),
    Json(json_schema::JsonSchema),
    Protobuf(protobuf::ProtoSchema),
}

impl Compiled {
    pub fn parse(format: Format, text: &str) -> Result<Self, SchemaError> {
        let parsed = match format {
            Format::Avro => avro::AvroSchema::parse(text).map(Compiled::Avro),
            Format::Json => json_schema::JsonSchema::parse(text).map(Compiled::Json),
            Format::Protobuf => protobuf::ProtoSchema::parse(text).map(Compiled::Protobuf),
        };
        parsed.map_err(|e| {
            SchemaError::Invalid(format!(
                "the {} schema is not valid: {e}",
                format.proxy_name()
            ))
        })
    }

    /// The record's full name (Avro record, Protobuf message, JSON Schema title).
    fn name(&self) -> Option<String> {
        match self {
            Compiled::Avro(s) => s.name(),
            Compiled::Json(s) => s.name(),
            Compiled::Protobuf(s) => s.name(),
        }
    }
}

/// A schema ready to write records with.
#[derive(Debug)]
pub struct Resolved {
    known: Arc<Known>,
    proto: Option<protobuf::Chosen>,
    pub used: Used,
}

impl Resolved {
    /// `text` (JSON) in Confluent's wire format.
    pub fn encode(&self, text: &str) -> Result<Vec<u8>, Mismatch> {
        let mut out = Vec::with_capacity(64);
        out.push(0);
        out.extend_from_slice(&self.known.id.to_be_bytes());
        let value = || -> Result<Value, Mismatch> {
            serde_json::from_str(text).map_err(|e| Mismatch::new(e.to_string()))
        };
        match (&self.known.compiled, &self.proto) {
            (Compiled::Avro(s), _) => s.encode_text(text, &mut out)?,
            (Compiled::Json(s), _) => s.encode(&value()?, &mut out)?,
            (Compiled::Protobuf(_), Some(chosen)) => {
                protobuf::ProtoSchema::encode(chosen, &value()?, &mut out)?
            }
            (Compiled::Protobuf(_), None) => unreachable!("a message is chosen at resolve"),
        }
        Ok(out)
    }
}

/// The schemas of one service: its registry client and caches.
pub struct Schemas {
    registry: Registry,
}

impl Schemas {
    pub fn new(
        config: &RegistryConfig,
        observer: Arc<dyn RegistryObserver>,
    ) -> Result<Self, String> {
        Ok(Schemas {
            registry: Registry::new(config, observer)?,
        })
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The schema `choice` names for the `part` of a record to `topic`.
    pub async fn resolve(
        &self,
        topic: &str,
        part: Part,
        choice: &SchemaChoice,
    ) -> Result<Resolved, SchemaError> {
        let (known, version) = match &choice.source {
            Source::Id(id) => (self.registry.by_id(*id).await?, None),
            Source::Subject { subject, version } => {
                let subject = match subject {
                    Some(subject) => subject.clone(),
                    None if choice.strategy == SubjectStrategy::TopicName => {
                        format!("{topic}-{}", part.as_str())
                    }
                    None => {
                        return Err(SchemaError::Invalid(
                            "a record-name strategy needs the schema's text or a subject".into(),
                        ));
                    }
                };
                let found = self.registry.version(&subject, *version).await?;
                (self.registry.by_id(found.id).await?, Some(found))
            }
            Source::Text(text) => {
                let format = choice.format.unwrap_or(Format::Avro);
                // Registered before under the topic's subject: no parse, no call.
                let before = (choice.strategy == SubjectStrategy::TopicName)
                    .then(|| {
                        let subject = format!("{topic}-{}", part.as_str());
                        self.registry.registered(&subject, format, text)
                    })
                    .flatten();
                match before {
                    Some(found) => (self.registry.by_id(found.id).await?, Some(found)),
                    None => {
                        let compiled = Compiled::parse(format, text)?;
                        let subject = subject_of(choice.strategy, topic, part, compiled.name())?;
                        // Under a record name, a schema is only looked up: registering it
                        // would change a subject no topic's access rules cover.
                        let may_register = choice.strategy != SubjectStrategy::RecordName;
                        let found = self
                            .registry
                            .register(&subject, format, text, may_register)
                            .await?;
                        let known = self.registry.known(found.id, format, compiled);
                        (known, Some(found))
                    }
                }
            }
        };
        if let Some(format) = choice.format.filter(|f| *f != known.format) {
            return Err(SchemaError::Invalid(format!(
                "schema {} is {}, not {}",
                known.id,
                known.format.proxy_name(),
                format.proxy_name()
            )));
        }
        let proto = match &known.compiled {
            Compiled::Protobuf(schema) => Some(
                schema
                    .message(choice.message.as_deref())
                    .map_err(SchemaError::Invalid)?,
            ),
            _ => None,
        };
        let used = Used {
            format: known.format,
            id: known.id,
            subject: version.as_ref().map(|v: &Version| v.subject.clone()),
            version: version.as_ref().map(|v| v.version),
        };
        Ok(Resolved { known, proto, used })
    }

    /// The subject's latest schema if it has one (for records that name no format).
    pub async fn latest_of(&self, subject: &str) -> Result<Option<u32>, SchemaError> {
        self.registry.latest_id(subject).await
    }
}

fn subject_of(
    strategy: SubjectStrategy,
    topic: &str,
    part: Part,
    name: Option<String>,
) -> Result<String, SchemaError> {
    let name = || {
        name.clone().ok_or_else(|| {
            SchemaError::Invalid(
                "the schema has no record name for the subject name strategy".into(),
            )
        })
    };
    Ok(match strategy {
        SubjectStrategy::TopicName => format!("{topic}-{}", part.as_str()),
        SubjectStrategy::RecordName => name()?,
        SubjectStrategy::TopicRecordName => format!("{topic}-{}", name()?),
    })
}
