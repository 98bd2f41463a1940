//! Credentials that die with a change: session tokens refused after a password change, API keys
//! revoked with the user who granted them, and live event streams that end within one heartbeat
//! of any change to their credential, or at the session's expiry.
use std::time::{Duration, Instant};

use callbroker_tests::report::Tally;
use callbroker_tests::sse::{Message, SseClient, TokenIn};
use callbroker_tests::{both_backends, Backend, TestApp};
use serde_json::json;

/// The streams' heartbeat in these tests: a change must end a stream within it.
const HEARTBEAT_SECS: u64 = 1;
/// A change is seen at the next heartbeat; the margin covers the read and the delivery.
const WITHIN: Duration = Duration::from_millis(HEARTBEAT_SECS * 1000 + 1500);

both_backends!(backend: streams_end_with_their_credentials);
both_backends!(an_old_session_is_refused_after_a_password_change, api_keys_die_with_the_rights_that_granted_them);

async fn user(app: &TestApp, email: &str, role: &str, publisher_id: Option<i64>) -> (i64, String) {
    let password = "Credential-Pa55word";
    let mut body = json!({"email": email, "password": password, "role": role});
    if let Some(p) = publisher_id {
        body["publisher_id"] = json!(p);
    }
    let created = app.create("/api/users", body).await;
    (created["id"].as_i64().expect("user id"), app.login(email, password).await)
}

/// Checks that `stream` ends within [`WITHIN`] of `since`, telling the client to reload with reason
/// `credentials` first.
async fn ends(tally: &mut Tally, what: &str, stream: &mut SseClient, since: Instant) {
    let received = stream.end_within(WITHIN.saturating_sub(since.elapsed())).await;
    let took = since.elapsed();
    tally.check(received.is_some(), format_args!("{what}: the stream is still open {took:?} after the change"));
    let last = received.unwrap_or_default().pop();
    let told = matches!(&last, Some(Message::Reload(r)) if r.reason == "credentials");
    tally.check(told, format_args!("{what}: the stream ends with a reload frame of reason `credentials`, got {last:?}"));
}

async fn streams_end_with_their_credentials(backend: Backend) {
    type Change<'a> = (&'a str, &'a str, i64, &'a str, Option<serde_json::Value>);
    let mut tally = Tally::new(format!("streams end with their credentials ({backend:?})"));
    let app = TestApp::launch_with(backend, |c| c.live.heartbeat_secs = HEARTBEAT_SECS).await;
    let pa = app.create("/api/publishers", json!({"name": "Pub A"})).await["id"].as_i64().expect("id");
    let pb = app.create("/api/publishers", json!({"name": "Pub B"})).await["id"].as_i64().expect("id");
    let (deleted_id, deleted) = user(&app, "deleted@test.example", "operator", None).await;
    let (demoted_id, demoted) = user(&app, "demoted@test.example", "admin", None).await;
    let (moved_id, moved) = user(&app, "moved@test.example", "publisher", Some(pa)).await;
    let (changed_id, changed) = user(&app, "changed@test.example", "viewer", None).await;
    let (_, unchanged) = user(&app, "unchanged@test.example", "viewer", None).await;
    let key = app.create("/api/api-keys", json!({"name": "stream", "role": "viewer"})).await;
    let (key_id, key) = (key["key"]["id"].as_i64().expect("key id"), key["secret"].as_str().expect("secret").to_string());

    let mut control = app.sse(&unchanged, TokenIn::Query, None).await;
    let changes: [Change; 5] = [
        ("a deleted user's", &deleted, deleted_id, "DELETE /api/users", None),
        ("a demoted admin's", &demoted, demoted_id, "PATCH /api/users", Some(json!({"role": "viewer"}))),
        ("a publisher user moved to another publisher", &moved, moved_id, "PATCH /api/users", Some(json!({"publisher_id": pb}))),
        ("a user whose password changed", &changed, changed_id, "PATCH /api/users", Some(json!({"password": "Another-Pa55word"}))),
        ("a revoked API key's", &key, key_id, "DELETE /api/api-keys", None),
    ];
    for (what, token, id, change, body) in changes {
        let mut stream = app.sse(token, TokenIn::Query, None).await;
        // Open across heartbeats while nothing changes.
        let quiet = stream.end_within(Duration::from_millis(HEARTBEAT_SECS * 1000 * 2 + 200)).await;
        tally.check(quiet.is_none(), format_args!("{what} stream stays open while its credential holds: {quiet:?}"));
        let (method, path) = change.split_once(' ').expect("method and path");
        let (status, answer) = app.admin(method, &format!("{path}/{id}"), body).await;
        tally.check(status == 200 || status == 204, format_args!("{change} {id} -> {status} {answer}"));
        ends(&mut tally, what, &mut stream, Instant::now()).await;
        let status = match app.try_sse(Some(token), TokenIn::Header, None).await {
            Ok(_) => 200,
            Err((status, _)) => status,
        };
        let refused = if what.contains("demoted") || what.contains("moved") { status == 200 } else { status == 401 };
        tally.check(refused, format_args!("{what} credential opens a new stream as it now stands: {status}"));
    }
    let still = control.end_within(Duration::from_millis(300)).await;
    tally.check(still.is_none(), format_args!("an unchanged user's stream stays open through it all: {still:?}"));

    // A session token's stream ends at the token's expiry, with nothing changed.
    let short = TestApp::launch_with(backend, |c| {
        c.live.heartbeat_secs = 3600;
        c.jwt_ttl_secs = 3;
    })
    .await;
    let issued = Instant::now();
    let mut stream = short.sse(&short.admin_token, TokenIn::Header, None).await;
    let received = stream.end_within(Duration::from_secs(6)).await;
    let lived = issued.elapsed();
    tally.check(received.is_some(), format_args!("a stream outlived its session token (3 s) by {lived:?}"));
    tally.check(lived >= Duration::from_secs(1), format_args!("the stream ended before its token expired: {lived:?}"));
    let last = received.unwrap_or_default().pop();
    tally.check(
        matches!(&last, Some(Message::Reload(r)) if r.reason == "credentials"),
        format_args!("an expired stream ends with reason `credentials`: {last:?}"),
    );
    tally.requests = app.requests() + short.requests();
    tally.save();
}

async fn an_old_session_is_refused_after_a_password_change(app: TestApp) {
    let (id, old) = user(&app, "op@test.example", "operator", None).await;
    assert_eq!(app.call("GET", "/api/auth/me", Some(&old), None).await.0, 200);
    // Another change (the email) leaves sessions alone.
    let (status, _) = app.admin("PATCH", &format!("/api/users/{id}"), Some(json!({"email": "op2@test.example"}))).await;
    assert_eq!(status, 200);
    assert_eq!(app.call("GET", "/api/auth/me", Some(&old), None).await.0, 200, "an email change keeps the session");
    let (status, _) = app.admin("PATCH", &format!("/api/users/{id}"), Some(json!({"password": "Brand-New-Pa55word"}))).await;
    assert_eq!(status, 200);
    let (status, body) = app.call("GET", "/api/auth/me", Some(&old), None).await;
    assert_eq!(status, 401, "the token issued before the change: {body}");
    assert_eq!(body["code"], "unauthorized");
    let (status, body) =
        app.call("POST", "/api/auth/login", None, Some(json!({"email": "op2@test.example", "password": "Credential-Pa55word"}))).await;
    assert_eq!(status, 401, "the old password: {body}");
    let new = app.login("op2@test.example", "Brand-New-Pa55word").await;
    let (status, me) = app.call("GET", "/api/auth/me", Some(&new), None).await;
    assert_eq!((status, me["id"].as_i64()), (200, Some(id)), "a session with the new password");
    assert_eq!(app.admin("GET", "/api/campaigns", None).await.0, 200, "other users' sessions are untouched");
}

async fn api_keys_die_with_the_rights_that_granted_them(app: TestApp) {
    let publisher = app.create("/api/publishers", json!({"name": "P"})).await["id"].as_i64().expect("id");
    let (boss_id, boss) = user(&app, "boss@test.example", "admin", None).await;
    let key = |role: &'static str, token: String| {
        let app = &app;
        async move {
            let mut body = json!({"name": format!("{role} key"), "role": role});
            if role == "publisher" {
                body["publisher_id"] = json!(publisher);
            }
            let (status, created) = app.call("POST", "/api/api-keys", Some(&token), Some(body)).await;
            assert_eq!(status, 201, "{created}");
            created["secret"].as_str().expect("secret").to_string()
        }
    };
    let admin_key = key("admin", boss.clone()).await;
    let viewer_key = key("viewer", boss.clone()).await;
    let publisher_key = key("publisher", boss.clone()).await;
    // A key made with a key is granted from the same user's rights.
    let keys_key = key("operator", admin_key.clone()).await;
    let works = |token: String| {
        let app = &app;
        async move { app.call("GET", "/api/calls", Some(&token), None).await.0 }
    };
    for k in [&admin_key, &viewer_key, &publisher_key, &keys_key] {
        assert_eq!(works(k.clone()).await, 200);
    }
    // Made operator: the admin, operator and viewer keys go; the publisher key stays (an operator
    // can still create it).
    let (status, body) = app.admin("PATCH", &format!("/api/users/{boss_id}"), Some(json!({"role": "operator"}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(works(admin_key.clone()).await, 401, "an admin key of a demoted admin");
    assert_eq!(works(viewer_key.clone()).await, 401, "a viewer key of a demoted admin");
    assert_eq!(works(keys_key.clone()).await, 401, "a key made with the demoted admin's key");
    assert_eq!(works(publisher_key.clone()).await, 200, "a publisher key an operator may still grant");
    let (_, listed) = app.admin("GET", "/api/api-keys", None).await;
    let names: Vec<&str> = listed["items"].as_array().expect("items").iter().filter_map(|k| k["name"].as_str()).collect();
    assert_eq!(names, vec!["publisher key"], "revoked keys are gone from the list");
    // Deleted: every key they granted goes.
    assert_eq!(app.admin("DELETE", &format!("/api/users/{boss_id}"), None).await.0, 204);
    assert_eq!(works(publisher_key).await, 401, "a deleted user's key");
    // The first admin's own keys are untouched by others' changes.
    let own = app.create("/api/api-keys", json!({"name": "own", "role": "admin"})).await;
    assert_eq!(works(own["secret"].as_str().expect("secret").to_string()).await, 200);
}
