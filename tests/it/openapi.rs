//! The committed `openapi.yaml` is what the code generates; the served document is the same.
use callbroker_tests::{Backend, TestApp};

#[test]
fn committed_openapi_yaml_matches_the_code() {
    let generated = callbroker::openapi::yaml().expect("generate");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(committed == generated, "openapi.yaml is out of date with the code: run `make openapi` and commit the result");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_document_lists_every_route_with_security() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else { return };
    let (status, doc) = app.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/auth/login",
        "/api/auth/me",
        "/api/campaigns",
        "/api/campaigns/{id}",
        "/api/buyers",
        "/api/buyers/{id}",
        "/api/publishers",
        "/api/publishers/{id}",
        "/api/numbers",
        "/api/numbers/{id}",
        "/api/users",
        "/api/users/{id}",
        "/api/api-keys",
        "/api/api-keys/{id}",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the OpenAPI document");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(doc["paths"]["/api/campaigns"]["get"]["security"][0]["bearer"], serde_json::json!([]));
    let res = app.client.get(app.url("/api/docs/")).send().await.expect("docs");
    assert_eq!(res.status(), 200, "the interactive docs are served from the binary");
    assert!(res.text().await.unwrap_or_default().contains("swagger"), "Swagger UI page");
}
