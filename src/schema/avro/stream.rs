//! Avro's binary encoding read straight from the JSON text, driven by the schema: no
//! `serde_json::Value` for records, arrays, strings and numbers, and a record's fields written
//! as they come when they come in the schema's order (buffered when they do not).
//!
//! This path only writes what it is sure of. A mismatch, a repeated field, or a value it leaves
//! to [`Writer::write`] fails here with a bare signal; [`super::AvroSchema::encode_text`] then
//! writes the record again from its `Value`, which gives the same bytes on success and names the
//! mismatch's path on failure. A union's value, a map, and the logical types are read into a
//! `Value` and written by [`Writer`] in place.

use std::fmt;

use apache_avro::schema::{RecordSchema, Schema};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::binary::{branch_name, write_bytes, write_long};
use super::Writer;

/// The value at one place in the JSON, written with its schema.
pub(super) struct Node<'w, 's, 'o> {
    pub(super) writer: &'w Writer<'s>,
    pub(super) schema: &'s Schema,
    pub(super) out: &'o mut Vec<u8>,
}

/// The name under which serde_json (`raw_value`) carries a raw value in an object: a `Value`
/// read from such an object is the raw value, not the object.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// The bare signal: the caller writes the record again from its `Value`.
fn again<E: de::Error>() -> E {
    E::custom("written again from the value")
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        let Node {
            writer,
            schema,
            out,
        } = self;
        let left = writer.steps.get();
        if left == 0 {
            return Err(again());
        }
        writer.steps.set(left - 1);
        match schema {
            Schema::Null => <()>::deserialize(de),
            Schema::Boolean => {
                out.push(u8::from(bool::deserialize(de)?));
                Ok(())
            }
            Schema::Int | Schema::TimeMillis => {
                write_long(i64::from(i32::deserialize(de)?), out);
                Ok(())
            }
            Schema::Long | Schema::TimeMicros => {
                write_long(i64::deserialize(de)?, out);
                Ok(())
            }
            Schema::Float => {
                out.extend_from_slice(&(f64::deserialize(de)? as f32).to_le_bytes());
                Ok(())
            }
            Schema::Double => {
                out.extend_from_slice(&f64::deserialize(de)?.to_le_bytes());
                Ok(())
            }
            Schema::String => de.deserialize_str(Text { out, symbols: None }),
            Schema::Enum(e) => de.deserialize_str(Text {
                out,
                symbols: Some(&e.symbols),
            }),
            Schema::Array(array) => de.deserialize_seq(Items {
                writer,
                items: &array.items,
                out,
            }),
            Schema::Record(record) => de.deserialize_map(Fields {
                writer,
                record,
                out,
            }),
            Schema::Union(union) => de.deserialize_any(Branches {
                writer,
                variants: union.variants(),
                out,
            }),
            Schema::Ref { name } => {
                let named = writer.named.get(&name.fullname(None)).ok_or_else(again)?;
                Node {
                    writer,
                    schema: named,
                    out,
                }
                .deserialize(de)
            }
            // Maps, bytes, fixed, decimals, uuids, dates and timestamps: from their `Value`.
            _ => {
                let value = Value::deserialize(de)?;
                writer.write(schema, &value, out).map_err(|_| again())
            }
        }
    }
}

/// A string, or an enum's symbol (written as its index).
struct Text<'o, 's> {
    out: &'o mut Vec<u8>,
    symbols: Option<&'s [String]>,
}

impl Visitor<'_> for Text<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        match self.symbols {
            None => write_bytes(text.as_bytes(), self.out),
            Some(symbols) => {
                let index = symbols.iter().position(|s| s == text).ok_or_else(again)?;
                write_long(index as i64, self.out);
            }
        }
        Ok(())
    }
}

/// An array's items: counted, then written as one block.
struct Items<'w, 's, 'o> {
    writer: &'w Writer<'s>,
    items: &'s Schema,
    out: &'o mut Vec<u8>,
}

impl<'de> Visitor<'de> for Items<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut block = Vec::new();
        let mut count = 0i64;
        while seq
            .next_element_seed(Node {
                writer: self.writer,
                schema: self.items,
                out: &mut block,
            })?
            .is_some()
        {
            count += 1;
        }
        if count > 0 {
            write_long(count, self.out);
            self.out.extend_from_slice(&block);
        }
        self.out.push(0);
        Ok(())
    }
}

/// A record's fields, in the schema's order whatever the JSON's; a missing one takes its
/// default.
struct Fields<'w, 's, 'o> {
    writer: &'w Writer<'s>,
    record: &'s RecordSchema,
    out: &'o mut Vec<u8>,
}

/// A record's field name, as its index.
struct FieldName<'s>(&'s RecordSchema);

impl<'de> DeserializeSeed<'de> for FieldName<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<usize, D::Error> {
        de.deserialize_str(self)
    }
}

impl Visitor<'_> for FieldName<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<usize, E> {
        self.0
            .lookup
            .get(name)
            .copied()
            .filter(|&i| self.0.fields.get(i).is_some_and(|f| f.name == name))
            .ok_or_else(again)
    }
}

impl<'de> Visitor<'de> for Fields<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Fields {
            writer,
            record,
            out,
        } = self;
        let fields = &record.fields;
        // Fields before `written` are in `out`; later ones that came early wait in `early`.
        let mut written = 0;
        let mut early: Vec<Option<Vec<u8>>> = Vec::new();
        while let Some(index) = map.next_key_seed(FieldName(record))? {
            let waiting = early.get(index).is_some_and(Option::is_some);
            if index < written || waiting {
                // Given twice: the `Value` keeps the last.
                return Err(again());
            }
            let schema = &fields[index].schema;
            if index > written {
                let mut part = Vec::new();
                map.next_value_seed(Node {
                    writer,
                    schema,
                    out: &mut part,
                })?;
                if early.len() < fields.len() {
                    early.resize(fields.len(), None);
                }
                early[index] = Some(part);
                continue;
            }
            map.next_value_seed(Node {
                writer,
                schema,
                out: &mut *out,
            })?;
            written += 1;
            while let Some(part) = early.get_mut(written).and_then(Option::take) {
                out.extend_from_slice(&part);
                written += 1;
            }
        }
        for (index, field) in fields.iter().enumerate().skip(written) {
            match (early.get_mut(index).and_then(Option::take), &field.default) {
                (Some(part), _) => out.extend_from_slice(&part),
                (None, Some(default)) => writer
                    .write_default(&field.schema, default, out)
                    .map_err(|_| again())?,
                (None, None) => return Err(again()),
            }
        }
        Ok(())
    }
}

/// A union's value: `{"<branch>": value}` (Avro's JSON encoding) read straight; a bare value
/// read into a `Value` and written by [`Writer`], which tries the branches it may fit.
struct Branches<'w, 's, 'o> {
    writer: &'w Writer<'s>,
    variants: &'s [Schema],
    out: &'o mut Vec<u8>,
}

impl Branches<'_, '_, '_> {
    fn bare<E: de::Error>(self, value: Value) -> Result<(), E> {
        self.writer
            .write_union(self.variants, &value, self.out)
            .map_err(|_| again())
    }
}

impl<'de> Visitor<'de> for Branches<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a union's value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.bare(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<(), E> {
        self.bare(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<(), E> {
        self.bare(Value::from(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<(), E> {
        self.bare(Value::from(n))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<(), E> {
        self.bare(Value::from(n))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        // The branches are tried in turn: the first string or enum that takes it, unless a
        // branch before them may take a string too (a date, a decimal...: the `Value`'s).
        // Each branch tried costs a step, as it does in `Writer::write_union`.
        let probe = Value::String(String::new());
        let mut tried = 0;
        for (index, variant) in self.variants.iter().enumerate() {
            if !self.writer.may_fit(variant, &probe) {
                continue;
            }
            tried += 1;
            let symbol = match variant {
                Schema::String => None,
                Schema::Enum(e) => match e.symbols.iter().position(|s| s == text) {
                    Some(symbol) => Some(symbol),
                    None => continue,
                },
                _ => break,
            };
            let left = self.writer.steps.get();
            if left < tried {
                return Err(again());
            }
            self.writer.steps.set(left - tried);
            write_long(index as i64, self.out);
            match symbol {
                None => write_bytes(text.as_bytes(), self.out),
                Some(symbol) => write_long(symbol as i64, self.out),
            }
            return Ok(());
        }
        self.bare(Value::from(text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let value = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        self.bare(value)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return self.bare(Value::Object(Map::new()));
        };
        if first == RAW_VALUE_TOKEN {
            // `Value` reads an object under this one name as a raw value, not as a map.
            return Err(again());
        }
        let branch = self
            .variants
            .iter()
            .position(|v| branch_name(v).as_deref() == Some(first.as_str()));
        let Some(index) = branch else {
            // A bare record or map: the whole object, then the branches it may fit.
            let mut object = Map::new();
            object.insert(first, map.next_value()?);
            while let Some((key, value)) = map.next_entry::<String, Value>()? {
                object.insert(key, value);
            }
            return self.bare(Value::Object(object));
        };
        let mut part = Vec::new();
        map.next_value_seed(Node {
            writer: self.writer,
            schema: &self.variants[index],
            out: &mut part,
        })?;
        if map.next_key::<de::IgnoredAny>()?.is_some() {
            // Not the one-key form after all: the `Value` tells what it is.
            return Err(again());
        }
        write_long(index as i64, self.out);
        self.out.extend_from_slice(&part);
        Ok(())
    }
}
