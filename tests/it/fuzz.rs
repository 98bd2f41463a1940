//! Fuzzing from the contract: schemathesis generates requests from `openapi.yaml` (valid and
//! invalid) against the running server, signed in as admin, and fails on any 5xx, any response
//! that breaks its documented schema or content type, and any undocumented status code.
//!
//! The Twilio webhooks (`/api/webhooks/...`) are fuzzed too: a schemathesis hook
//! (`tests/fuzz/twilio_signing.py`) signs each generated request as Twilio would, so it reaches
//! the handlers instead of stopping at the 403 of a bad signature. `hardening.rs` and
//! `callflow.rs` cover their abuse (forged, replayed, oversize, non-UTF-8, ...). Another hook
//! (`tests/fuzz/extreme_dates.py`) gives every other request with a date an extreme one (year
//! ±262,143, or just outside 2000..=2100).
//!
//! Bounded here (`CALLBROKER_FUZZ_EXAMPLES` cases per operation, default 10); `make fuzz` runs
//! the long version.
use std::path::PathBuf;
use std::process::Command;

use callbroker_tests::report::Tally;
use callbroker_tests::{both_backends, TestApp};
use serde_json::json;

both_backends!(schemathesis_finds_nothing);

/// The `st` command installed by `scripts/fuzz-setup.sh` (`SCHEMATHESIS` overrides).
fn schemathesis() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SCHEMATHESIS") {
        return Some(PathBuf::from(p));
    }
    let venv = std::env::var_os("CALLBROKER_FUZZ_VENV").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"));
        cache.join("callbroker").join("fuzz-venv")
    });
    let st = venv.join("bin").join("st");
    if st.exists() {
        return Some(st);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("schemathesis not installed at {} under CI=true: run scripts/fuzz-setup.sh", st.display());
    }
    eprintln!("SKIPPED (schemathesis not installed at {}: run scripts/fuzz-setup.sh)", st.display());
    None
}

/// Records for the generated ids to find (most operations read or change one record).
async fn seed(app: &TestApp) {
    let p = app.create("/api/publishers", json!({"name": "Fuzz publisher"})).await;
    let b = app.create("/api/buyers", json!({"name": "Fuzz buyer", "phone_number": "+14155550111", "max_concurrent_calls": 2})).await;
    let c = app.create("/api/campaigns", json!({"name": "Fuzz", "buyers": [{"buyer_id": b["id"]}]})).await;
    app.create("/api/numbers", json!({"number": "+17175550111", "campaign_id": c["id"], "publisher_id": p["id"]})).await;
    let answer = app.incoming_call("CAFUZZ0001", "+12015550111", "+17175550111", &[]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

/// The number after `label` on the line that has it (`  2151 generated, ...`).
fn count_before(output: &str, label: &str) -> u64 {
    output
        .lines()
        .find_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.windows(2).find(|w| w[1].trim_end_matches(',') == label).and_then(|w| w[0].parse().ok())
        })
        .unwrap_or(0)
}

async fn schemathesis_finds_nothing(app: TestApp) {
    let Some(st) = schemathesis() else { return };
    seed(&app).await;
    let examples = std::env::var("CALLBROKER_FUZZ_EXAMPLES").unwrap_or_else(|_| "10".into());
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
    let base = app.base.clone();
    let token = app.admin_token.clone();
    // Its working folder takes its cache (`.schemathesis/`): a temporary one.
    let workdir = tempfile::tempdir().expect("tmp");
    let cwd = workdir.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(st)
            .current_dir(cwd)
            .args(["run", spec, "--url", &base])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--checks", "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"])
            .args(["--max-examples", &examples, "--seed", "1", "--workers", "1", "--request-timeout", "10"])
            .args(["--no-color", "--output-truncate", "false"])
            .env("NO_COLOR", "1")
            // Signs the webhook requests and puts in extreme dates (tests/fuzz/hooks.py).
            .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz"))
            .env("SCHEMATHESIS_HOOKS", "hooks")
            .env("CALLBROKER_FUZZ_TWILIO_TOKEN", callbroker_tests::TWILIO_AUTH_TOKEN)
            .env("CALLBROKER_FUZZ_PUBLIC_URL", callbroker_tests::PUBLIC_URL)
            .output()
            .expect("run schemathesis")
    })
    .await
    .expect("join");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let generated = count_before(&text, "generated");
    let mut tally = Tally::new(format!("schemathesis ({:?})", app.backend));
    tally.requests = generated;
    tally.checks = generated * 4;
    // Its summary line `❌ ST101 Server error: N` counts the operations that answered 5xx.
    tally.server_errors = text.lines().find_map(|l| l.split_once("Server error:").and_then(|(_, n)| n.trim().parse().ok())).unwrap_or(0);
    tally.save();
    assert!(output.status.success(), "schemathesis found problems:\n{text}");
    assert!(generated > 100, "schemathesis ran too few cases ({generated}):\n{text}");
    // The server is still up and the admin still signed in.
    assert_eq!(app.admin("GET", "/api/auth/me", None).await.0, 200);
}
