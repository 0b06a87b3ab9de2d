//! `/openapi.json` (OpenAPI 3.1, generated from the code), Swagger UI served from the binary with
//! no outside address, and schemathesis against the running service on the real broker.

use support::*;

/// Every route of the router, as the document must list it, with its success status.
const OPERATIONS: [(&str, &str, &str); 19] = [
    ("/api/v1/send", "post", "200"),
    ("/api/v1/send/batch", "post", "200"),
    ("/api/v1/test/{mode}", "post", "200"),
    ("/health", "get", "200"),
    ("/health/ready", "get", "200"),
    ("/api/v1/status", "get", "200"),
    ("/api/v1/metrics", "get", "200"),
    ("/metrics", "get", "200"),
    ("/topics", "get", "200"),
    ("/topics/{topic}", "get", "200"),
    ("/topics/{topic}", "post", "200"),
    ("/topics/{topic}/partitions/{partition}", "post", "200"),
    ("/v3/clusters", "get", "200"),
    ("/v3/clusters/{cluster_id}", "get", "200"),
    ("/v3/clusters/{cluster_id}/topics", "get", "200"),
    ("/v3/clusters/{cluster_id}/topics/{topic}", "get", "200"),
    (
        "/v3/clusters/{cluster_id}/topics/{topic}/partitions",
        "get",
        "200",
    ),
    (
        "/v3/clusters/{cluster_id}/topics/{topic}/records",
        "post",
        "200",
    ),
    (
        "/v3/clusters/{cluster_id}/topics/{topic}/records:batch",
        "post",
        "207",
    ),
];

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_every_route_with_its_problems() {
    let app = TestApp::spawn().await;
    let doc = get_json(&app.client, &format!("{}/openapi.json", app.base)).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let operations: usize = paths
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(operations, OPERATIONS.len(), "{:?}", paths.keys());
    for (path, method, success) in OPERATIONS {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is missing");
        assert!(
            operation["responses"][success].is_object(),
            "{method} {path}"
        );
    }
    // The compatible APIs answer errors as the proxies do.
    for (path, method, content_type) in [
        ("/topics/{topic}", "post", "application/vnd.kafka.v2+json"),
        (
            "/v3/clusters/{cluster_id}/topics/{topic}/records",
            "post",
            "application/json",
        ),
    ] {
        let error = &doc["paths"][path][method]["responses"]["404"]["content"][content_type];
        assert!(
            error["schema"]["$ref"]
                .as_str()
                .is_some_and(|r| r.ends_with("/ErrorBody")),
            "{method} {path}: {error}"
        );
    }
    for path in ["/api/v1/send", "/api/v1/send/batch", "/api/v1/test/{mode}"] {
        let responses = &doc["paths"][path]["post"]["responses"];
        for status in [
            "202", "400", "401", "403", "404", "413", "500", "503", "504",
        ] {
            assert!(responses[status].is_object(), "{path} {status}");
        }
        assert!(
            responses["400"]["content"]["application/problem+json"]["schema"]["$ref"]
                .as_str()
                .is_some_and(|r| r.ends_with("/Problem")),
            "{path}: {}",
            responses["400"]
        );
    }
    let send = &doc["components"]["schemas"]["SendRequest"];
    assert_eq!(send["properties"]["topic"]["maxLength"], 249);
    assert!(send["example"].is_object(), "an example for Try it out");
    assert!(doc["components"]["schemas"]["Problem"]["properties"]["type"].is_object());
    // The JSON status pages have full schemas, their fields required.
    for (schema, field) in [
        ("Status", "kafka"),
        ("Metrics", "perMode"),
        ("ModeFigures", "ratesLastMinute"),
    ] {
        let required = doc["components"]["schemas"][schema]["required"]
            .as_array()
            .unwrap();
        assert!(
            required.iter().any(|r| r == field),
            "{schema}: {required:?}"
        );
    }
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary_and_at_the_root_outside_production() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let root = client.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(root.status(), 307);
    assert_eq!(root.headers()["location"], "/swagger-ui/");

    let page = app.get("/swagger-ui/").await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap();
    assert!(html.contains("swagger-ui-bundle.js"), "{html}");
    let initializer = app.get("/swagger-ui/swagger-initializer.js").await;
    let initializer = initializer.body.as_str().unwrap();
    assert!(initializer.contains("/openapi.json"), "{initializer}");
    for text in [html, initializer] {
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "an outside address: {text}"
        );
    }
    for asset in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-ui-standalone-preset.js",
    ] {
        let response = app
            .client
            .get(format!("{}/swagger-ui/{asset}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.bytes().await.unwrap().len() > 10_000, "{asset}");
    }

    // Production: no page at the root.
    let production = TestApp::spawn_with(&bootstrap(), &[("APP_ENV", "production")]).await;
    let root = production.get("/").await;
    root.assert_problem(404, "route-not-found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schemathesis_finds_no_server_error_and_no_answer_off_its_schema() {
    // On the generated requests' broker: they write into the topics they list.
    let app = TestApp::spawn_with(&generated_bootstrap(), &[]).await;
    let text = schemathesis(
        &app.base,
        &[
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
            "--max-examples",
            "40",
        ],
    )
    .await;
    let paths = get_json(&app.client, &format!("{}/openapi.json", app.base)).await["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum::<usize>();
    assert_eq!(
        crate::campaign::tested_operations(&text),
        paths,
        "every operation tested: {text}"
    );
}
