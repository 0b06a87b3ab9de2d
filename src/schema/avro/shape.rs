//! Which union branches a bare JSON value may fit, before any is tried.

use apache_avro::schema::Schema;
use serde_json::Value;

use super::Writer;

impl Writer<'_> {
    /// Whether `data` is of the JSON kind `schema` reads (a record: an object of its fields):
    /// a bare union value is only tried on the branches it may fit.
    pub(super) fn may_fit(&self, schema: &Schema, data: &Value) -> bool {
        match (schema, data) {
            (Schema::Null, Value::Null) | (Schema::Boolean, Value::Bool(_)) => true,
            (Schema::Ref { name }, _) => self
                .named
                .get(&name.fullname(None))
                .is_some_and(|named| self.may_fit(named, data)),
            (Schema::Record(record), Value::Object(object)) => object
                .keys()
                .all(|k| record.fields.iter().any(|f| f.name == *k)),
            (Schema::Map(_), Value::Object(_)) | (Schema::Array(_), Value::Array(_)) => true,
            (
                Schema::Int
                | Schema::Long
                | Schema::Float
                | Schema::Double
                | Schema::Decimal(_)
                | Schema::Date
                | Schema::TimeMillis
                | Schema::TimeMicros
                | Schema::TimestampMillis
                | Schema::TimestampMicros
                | Schema::TimestampNanos
                | Schema::LocalTimestampMillis
                | Schema::LocalTimestampMicros
                | Schema::LocalTimestampNanos,
                Value::Number(_),
            ) => true,
            (
                Schema::String
                | Schema::Bytes
                | Schema::Enum(_)
                | Schema::Fixed(_)
                | Schema::Duration(_)
                | Schema::Uuid(_)
                | Schema::Decimal(_)
                | Schema::Date
                | Schema::TimestampMillis
                | Schema::TimestampMicros
                | Schema::TimestampNanos
                | Schema::LocalTimestampMillis
                | Schema::LocalTimestampMicros
                | Schema::LocalTimestampNanos,
                Value::String(_),
            ) => true,
            _ => false,
        }
    }
}
