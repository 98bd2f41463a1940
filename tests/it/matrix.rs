//! The authorization matrix: every route of the generated OpenAPI document, tried with every
//! role. A route missing from the table below fails the test, so new routes must be classified.
//!
//! | class        | admin | operator | viewer | publisher A user | publisher A key | no token |
//! |--------------|-------|----------|--------|------------------|-----------------|----------|
//! | Open         |   ok  |    ok    |   ok   |        ok        |       ok        |    ok    |
//! | Signed       |  403  |   403    |  403   |       403        |      403        |   403    |  (Twilio signature, not a bearer token)
//! | Scoped       |   ok  |    ok    |   ok   |   ok (own only)  |  ok (own only)  |   401    |
//! | Staff        |   ok  |    ok    |   ok   |       403        |      403        |   401    |
//! | Writer       |   ok  |    ok    |  403   |       403        |      403        |   401    |
//! | `KeyManager` |   ok  |    ok    |  403   |       403        |      403        |   401    |  (operators: publisher keys only)
//! | Admin        |   ok  |   403    |  403   |       403        |      403        |   401    |
//! | Publisher    |  403  |   403    |  403   |        ok        |       ok        |   401    |
//!
//! "ok" means neither 401 nor 403 (the request may still be 404/409/422 for its content). Path
//! ids are real records: publisher A's own where the route is publisher-scoped, so "ok (own
//! only)" is exercised on data the publisher may see; `publishers_see_only_their_own` and the
//! money tests check what they may not. DELETE routes run last, publisher deletion very last.
use callbroker_tests::{both_backends, TestApp};
use serde_json::{json, Value};

both_backends!(every_route_with_every_role);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Open,
    Signed,
    Scoped,
    Staff,
    Writer,
    KeyManager,
    Admin,
    Publisher,
}

/// (method, path template) → class.
const MATRIX: &[(&str, &str, Class)] = &[
    ("GET", "/healthz", Class::Open),
    ("GET", "/readyz", Class::Open),
    ("POST", "/api/auth/login", Class::Open),
    ("GET", "/api/auth/me", Class::Scoped),
    ("GET", "/api/campaigns", Class::Staff),
    ("POST", "/api/campaigns", Class::Writer),
    ("GET", "/api/campaigns/{id}", Class::Staff),
    ("PATCH", "/api/campaigns/{id}", Class::Writer),
    ("DELETE", "/api/campaigns/{id}", Class::Writer),
    ("GET", "/api/buyers", Class::Staff),
    ("POST", "/api/buyers", Class::Writer),
    ("GET", "/api/buyers/{id}", Class::Staff),
    ("PATCH", "/api/buyers/{id}", Class::Writer),
    ("DELETE", "/api/buyers/{id}", Class::Writer),
    ("GET", "/api/publishers", Class::Scoped),
    ("POST", "/api/publishers", Class::Writer),
    ("GET", "/api/publishers/{id}", Class::Scoped),
    ("PATCH", "/api/publishers/{id}", Class::Writer),
    ("DELETE", "/api/publishers/{id}", Class::Writer),
    ("POST", "/api/publishers/{id}/postback-secret", Class::Writer),
    ("GET", "/api/publishers/{id}/report", Class::Scoped),
    ("GET", "/api/numbers", Class::Scoped),
    ("POST", "/api/numbers", Class::Writer),
    ("GET", "/api/numbers/{id}", Class::Scoped),
    ("PATCH", "/api/numbers/{id}", Class::Writer),
    ("DELETE", "/api/numbers/{id}", Class::Writer),
    ("GET", "/api/users", Class::Admin),
    ("POST", "/api/users", Class::Admin),
    ("GET", "/api/users/{id}", Class::Admin),
    ("PATCH", "/api/users/{id}", Class::Admin),
    ("DELETE", "/api/users/{id}", Class::Admin),
    ("GET", "/api/api-keys", Class::KeyManager),
    ("POST", "/api/api-keys", Class::KeyManager),
    ("DELETE", "/api/api-keys/{id}", Class::KeyManager),
    ("GET", "/api/calls", Class::Scoped),
    ("GET", "/api/calls/{id}", Class::Scoped),
    ("POST", "/api/routing/simulate", Class::Staff),
    ("GET", "/api/blocklist", Class::Staff),
    ("POST", "/api/blocklist", Class::Writer),
    ("GET", "/api/blocklist/{id}", Class::Staff),
    ("PATCH", "/api/blocklist/{id}", Class::Writer),
    ("DELETE", "/api/blocklist/{id}", Class::Writer),
    ("POST", "/api/blocklist/import", Class::Writer),
    ("GET", "/api/blocklist/export", Class::Staff),
    ("GET", "/api/analytics/summary", Class::Scoped),
    ("GET", "/api/analytics/timeseries", Class::Scoped),
    ("GET", "/api/analytics/ivr", Class::Staff),
    ("POST", "/api/campaigns/ivr/preview", Class::Staff),
    ("POST", "/api/money/recompute", Class::Admin),
    ("GET", "/api/calls/{id}/recording", Class::Scoped),
    ("GET", "/api/events", Class::Scoped),
    ("POST", "/api/numbers/import", Class::Writer),
    ("GET", "/api/numbers/imports/{id}", Class::Staff),
    ("GET", "/api/numbers/webhooks", Class::Staff),
    ("POST", "/api/numbers/webhooks/configure", Class::Writer),
    ("GET", "/api/numbers/{id}/webhooks", Class::Staff),
    ("POST", "/api/numbers/{id}/webhooks/configure", Class::Writer),
    ("GET", "/api/twilio/account", Class::Admin),
    ("PUT", "/api/twilio/account", Class::Admin),
    ("DELETE", "/api/twilio/account", Class::Admin),
    ("POST", "/api/webhooks/twilio/voice", Class::Signed),
    ("POST", "/api/webhooks/twilio/dial", Class::Signed),
    ("POST", "/api/webhooks/twilio/status", Class::Signed),
    ("POST", "/api/webhooks/twilio/recording", Class::Signed),
    ("POST", "/api/webhooks/twilio/legs/{leg_id}/whisper", Class::Signed),
    ("POST", "/api/webhooks/twilio/legs/{leg_id}/accept", Class::Signed),
    ("POST", "/api/webhooks/twilio/calls/{call_id}/ivr/{question}/{attempt}", Class::Signed),
    ("GET", "/api/bidders", Class::Staff),
    ("POST", "/api/bidders", Class::Writer),
    ("GET", "/api/bidders/{id}", Class::Staff),
    ("PATCH", "/api/bidders/{id}", Class::Writer),
    ("DELETE", "/api/bidders/{id}", Class::Writer),
    ("POST", "/api/bidders/{id}/test", Class::Writer),
    ("GET", "/api/analytics/bidders", Class::Staff),
    ("POST", "/api/rtb/ping", Class::Publisher),
    ("GET", "/api/rtb/quotes", Class::Publisher),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    Operator,
    Viewer,
    PublisherUser,
    PublisherKey,
    Nobody,
}

fn allowed(class: Class, who: Who) -> Option<bool> {
    use Who::*;
    Some(match class {
        Class::Open => true,
        Class::Signed => return None,
        Class::Scoped => who != Nobody,
        Class::Staff => matches!(who, Admin | Operator | Viewer),
        Class::Writer | Class::KeyManager => matches!(who, Admin | Operator),
        Class::Admin => who == Admin,
        Class::Publisher => matches!(who, PublisherUser | PublisherKey),
    })
}

/// A valid body for routes that take one (so that a denial is the role's, not the body's).
#[allow(clippy::match_same_arms, reason = "one arm per route, as the route table lists them")]
fn body_for(method: &str, path: &str, ids: &Ids, n: usize) -> Option<Value> {
    let v = match (method, path) {
        ("POST", "/api/auth/login") => json!({"email": callbroker_tests::ADMIN_EMAIL, "password": callbroker_tests::ADMIN_PASSWORD}),
        ("POST", "/api/campaigns") => json!({"name": format!("M{n}")}),
        ("PATCH", "/api/campaigns/{id}") => json!({"greeting": "Hello"}),
        ("POST", "/api/buyers") => json!({"name": format!("M{n}"), "phone_number": format!("+1415555{:04}", 2000 + n)}),
        ("PATCH", "/api/buyers/{id}") => json!({"weight": 2}),
        ("POST", "/api/publishers") => json!({"name": format!("M{n}")}),
        ("PATCH", "/api/publishers/{id}") => json!({"contact_name": "Ann"}),
        ("POST", "/api/numbers") => json!({"number": format!("+1717555{:04}", 3000 + n)}),
        ("PATCH", "/api/numbers/{id}") => json!({"friendly_name": "Main"}),
        ("POST", "/api/users") => json!({"email": format!("m{n}@x.example"), "password": "password-123456", "role": "viewer"}),
        ("PATCH", "/api/users/{id}") => json!({"role": "viewer"}),
        ("POST", "/api/api-keys") => json!({"name": format!("k{n}"), "role": "publisher", "publisher_id": ids.publisher}),
        ("POST", "/api/routing/simulate") => json!({"number": "+17175550100", "caller": "+12015550123"}),
        ("POST", "/api/campaigns/ivr/preview") => json!({"ivr": {"questions": [{"say": "Press 1"}]}}),
        ("POST", "/api/blocklist") => json!({"number": format!("+1900555{:04}", n)}),
        ("PATCH", "/api/blocklist/{id}") => json!({"note": "checked"}),
        ("PUT", "/api/twilio/account") => {
            json!({"account_sid": "AC00000000000000000000000000000001", "auth_token": "0123456789abcdef0123456789abcdef"})
        }
        ("POST", "/api/money/recompute") => json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}),
        ("POST", "/api/bidders") => json!({"campaign_id": ids.campaign, "name": format!("M{n}"), "url": "https://rtb.example.com/bid",
            "mapping": {"amount": "/bid", "number": "/to"}}),
        ("PATCH", "/api/bidders/{id}") => json!({"timeout_ms": 500}),
        ("POST", "/api/bidders/{id}/test") => json!({}),
        ("POST", "/api/rtb/ping") => json!({"campaign_id": ids.campaign, "caller": format!("+1201555{:04}", n)}),
        _ => return None,
    };
    Some(v)
}

struct Ids {
    campaign: i64,
    buyer: i64,
    publisher: i64,
    number: i64,
    user: i64,
    key: i64,
    call: i64,
    blocklist: i64,
    bidder: i64,
}

fn fill(path: &str, ids: &Ids) -> String {
    let id = match path.split('/').nth(2) {
        Some("campaigns") => ids.campaign,
        Some("buyers") => ids.buyer,
        Some("publishers") => ids.publisher,
        Some("numbers") => ids.number,
        Some("users") => ids.user,
        Some("api-keys") => ids.key,
        Some("calls") => ids.call,
        Some("blocklist") => ids.blocklist,
        Some("bidders") => ids.bidder,
        _ => 0,
    };
    path.replace("{id}", &id.to_string())
}

async fn every_route_with_every_role(app: TestApp) {
    // Publisher A with a number on a campaign, a buyer, a call; victims for the DELETE routes.
    let buyer = app.create("/api/buyers", json!({"name": "B", "phone_number": "+14155550101"})).await;
    let campaign = app.create("/api/campaigns", json!({"name": "C", "buyers": [{"buyer_id": buyer["id"]}]})).await;
    let pub_a = app.create("/api/publishers", json!({"name": "A"})).await;
    let number =
        app.create("/api/numbers", json!({"number": "+17175550100", "campaign_id": campaign["id"], "publisher_id": pub_a["id"]})).await;
    app.incoming_call("CAM1", "+12015550123", "+17175550100", &[]).await;
    app.call_status("CAM1", "completed", 1, Some(3)).await;
    let call = app.call_by_sid("CAM1").await["call"]["id"].as_i64().expect("call id");
    for (email, role) in [("op@m.example", "operator"), ("view@m.example", "viewer")] {
        app.create("/api/users", json!({"email": email, "password": "password-123456", "role": role})).await;
    }
    app.create(
        "/api/users",
        json!({"email": "pub@m.example", "password": "password-123456", "role": "publisher", "publisher_id": pub_a["id"]}),
    )
    .await;
    let victim_user = app.create("/api/users", json!({"email": "victim@m.example", "password": "password-123456", "role": "viewer"})).await;
    let key = app.create("/api/api-keys", json!({"name": "pub key", "role": "publisher", "publisher_id": pub_a["id"]})).await;
    let victim_key = app.create("/api/api-keys", json!({"name": "victim", "role": "publisher", "publisher_id": pub_a["id"]})).await;
    let entry = app.create("/api/blocklist", json!({"number": "+1900", "note": "matrix"})).await;
    // A bidder that cannot be reached (its test ping answers an error, not a denial).
    let bidder = app
        .create(
            "/api/bidders",
            json!({"campaign_id": campaign["id"], "name": "M", "url": "http://127.0.0.1:9/bid", "allow_private": true, "timeout_ms": 200,
                   "mapping": {"amount": "/bid", "number": "/to"}}),
        )
        .await;
    let tokens = [
        (Who::Nobody, None),
        (Who::PublisherKey, Some(key["secret"].as_str().expect("secret").to_string())),
        (Who::PublisherUser, Some(app.login("pub@m.example", "password-123456").await)),
        (Who::Viewer, Some(app.login("view@m.example", "password-123456").await)),
        (Who::Operator, Some(app.login("op@m.example", "password-123456").await)),
        (Who::Admin, Some(app.admin_token.clone())),
    ];
    let id = |v: &Value| v["id"].as_i64().expect("id");
    let ids = Ids {
        campaign: id(&campaign),
        buyer: id(&buyer),
        publisher: id(&pub_a),
        number: id(&number),
        user: id(&victim_user),
        key: id(&victim_key["key"]),
        call,
        blocklist: id(&entry),
        bidder: id(&bidder),
    };

    // Every operation of the document, DELETEs last and the publisher's own deletion very last.
    let doc: Value = serde_json::to_value(callbroker::openapi::document()).expect("document");
    let mut ops: Vec<(String, String)> = vec![];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops.sort_by_key(|(m, p)| (m == "DELETE", p == "/api/publishers/{id}", p.clone()));
    let mut failures = vec![];
    let mut n = 0;
    for (method, path) in &ops {
        let Some(&(_, _, class)) = MATRIX.iter().find(|(m, p, _)| m == method && p == path) else {
            failures.push(format!("{method} {path}: not in the matrix — classify it"));
            continue;
        };
        for (who, token) in &tokens {
            n += 1;
            let (status, body) = if path == "/api/events" {
                // A stream that never ends: the status line is the answer.
                let mut req = app.client.get(app.url(path));
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                let res = app.send(req).await.expect("events");
                (res.status().as_u16(), String::new())
            } else {
                // Any content type: some routes answer CSV or audio.
                let reply = app.request(method, &fill(path, &ids), token.as_deref(), body_for(method, path, &ids, n)).await;
                (reply.status, reply.text())
            };
            let ok = match allowed(class, *who) {
                Some(true) => status != 401 && status != 403,
                Some(false) if *who == Who::Nobody => status == 401,
                None | Some(false) => status == 403,
            };
            if !ok {
                failures.push(format!("{method} {path} as {who:?} ({class:?}): got {status} {body}"));
            }
        }
    }
    for (m, p, _) in MATRIX {
        if !ops.iter().any(|(om, op)| om == m && op == p) {
            failures.push(format!("{m} {p}: in the matrix but not in the document"));
        }
    }
    assert!(failures.is_empty(), "authorization matrix violations:\n{}", failures.join("\n"));
}
