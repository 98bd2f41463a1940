//! Secrets stay out of the logs, and the dashboard is served with the browser security headers,
//! including a Content-Security-Policy it works with. Both against the real server binary, whose
//! own output (stdout and stderr, at debug level) is what gets searched.
use std::time::Duration;

use callbroker::security::CONTENT_SECURITY_POLICY;
use callbroker_tests::process::JWT_SECRET;
use callbroker_tests::report::Tally;
use callbroker_tests::twilio::params;
use callbroker_tests::{Backend, TestApp, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD, TWILIO_AUTH_TOKEN};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_absent_from_logs_on_sqlite() {
    secrets_absent_from_logs(Backend::Sqlite, "human").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_absent_from_logs_on_postgres() {
    secrets_absent_from_logs(Backend::Postgres, "json").await;
}

async fn secrets_absent_from_logs(backend: Backend, format: &str) {
    let Some(db) = TestDb::create(backend) else { return };
    let env = [("RUST_LOG", "debug".to_string()), ("CALLBROKER_LOG_FORMAT", format.to_string())];
    let app = TestApp::start_process(db, &env).await;
    let mut requests = 1u64;
    let mut secrets: Vec<(&str, String)> = vec![
        ("admin password", ADMIN_PASSWORD.into()),
        ("JWT secret", JWT_SECRET.into()),
        ("Twilio auth token", TWILIO_AUTH_TOKEN.into()),
        ("admin session token", app.admin_token.clone()),
    ];

    // A wrong password, a new user's password and session, an API key and its use.
    let wrong = "Wrong-Pa55word-for-the-logs";
    let (status, _) = app.call("POST", "/api/auth/login", None, Some(json!({"email": ADMIN_EMAIL, "password": wrong}))).await;
    assert_eq!(status, 401);
    secrets.push(("a wrong password", wrong.into()));
    let password = "Operator-Pa55word-0042";
    app.create("/api/users", json!({"email": "op@test.example", "password": password, "role": "operator"})).await;
    let op_token = app.login("op@test.example", password).await;
    secrets.push(("a new user's password", password.into()));
    secrets.push(("a user's session token", op_token.clone()));
    let key = app.create("/api/api-keys", json!({"name": "integration", "role": "viewer"})).await;
    let key = key["secret"].as_str().expect("key secret").to_string();
    assert_eq!(app.call("GET", "/api/campaigns", Some(&key), None).await.0, 200);
    secrets.push(("an API key", key.clone()));
    // Refused credentials are logged as refusals, never with the credential.
    let forged = format!("{}x", app.admin_token);
    assert_eq!(app.call("GET", "/api/campaigns", Some(&forged), None).await.0, 401);
    assert_eq!(app.call("GET", "/api/campaigns", Some("cbk_not_a_real_key_1234567890"), None).await.0, 401);
    requests += 7;

    // The live stream with the token in the query (browsers' EventSource cannot set headers). Its
    // request line is logged when the stream ends.
    let res = app.client.get(app.url(&format!("/api/events?access_token={}", app.admin_token))).send().await.expect("events");
    assert_eq!(res.status(), 200);
    drop(res);
    // Signed Twilio webhooks, and one with a bad signature.
    let b = app.create("/api/buyers", json!({"name": "S", "phone_number": "+14155550177", "max_concurrent_calls": 2})).await;
    let c = app.create("/api/campaigns", json!({"name": "S", "buyers": [{"buyer_id": b["id"]}]})).await;
    app.create("/api/numbers", json!({"number": "+17175550177", "campaign_id": c["id"]})).await;
    let answer = app.incoming_call("CASECRET1", "+12015550177", "+17175550177", &[]).await;
    let leg = answer.leg().expect("dialled");
    assert_eq!(app.leg_status(leg, "CASECRET1", "CASECRET1L", "completed", 1, Some(30)).await.status, 204);
    let bad = app
        .twilio_raw(
            "/api/webhooks/twilio/voice",
            &params(&[("CallSid", "CASECRET2"), ("To", "+17175550177")]),
            Some("bm90IGEgc2lnbmF0dXJl"),
        )
        .await;
    assert_eq!(bad.status, 403);
    requests += 8;
    // Let the log catch up.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let log = app.process_log();
    assert!(log.contains("/api/auth/login") && log.contains("/api/webhooks/twilio/voice"), "requests are logged:\n{log}");
    let leaked: Vec<&str> = secrets.iter().filter(|(_, v)| log.contains(v.as_str())).map(|(what, _)| *what).collect();
    let mut tally = Tally::new(format!("secrets absent from logs ({backend:?}, {format})"));
    tally.checks = secrets.len() as u64 + 3;
    tally.requests = requests;
    tally.save();
    assert!(leaked.is_empty(), "in the server log: {leaked:?}");
}

/// The page and its files, as `scripts/build-web.sh` lays them out (the wasm itself is not needed
/// to check the headers).
fn web_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let web = concat!(env!("CARGO_MANIFEST_DIR"), "/../web");
    for f in ["index.html", "boot.js", "style.css"] {
        std::fs::copy(format!("{web}/{f}"), dir.path().join(f)).expect("copy web file");
    }
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_security_headers() {
    let Some(db) = TestDb::create(Backend::Sqlite) else { return };
    let web = web_dir();
    let app = TestApp::start_process(db, &[("CALLBROKER_WEB_DIR", web.path().display().to_string())]).await;
    let mut checks = 0;
    for path in ["/", "/login", "/calls/12", "/boot.js", "/style.css", "/api/campaigns", "/api/docs/"] {
        let res = app.client.get(app.url(path)).bearer_auth(&app.admin_token).send().await.expect("send");
        assert_eq!(res.status(), 200, "{path}");
        let h = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert_eq!(h("content-security-policy"), CONTENT_SECURITY_POLICY, "{path}");
        assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(h("x-frame-options"), "DENY", "{path}");
        assert_eq!(h("referrer-policy"), "no-referrer", "{path}");
        assert!(!h("permissions-policy").is_empty(), "{path}");
        checks += 5;
        if path == "/boot.js" {
            assert!(h("content-type").contains("javascript"), "a module script needs a JavaScript type: {}", h("content-type"));
        }
    }
    // The policy lets the SPA run: its scripts are files of this origin (no inline script, which
    // the policy would block) and WebAssembly may compile; nothing else may run or frame it.
    let script_src = CONTENT_SECURITY_POLICY.split(';').map(str::trim).find(|d| d.starts_with("script-src")).expect("script-src");
    assert_eq!(script_src, "script-src 'self' 'wasm-unsafe-eval'");
    assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'") && CONTENT_SECURITY_POLICY.contains("object-src 'none'"));
    let page = app.client.get(app.url("/")).send().await.expect("send").text().await.expect("text");
    let scripts: Vec<&str> = page.split("<script").skip(1).collect();
    assert!(!scripts.is_empty(), "the page starts the SPA with a script");
    for s in &scripts {
        let tag = &s[..s.find('>').expect("tag end")];
        let body = &s[s.find('>').expect("tag end") + 1..s.find("</script>").expect("close")];
        assert!(tag.contains("src=\"/"), "script without a same-origin src: <script{tag}>");
        assert!(body.trim().is_empty(), "inline script code would be blocked by the CSP: {body}");
    }
    let mut tally = Tally::new("security headers on the dashboard");
    tally.checks = checks + 4;
    tally.requests = 8;
    tally.save();
}
