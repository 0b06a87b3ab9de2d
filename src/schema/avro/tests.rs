//! Written by this module, read by apache-avro; mismatches and decimals.
use super::logical::unscaled;
use super::*;
use serde_json::json;

/// `data` written from its `Value` and from its text: both must give the same bytes, or the
/// same mismatch.
fn encode(schema: &str, data: Value) -> Result<Vec<u8>, String> {
    let schema = AvroSchema::parse(schema).unwrap();
    let mut out = Vec::new();
    let from_value = schema
        .encode(&data, &mut out)
        .map(|()| out)
        .map_err(|m| m.to_string());
    let mut out = vec![7];
    let from_text = schema
        .encode_text(&data.to_string(), &mut out)
        .map(|()| out[1..].to_vec())
        .map_err(|m| m.to_string());
    assert_eq!(from_value, from_text, "{data}");
    from_value
}

/// Whether `text` is written straight from the JSON, and with what bytes.
fn straight(schema: &AvroSchema, text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    schema.encode_straight(text, &mut out).then_some(out)
}

#[test]
fn records_are_written_straight_from_their_text_in_any_field_order() {
    let text = r#"{"type":"record","name":"Order","fields":[
        {"name":"id","type":"long"},
        {"name":"total","type":"int"},
        {"name":"currency","type":{"type":"enum","name":"Currency","symbols":["EUR","USD"]}},
        {"name":"note","type":["null","string"],"default":null},
        {"name":"lines","type":{"type":"array","items":"double"}},
        {"name":"ok","type":"boolean","default":true}]}"#;
    let schema = AvroSchema::parse(text).unwrap();
    let in_order = r#"{"id":-3,"total":70000,"currency":"USD","note":{"string":"h\u00e9"},"lines":[1.5,2],"ok":false}"#;
    let shuffled = r#"{"lines":[1.5,2],"ok":false,"currency":"USD","id":-3,"note":{"string":"h\u00e9"},"total":70000}"#;
    let expected = encode(text, serde_json::from_str(in_order).unwrap()).unwrap();
    assert_eq!(straight(&schema, in_order).as_deref(), Some(&expected[..]));
    assert_eq!(straight(&schema, shuffled).as_deref(), Some(&expected[..]));
    // A missing field with a default, a bare null in the union.
    let defaults = r#"{"id":1,"total":2,"currency":"EUR","note":null,"lines":[]}"#;
    assert_eq!(
        straight(&schema, defaults),
        Some(vec![2, 4, 0, 0, 0, 1]),
        "id 1, total 2, EUR, the union's null branch, no lines, ok = true"
    );
    // Left to the `Value`: a field given twice (the last counts), a mismatch (its path).
    let twice = r#"{"id":1,"id":5,"total":2,"currency":"EUR","lines":[]}"#;
    assert_eq!(straight(&schema, twice), None);
    let mut out = Vec::new();
    schema.encode_text(twice, &mut out).unwrap();
    assert_eq!(out[0], 10, "id 5 (zig-zag)");
    let wrong = r#"{"id":1,"total":2,"currency":"GBP","lines":[]}"#;
    assert_eq!(straight(&schema, wrong), None);
    let error = schema.encode_text(wrong, &mut Vec::new()).unwrap_err();
    assert_eq!(error.path, ".currency");
}

#[test]
fn a_bare_string_in_a_union_takes_the_first_branch_that_fits_it() {
    let text = r#"["null",{"type":"enum","name":"Size","symbols":["S","M"]},"string"]"#;
    let schema = AvroSchema::parse(text).unwrap();
    assert_eq!(straight(&schema, r#""M""#), Some(vec![2, 2]), "the enum, M");
    assert_eq!(
        straight(&schema, r#""XL""#),
        Some(vec![4, 4, b'X', b'L']),
        "the string"
    );
    assert_eq!(straight(&schema, "null"), Some(vec![0]));
    for data in [
        json!("M"),
        json!("XL"),
        json!(null),
        json!({"Size": "S"}),
        json!(3),
    ] {
        encode(text, data).ok();
    }
}

#[test]
fn apache_avro_reads_what_is_written() {
    let text = r#"{"type":"record","name":"Order","namespace":"shop","fields":[
        {"name":"id","type":"long"},
        {"name":"note","type":["null","string"],"default":null},
        {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]}},
        {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
        {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
        {"name":"tags","type":{"type":"array","items":"string"}},
        {"name":"extra","type":{"type":"map","values":"int"}},
        {"name":"next","type":["null","Order"],"default":null}]}"#;
    let data = json!({"id": 42, "note": {"string": "hi"}, "kind": "B", "price": -12.5,
        "at": "2026-12-06T10:00:00Z", "tags": ["x", "y"], "extra": {"a": 1},
        "next": {"id": 1, "kind": "A", "price": 0.01, "at": 5, "tags": [], "extra": {}}});
    let bytes = encode(text, data).unwrap();
    let schema = apache_avro::Schema::parse_str(text).unwrap();
    let reader = apache_avro::reader::datum::GenericDatumReader::builder(&schema)
        .build()
        .unwrap();
    let read = reader.read_value(&mut &bytes[..]).unwrap();
    let apache_avro::types::Value::Record(fields) = read else {
        panic!("{read:?}")
    };
    assert_eq!(
        fields[0],
        ("id".into(), apache_avro::types::Value::Long(42))
    );
    assert_eq!(
        fields[1].1,
        apache_avro::types::Value::Union(
            1,
            Box::new(apache_avro::types::Value::String("hi".into()))
        )
    );
    assert_eq!(fields[2].1, apache_avro::types::Value::Enum(1, "B".into()));
    assert_eq!(
        fields[3].1,
        apache_avro::types::Value::Decimal(apache_avro::Decimal::from(vec![0xfb, 0x1e]))
    );
    assert_eq!(
        fields[4].1,
        apache_avro::types::Value::TimestampMillis(1_796_551_200_000)
    );
}

#[test]
fn mismatches_name_their_path() {
    let text = r#"{"type":"record","name":"R","fields":[{"name":"lines","type":{"type":"array","items":
        {"type":"record","name":"L","fields":[{"name":"total","type":"long"}]}}}]}"#;
    let error = encode(text, json!({"lines": [{"total": 1}, {"total": "x"}]})).unwrap_err();
    assert_eq!(error, ".lines[1].total: expected long");
    let error = encode(text, json!({"lines": [], "other": 1})).unwrap_err();
    assert_eq!(error, ".other: not a field of record R");
    let error = encode(text, json!({})).unwrap_err();
    assert_eq!(error, ".lines: missing (the field has no default)");
    assert_eq!(
        encode(r#""int""#, json!(1u64 << 40)).unwrap_err(),
        ": expected int"
    );
}

#[test]
fn decimals_are_scaled_and_bounded() {
    assert_eq!(unscaled("12.34", 2), Some(1234));
    assert_eq!(unscaled("-1", 3), Some(-1000));
    assert_eq!(unscaled("1.234", 2), None);
    assert_eq!(unscaled("1e3", 2), None);
    let text = r#"{"type":"bytes","logicalType":"decimal","precision":3,"scale":1}"#;
    assert!(encode(text, json!(99.9)).is_ok());
    assert!(encode(text, json!(100)).is_err());
    // A string is Avro's JSON encoding of the bytes: "0" is the single byte 0x30, 4.8 at scale 1.
    assert_eq!(encode(text, json!("0")).unwrap(), vec![2, 0x30]);
    // A float with more digits than a double keeps is refused, not rounded.
    let wide = r#"{"type":"bytes","logicalType":"decimal","precision":38,"scale":2}"#;
    assert!(encode(wide, json!(12345678901234567.89)).is_err());
    assert!(encode(wide, json!(123456789012345678_i64)).is_ok());
}

#[test]
fn a_recursive_union_tried_bare_is_bounded() {
    let text = r#"{"type":"record","name":"N","fields":[{"name":"next","type":["null","N",
        {"type":"record","name":"M","fields":[{"name":"next","type":["null","N","M"]},{"name":"z","type":"int"}]}]}]}"#;
    let mut data = json!({"next": {"z": "not an int"}});
    for _ in 0..60 {
        data = json!({"next": data});
    }
    // Each level fits both records: without the step budget, 2^60 tries.
    assert!(encode(text, data).is_err());
}

#[test]
fn an_alias_is_not_a_field_name() {
    let text = r#"{"type":"record","name":"R","fields":[{"name":"n","aliases":["old"],"type":"int","default":0}]}"#;
    assert_eq!(
        encode(text, json!({"old": 5})).unwrap_err(),
        ".old: not a field of record R"
    );
}

#[test]
fn a_bare_string_costs_the_steps_the_value_path_counts() {
    // 100 enums the string is not a symbol of, then "string": each item tries 101 branches.
    let enums: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"type":"enum","name":"E{i}","symbols":["A"]}}"#))
        .collect();
    let text = format!(
        r#"{{"type":"array","items":["null",{},"string"]}}"#,
        enums.join(",")
    );
    let few = encode(&text, json!(vec![""; 10])).unwrap();
    // The count, then each item: branch 101 (two bytes) and an empty string; the end.
    assert_eq!(few.len(), 1 + 10 * 3 + 1);
    let error = encode(&text, json!(vec![""; 10_000])).unwrap_err();
    // Both paths run out of steps at the same item (the union then fits none of its branches).
    assert!(error.starts_with("[98"), "{error:.80}");
}

#[test]
fn serde_jsons_raw_value_name_is_read_as_the_value_path_reads_it() {
    let schema =
        AvroSchema::parse(r#"["null",{"type":"map","values":"string"},"string"]"#).unwrap();
    let text = r#"{"$serde_json::private::RawValue":"\"abc\""}"#;
    assert_eq!(straight(&schema, text), None);
    let mut out = Vec::new();
    schema.encode_text(text, &mut out).unwrap();
    let value: Value = serde_json::from_str(text).unwrap();
    let mut expected = Vec::new();
    schema.encode(&value, &mut expected).unwrap();
    assert_eq!(out, expected);
}
