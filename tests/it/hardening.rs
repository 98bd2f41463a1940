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
