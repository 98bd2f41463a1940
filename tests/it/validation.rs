//! Bad input gets a 4xx JSON error naming the problem, and nothing is written.
use callbroker_tests::{both_backends, TestApp};
use serde_json::{json, Value};

both_backends!(invalid_fields_write_nothing, unique_clashes_are_409, malformed_bodies, nul_in_the_query_is_400, extreme_dates_are_422);

async fn total(app: &TestApp, path: &str) -> i64 {
    let (status, page) = app.admin("GET", path, None).await;
    assert_eq!(status, 200, "{page}");
    page["total"].as_i64().expect("total")
}

async fn assert_invalid(app: &TestApp, method: &str, path: &str, body: Value, fields: &[&str]) {
    let (status, err) = app.admin(method, path, Some(body.clone())).await;
    assert_eq!(status, 422, "{method} {path} {body} -> {err}");
    assert_eq!(err["code"], "validation_failed");
    for f in fields {
        assert!(err["details"]["fields"][f].is_string(), "{f} should be named in {err}");
    }
}

async fn invalid_fields_write_nothing(app: TestApp) {
    assert_invalid(
        &app,
        "POST",
        "/api/buyers",
        json!({"name": " ", "phone_number": "555-0100", "timezone": "Mars/Base", "weight": 0,
               "max_concurrent_calls": -1, "schedule": [{"day": "mon", "start": "25:00", "end": "17:00"}],
               "allowed_states": ["ZZ"], "cap_hourly": -5}),
        &["name", "phone_number", "timezone", "weight", "max_concurrent_calls", "schedule", "allowed_states", "cap_hourly"],
    )
    .await;
    assert_invalid(
        &app,
        "POST",
        "/api/buyers",
        json!({"name": "B", "phone_number": "+14155550100", "allowed_states": ["CA"], "denied_states": ["CA"]}),
        &["denied_states"],
    )
    .await;
    assert_invalid(
        &app,
        "POST",
        "/api/buyers",
        json!({"name": "B", "phone_number": "+14155550100", "whisper": "Lead {campaign", "accept_timeout_secs": 0}),
        &["whisper", "accept_timeout_secs"],
    )
    .await;
    assert_eq!(total(&app, "/api/buyers").await, 0);

    assert_invalid(&app, "POST", "/api/campaigns", json!({"name": "", "greeting": ""}), &["name", "greeting"]).await;
    assert_invalid(&app, "POST", "/api/campaigns", json!({"name": "C", "buyers": [{"buyer_id": 999}]}), &["buyers[0].buyer_id"]).await;
    assert_invalid(
        &app,
        "POST",
        "/api/campaigns",
        json!({"name": "C", "buyers": [{"buyer_id": 999, "whisper": "}", "accept_timeout_secs": 61}]}),
        &["buyers[0].whisper", "buyers[0].accept_timeout_secs"],
    )
    .await;
    assert_eq!(total(&app, "/api/campaigns").await, 0, "a campaign with a bad assignment is not half-written");

    assert_invalid(
        &app,
        "POST",
        "/api/publishers",
        json!({"name": "P", "contact_email": "nope", "contact_phone": "12"}),
        &["contact_email", "contact_phone"],
    )
    .await;
    assert_eq!(total(&app, "/api/publishers").await, 0);

    assert_invalid(
        &app,
        "POST",
        "/api/numbers",
        json!({"number": "17175550100", "campaign_id": 42, "publisher_id": 43}),
        &["number", "campaign_id", "publisher_id"],
    )
    .await;
    assert_eq!(total(&app, "/api/numbers").await, 0);

    assert_invalid(
        &app,
        "POST",
        "/api/users",
        json!({"email": "x", "password": "short", "role": "publisher"}),
        &["email", "password", "publisher_id"],
    )
    .await;
    assert_invalid(
        &app,
        "POST",
        "/api/users",
        json!({"email": "v@x.example", "password": "long enough pw", "role": "viewer", "publisher_id": 1}),
        &["publisher_id"],
    )
    .await;
    assert_eq!(total(&app, "/api/users").await, 1, "only the first admin");

    // A PATCH with one bad field changes nothing.
    let b = app.create("/api/buyers", json!({"name": "Keep", "phone_number": "+14155550100"})).await;
    assert_invalid(
        &app,
        "PATCH",
        &format!("/api/buyers/{}", b["id"]),
        json!({"name": "Changed", "timezone": "Nowhere/Else"}),
        &["timezone"],
    )
    .await;
    let (_, after) = app.admin("GET", &format!("/api/buyers/{}", b["id"]), None).await;
    assert_eq!(after, b);
}

async fn unique_clashes_are_409(app: TestApp) {
    app.create("/api/buyers", json!({"name": "Same", "phone_number": "+14155550100"})).await;
    let (status, err) = app.admin("POST", "/api/buyers", Some(json!({"name": "Same", "phone_number": "+14155550101"}))).await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["code"], "conflict");
    assert!(err["message"].as_str().unwrap_or("").contains("name"), "{err}");
    app.create("/api/numbers", json!({"number": "+17175550100"})).await;
    let (status, err) = app.admin("POST", "/api/numbers", Some(json!({"number": "+1 717 555 0100"}))).await;
    assert_eq!(status, 409, "{err}");
    assert!(err["message"].as_str().unwrap_or("").contains("number"), "{err}");
    assert_eq!(total(&app, "/api/numbers").await, 1);
    let (status, _) =
        app.admin("POST", "/api/users", Some(json!({"email": "ADMIN@test.example", "password": "0123456789", "role": "viewer"}))).await;
    assert_eq!(status, 409, "emails are unique whatever their case");
}

async fn malformed_bodies(app: TestApp) {
    let send = |ct: &'static str, body: Vec<u8>| {
        app.client.post(app.url("/api/campaigns")).bearer_auth(&app.admin_token).header("content-type", ct).body(body).send()
    };
    let res = send("application/json", b"{\"name\": ".to_vec()).await.expect("send");
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.expect("json");
    assert_eq!(err["code"], "invalid_json");

    let res = send("text/plain", b"{\"name\": \"x\"}".to_vec()).await.expect("send");
    assert_eq!(res.status(), 415);
    let err: Value = res.json().await.expect("json");
    assert_eq!(err["code"], "unsupported_media_type");

    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(400 * 1024));
    let res = send("application/json", big.into_bytes()).await.expect("send");
    assert_eq!(res.status(), 413);
    let err: Value = res.json().await.expect("json");
    assert_eq!(err["code"], "payload_too_large");

    let res = send("application/json", b"{\"name\": 12}".to_vec()).await.expect("send");
    assert_eq!(res.status(), 400, "wrong types are a 400 naming the field");
    assert_eq!(total(&app, "/api/campaigns").await, 0);

    let (status, err) = app.admin("GET", "/api/no-such-route", None).await;
    assert_eq!(status, 404);
    assert_eq!(err["code"], "not_found");
    let (status, err) = app.admin("GET", "/api/campaigns/not-a-number", None).await;
    assert_eq!((status, &err["code"]), (404, &json!("not_found")), "a segment that is no id names no resource: {err}");
}

/// Found by schemathesis: a search with a NUL character was a 500 on PostgreSQL.
async fn nul_in_the_query_is_400(app: TestApp) {
    for path in ["/api/campaigns?q=a%00b", "/api/buyers?q=%00", "/api/numbers?q=x%00", "/api/publishers?q=%00&page=1"] {
        let (status, err) = app.admin("GET", path, None).await;
        assert_eq!(status, 400, "{path} -> {err}");
        assert_eq!(err["code"], "bad_request");
    }
    assert_eq!(app.admin("GET", "/api/campaigns?q=a%20b", None).await.0, 200, "other escapes are fine");
    // And in JSON text (a PATCH of a publisher's contact was a 500 on PostgreSQL).
    let p = app.create("/api/publishers", json!({"name": "Nul"})).await;
    let path = format!("/api/publishers/{}", p["id"]);
    assert_invalid(&app, "PATCH", &path, json!({"contact_name": "a\0b"}), &["contact_name"]).await;
    assert_invalid(&app, "POST", "/api/campaigns", json!({"name": "N", "busy_message": "\0"}), &["busy_message"]).await;
    let (_, after) = app.admin("GET", &path, None).await;
    assert!(after["contact_name"].is_null(), "nothing written: {after}");
}

/// Dates past chrono's arithmetic (year ±262,143) used to drop the connection (a panic in the
/// handler) or answer 500; years outside 2000..=2100 are refused on every route that takes a
/// date, with the field named, and nothing is done.
async fn extreme_dates_are_422(app: TestApp) {
    let p = app.create("/api/publishers", json!({"name": "Dated"})).await;
    let extremes =
        ["-262143-01-01T00:00:00Z", "+262142-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2101-01-01T00:00:00Z"];
    let report = format!("/api/publishers/{}/report", p["id"]);
    let query_routes = [
        "/api/calls".to_string(),
        "/api/analytics/summary".into(),
        "/api/analytics/timeseries".into(),
        report.clone(),
        format!("{report}?format=csv"),
    ];
    for date in extremes {
        let encoded = date.replace('+', "%2B");
        for route in &query_routes {
            for field in ["from", "to"] {
                let sep = if route.contains('?') { '&' } else { '?' };
                let path = format!("{route}{sep}{field}={encoded}");
                let (status, err) = app.admin("GET", &path, None).await;
                assert_eq!(status, 422, "GET {path} -> {err}");
                assert_eq!(err["code"], "validation_failed", "{path}: {err}");
                assert!(err["details"]["fields"][field].is_string(), "{path}: {field} named in {err}");
            }
        }
        let normal = "2026-01-01T00:00:00Z";
        for (from, to, field) in [(date, normal, "from"), (normal, date, "to")] {
            assert_invalid(&app, "POST", "/api/money/recompute", json!({"from": from, "to": to}), &[field]).await;
        }
        let simulate = json!({"number": "+17175550100", "caller": "+12015550123", "at": date});
        assert_invalid(&app, "POST", "/api/routing/simulate", simulate, &["at"]).await;
    }
    // The first and last supported years are served.
    for path in [
        "/api/analytics/summary?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z",
        "/api/analytics/timeseries?from=2100-12-30T00:00:00Z&to=2100-12-31T23:59:59Z",
        "/api/calls?from=2000-01-01T00:00:00Z&to=2100-12-31T23:59:59Z",
    ] {
        assert_eq!(app.admin("GET", path, None).await.0, 200, "{path}");
    }
    let (status, body) = app.admin("GET", &format!("{report}?to=2000-01-01T00:00:00Z"), None).await;
    assert_eq!(status, 200, "the default 30 days before the first supported instant: {body}");
    assert_eq!(app.call("GET", "/readyz", None, None).await.0, 200, "still serving");
}
