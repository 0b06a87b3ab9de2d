//! Avro: a JSON value written in Avro's binary encoding, straight from the JSON, following the
//! schema (parsed once by `apache-avro`). Every mismatch names its path and what the schema
//! expected there.
//!
//! JSON is read as Avro's own JSON encoding reads it, the way Confluent REST Proxy reads it, with
//! a few conveniences: a union's value may be wrapped (`{"string": "x"}`) or bare (the first
//! branch that fits takes it); `bytes` and `fixed` are strings of code points 0-255; a decimal
//! may also be a JSON number or a numeric string (`"12.34"`); a timestamp or date may also be an
//! RFC 3339 text; a record's missing field takes the schema's default.

use std::cell::Cell;
use std::collections::HashMap;

use apache_avro::schema::{DecimalSchema, InnerDecimalSchema, Schema, UuidSchema};
use serde_json::Value;

pub use self::binary::write_long;
use self::binary::{branch_name, code_points, write_bytes};
use self::logical::{date_days, timestamp};
use super::Mismatch;

mod binary;
mod logical;
mod shape;
mod stream;

/// A parsed Avro schema and its named types, for `Ref`s.
#[derive(Debug)]
pub struct AvroSchema {
    root: Schema,
    named: HashMap<String, Schema>,
}

impl AvroSchema {
    pub fn parse(text: &str) -> Result<Self, String> {
        let root = Schema::parse_str(text).map_err(|e| e.to_string())?;
        let mut named = HashMap::new();
        collect_named(&root, &mut named);
        Ok(AvroSchema { root, named })
    }

    /// The full name of the top-level record, enum or fixed (for the record-name strategies).
    pub fn name(&self) -> Option<String> {
        match &self.root {
            Schema::Record(r) => Some(r.name.fullname(None)),
            Schema::Enum(e) => Some(e.name.fullname(None)),
            Schema::Fixed(f) => Some(f.name.fullname(None)),
            _ => None,
        }
    }

    /// `data` in Avro's binary encoding, appended to `out`.
    pub fn encode(&self, data: &Value, out: &mut Vec<u8>) -> Result<(), Mismatch> {
        let writer = Writer {
            named: &self.named,
            steps: Cell::new(MAX_STEPS),
        };
        writer.write(&self.root, data, out)
    }

    /// `text` (JSON) in Avro's binary encoding, appended to `out`: read straight from the text
    /// when it fits the schema, and from its `Value` otherwise (the same bytes, or the mismatch
    /// and its path).
    pub fn encode_text(&self, text: &str, out: &mut Vec<u8>) -> Result<(), Mismatch> {
        let start = out.len();
        if self.encode_straight(text, out) {
            return Ok(());
        }
        out.truncate(start);
        let data: Value = serde_json::from_str(text).map_err(|e| Mismatch::new(e.to_string()))?;
        self.encode(&data, out)
    }

    /// Whether `text` was written straight from the JSON (see `stream`).
    fn encode_straight(&self, text: &str, out: &mut Vec<u8>) -> bool {
        use serde::de::DeserializeSeed;
        let writer = Writer {
            named: &self.named,
            steps: Cell::new(MAX_STEPS),
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let node = stream::Node {
            writer: &writer,
            schema: &self.root,
            out,
        };
        node.deserialize(&mut de).is_ok() && de.end().is_ok()
    }
}

fn collect_named(schema: &Schema, named: &mut HashMap<String, Schema>) {
    match schema {
        Schema::Record(r) => {
            named.insert(r.name.fullname(None), schema.clone());
            for field in &r.fields {
                collect_named(&field.schema, named);
            }
        }
        Schema::Enum(e) => {
            named.insert(e.name.fullname(None), schema.clone());
        }
        Schema::Fixed(f) | Schema::Duration(f) | Schema::Uuid(UuidSchema::Fixed(f)) => {
            named.insert(f.name.fullname(None), schema.clone());
        }
        Schema::Decimal(DecimalSchema {
            inner: InnerDecimalSchema::Fixed(f),
            ..
        }) => {
            named.insert(f.name.fullname(None), schema.clone());
        }
        Schema::Array(a) => collect_named(&a.items, named),
        Schema::Map(m) => collect_named(&m.types, named),
        Schema::Union(u) => u.variants().iter().for_each(|v| collect_named(v, named)),
        _ => {}
    }
}

/// Values written (or tried, for a bare union value) per record, at most: a recursive union
/// tried branch by branch must not take a core for long.
const MAX_STEPS: u32 = 1_000_000;

struct Writer<'a> {
    named: &'a HashMap<String, Schema>,
    steps: Cell<u32>,
}

fn expected(what: impl Into<String>) -> Mismatch {
    Mismatch::new(format!("expected {}", what.into()))
}

impl Writer<'_> {
    fn write(&self, schema: &Schema, data: &Value, out: &mut Vec<u8>) -> Result<(), Mismatch> {
        let left = self.steps.get();
        if left == 0 {
            return Err(Mismatch::new(
                "too deep or too ambiguous to write with this schema",
            ));
        }
        self.steps.set(left - 1);
        match schema {
            Schema::Null => match data {
                Value::Null => Ok(()),
                _ => Err(expected("null")),
            },
            Schema::Boolean => match data {
                Value::Bool(b) => {
                    out.push(u8::from(*b));
                    Ok(())
                }
                _ => Err(expected("boolean")),
            },
            Schema::Int | Schema::TimeMillis => {
                let n = data
                    .as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| expected("int"))?;
                write_long(i64::from(n), out);
                Ok(())
            }
            Schema::Date => {
                let days = match data {
                    Value::String(text) => date_days(text)
                        .ok_or_else(|| expected("a date (days since 1970-01-01, or YYYY-MM-DD)"))?,
                    _ => data
                        .as_i64()
                        .and_then(|n| i32::try_from(n).ok())
                        .ok_or_else(|| expected("a date (int days since 1970-01-01)"))?,
                };
                write_long(i64::from(days), out);
                Ok(())
            }
            Schema::Long | Schema::TimeMicros => {
                write_long(data.as_i64().ok_or_else(|| expected("long"))?, out);
                Ok(())
            }
            Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => {
                let n = match data {
                    Value::String(text) => timestamp(schema, text)
                        .ok_or_else(|| expected("a timestamp (long, or RFC 3339 text)"))?,
                    _ => data
                        .as_i64()
                        .ok_or_else(|| expected("a timestamp (long)"))?,
                };
                write_long(n, out);
                Ok(())
            }
            Schema::Float => {
                let f = data.as_f64().ok_or_else(|| expected("float"))?;
                out.extend_from_slice(&(f as f32).to_le_bytes());
                Ok(())
            }
            Schema::Double => {
                let f = data.as_f64().ok_or_else(|| expected("double"))?;
                out.extend_from_slice(&f.to_le_bytes());
                Ok(())
            }
            Schema::Bytes => {
                let bytes = code_points(data).ok_or_else(|| expected("bytes"))?;
                write_bytes(&bytes, out);
                Ok(())
            }
            Schema::String => match data {
                Value::String(s) => {
                    write_bytes(s.as_bytes(), out);
                    Ok(())
                }
                _ => Err(expected("string")),
            },
            Schema::Uuid(inner) => {
                let text = data.as_str().ok_or_else(|| expected("uuid"))?;
                let uuid = uuid::Uuid::parse_str(text).map_err(|_| expected("uuid"))?;
                match inner {
                    UuidSchema::String => {
                        write_bytes(uuid.hyphenated().to_string().as_bytes(), out)
                    }
                    UuidSchema::Bytes => write_bytes(uuid.as_bytes(), out),
                    UuidSchema::Fixed(_) => out.extend_from_slice(uuid.as_bytes()),
                }
                Ok(())
            }
            Schema::Decimal(decimal) => self.write_decimal(decimal, data, out),
            Schema::BigDecimal => Err(expected("a big-decimal, which is not supported")),
            Schema::Fixed(fixed) | Schema::Duration(fixed) => {
                let bytes = code_points(data)
                    .filter(|b| b.len() == fixed.size)
                    .ok_or_else(|| expected(format!("fixed of {} bytes", fixed.size)))?;
                out.extend_from_slice(&bytes);
                Ok(())
            }
            Schema::Enum(e) => {
                let symbol = data.as_str().unwrap_or_default();
                let index = e
                    .symbols
                    .iter()
                    .position(|s| s == symbol)
                    .ok_or_else(|| expected(format!("one of {:?}", e.symbols)))?;
                write_long(index as i64, out);
                Ok(())
            }
            Schema::Array(array) => {
                let items = data.as_array().ok_or_else(|| expected("array"))?;
                if !items.is_empty() {
                    write_long(items.len() as i64, out);
                    for (i, item) in items.iter().enumerate() {
                        self.write(&array.items, item, out)
                            .map_err(|m| m.at(format!("[{i}]")))?;
                    }
                }
                out.push(0);
                Ok(())
            }
            Schema::Map(map) => {
                let entries = data.as_object().ok_or_else(|| expected("map (object)"))?;
                if !entries.is_empty() {
                    write_long(entries.len() as i64, out);
                    for (key, value) in entries {
                        write_bytes(key.as_bytes(), out);
                        self.write(&map.types, value, out)
                            .map_err(|m| m.at(format!(".{key}")))?;
                    }
                }
                out.push(0);
                Ok(())
            }
            Schema::Record(record) => {
                let object = data.as_object().ok_or_else(|| {
                    expected(format!("record {} (object)", record.name.fullname(None)))
                })?;
                let is_field = |k: &String| {
                    record
                        .lookup
                        .get(k)
                        .is_some_and(|i| record.fields.get(*i).is_some_and(|f| f.name == *k))
                };
                if let Some(unknown) = object.keys().find(|k| !is_field(k)) {
                    return Err(Mismatch::new(format!(
                        "not a field of record {}",
                        record.name.fullname(None)
                    ))
                    .at(format!(".{unknown}")));
                }
                for field in &record.fields {
                    let at = |m: Mismatch| m.at(format!(".{}", field.name));
                    match (object.get(&field.name), &field.default) {
                        (Some(value), _) => self.write(&field.schema, value, out).map_err(at)?,
                        (None, Some(default)) => self
                            .write_default(&field.schema, default, out)
                            .map_err(at)?,
                        (None, None) => {
                            return Err(at(Mismatch::new("missing (the field has no default)")))
                        }
                    }
                }
                Ok(())
            }
            Schema::Union(union) => self.write_union(union.variants(), data, out),
            Schema::Ref { name } => {
                let named = self.named.get(&name.fullname(None)).ok_or_else(|| {
                    Mismatch::new(format!("unknown type {}", name.fullname(None)))
                })?;
                self.write(named, data, out)
            }
        }
    }

    /// A default value: for a union, of its first branch.
    fn write_default(
        &self,
        schema: &Schema,
        default: &Value,
        out: &mut Vec<u8>,
    ) -> Result<(), Mismatch> {
        match schema {
            Schema::Union(union) if !union.variants().is_empty() => {
                write_long(0, out);
                self.write(&union.variants()[0], default, out)
            }
            _ => self.write(schema, default, out),
        }
    }

    fn write_union(
        &self,
        variants: &[Schema],
        data: &Value,
        out: &mut Vec<u8>,
    ) -> Result<(), Mismatch> {
        // Avro's JSON encoding: {"<branch type name>": value}.
        if let Some((name, inner)) = data
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        {
            if let Some(index) = variants
                .iter()
                .position(|v| branch_name(v).as_deref() == Some(name))
            {
                write_long(index as i64, out);
                return self
                    .write(&variants[index], inner, out)
                    .map_err(|m| m.at(format!(".{name}")));
            }
        }
        let start = out.len();
        for (index, variant) in variants.iter().enumerate() {
            if !self.may_fit(variant, data) {
                continue;
            }
            write_long(index as i64, out);
            if self.write(variant, data, out).is_ok() {
                return Ok(());
            }
            out.truncate(start);
        }
        let names: Vec<String> = variants.iter().filter_map(branch_name).collect();
        Err(expected(format!("one of the union's types {names:?}")))
    }
}

#[cfg(test)]
mod tests;
