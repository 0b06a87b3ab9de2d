//! JSON Schema: the data is checked against the schema (its draft as it declares, `jsonschema`)
//! and written as compact JSON text.

use serde_json::Value;

use super::Mismatch;

pub struct JsonSchema {
    validator: jsonschema::Validator,
    title: Option<String>,
}

impl std::fmt::Debug for JsonSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonSchema")
            .field("title", &self.title)
            .finish()
    }
}

impl JsonSchema {
    pub fn parse(text: &str) -> Result<Self, String> {
        let schema: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let validator = jsonschema::validator_for(&schema).map_err(|e| e.to_string())?;
        let title = schema
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(JsonSchema { validator, title })
    }

    /// The schema's `title` (for the record-name strategies).
    pub fn name(&self) -> Option<String> {
        self.title.clone()
    }

    pub fn encode(&self, data: &Value, out: &mut Vec<u8>) -> Result<(), Mismatch> {
        if let Err(error) = self.validator.validate(data) {
            let pointer = error.instance_path().as_str().to_owned();
            let mismatch = Mismatch::new(error.to_string());
            return Err(if pointer.is_empty() {
                mismatch
            } else {
                mismatch.at(dotted(&pointer))
            });
        }
        serde_json::to_writer(out, data).map_err(|e| Mismatch::new(e.to_string()))
    }
}

/// A JSON pointer (`/lines/1/total`) as a path (`.lines[1].total`).
fn dotted(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|part| {
            let part = part.replace("~1", "/").replace("~0", "~");
            if part.bytes().all(|b| b.is_ascii_digit()) && !part.is_empty() {
                format!("[{part}]")
            } else {
                format!(".{part}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checks_then_writes_compact_json() {
        let schema = JsonSchema::parse(
            r#"{"type":"object","title":"Order","properties":{"lines":{"type":"array","items":
               {"type":"object","properties":{"total":{"type":"integer"}}}}},"required":["lines"]}"#,
        )
        .unwrap();
        assert_eq!(schema.name().as_deref(), Some("Order"));
        let mut out = Vec::new();
        schema
            .encode(&json!({"lines": [{"total": 1}]}), &mut out)
            .unwrap();
        assert_eq!(out, br#"{"lines":[{"total":1}]}"#);
        let error = schema
            .encode(
                &json!({"lines": [{"total": 1}, {"total": "x"}]}),
                &mut Vec::new(),
            )
            .unwrap_err()
            .to_string();
        assert!(error.starts_with(".lines[1].total: "), "{error}");
        assert!(JsonSchema::parse(r#"{"type": 5}"#).is_err());
    }
}
