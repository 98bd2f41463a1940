//! Fuzzing from the contract: schemathesis generates requests from `openapi.yaml` (valid and
//! invalid) against the running server, signed in as admin, and fails on any 5xx, any response
//! that breaks its documented schema or content type, and any undocumented status code.
//!
//! The Twilio webhooks (`/api/webhooks/...`) are fuzzed too: a schemathesis hook
//! (`tests/fuzz/twilio_signing.py`) signs each generated request as Twilio would, so it reaches
//! the handlers instead of stopping at the 403 of a bad signature. `hardening.rs` and
//! `callflow.rs` cover their abuse (forged, replayed, oversize, non-UTF-8, ...). Another hook
//! (`tests/fuzz/extreme_dates.py`) gives every other request with a date an extreme one (year
//! ±262,143, or just outside 2000..=2100): outside the years the document declares, so
//! schemathesis counts those requests as invalid ones. A third (`tests/fuzz/own_account.py`)
//! sends the requests that would change or delete the admin the run signs in as to a spare user,
//! so the run stays signed in; `tests/fuzz/link_values.py` gives a stateful link that carries
//! `null` an id that names no record (schemathesis wrote `None` into the path), and
//! `tests/fuzz/cascades.py` drops the "created record not found" reports on blocklist entries and
//! API keys, which go with their campaign or publisher (ON DELETE CASCADE).
//!
//! Bounded here (`CALLBROKER_FUZZ_EXAMPLES` cases per operation, default 10); `make fuzz` runs
//! the long version. The tally counts the checks schemathesis reports it ran (its NDJSON event
//! log), and the requests it sent.
use std::path::PathBuf;
use std::process::Command;

use callbroker_tests::report::Tally;
use callbroker_tests::{both_backends, TestApp};
use serde_json::{json, Value};

both_backends!(schemathesis_finds_nothing);

/// The `st` command installed by `scripts/fuzz-setup.sh` (`SCHEMATHESIS` overrides).
fn schemathesis() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SCHEMATHESIS") {
        return Some(PathBuf::from(p));
    }
    callbroker_tests::tools::python_tool("st")
}

/// Records for the generated ids to find (most operations read or change one record). Returns
/// the ids of the admin the run signs in as and of a spare user the run may change in its stead
/// (`tests/fuzz/own_account.py`).
async fn seed(app: &TestApp) -> (i64, i64) {
    let p = app.create("/api/publishers", json!({"name": "Fuzz publisher"})).await;
    let b = app.create("/api/buyers", json!({"name": "Fuzz buyer", "phone_number": "+14155550111", "max_concurrent_calls": 2})).await;
    let c = app.create("/api/campaigns", json!({"name": "Fuzz", "buyers": [{"buyer_id": b["id"]}]})).await;
    app.create("/api/numbers", json!({"number": "+17175550111", "campaign_id": c["id"], "publisher_id": p["id"]})).await;
    let answer = app.incoming_call("CAFUZZ0001", "+12015550111", "+17175550111", &[]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let spare = app.create("/api/users", json!({"email": "spare@example.com", "password": "a spare passphrase", "role": "operator"})).await;
    let (status, me) = app.admin("GET", "/api/auth/me", None).await;
    assert_eq!(status, 200, "{me}");
    (me["id"].as_i64().expect("admin id"), spare["id"].as_i64().expect("spare id"))
}

/// What one schemathesis run did, read from its own event log (`--report ndjson`): every check
/// it ran on every response, and every request it sent.
#[derive(Debug, Default)]
struct Run {
    text: String,
    success: bool,
    checks_passed: u64,
    checks_failed: u64,
    requests: u64,
}

/// Counts the checks and requests in schemathesis' NDJSON events: each `ScenarioFinished` event's
/// recorder maps every case to the checks run on its response (`status` `success`, `failure`,
/// ...) and holds one interaction per request sent.
fn count_events(ndjson: &str) -> (u64, u64, u64) {
    let (mut passed, mut failed, mut requests) = (0, 0, 0);
    for line in ndjson.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else { continue };
        let Some(recorder) = event.get("ScenarioFinished").and_then(|e| e.get("recorder")) else { continue };
        for checks in recorder["checks"].as_object().into_iter().flat_map(|m| m.values()) {
            for check in checks.as_array().into_iter().flatten() {
                match check["status"].as_str() {
                    Some("success") => passed += 1,
                    Some("failure" | "error") => failed += 1,
                    _ => {}
                }
            }
        }
        requests += recorder["interactions"].as_object().map_or(0, |m| m.len() as u64);
    }
    (passed, failed, requests)
}

/// Runs `st run openapi.yaml` against `app` as admin with `args` added; `users`: the admin's id
/// and the spare user's (see [`seed`]).
async fn run_schemathesis(app: &TestApp, st: PathBuf, users: (i64, i64), args: Vec<String>) -> Run {
    let spec = callbroker_tests::tools::OPENAPI_YAML;
    let base = app.base.clone();
    let token = app.admin_token.clone();
    // Its working folder takes its cache (`.schemathesis/`) and the event log: a temporary one.
    let workdir = tempfile::tempdir().expect("tmp");
    let cwd = workdir.path().to_path_buf();
    let events = cwd.join("events.ndjson");
    let log = events.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(st)
            .current_dir(cwd)
            // Per-operation tuning: the 422s of rules the document states only in words.
            .args(["--config-file", concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/schemathesis.toml")])
            .args(["run", spec, "--url", &base])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--seed", "1", "--workers", "1", "--request-timeout", "10"])
            .args(["--no-color", "--output-truncate", "false"])
            .args(["--report", "ndjson", "--report-ndjson-path"])
            .arg(&log)
            .args(args)
            .env("NO_COLOR", "1")
            // Signs the webhook requests, puts in extreme dates and keeps the run's own session
            // (tests/fuzz/hooks.py).
            .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz"))
            .env("SCHEMATHESIS_HOOKS", "hooks")
            .env("CALLBROKER_FUZZ_ADMIN_ID", users.0.to_string())
            .env("CALLBROKER_FUZZ_SPARE_USER_ID", users.1.to_string())
            .env("CALLBROKER_FUZZ_TWILIO_TOKEN", callbroker_tests::TWILIO_AUTH_TOKEN)
            .env("CALLBROKER_FUZZ_PUBLIC_URL", callbroker_tests::PUBLIC_URL)
            .output()
            .expect("run schemathesis")
    })
    .await
    .expect("join");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let (checks_passed, checks_failed, requests) = count_events(&std::fs::read_to_string(&events).unwrap_or_default());
    Run { text, success: output.status.success(), checks_passed, checks_failed, requests }
}

async fn schemathesis_finds_nothing(app: TestApp) {
    let Some(st) = schemathesis() else { return };
    let users = seed(&app).await;
    let examples = std::env::var("CALLBROKER_FUZZ_EXAMPLES").unwrap_or_else(|_| "10".into());
    let strings = |a: &[&str]| a.iter().map(ToString::to_string).collect::<Vec<_>>();
    // The API as integrators call it: every check schemathesis has (server errors, schemas,
    // statuses, headers, valid data accepted, invalid data refused, undeclared methods, auth
    // enforced) and the stateful phase, which follows the document's links from each create to
    // its read, update and delete (and checks a deleted record is gone). Valid data accepted:
    // every rule the server checks on one value is in the document (wire/src/rules.rs); the
    // operations with rules between values or on records take their 422 there, as
    // tests/fuzz/schemathesis.toml lists.
    let mut api = strings(&["--checks", "all", "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", &examples]);
    api.extend(strings(&["--exclude-path-regex", "^/api/(webhooks|events)"]));
    // Twilio's webhooks (signed by the hook) and the event stream: the responses' conformance.
    // Their abuse is covered by hardening.rs and callflow.rs, the stream by live.rs.
    let mut twilio =
        strings(&["--checks", "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"]);
    twilio.extend(strings(&[
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        &examples,
        "--include-path-regex",
        "^/api/(webhooks|events)",
    ]));
    let mut tally = Tally::new(format!("schemathesis ({:?})", app.backend));
    let mut failures = Vec::new();
    for (what, args) in [("API, all checks and stateful", api), ("webhooks and events", twilio)] {
        let run = run_schemathesis(&app, st.clone(), users, args).await;
        tally.requests += run.requests;
        tally.checks += run.checks_passed;
        // Its summary line `❌ ST101 Server error: N` counts the operations that answered 5xx.
        tally.server_errors +=
            run.text.lines().find_map(|l| l.split_once("Server error:").and_then(|(_, n)| n.trim().parse::<u64>().ok())).unwrap_or(0);
        if !run.success || run.checks_failed > 0 {
            failures.push(format!("{what}: {} checks failed\n{}", run.checks_failed, run.text));
        }
        assert!(run.checks_passed > 100, "{what}: schemathesis ran too few checks ({}):\n{}", run.checks_passed, run.text);
    }
    if !failures.is_empty() {
        tally.failed = Some(format!("schemathesis found problems ({} runs)", failures.len()));
    }
    tally.save();
    assert!(failures.is_empty(), "schemathesis found problems:\n{}", failures.join("\n\n"));
    // The server is still up and the admin still signed in.
    assert_eq!(app.admin("GET", "/api/auth/me", None).await.0, 200);
}

#[test]
fn checks_and_requests_are_counted_from_the_event_log() {
    let log = [
        r#"{"Initialize":{"seed":1}}"#,
        r#"{"ScenarioFinished":{"id":"a","recorder":{"label":"GET /api/buyers","checks":{"c1":[{"name":"not_a_server_error","status":"success","failure_info":null},{"name":"status_code_conformance","status":"failure","failure_info":{}}],"c2":[{"name":"not_a_server_error","status":"success","failure_info":null},{"name":"unsupported_method","status":"skip","failure_info":null}]},"interactions":{"c1":{},"c2":{}}}}}"#,
        r#"{"ScenarioFinished":{"id":"b","recorder":{"label":"POST /api/buyers","checks":{"c3":[{"name":"not_a_server_error","status":"success","failure_info":null}]},"interactions":{"c3":{}}}}}"#,
        r#"{"EngineFinished":{}}"#,
    ]
    .join("\n");
    assert_eq!(count_events(&log), (3, 1, 3));
}
