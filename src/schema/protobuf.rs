//! Protobuf: the schema's `.proto` text compiled at run time (`protox`, with Google's well-known
//! types importable), a JSON value read into the chosen message by its canonical JSON mapping
//! (`prost-reflect`), then encoded. Confluent's wire format names the message by its indexes in
//! the file (`[0]` the first top-level message, `[1, 0]` the first nested in the second).

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, FileDescriptor, MessageDescriptor};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};
use serde_json::Value;

use super::Mismatch;

const FILE_NAME: &str = "schema.proto";

#[derive(Debug)]
pub struct ProtoSchema {
    file: FileDescriptor,
}

/// The schema's own text, under one file name, before Google's files.
struct Source(String);

impl FileResolver for Source {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if name == FILE_NAME {
            File::from_source(name, &self.0)
        } else {
            Err(protox::Error::file_not_found(name))
        }
    }
}

/// One message of the schema, and its indexes in Confluent's wire format.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub message: MessageDescriptor,
    pub indexes: Vec<i32>,
}

impl ProtoSchema {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut resolver = ChainFileResolver::new();
        resolver.add(Source(text.to_owned()));
        resolver.add(GoogleFileResolver::new());
        let mut compiler = protox::Compiler::with_file_resolver(resolver);
        compiler.include_imports(true);
        compiler.open_file(FILE_NAME).map_err(|e| e.to_string())?;
        let pool: DescriptorPool = compiler.descriptor_pool();
        let file = pool
            .get_file_by_name(FILE_NAME)
            .ok_or_else(|| "the schema compiled to nothing".to_owned())?;
        if file.messages().next().is_none() {
            return Err("the schema defines no message".into());
        }
        Ok(ProtoSchema { file })
    }

    /// The first top-level message's full name (for the record-name strategies).
    pub fn name(&self) -> Option<String> {
        self.file
            .messages()
            .next()
            .map(|m| m.full_name().to_owned())
    }

    /// The message named (full name, or a name relative to the file's package), by default the
    /// file's first.
    pub fn message(&self, name: Option<&str>) -> Result<Chosen, String> {
        let message = match name {
            None => self.file.messages().next().expect("checked at parse"),
            Some(name) => {
                let pool = self.file.parent_pool();
                let package = self.file.package_name();
                pool.get_message_by_name(name)
                    .or_else(|| pool.get_message_by_name(&format!("{package}.{name}")))
                    .filter(|m| m.parent_file() == self.file)
                    .ok_or_else(|| format!("the schema has no message {name:?}"))?
            }
        };
        let indexes = indexes_of(&self.file, &message);
        Ok(Chosen { message, indexes })
    }

    /// The message's indexes, then `data` as that message in protobuf's binary encoding.
    pub fn encode(chosen: &Chosen, data: &Value, out: &mut Vec<u8>) -> Result<(), Mismatch> {
        let mut track = serde_path_to_error::Track::new();
        let deserializer = serde_path_to_error::Deserializer::new(data, &mut track);
        let message =
            DynamicMessage::deserialize(chosen.message.clone(), deserializer).map_err(|e| {
                let path = track.path().to_string();
                let mismatch = Mismatch::new(e.to_string());
                if path == "." {
                    mismatch
                } else {
                    mismatch.at(format!(".{path}"))
                }
            })?;
        write_indexes(&chosen.indexes, out);
        message
            .encode(out)
            .map_err(|e| Mismatch::new(e.to_string()))
    }
}

fn indexes_of(file: &FileDescriptor, message: &MessageDescriptor) -> Vec<i32> {
    let mut path = Vec::new();
    let mut current = message.clone();
    loop {
        match current.parent_message() {
            Some(parent) => {
                let at = parent
                    .child_messages()
                    .position(|m| m == current)
                    .unwrap_or_default();
                path.push(at as i32);
                current = parent;
            }
            None => {
                let at = file
                    .messages()
                    .position(|m| m == current)
                    .unwrap_or_default();
                path.push(at as i32);
                break;
            }
        }
    }
    path.reverse();
    path
}

/// Confluent's message indexes: their count then each, as zig-zag varints; `[0]` as a single 0.
fn write_indexes(indexes: &[i32], out: &mut Vec<u8>) {
    if indexes == [0] {
        out.push(0);
        return;
    }
    super::avro::write_long(indexes.len() as i64, out);
    for index in indexes {
        super::avro::write_long(i64::from(*index), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: &str = r#"syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
message Order { string id = 1; int64 total = 2; repeated Line lines = 3;
  message Line { string sku = 1; int32 count = 2; } google.protobuf.Timestamp at = 4; }
message Refund { string order_id = 1; }"#;

    #[test]
    fn messages_by_name_with_their_indexes() {
        let schema = ProtoSchema::parse(SCHEMA).unwrap();
        assert_eq!(schema.message(None).unwrap().indexes, vec![0]);
        assert_eq!(schema.message(Some("Refund")).unwrap().indexes, vec![1]);
        assert_eq!(
            schema.message(Some("shop.Order.Line")).unwrap().indexes,
            vec![0, 0]
        );
        assert!(schema.message(Some("Nope")).is_err());
        let mut out = Vec::new();
        let refund = schema.message(Some("shop.Refund")).unwrap();
        ProtoSchema::encode(&refund, &json!({"orderId": "o-1"}), &mut out).unwrap();
        assert_eq!(&out[..2], &[2, 2]);
        let decoded = DynamicMessage::decode(refund.message.clone(), &out[2..]).unwrap();
        assert_eq!(
            decoded.get_field_by_name("order_id").unwrap().as_str(),
            Some("o-1")
        );
    }

    #[test]
    fn mismatches_name_their_path() {
        let schema = ProtoSchema::parse(SCHEMA).unwrap();
        let order = schema.message(None).unwrap();
        let mut out = Vec::new();
        let data = json!({"id": "o", "total": "12", "lines": [{"sku": "a"}, {"count": "many"}],
            "at": "2026-12-06T10:00:00Z"});
        let error = ProtoSchema::encode(&order, &data, &mut out)
            .unwrap_err()
            .to_string();
        assert!(error.starts_with(".lines[1].count: "), "{error}");
        assert!(ProtoSchema::parse("syntax = \"proto3\"; message {").is_err());
    }
}
