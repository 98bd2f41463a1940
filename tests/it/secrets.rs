//! Secrets stay out of the logs, and the dashboard is served with the browser security headers,
//! including a Content-Security-Policy it works with. Both against the real server binary, whose
//! own output (stdout and stderr, at debug level) is what gets searched.
use std::time::Duration;

use callbroker::security::CONTENT_SECURITY_POLICY;
use callbroker_tests::process::JWT_SECRET;
use callbroker_tests::report::Tally;
use callbroker_tests::twilio::params;
use callbroker_tests::{both_backends, Backend, TestApp, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD, TWILIO_AUTH_TOKEN};
use serde_json::json;

both_backends!(
    backend:
    secrets_absent_from_human_logs = secrets_absent_from_logs("human"),
    secrets_absent_from_json_logs = secrets_absent_from_logs("json"),
);

async fn secrets_absent_from_logs(backend: Backend, format: &str) {
    let mut tally = Tally::new(format!("secrets absent from logs ({backend:?}, {format})"));
    let db = TestDb::create(backend);
    let env = [("RUST_LOG", "debug".to_string()), ("CALLBROKER_LOG_FORMAT", format.to_string())];
    let app = TestApp::start_process(db, &env).await;
    let mut secrets: Vec<(&str, String)> = vec![
        ("admin password", ADMIN_PASSWORD.into()),
        ("JWT secret", JWT_SECRET.into()),
        ("Twilio auth token", TWILIO_AUTH_TOKEN.into()),
        ("admin session token", app.admin_token.clone()),
    ];

    // A wrong password, a new user's password and session, an API key and its use.
    let wrong = "Wrong-Pa55word-for-the-logs";
    let (status, _) = app.call("POST", "/api/auth/login", None, Some(json!({"email": ADMIN_EMAIL, "password": wrong}))).await;
    tally.check(status == 401, format_args!("a wrong password is refused: {status}"));
    secrets.push(("a wrong password", wrong.into()));
    let password = "Operator-Pa55word-0042";
    app.create("/api/users", json!({"email": "op@test.example", "password": password, "role": "operator"})).await;
    let op_token = app.login("op@test.example", password).await;
    secrets.push(("a new user's password", password.into()));
    secrets.push(("a user's session token", op_token.clone()));
    let key = app.create("/api/api-keys", json!({"name": "integration", "role": "viewer"})).await;
    let key = key["secret"].as_str().expect("key secret").to_string();
    let status = app.call("GET", "/api/campaigns", Some(&key), None).await.0;
    tally.check(status == 200, format_args!("the API key works: {status}"));
    secrets.push(("an API key", key.clone()));
    // Refused credentials are logged as refusals, never with the credential.
    let forged = format!("{}x", app.admin_token);
    let status = app.call("GET", "/api/campaigns", Some(&forged), None).await.0;
    tally.check(status == 401, format_args!("a forged token is refused: {status}"));
    let status = app.call("GET", "/api/campaigns", Some("cbk_not_a_real_key_1234567890"), None).await.0;
    tally.check(status == 401, format_args!("an unknown API key is refused: {status}"));

    // The live stream with the token in the query (browsers' EventSource cannot set headers). Its
    // request line is logged when the stream ends.
    let res = app.send(app.client.get(app.url(&format!("/api/events?access_token={}", app.admin_token)))).await.expect("events");
    tally.check(res.status() == 200, format_args!("the event stream opens with the query token: {}", res.status()));
    drop(res);
    // Signed Twilio webhooks, and one with a bad signature.
    let b = app.create("/api/buyers", json!({"name": "S", "phone_number": "+14155550177", "max_concurrent_calls": 2})).await;
    let c = app.create("/api/campaigns", json!({"name": "S", "buyers": [{"buyer_id": b["id"]}]})).await;
    app.create("/api/numbers", json!({"number": "+17175550177", "campaign_id": c["id"]})).await;
    let answer = app.incoming_call("CASECRET1", "+12015550177", "+17175550177", &[]).await;
    let leg = answer.leg().expect("dialled");
    let status = app.leg_status(leg, "CASECRET1", "CASECRET1L", "completed", 1, Some(30)).await.status;
    tally.check(status == 204, format_args!("the signed leg callback is taken: {status}"));
    let bad = app
        .twilio_raw(
            "/api/webhooks/twilio/voice",
            &params(&[("CallSid", "CASECRET2"), ("To", "+17175550177")]),
            Some("bm90IGEgc2lnbmF0dXJl"),
        )
        .await;
    tally.check(bad.status == 403, format_args!("a forged webhook signature is refused: {}", bad.status));
    // Let the log catch up.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let log = app.process_log();
    tally.check(log.contains("/api/auth/login") && log.contains("/api/webhooks/twilio/voice"), format_args!("requests are logged:\n{log}"));
    tally.requests = app.requests();
    for (what, value) in &secrets {
        tally.check(!log.contains(value.as_str()), format_args!("{what} is in the server log"));
    }
    tally.save();
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
    let mut tally = Tally::new("security headers on the dashboard");
    let db = TestDb::create(Backend::Sqlite);
    let web = web_dir();
    let app = TestApp::start_process(db, &[("CALLBROKER_WEB_DIR", web.path().display().to_string())]).await;
    for path in ["/", "/login", "/calls/12", "/boot.js", "/style.css", "/api/campaigns", "/api/docs/"] {
        let res = app.send(app.client.get(app.url(path)).bearer_auth(&app.admin_token)).await.expect("send");
        tally.check(res.status() == 200, format_args!("{path}: {}", res.status()));
        let h = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let csp = h("content-security-policy");
        tally.check(csp == CONTENT_SECURITY_POLICY, format_args!("{path}: content-security-policy {csp:?}"));
        tally.check(
            h("x-content-type-options") == "nosniff",
            format_args!("{path}: x-content-type-options {:?}", h("x-content-type-options")),
        );
        tally.check(h("x-frame-options") == "DENY", format_args!("{path}: x-frame-options {:?}", h("x-frame-options")));
        tally.check(h("referrer-policy") == "no-referrer", format_args!("{path}: referrer-policy {:?}", h("referrer-policy")));
        tally.check(!h("permissions-policy").is_empty(), format_args!("{path}: a permissions-policy"));
        if path == "/boot.js" {
            let ctype = h("content-type");
            tally.check(ctype.contains("javascript"), format_args!("a module script needs a JavaScript type: {ctype}"));
        }
    }
    // The policy lets the SPA run: its scripts are files of this origin (no inline script, which
    // the policy would block) and WebAssembly may compile; nothing else may run or frame it.
    let script_src = CONTENT_SECURITY_POLICY.split(';').map(str::trim).find(|d| d.starts_with("script-src")).expect("script-src");
    tally.check(script_src == "script-src 'self' 'wasm-unsafe-eval'", format_args!("{script_src}"));
    tally.check(
        CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'") && CONTENT_SECURITY_POLICY.contains("object-src 'none'"),
        format_args!("no framing, no plugins: {CONTENT_SECURITY_POLICY}"),
    );
    let page = app.send(app.client.get(app.url("/"))).await.expect("send").text().await.expect("text");
    let scripts: Vec<&str> = page.split("<script").skip(1).collect();
    tally.check(!scripts.is_empty(), format_args!("the page starts the SPA with a script"));
    for s in &scripts {
        let tag = &s[..s.find('>').expect("tag end")];
        let body = &s[s.find('>').expect("tag end") + 1..s.find("</script>").expect("close")];
        tally.check(tag.contains("src=\"/"), format_args!("script without a same-origin src: <script{tag}>"));
        tally.check(body.trim().is_empty(), format_args!("inline script code would be blocked by the CSP: {body}"));
    }
    tally.requests = app.requests();
    tally.save();
}
