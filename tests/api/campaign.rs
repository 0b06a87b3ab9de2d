//! The bad-input campaign: schemathesis (PyPI) generates many requests from the OpenAPI
//! document, valid and invalid (negative mode: wrong types, missing and extra properties,
//! malformed values, odd headers and query strings), against the service on the real broker.
//! The bar: no 5xx, and every answer of a documented status matches its schema and content type.
//! The counts go to `target/tmp/security/schemathesis-<mode>.md` for docs/SECURITY.md.

use support::*;

async fn campaign(mode: &str, examples: &str) {
    // Internal topics are refused however the request is made; an allow-list would turn most
    // generated topics into 403s before they are parsed, so none is set here. The broker is
    // one of its own: the generated requests write into the topics they list.
    let app = TestApp::spawn_with(&generated_bootstrap(), &[]).await;
    let text = schemathesis(
        &app.base,
        &[
            "--mode",
            mode,
            "--checks",
            "not_a_server_error,content_type_conformance,response_schema_conformance",
            "--max-examples",
            examples,
        ],
    )
    .await;
    // "Test cases:" then, on the next line, "668 generated, 668 passed".
    let mut lines = text.lines().skip_while(|l| l.trim() != "Test cases:");
    let cases = lines
        .nth(1)
        .unwrap_or_else(|| panic!("no test case count in {text}"))
        .trim()
        .to_owned();
    let generated: u64 = cases
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(generated >= 100, "too few cases: {cases}");
    let operations = tested_operations(&text);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("security");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("schemathesis-{mode}.md")),
        format!("| schemathesis `--mode {mode}`, up to {examples} examples per operation, {operations} operations | {cases} | 0 server errors, 0 schema or content-type mismatches |\n"),
    )
    .unwrap();
}

/// The number on schemathesis's "Tested: N" line.
pub fn tested_operations(text: &str) -> usize {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Tested: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count of tested operations in {text}"))
}

#[tokio::test]
async fn generated_invalid_requests_never_get_a_server_error() {
    campaign("negative", "400").await;
}

#[tokio::test]
async fn generated_valid_requests_never_get_a_server_error() {
    campaign("positive", "200").await;
}
