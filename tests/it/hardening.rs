//! Login throttling, security headers, CORS and metrics.
use callbroker_tests::{both_backends, Backend, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::json;

both_backends!(metrics_are_exposed);

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
    assert_eq!(res.headers().get("x-content-type-options").map(|v| v.as_bytes()), Some(&b"nosniff"[..]));
    assert_eq!(res.headers().get("x-frame-options").map(|v| v.as_bytes()), Some(&b"DENY"[..]));
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
    assert_eq!(allowed.headers().get("access-control-allow-origin").map(|v| v.as_bytes()), Some(&b"https://dash.example"[..]));
    let refused = preflight("https://evil.example").await.expect("send");
    assert!(refused.headers().get("access-control-allow-origin").is_none(), "unknown origins get no CORS grant");
}

async fn metrics_are_exposed(app: TestApp) {
    let b = app.create("/api/buyers", json!({"name": "M", "phone_number": "+14155550101"})).await;
    let c = app.create("/api/campaigns", json!({"name": "M", "buyers": [{"buyer_id": b["id"]}]})).await;
    app.create("/api/numbers", json!({"number": "+17175550100", "campaign_id": c["id"]})).await;
    app.incoming_call("CAM1", "+12015550123", "+17175550100", &[]).await;
    let text = app.client.get(app.url("/metrics")).send().await.expect("send").text().await.expect("text");
    assert!(text.contains("callbroker_http_requests_duration_seconds_bucket"), "latency histograms");
    assert!(text.contains(r#"endpoint="/api/campaigns""#), "per route");
    assert!(text.contains(r#"callbroker_webhook_answers_total{answer="dial",webhook="voice"} 1"#), "{text}");
    assert!(text.contains(&format!(r#"callbroker_buyer_calls_in_progress{{buyer_id="{}"}} 1"#, b["id"])), "{text}");
    assert!(text.contains(r#"callbroker_calls_last_24h{outcome="routed",status="ringing"} 1"#), "{text}");
    assert!(text.contains("callbroker_db_pool_connections"));
    // Statements run: counted on every connection, and more after another webhook.
    let statements = |text: &str| callbroker_tests::metric(text, "callbroker_db_statements_total").expect("callbroker_db_statements_total");
    let before = statements(&text);
    assert!(before > 10, "the setup and the call ran statements: {before}");
    app.incoming_call("CAM2", "+12015550124", "+17175550100", &[]).await;
    let after = statements(&app.client.get(app.url("/metrics")).send().await.expect("send").text().await.expect("text"));
    // The call's read and commit (on SQLite statements in the writer's transaction), and the
    // scrape's own two reads.
    assert!(after >= before + 4, "a routed call runs statements: {before} -> {after}");
}

both_backends!(webhook_abuse_is_refused_and_the_server_keeps_serving);

async fn webhook_abuse_is_refused_and_the_server_keeps_serving(app: TestApp) {
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
    // (what, content type, body, signature, expected status)
    type Case<'a> = (&'a str, &'a str, Vec<u8>, Option<&'a str>, u16);
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
