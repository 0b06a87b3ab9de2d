//! Reading a v2 produce body: the request and record types, and their checks (the fuzz
//! targets drive [`parse_v2`]).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use serde::Deserialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::super::formats::{self, V2Format};
use crate::http::body;
use crate::http::json;
use crate::http::problem::ApiError;
use crate::http::record::{checked, HeaderNames};
use crate::http::schemas::{Draft, Typed};
use crate::kafka::{OutgoingRecord, TopicName};
use crate::schema::{Part, SchemaChoice, SchemaError, Source, SubjectStrategy};
use crate::settings::Limits;

/// A v2 produce request. Schemas (`key_schema`, `value_schema`, their ids) go with the avro,
/// jsonschema and protobuf content types, and need a Schema Registry (422 without one).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"records": [{"key": "a2V5", "value": "Y29uZmx1ZW50"}, {"value": "a2Fma2E=", "partition": 1}, {"value": "bG9ncw=="}]}))]
pub struct V2Request<'a> {
    /// The records, sent in this order (1 to `MAX_BATCH_RECORDS`).
    #[serde(borrow)]
    #[schema(value_type = Vec<V2Record>, min_items = 1)]
    pub records: Option<Vec<&'a RawValue>>,
    /// The keys' schema text (registered under `<topic>-key`).
    #[schema(value_type = Option<String>)]
    pub key_schema: Option<&'a RawValue>,
    /// The keys' registered schema id.
    #[schema(value_type = Option<i32>, minimum = 1)]
    pub key_schema_id: Option<&'a RawValue>,
    /// The values' schema text (registered under `<topic>-value`).
    #[schema(value_type = Option<String>)]
    pub value_schema: Option<&'a RawValue>,
    /// The values' registered schema id.
    #[schema(value_type = Option<i32>, minimum = 1)]
    pub value_schema_id: Option<&'a RawValue>,
}

/// One record: key and value in the request's format (binary: base64; json: any JSON value;
/// text: a string); `null` or absent, none.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct V2Record<'a> {
    #[serde(borrow)]
    #[schema(value_type = Option<Object>)]
    pub key: Option<&'a RawValue>,
    #[serde(borrow)]
    #[schema(value_type = Option<Object>)]
    pub value: Option<&'a RawValue>,
    /// An explicit partition (not on the partition route, whose path names it).
    #[schema(minimum = 0)]
    pub partition: Option<i32>,
    /// Milliseconds since the epoch (Strimzi); by default when it is produced.
    pub timestamp: Option<i64>,
    /// Headers (Strimzi): each a name and a base64 value.
    pub headers: Option<Vec<V2Header>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct V2Header {
    pub key: String,
    /// Base64.
    pub value: Option<String>,
}

/// A v2 request's records, checked: every fault of any record refuses the request.
pub fn parse_v2(
    body: Result<Bytes, BytesRejection>,
    format: V2Format,
    topic: &TopicName,
    partition: Option<i32>,
    limits: &Limits,
) -> Result<Vec<Draft>, ApiError> {
    let bytes = body::read(body, limits.max_batch_body_bytes)?;
    let request: V2Request = body::required(
        &bytes,
        "send a JSON object such as {\"records\":[{\"key\":\"a2V5\",\"value\":\"dmFsdWU=\"}]}",
    )?;
    let key_schema = schema_named(format, request.key_schema_id, request.key_schema, "key")?;
    let value_schema = schema_named(
        format,
        request.value_schema_id,
        request.value_schema,
        "value",
    )?;
    let records = request.records.unwrap_or_default();
    if records.is_empty() {
        return Err(ApiError::unprocessable(
            "invalid-payload",
            Some("records".into()),
            "records must be a non-empty array of record objects",
        ));
    }
    if records.len() > limits.max_batch_records {
        return Err(ApiError::TooManyRecords {
            count: records.len(),
            limit: limits.max_batch_records,
        });
    }
    records
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let at = |field: &str| format!("records[{i}]{field}");
            let record: V2Record =
                json::object(text.get().as_bytes()).map_err(|fault| match fault {
                    Ok(_) => ApiError::unprocessable(
                        "invalid-payload",
                        Some(at("")),
                        format!("{}: a record must be a JSON object", at("")),
                    ),
                    Err(error) => error.at_record(i),
                })?;
            if partition.is_some() && record.partition.is_some() {
                return Err(ApiError::unprocessable(
                    "invalid-payload",
                    Some(at(".partition")),
                    "the path names the partition: a record may not name one",
                ));
            }
            let (key, key_typed) = part(format, record.key, &key_schema, Part::Key, &at(".key"))?;
            let (value, value_typed) = part(
                format,
                record.value,
                &value_schema,
                Part::Value,
                &at(".value"),
            )?;
            let headers = record
                .headers
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(h, header)| {
                    let value = header
                        .value
                        .map(|v| formats::decode_base64(&v, &at(&format!(".headers[{h}].value"))))
                        .transpose()?;
                    Ok((header.key, value))
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let outgoing = OutgoingRecord {
                topic: topic.clone(),
                key,
                value,
                headers,
                partition: partition.or(record.partition),
                timestamp: record.timestamp,
            };
            let record =
                checked(outgoing, limits, HeaderNames::AsGiven).map_err(|e| e.at_record(i))?;
            Ok(Draft {
                record,
                key: key_typed,
                value: value_typed,
            })
        })
        .collect()
}

/// The schema `<part>_schema_id` or `<part>_schema` names: only with a schema content type.
fn schema_named(
    format: V2Format,
    id: Option<&RawValue>,
    text: Option<&RawValue>,
    part: &str,
) -> Result<Option<SchemaChoice>, ApiError> {
    fn given(v: Option<&RawValue>) -> Option<&RawValue> {
        v.filter(|v| v.get() != "null")
    }
    let (id, text) = (given(id), given(text));
    let invalid = |field: String, detail: &str| {
        ApiError::unprocessable(
            "invalid-payload",
            Some(field.clone()),
            format!("{field}: {detail}"),
        )
    };
    let V2Format::Schema(schema_format) = format else {
        return match id.map(|_| "_schema_id").or(text.map(|_| "_schema")) {
            Some(name) => Err(invalid(
                format!("{part}{name}"),
                "a schema goes with the avro, jsonschema and protobuf content types",
            )),
            None => Ok(None),
        };
    };
    let id = id
        .map(|raw| {
            serde_json::from_str::<u32>(raw.get())
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| {
                    invalid(
                        format!("{part}_schema_id"),
                        "expected a schema id (a positive integer)",
                    )
                })
        })
        .transpose()?;
    let text = text
        .map(|raw| {
            serde_json::from_str::<String>(raw.get()).map_err(|_| {
                invalid(
                    format!("{part}_schema"),
                    "expected the schema's text (a string)",
                )
            })
        })
        .transpose()?;
    let source = match (id, text) {
        (Some(id), None) => Source::Id(id),
        (None, Some(text)) => Source::Text(text),
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(invalid(
                format!("{part}_schema"),
                "give the schema or its id, not both",
            ))
        }
    };
    Ok(Some(SchemaChoice {
        format: Some(schema_format),
        source,
        strategy: SubjectStrategy::TopicName,
        message: None,
    }))
}

/// A record's key or value: its bytes in an embedded format, or its JSON for its schema.
fn part(
    format: V2Format,
    given: Option<&RawValue>,
    schema: &Option<SchemaChoice>,
    part: Part,
    field: &str,
) -> Result<(Option<Vec<u8>>, Option<Typed>), ApiError> {
    let Some(given) = given.filter(|v| v.get() != "null") else {
        return Ok((None, None));
    };
    match (format, schema) {
        (V2Format::Embedded(format), _) => Ok((formats::decode(format, given, field)?, None)),
        (V2Format::Schema(_), None) => Err(ApiError::Schema {
            error: SchemaError::Missing { part },
            field: Some(field.to_owned()),
        }),
        (V2Format::Schema(_), Some(choice)) => {
            let data = given.to_owned();
            Ok((
                Some(Vec::new()),
                Some(Typed {
                    choice: Box::new(choice.clone()),
                    data,
                }),
            ))
        }
    }
}
