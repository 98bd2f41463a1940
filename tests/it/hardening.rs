//! Login throttling, security headers, CORS and metrics.
use callbroker::config::Secret;
use callbroker_tests::{both_backends, Backend, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::json;

both_backends!(metrics_are_exposed);
both_backends!(backend: metrics_refused_without_a_credential, metrics_for_the_token, metrics_on_their_own_address);
both_backends!(backend: twilio_backed_requests_are_limited_per_user);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_throttled_per_ip_and_account() {
    let app = TestApp::launch_with(Backend::Sqlite, |c| c.login_attempts_per_minute = 4).await;
    // The harness's own login used one attempt.
    let wrong = json!({"email": ADMIN_EMAIL, "password": "wrong password!"});
    for _ in 0..3 {
        assert_eq!(app.call("POST", "/api/auth/login", None, Some(wrong.clone())).await.0, 401);
    }
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 429, "even the right password waits once the budget is spent");
    let retry: u64 = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["code"], "rate_limited");
    // Other routes keep working with a valid token.
    assert_eq!(app.admin("GET", "/api/campaigns", None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_and_cors() {
    let app = TestApp::launch_with(Backend::Sqlite, |c| c.cors_origins = vec!["https://dash.example".into()]).await;
    let res = app.client.get(app.url("/")).send().await.expect("send");
    assert_eq!(res.headers().get("x-content-type-options").map(reqwest::header::HeaderValue::as_bytes), Some(&b"nosniff"[..]));
    assert_eq!(res.headers().get("x-frame-options").map(reqwest::header::HeaderValue::as_bytes), Some(&b"DENY"[..]));
    assert!(res.headers().get("referrer-policy").is_some());

    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/campaigns"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://dash.example").await.expect("send");
    assert_eq!(
        allowed.headers().get("access-control-allow-origin").map(reqwest::header::HeaderValue::as_bytes),
        Some(&b"https://dash.example"[..])
    );
    let refused = preflight("https://evil.example").await.expect("send");
    assert!(refused.headers().get("access-control-allow-origin").is_none(), "unknown origins get no CORS grant");
}

/// `GET /metrics` as admin: the status and the body.
async fn scrape(app: &TestApp) -> (u16, String) {
    let res = app.client.get(app.url("/metrics")).bearer_auth(&app.admin_token).send().await.expect("send");
    (res.status().as_u16(), res.text().await.expect("text"))
}

async fn metrics_are_exposed(app: TestApp) {
    let b = app.create("/api/buyers", json!({"name": "M", "phone_number": "+14155550101"})).await;
    let c = app.create("/api/campaigns", json!({"name": "M", "buyers": [{"buyer_id": b["id"]}]})).await;
    app.create("/api/numbers", json!({"number": "+17175550100", "campaign_id": c["id"]})).await;
    app.incoming_call("CAM1", "+12015550123", "+17175550100", &[]).await;
    let (status, text) = scrape(&app).await;
    assert_eq!(status, 200, "an admin scrapes: {text}");
    assert!(text.contains("callbroker_http_requests_duration_seconds_bucket"), "latency histograms");
    assert!(text.contains(r#"endpoint="/api/campaigns""#), "per route");
    assert!(text.contains(r#"callbroker_webhook_answers_total{answer="dial",webhook="voice"} 1"#), "{text}");
    assert!(text.contains(&format!(r#"callbroker_buyer_calls_in_progress{{buyer_id="{}"}} 1"#, b["id"])), "{text}");
    assert!(text.contains(r#"callbroker_calls_last_24h{outcome="routed",status="ringing"} 1"#), "{text}");
    assert!(text.contains("callbroker_db_pool_connections"));
    // Statements run: counted on every connection, and more after another webhook.
    let statements = |text: &str| callbroker_tests::metric(text, "callbroker_db_statements_total").expect("callbroker_db_statements_total");
    let refreshes = |text: &str| callbroker_tests::metric(text, "callbroker_metrics_refreshes_total").expect("refreshes in {text}");
    let before = statements(&text);
    assert!(before > 10, "the setup and the call ran statements: {before}");
    app.incoming_call("CAM2", "+12015550124", "+17175550100", &[]).await;
    let (_, text) = scrape(&app).await;
    let after = statements(&text);
    // The call's read and commit (on SQLite statements in the writer's transaction).
    assert!(after >= before + 2, "a routed call runs statements: {before} -> {after}");
    // Scrapes are cheap: the figures read from the database (calls of the last 24 hours, slots)
    // are read once per `metrics_refresh_secs` (30 s), however often Prometheus asks.
    for _ in 0..5 {
        scrape(&app).await;
    }
    let (_, text) = scrape(&app).await;
    assert_eq!(refreshes(&text), 1, "seven scrapes, one read of the database figures");
    assert!(text.contains(r#"callbroker_calls_last_24h{outcome="routed",status="ringing"} 1"#), "as first read: {text}");
}

const METRICS_TOKEN: &str = "metrics-scrape-token-0123456789";

/// `GET <base>/metrics` with `token` as bearer (or none): the status and the body.
async fn scrape_with(app: &TestApp, base: &str, token: Option<&str>) -> (u16, String) {
    let mut req = app.client.get(format!("{base}/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("send");
    (res.status().as_u16(), res.text().await.expect("text"))
}

/// Asserts an answer refused `/metrics` with `status` and a JSON error, leaking no figure.
#[track_caller]
fn refused(answer: (u16, String), status: u16, what: &str) {
    assert_eq!(answer.0, status, "{what}: {}", answer.1);
    let body: serde_json::Value = serde_json::from_str(&answer.1).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", answer.1));
    assert!(body["code"].is_string(), "{what}: {body}");
    assert!(!answer.1.contains("callbroker_"), "{what}: no figure");
}

/// Without a metrics token configured, the public `/metrics` is for admins only.
async fn metrics_refused_without_a_credential(backend: Backend) {
    let app = TestApp::launch(backend).await;
    let base = app.base.clone();
    refused(scrape_with(&app, &base, None).await, 401, "no credential");
    refused(scrape_with(&app, &base, Some("not-a-token")).await, 401, "an unknown token");
    app.create("/api/users", json!({"email": "op@test.example", "password": "operator-password", "role": "operator"})).await;
    let operator = app.login("op@test.example", "operator-password").await;
    refused(scrape_with(&app, &base, Some(&operator)).await, 403, "an operator");
    let (status, text) = scrape_with(&app, &base, Some(&app.admin_token)).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("callbroker_db_statements_total"), "{text}");
}

/// With `CALLBROKER_METRICS_TOKEN`, Prometheus scrapes with it.
async fn metrics_for_the_token(backend: Backend) {
    let app = TestApp::launch_with(backend, |c| c.metrics_token = Some(Secret::new(METRICS_TOKEN))).await;
    let base = app.base.clone();
    refused(scrape_with(&app, &base, None).await, 401, "no token");
    refused(scrape_with(&app, &base, Some("metrics-scrape-token-0123456788")).await, 401, "a wrong token");
    let (status, text) = scrape_with(&app, &base, Some(METRICS_TOKEN)).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("callbroker_db_statements_total"), "{text}");
    assert_eq!(scrape_with(&app, &base, Some(&app.admin_token)).await.0, 200, "an admin still may");
}

/// `CALLBROKER_METRICS_BIND`: a second address serves `/metrics` without a token, and nothing
/// else; the public address still refuses it without a credential.
async fn metrics_on_their_own_address(backend: Backend) {
    let app = TestApp::launch_with(backend, |c| c.metrics_bind = Some("127.0.0.1:0".into())).await;
    let metrics = app.metrics_base.clone().expect("the metrics address is bound");
    let (status, text) = scrape_with(&app, &metrics, None).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("callbroker_db_statements_total"), "{text}");
    assert!(text.contains("callbroker_db_pool_connections"), "{text}");
    let base = app.base.clone();
    refused(scrape_with(&app, &base, None).await, 401, "the public address");
    let other = app.client.get(format!("{metrics}/api/campaigns")).bearer_auth(&app.admin_token).send().await.expect("send");
    assert_eq!(other.status().as_u16(), 404, "the metrics address serves nothing else");
}

both_backends!(webhook_abuse_is_refused_and_the_server_keeps_serving);

async fn webhook_abuse_is_refused_and_the_server_keeps_serving(app: TestApp) {
    // (what, content type, body, signature, expected status)
    type Case<'a> = (&'a str, &'a str, Vec<u8>, Option<&'a str>, u16);
    let b = app.create("/api/buyers", json!({"name": "W", "phone_number": "+14155550101", "max_concurrent_calls": 50})).await;
    let c = app.create("/api/campaigns", json!({"name": "W", "buyers": [{"buyer_id": b["id"]}]})).await;
    app.create("/api/numbers", json!({"number": "+17175550100", "campaign_id": c["id"]})).await;
    let url = app.url("/api/webhooks/twilio/voice");
    let good = callbroker_tests::twilio::params(&[
        ("CallSid", "CAOK"),
        ("AccountSid", "AC1"),
        ("From", "+12015550123"),
        ("To", "+17175550100"),
        ("CallStatus", "ringing"),
    ]);
    let signature = callbroker::twilio::signature::sign(
        callbroker_tests::TWILIO_AUTH_TOKEN,
        callbroker::twilio::signature::Algorithm::HmacSha1,
        &format!("{}/api/webhooks/twilio/voice", callbroker_tests::PUBLIC_URL),
        &good,
    );
    let form = serde_urlencoded::to_string(&good).expect("form");
    let cases: Vec<Case> = vec![
        ("unsigned", "application/x-www-form-urlencoded", form.clone().into_bytes(), None, 403),
        ("forged", "application/x-www-form-urlencoded", form.clone().into_bytes(), Some("Zm9yZ2Vk"), 403),
        (
            "oversize",
            "application/x-www-form-urlencoded",
            format!("{form}&Pad={}", "x".repeat(512 * 1024)).into_bytes(),
            Some(&signature),
            413,
        ),
        ("wrong content type", "application/json", br#"{"CallSid":"CAOK"}"#.to_vec(), Some(&signature), 403),
        ("non-UTF-8", "application/x-www-form-urlencoded", b"CallSid=CA%FF%FE&To=\xff\xfe".to_vec(), Some(&signature), 403),
        ("truncated", "application/x-www-form-urlencoded", form.as_bytes()[..form.len() / 2].to_vec(), Some(&signature), 403),
    ];
    for (name, content_type, body, sig, expected) in cases {
        let mut req = app.client.post(&url).header("content-type", content_type).body(body);
        if let Some(s) = sig {
            req = req.header("X-Twilio-Signature", s);
        }
        let res = req.send().await.expect("send");
        assert_eq!(res.status().as_u16(), expected, "{name}");
        let err: serde_json::Value = res.json().await.unwrap_or_else(|e| panic!("{name}: the error body is not JSON: {e}"));
        assert!(err["code"].is_string(), "{name}: a JSON error");
        assert_eq!(app.call("GET", "/readyz", None, None).await.0, 200, "still ready after {name}");
        assert_eq!(app.admin("GET", "/api/calls", None).await.1["total"], 0, "nothing written by {name}");
    }
    // A normal call still goes through.
    let ok = app.twilio("/api/webhooks/twilio/voice", &good).await;
    assert_eq!(ok.status, 200);
    assert!(ok.leg().is_some());
}

/// A login attempt as sent through a proxy that says the client is `client` (`X-Forwarded-For`).
async fn login_from(app: &TestApp, client: &str, email: &str, password: &str) -> (u16, serde_json::Value) {
    let req =
        app.client.post(app.url("/api/auth/login")).header("X-Forwarded-For", client).json(&json!({"email": email, "password": password}));
    let res = app.send(req).await.expect("login");
    let status = res.status().as_u16();
    (status, res.json().await.expect("a JSON body"))
}

both_backends!(backend: a_lockout_from_another_address_does_not_lock_the_owner_out, forwarded_for_counts_only_from_trusted_proxies);

async fn a_lockout_from_another_address_does_not_lock_the_owner_out(backend: Backend) {
    // The harness's server is reached from 127.0.0.1, here a trusted proxy.
    let app = TestApp::launch_with(backend, |c| {
        c.login_attempts_per_minute = 8;
        c.trusted_proxies = vec!["127.0.0.0/8".into()];
    })
    .await;
    let attacker = "203.0.113.66";
    // The attacker spends more than an account's worth of attempts on the admin's email.
    let mut statuses = vec![];
    for _ in 0..8 {
        statuses.push(login_from(&app, attacker, ADMIN_EMAIL, "not the password").await.0);
    }
    assert_eq!(statuses[..5], [401; 5], "5 wrong passwords are answered: {statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "then the attacker's pair backs off: {statuses:?}");
    // Still throttled, even with the right password, and for any account (its address's budget is spent).
    let (status, body) = login_from(&app, attacker, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")), "{body}");
    assert_eq!(login_from(&app, attacker, "someone@test.example", "whatever-it-is").await.0, 429, "the attacker's address budget");
    // The owner, from their own address, signs in at once.
    let (status, body) = login_from(&app, "198.51.100.10", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(status, 200, "the owner is not locked out: {body}");
    assert!(body["token"].is_string());
    // A success clears the owner's own failures: 5 more wrong passwords are answered, not held.
    for n in 0..5 {
        assert_eq!(login_from(&app, "198.51.100.10", ADMIN_EMAIL, "typo typo typo").await.0, 401, "attempt {n}");
    }
}

async fn forwarded_for_counts_only_from_trusted_proxies(backend: Backend) {
    // No trusted proxy: X-Forwarded-For is the client's own say-so and is ignored. The harness's
    // login used one attempt of 127.0.0.1's budget of 3.
    let direct = TestApp::launch_with(backend, |c| c.login_attempts_per_minute = 3).await;
    for (n, spoofed) in ["192.0.2.1", "192.0.2.2"].iter().enumerate() {
        assert_eq!(login_from(&direct, spoofed, ADMIN_EMAIL, "wrong password!").await.0, 401, "attempt {n}");
    }
    let (status, body) = login_from(&direct, "192.0.2.3", ADMIN_EMAIL, "wrong password!").await;
    assert_eq!(status, 429, "a new X-Forwarded-For does not buy a new budget: {body}");

    // 127.0.0.1 trusted: each forwarded client has its own budget, taken from the right of the
    // header (what the proxy appended), not from what the client wrote on the left.
    let proxied = TestApp::launch_with(backend, |c| {
        c.login_attempts_per_minute = 3;
        c.trusted_proxies = vec!["127.0.0.1".into(), "10.0.0.0/8".into()];
    })
    .await;
    for client in ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"] {
        assert_eq!(login_from(&proxied, client, ADMIN_EMAIL, "wrong password!").await.0, 401, "{client} has its own budget");
    }
    for n in 0..3 {
        let status = login_from(&proxied, &format!("6.6.6.{n}, 192.0.2.9, 10.1.1.1"), ADMIN_EMAIL, "wrong password!").await.0;
        assert_eq!(status, 401, "attempt {n} of 192.0.2.9 (behind two trusted hops)");
    }
    let (status, body) = login_from(&proxied, "6.6.6.99, 192.0.2.9, 10.1.1.1", ADMIN_EMAIL, "wrong password!").await;
    assert_eq!(status, 429, "192.0.2.9's budget is spent, whatever it writes on the left: {body}");
}

both_backends!(login_emails_are_checked_before_anything_is_kept);

async fn login_emails_are_checked_before_anything_is_kept(app: TestApp) {
    let long = format!("{}@example.com", "a".repeat(300));
    for (email, what) in [(long.as_str(), "too long"), ("not-an-email", "no @"), ("two@@example.com", "two @"), ("", "empty")] {
        let (status, body) = app.call("POST", "/api/auth/login", None, Some(json!({"email": email, "password": "whatever-it-is"}))).await;
        assert_eq!(status, 422, "{what}: {body}");
        assert_eq!(body["code"], "validation_failed", "{what}: {body}");
        assert!(body["details"]["fields"]["email"].is_string(), "{what}: names the field: {body}");
    }
}

/// Requests that make the server call Twilio's REST API (webhook checks and fixes, imports,
/// recording downloads) share a budget per user or API key: past it, 429 with `Retry-After`,
/// while other callers and other routes go on. (No Twilio account is set here: within the budget
/// they answer 409, past it 429 before Twilio would be asked.)
async fn twilio_backed_requests_are_limited_per_user(backend: Backend) {
    let app = TestApp::launch_with(backend, |c| c.twilio.user_requests_per_minute = 3).await;
    let b = app.create("/api/buyers", json!({"name": "T", "phone_number": "+14155550101"})).await;
    let c = app.create("/api/campaigns", json!({"name": "T", "buyers": [{"buyer_id": b["id"]}]})).await;
    app.create("/api/numbers", json!({"number": "+17175550100", "campaign_id": c["id"]})).await;
    app.incoming_call("CAT1", "+12015550123", "+17175550100", &[]).await;
    let recording = callbroker_tests::twilio_mock::sid("RE", 1);
    let url = format!("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{recording}");
    assert_eq!(app.recording_completed("CAT1", &recording, &url, 30, 1).await.status, 204);
    let call = app.call_by_sid("CAT1").await["call"]["id"].as_i64().expect("call id");
    let download = format!("/api/calls/{call}/recording");

    let limited = |res: reqwest::Response| async move {
        assert_eq!(res.status().as_u16(), 429);
        let retry: u64 = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("Retry-After");
        assert!((1..=60).contains(&retry), "{retry}");
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["code"], "rate_limited", "{body}");
    };
    let send = |method: reqwest::Method, path: &str, token: &str| app.client.request(method, app.url(path)).bearer_auth(token).send();
    let admin = app.admin_token.clone();
    for (method, path) in [("GET", "/api/numbers/webhooks"), ("POST", "/api/numbers/webhooks/configure"), ("POST", "/api/numbers/import")] {
        let (status, body) = app.admin(method, path, None).await;
        assert_eq!(status, 409, "{method} {path} within the budget: {body}");
    }
    limited(send(reqwest::Method::GET, "/api/numbers/webhooks", &admin).await.expect("send")).await;
    limited(send(reqwest::Method::GET, &download, &admin).await.expect("send")).await;
    assert_eq!(app.admin("GET", "/api/campaigns", None).await.0, 200, "other routes are not limited");

    // Another user has a budget of its own: the recording downloads count against it.
    app.create("/api/users", json!({"email": "op@test.example", "password": "operator-password", "role": "operator"})).await;
    let operator = app.login("op@test.example", "operator-password").await;
    for _ in 0..3 {
        let (status, body) = app.call("GET", &download, Some(&operator), None).await;
        assert_eq!(status, 409, "no Twilio account, within the budget: {body}");
    }
    limited(send(reqwest::Method::GET, &download, &operator).await.expect("send")).await;
}
