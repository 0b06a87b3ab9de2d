//! A v3 key or value as read: its bytes, or its JSON and schema; and the record that carries
//! them until the schema'd parts are written.

use serde_json::value::RawValue;

use super::super::super::formats::{self, Format};
use super::{DataSize, V3Data};
use crate::http::problem::ApiError;
use crate::http::schemas::{choose, Draft, Encoder, Typed};
use crate::http::state::AppState;
use crate::kafka::OutgoingRecord;
use crate::schema::{
    Format as SchemaFormat, Part, SchemaChoice, SchemaError, Source, SubjectStrategy, Used,
};

/// A record read: what is sent, and the sizes its answer reports.
pub(in crate::http::compat::v3) struct Read {
    pub(in crate::http::compat::v3) record: OutgoingRecord,
    pub(super) key: Option<DataSize>,
    pub(super) value: Option<DataSize>,
    /// Key and value to write with a schema.
    pub(super) typed: [Option<Typed>; 2],
    /// Key and value without a type, when a registry is configured: written with the
    /// subject's latest schema if it has one (as JSON otherwise).
    pub(super) typeless: [Option<Box<RawValue>>; 2],
}

impl Read {
    /// Nothing left to write with a schema.
    pub(in crate::http::compat::v3) fn is_written(&self) -> bool {
        self.typed.iter().all(Option::is_none) && self.typeless.iter().all(Option::is_none)
    }

    /// Writes the parts that have a schema (each schema resolved once by `encoder`).
    pub(in crate::http::compat::v3) async fn write(
        mut self,
        state: &AppState,
        encoder: &mut Encoder<'_>,
    ) -> Result<Read, ApiError> {
        for (i, part) in [Part::Key, Part::Value].into_iter().enumerate() {
            let Some(data) = self.typeless[i].take() else {
                continue;
            };
            let subject = format!("{}-{}", self.record.topic, part.as_str());
            let schemas = state.schemas.as_ref().ok_or(ApiError::Schema {
                error: SchemaError::NotConfigured,
                field: Some(part.as_str().into()),
            })?;
            let latest = schemas
                .latest_of(&subject)
                .await
                .map_err(|error| ApiError::Schema {
                    error,
                    field: Some(part.as_str().into()),
                })?;
            if latest.is_some() {
                self.typed[i] = Some(Typed {
                    choice: Box::new(SchemaChoice {
                        format: None,
                        source: Source::Subject {
                            subject: Some(subject),
                            version: None,
                        },
                        strategy: SubjectStrategy::TopicName,
                        message: None,
                    }),
                    data,
                });
            }
        }
        if self.typed.iter().all(Option::is_none) {
            return Ok(self);
        }
        let [key, value] = std::mem::take(&mut self.typed);
        let encoded = encoder
            .encode(Draft {
                record: self.record,
                key,
                value,
            })
            .await?;
        let size =
            |used: &Option<Used>, bytes: &Option<Vec<u8>>, before: Option<DataSize>| match used {
                Some(used) => Some(DataSize {
                    kind: used.format.proxy_name(),
                    size: bytes.as_ref().map_or(0, Vec::len),
                    subject: used.subject.clone(),
                    schema_id: Some(used.id),
                    schema_version: used.version,
                }),
                None => before,
            };
        self.key = size(&encoded.key, &encoded.record.key, self.key.take());
        self.value = size(&encoded.value, &encoded.record.value, self.value.take());
        self.record = encoded.record;
        Ok(self)
    }
}

/// A key or value as read.
pub(super) struct Given {
    pub(super) bytes: Option<Vec<u8>>,
    pub(super) size: Option<DataSize>,
    pub(super) typed: Option<Typed>,
    pub(super) typeless: Option<Box<RawValue>>,
}

/// A key's or value's bytes, and its type and size for the answer; or its JSON for its schema.
pub(super) fn data(given: Option<&V3Data>, part: Part, registry: bool) -> Result<Given, ApiError> {
    let field = part.as_str();
    let none = Given {
        bytes: None,
        size: None,
        typed: None,
        typeless: None,
    };
    let Some(given) = given else {
        return Ok(none);
    };
    let kind = given.kind.as_deref().map(str::to_ascii_uppercase);
    let named = given.schema_id.is_some()
        || given.subject.is_some()
        || given.schema_version.is_some()
        || given.schema.is_some();
    let bad = |name: &str, detail: String| {
        ApiError::bad_field("invalid-property", format!("{field}.{name}"), detail)
    };
    let format = match kind.as_deref() {
        None | Some("JSON") if !named => Format::Json,
        Some("BINARY") if !named => Format::Binary,
        Some("STRING") if !named => Format::Text,
        Some("JSON" | "BINARY" | "STRING") => {
            return Err(bad("type", format!("a {field} of type {} has no schema", kind.unwrap_or_default())))
        }
        None | Some("AVRO" | "JSONSCHEMA" | "PROTOBUF") => {
            let format = kind.as_deref().and_then(SchemaFormat::parse);
            let strategy = match &given.subject_name_strategy {
                None => SubjectStrategy::TopicName,
                Some(name) => SubjectStrategy::parse(name).ok_or_else(|| {
                    bad("subject_name_strategy", format!("{name:?} is not TOPIC_NAME, RECORD_NAME or TOPIC_RECORD_NAME"))
                })?,
            };
            let source = choose(
                given.schema_id,
                given.subject.clone(),
                given.schema_version,
                given.schema.clone(),
            )
            .map_err(|detail| bad("schema", detail))?;
            let data = match given.data {
                Some(data) if data.get() != "null" => data.to_owned(),
                _ => return Ok(none),
            };
            let choice = SchemaChoice {
                format,
                source,
                strategy,
                message: None,
            };
            return Ok(Given {
                bytes: Some(Vec::new()),
                size: None,
                typed: Some(Typed {
                    choice: Box::new(choice),
                    data,
                }),
                typeless: None,
            });
        }
        Some(other) => {
            return Err(bad(
                "type",
                format!("{field}.type must be BINARY, JSON, STRING, AVRO, JSONSCHEMA or PROTOBUF, not {other:?}"),
            ))
        }
    };
    let bytes = match given.data {
        Some(data) => formats::decode(format, data, &format!("{field}.data"))?,
        None => None,
    };
    let typeless = match (kind.is_none() && registry, given.data, &bytes) {
        (true, Some(data), Some(_)) => Some(data.to_owned()),
        _ => None,
    };
    let size = bytes.as_ref().map(|b| DataSize {
        kind: format.v3_name(),
        size: b.len(),
        subject: None,
        schema_id: None,
        schema_version: None,
    });
    Ok(Given {
        bytes,
        size,
        typed: None,
        typeless,
    })
}
