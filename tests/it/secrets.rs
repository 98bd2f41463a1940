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

// Secrets at rest: the Twilio Auth Token and API key secret set through the API are sealed in
// the database; the data folder, the key file and the SQLite database are owner-only.

/// The Auth Token set through the API in these tests (not the configuration's).
const API_AUTH_TOKEN: &str = "api-set-auth-token-5f2c9e7a1b";
const API_KEY_SECRET: &str = "api-key-secret-value-8d41c3e0";

both_backends!(
    backend: twilio_secrets_are_sealed_at_rest,
    secrets_stored_in_clear_are_sealed_at_start,
    the_secret_key_rotates_and_the_old_one_is_no_longer_needed,
);

async fn set_account(app: &TestApp, token: &str) {
    let body = json!({
        "account_sid": format!("AC{}", "0123456789abcdef".repeat(2)),
        "auth_token": token,
        "api_key_sid": format!("SK{}", "fedcba9876543210".repeat(2)),
        "api_key_secret": API_KEY_SECRET,
    });
    let (status, view) = app.admin("PUT", "/api/twilio/account", Some(body)).await;
    assert_eq!(status, 200, "{view}");
}

/// The stored values of the Twilio account row, as they are in the database.
fn stored(db: &TestDb) -> (String, Option<String>) {
    use callbroker::db::schema::twilio_account as t;
    use diesel::prelude::*;
    let db = callbroker::db::Db::connect(&db.url, &callbroker::db::PoolOptions::default()).expect("connect");
    db.read_blocking(|c| Ok(t::table.select((t::auth_token, t::api_key_secret)).first::<(String, Option<String>)>(c)?)).expect("row")
}

fn write_stored_in_clear(db: &TestDb, token: &str) {
    use callbroker::db::schema::twilio_account as t;
    use diesel::prelude::*;
    let db = callbroker::db::Db::connect(&db.url, &callbroker::db::PoolOptions::default()).expect("connect");
    db.write_blocking(|c| Ok(diesel::update(t::table).set((t::auth_token.eq(token), t::api_key_secret.eq(API_KEY_SECRET))).execute(c)?))
        .expect("update");
}

/// The id of the key in the data folder's key file.
fn key_file_id(db: &TestDb) -> String {
    let text = std::fs::read_to_string(db.data_dir.join("secret-key")).expect("key file");
    callbroker::crypto::SecretKey::from_base64(&text).expect("a key").id().to_string()
}

/// A voice webhook signed with `token`: its status (200 when the signature verifies).
async fn signed_with(app: &TestApp, token: &str) -> u16 {
    let pairs = params(&[
        ("CallSid", "CAATREST"),
        ("AccountSid", "AC1"),
        ("From", "+12015550123"),
        ("To", "+17175550999"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
    ]);
    let path = "/api/webhooks/twilio/voice";
    let url = format!("{}{path}", callbroker_tests::PUBLIC_URL);
    let signature = callbroker::twilio::signature::sign(token, callbroker::twilio::signature::Algorithm::HmacSha1, &url, &pairs);
    app.twilio_raw(path, &pairs, Some(&signature)).await.status
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

async fn twilio_secrets_are_sealed_at_rest(backend: Backend) {
    let app = TestApp::launch(backend).await;
    set_account(&app, API_AUTH_TOKEN).await;
    let (token, secret) = stored(&app.db);
    let prefix = format!("cbs1:{}:", key_file_id(&app.db));
    assert!(token.starts_with(&prefix) && !token.contains(API_AUTH_TOKEN), "the Auth Token is sealed: {token}");
    let secret = secret.expect("the API key secret is stored");
    assert!(secret.starts_with(&prefix) && !secret.contains(API_KEY_SECRET), "the API key secret is sealed: {secret}");
    if backend == Backend::Sqlite {
        // Every byte SQLite wrote: the database file and its write-ahead log.
        let path = app.db.url.trim_start_matches("sqlite://").to_string();
        let mut bytes = std::fs::read(&path).expect("database file");
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        for (what, value) in [("the Auth Token", API_AUTH_TOKEN), ("the API key secret", API_KEY_SECRET)] {
            assert!(!bytes.windows(value.len()).any(|w| w == value.as_bytes()), "{what} is in the database file in clear");
        }
    }
    // Still in force: a webhook signed with the stored token verifies, one signed with the
    // configuration's no longer does; the account shows the token masked.
    assert_eq!(signed_with(&app, API_AUTH_TOKEN).await, 200, "a webhook signed with the sealed token");
    assert_eq!(signed_with(&app, callbroker_tests::TWILIO_AUTH_TOKEN).await, 403);
    let (_, view) = app.admin("GET", "/api/twilio/account", None).await;
    assert_eq!(view["auth_token"], format!("••••{}", &API_AUTH_TOKEN[API_AUTH_TOKEN.len() - 4..]));
    assert_eq!(view["api_key_secret_set"], true);

    // Owner-only files: the data folder, the key file, the SQLite database.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode(&app.db.data_dir), 0o700, "the data folder");
        assert_eq!(mode(&app.db.data_dir.join("secret-key")), 0o600, "the key file");
        if backend == Backend::Sqlite {
            let path = std::path::PathBuf::from(app.db.url.trim_start_matches("sqlite://"));
            assert_eq!(mode(&path), 0o600, "the SQLite database file");
            assert_eq!(mode(&std::path::PathBuf::from(format!("{}-wal", path.display()))), 0o600, "its write-ahead log");
        }
        // A key file others may read: the server refuses to start.
        app.stop();
        let key = app.db.data_dir.join("secret-key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let refused = callbroker::startup::Application::build(callbroker_tests::test_config(&app.db)).await.err().map(|e| e.to_string());
        assert!(refused.as_deref().is_some_and(|e| e.contains("chmod 600")), "a world-readable key file is refused: {refused:?}");
    }
}

async fn secrets_stored_in_clear_are_sealed_at_start(backend: Backend) {
    let app = TestApp::launch(backend).await;
    set_account(&app, API_AUTH_TOKEN).await;
    // As a database written before secrets were sealed holds them.
    let legacy = "legacy-plain-auth-token-0042";
    write_stored_in_clear(&app.db, legacy);
    assert_eq!(stored(&app.db).0, legacy);
    let again = app.restart_with(|_| {}).await;
    let (token, secret) = stored(&again.db);
    assert!(token.starts_with("cbs1:") && !token.contains(legacy), "sealed at start: {token}");
    assert!(secret.is_some_and(|s| s.starts_with("cbs1:") && !s.contains(API_KEY_SECRET)), "the API key secret too");
    assert_eq!(signed_with(&again, legacy).await, 200, "the legacy token still verifies webhooks");
}

/// Runs `callbroker rotate-secret-key` on `db` with `env`; its output.
fn rotate(db: &TestDb, env: &[(&str, String)]) -> String {
    let mut cmd = std::process::Command::new(callbroker_tests::process::server_binary());
    cmd.arg("rotate-secret-key")
        .env_clear()
        .env("CALLBROKER_DATABASE_URL", &db.url)
        .env("CALLBROKER_DATA_DIR", &db.data_dir)
        .env("CALLBROKER_JWT_SECRET", JWT_SECRET);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("rotate-secret-key runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "rotate-secret-key failed: {text}");
    text
}

async fn the_secret_key_rotates_and_the_old_one_is_no_longer_needed(backend: Backend) {
    let app = TestApp::launch(backend).await;
    set_account(&app, API_AUTH_TOKEN).await;
    // A bidder's header value is a stored secret too.
    let campaign = app.create("/api/campaigns", serde_json::json!({"name": "Rotated"})).await;
    let bidder = app
        .create(
            "/api/bidders",
            serde_json::json!({"campaign_id": campaign["id"], "name": "B", "url": "https://rtb.example.com/bid",
                "headers": {"X-Key": "bidder-header-secret-4321"}, "mapping": {"amount": "/bid", "number": "/to"}}),
        )
        .await;
    let first = key_file_id(&app.db);
    assert!(stored(&app.db).0.starts_with(&format!("cbs1:{first}:")));
    app.stop();

    // Key in the data folder: a new key file replaces the old one.
    let out = rotate(&app.db, &[]);
    let second = key_file_id(&app.db);
    assert_ne!(second, first, "a new key: {out}");
    assert!(out.contains("3 stored secret(s) sealed under key"), "{out}");
    assert!(!app.db.data_dir.join("secret-key.new").exists(), "nothing left half-done");
    let (token, secret) = stored(&app.db);
    assert!(token.starts_with(&format!("cbs1:{second}:")), "re-sealed under the new key: {token}");
    assert!(secret.is_some_and(|s| s.starts_with(&format!("cbs1:{second}:"))));
    let again = app.restart_with(|_| {}).await;
    assert_eq!(signed_with(&again, API_AUTH_TOKEN).await, 200, "opens with the new key alone");
    let (_, opened) = again.admin("GET", &format!("/api/bidders/{}", bidder["id"]), None).await;
    assert_eq!(opened["headers"]["X-Key"], "••••4321", "the bidder's header opens with the new key: {opened}");
    again.stop();

    // Key in the environment: the new one given, then configured in its place.
    let current = std::fs::read_to_string(app.db.data_dir.join("secret-key")).expect("key file");
    let next = callbroker::crypto::SecretKey::generate();
    rotate(&app.db, &[("CALLBROKER_SECRET_KEY", current.trim().to_string()), ("CALLBROKER_NEW_SECRET_KEY", next.to_base64())]);
    assert!(stored(&app.db).0.starts_with(&format!("cbs1:{}:", next.id())));
    std::fs::remove_file(app.db.data_dir.join("secret-key")).expect("the old key goes");
    let configured = next.to_base64();
    let third = app.restart_with(move |c| c.secret_key = Some(callbroker::config::Secret::new(configured))).await;
    assert_eq!(signed_with(&third, API_AUTH_TOKEN).await, 200, "opens with the configured new key, the old one deleted");
    let (_, view) = third.admin("GET", "/api/twilio/account", None).await;
    assert_eq!(view["api_key_secret_set"], true, "{view}");
}
