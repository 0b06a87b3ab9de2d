//! Avro's binary encoding of the primitives, and the names of union branches.

use apache_avro::schema::{InnerDecimalSchema, Schema, UuidSchema};
use serde_json::Value;

/// The name a union branch goes by in Avro's JSON encoding.
pub(super) fn branch_name(schema: &Schema) -> Option<String> {
    Some(
        match schema {
            Schema::Null => "null",
            Schema::Boolean => "boolean",
            Schema::Int | Schema::Date | Schema::TimeMillis => "int",
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => "long",
            Schema::Float => "float",
            Schema::Double => "double",
            Schema::Bytes | Schema::BigDecimal => "bytes",
            Schema::String => "string",
            Schema::Uuid(UuidSchema::String) => "string",
            Schema::Uuid(UuidSchema::Fixed(f)) => return Some(f.name.fullname(None)),
            Schema::Uuid(_) => "bytes",
            Schema::Decimal(d) => match &d.inner {
                InnerDecimalSchema::Bytes => "bytes",
                InnerDecimalSchema::Fixed(f) => return Some(f.name.fullname(None)),
            },
            Schema::Array(_) => "array",
            Schema::Map(_) => "map",
            Schema::Union(_) => return None,
            Schema::Record(r) => return Some(r.name.fullname(None)),
            Schema::Enum(e) => return Some(e.name.fullname(None)),
            Schema::Fixed(f) | Schema::Duration(f) => return Some(f.name.fullname(None)),
            Schema::Ref { name } => return Some(name.fullname(None)),
        }
        .to_owned(),
    )
}

/// Avro's zig-zag variable-length integer.
pub fn write_long(n: i64, out: &mut Vec<u8>) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

pub(super) fn write_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    write_long(bytes.len() as i64, out);
    out.extend_from_slice(bytes);
}

/// A JSON string of code points 0-255 as bytes (Avro's JSON encoding of bytes and fixed).
pub(super) fn code_points(data: &Value) -> Option<Vec<u8>> {
    data.as_str()?
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}
