//! The API contract as integrators' tools read it: `openapi.yaml` passes Redocly's linter
//! (recommended rules) and openapi-spec-validator, and a client generated from it by
//! openapi-python-client drives the real server. The server keeps the promises the document makes
//! about methods and bodies (405 with `Allow`, JSON objects only); `fuzz.rs` checks the rest with
//! schemathesis.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use callbroker_tests::tools::{self, OPENAPI_YAML};
use callbroker_tests::{both_backends, TestApp};
use serde_json::{json, Value};

both_backends!(generated_python_client_drives_the_api, undeclared_methods_get_405_with_allow, json_bodies_must_be_objects);

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn redocly_lint_finds_no_error() {
    let Some(redocly) = tools::redocly() else { return };
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/contract/redocly.yaml");
    let out = Command::new(redocly)
        .args(["lint", OPENAPI_YAML, "--config", config, "--format=json"])
        .env("REDOCLY_TELEMETRY", "off")
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
        .output()
        .expect("run redocly");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("redocly's JSON report ({e}):\n{}", text(&out)));
    let problems: Vec<String> = report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| format!("{} {} {} at {}", p["severity"], p["ruleId"], p["message"], p["location"][0]["pointer"]))
        .collect();
    assert_eq!(report["totals"]["errors"], 0, "redocly lint errors:\n{}", problems.join("\n"));
    assert!(out.status.success(), "redocly lint failed:\n{}", text(&out));
}

#[test]
fn openapi_spec_validator_accepts_the_document() {
    let Some(validator) = tools::python_tool("openapi-spec-validator") else { return };
    let out = Command::new(validator).arg(OPENAPI_YAML).output().expect("run openapi-spec-validator");
    assert!(out.status.success(), "openapi-spec-validator rejects openapi.yaml:\n{}", text(&out));
    assert!(text(&out).contains("OK"), "{}", text(&out));
}

/// The package openapi-python-client generates from `openapi.yaml` (`callbroker_client`), built
/// once per run under `target/tmp/`; `None` when the generator is not installed.
fn generated_client() -> Option<PathBuf> {
    static GENERATED: OnceLock<Option<PathBuf>> = OnceLock::new();
    GENERATED
        .get_or_init(|| {
            let generator = tools::python_tool("openapi-python-client")?;
            let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-client");
            let out = Command::new(generator)
                .args(["generate", "--path", OPENAPI_YAML, "--output-path"])
                .arg(&out_dir)
                .args(["--overwrite", "--meta", "none", "--fail-on-warning", "--config"])
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/contract/python-client.yaml"))
                .output()
                .expect("run openapi-python-client");
            assert!(out.status.success(), "openapi-python-client could not generate a client:\n{}", text(&out));
            // `--meta none` writes the package's files straight into the output folder.
            let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-client-root");
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(&root).expect("client root");
            std::fs::rename(&out_dir, root.join("callbroker_client")).expect("place the package");
            Some(root)
        })
        .clone()
}

/// Signs in, creates a campaign and a buyer, lists calls and reads a publisher's report through
/// the generated client (`tests/contract/client_check.py`), then checks what it wrote is here.
async fn generated_python_client_drives_the_api(app: TestApp) {
    let Some(python) = tools::python_tool("python") else { return };
    let Some(root) = tokio::task::spawn_blocking(generated_client).await.expect("join") else { return };
    let publisher = app.create("/api/publishers", json!({"name": "Client publisher"})).await;
    let base = app.base.clone();
    let publisher_id = publisher["id"].to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/contract/client_check.py"))
            .env("PYTHONPATH", root)
            .env("CALLBROKER_URL", base)
            .env("CALLBROKER_EMAIL", callbroker_tests::ADMIN_EMAIL)
            .env("CALLBROKER_PASSWORD", callbroker_tests::ADMIN_PASSWORD)
            .env("CALLBROKER_PUBLISHER_ID", publisher_id)
            .output()
            .expect("run the client script")
    })
    .await
    .expect("join");
    assert!(out.status.success(), "the generated client failed:\n{}", text(&out));
    let said: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("the script's JSON ({e}):\n{}", text(&out)));
    let (status, campaign) = app.admin("GET", &format!("/api/campaigns/{}", said["campaign_id"]), None).await;
    assert_eq!(status, 200, "{campaign}");
    assert_eq!(campaign["name"], "Made by the generated client");
    let (status, buyer) = app.admin("GET", &format!("/api/buyers/{}", said["buyer_id"]), None).await;
    assert_eq!(status, 200, "{buyer}");
    assert_eq!(buyer["phone_number"], "+14155550123");
    assert_eq!(said["calls_total"], 0);
    assert_eq!(said["report_page"], 1);
    assert_eq!(said["report_total"], 0);
}

/// A documented path asked with a method it does not take: 405, `Allow` listing the methods it
/// takes, a JSON error; never the 404 of an unknown route, and nothing done.
async fn undeclared_methods_get_405_with_allow(app: TestApp) {
    let buyer = app.create("/api/buyers", json!({"name": "Kept", "phone_number": "+14155550124"})).await;
    let buyer_path = format!("/api/buyers/{}", buyer["id"]);
    let token = app.admin_token.clone();
    for (method, path, allow) in [
        ("TRACE", "/api/api-keys", "GET, POST"),
        ("PUT", "/api/api-keys", "GET, POST"),
        ("PUT", buyer_path.as_str(), "GET, PATCH, DELETE"),
        ("POST", buyer_path.as_str(), "GET, PATCH, DELETE"),
        ("GET", "/api/webhooks/twilio/voice", "POST"),
        ("DELETE", "/api/numbers/webhooks", "GET"),
        // `PATCH /api/numbers/{id}` also matches these, and would refuse the id with a 400.
        ("PATCH", "/api/numbers/webhooks", "GET"),
        ("PATCH", "/api/numbers/import", "POST"),
        ("POST", "/healthz", "GET"),
        ("OPTIONS", "/api/campaigns", "GET, POST"),
    ] {
        let req = app.client.request(method.parse().expect("method"), app.url(path)).bearer_auth(&token);
        let res = app.send(req).await.expect("request");
        assert_eq!(res.status().as_u16(), 405, "{method} {path}");
        let allowed = res.headers().get("allow").and_then(|v| v.to_str().ok()).map(str::to_string);
        assert_eq!(allowed.as_deref(), Some(allow), "{method} {path}");
        let body: Value = res.json().await.expect("JSON error body");
        assert_eq!(body, json!({"code": "method_not_allowed", "message": format!("this path takes {allow}")}), "{method} {path}");
    }
    let (status, kept) = app.admin("GET", &buyer_path, None).await;
    assert_eq!((status, &kept["name"]), (200, &json!("Kept")));
    // Unknown paths stay 404; declared methods answer as before.
    assert_eq!(app.admin("TRACE", "/api/no-such-thing", None).await.0, 404);
    assert_eq!(app.admin("GET", "/api/buyers/999999", None).await.0, 404);
    // The interactive docs without their trailing slash move there.
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let res = no_redirects.get(app.url("/api/docs")).send().await.expect("docs");
    assert_eq!(res.status().as_u16(), 308);
    assert_eq!(res.headers().get("location").and_then(|v| v.to_str().ok()), Some("/api/docs/"));
}

/// Every route that takes a JSON body refuses one that is not an object (serde would read a
/// struct out of an array), with a 400 naming the problem, and writes nothing. Routes come from
/// the document, so a new one is covered.
async fn json_bodies_must_be_objects(app: TestApp) {
    let number = app.create("/api/numbers", json!({"number": "+17175550123"})).await;
    let doc: Value = callbroker::openapi::json().expect("document");
    let mut tried = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if op["requestBody"]["content"].get("application/json").is_none() {
                continue;
            }
            let path = path.replace("{id}", &number["id"].to_string());
            for body in [json!([null, null]), json!([]), json!(null), json!(7), json!("x")] {
                let (status, answer) = app.admin(&method.to_uppercase(), &path, Some(body.clone())).await;
                assert_eq!(status, 400, "{method} {path} {body}: {answer}");
                assert_eq!(answer["code"], "invalid_json", "{method} {path} {body}: {answer}");
                let message = answer["message"].as_str().unwrap_or_default();
                assert!(message.contains("expected a JSON object"), "{method} {path} {body}: {answer}");
                tried += 1;
            }
        }
    }
    assert!(tried >= 15 * 5, "JSON body routes tried: {}", tried / 5);
    let (status, unchanged) = app.admin("GET", &format!("/api/numbers/{}", number["id"]), None).await;
    assert_eq!(status, 200);
    assert_eq!(unchanged, number, "nothing was written");
}
