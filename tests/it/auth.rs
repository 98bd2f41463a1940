//! Authentication and the role rules: who may read and write what.
use callbroker::auth::jwt::JwtKeys;
use callbroker_tests::{assert_absent, both_backends, TestApp};
use serde_json::json;

both_backends!(tokens_are_checked, roles_are_enforced, publishers_see_only_their_own, api_keys_work_and_can_be_revoked);

const SECRET: &[u8] = b"test-secret-test-secret-test-secret-0123";

async fn tokens_are_checked(app: TestApp) {
    // Open routes.
    assert_eq!(app.call("GET", "/healthz", None, None).await.0, 200);
    assert_eq!(app.call("GET", "/readyz", None, None).await.0, 200);
    assert_eq!(app.call("GET", "/api/openapi.json", None, None).await.0, 200);

    let (status, err) = app.call("GET", "/api/campaigns", None, None).await;
    assert_eq!(status, 401);
    assert_eq!(err["code"], "unauthorized");
    assert_eq!(app.call("GET", "/api/campaigns", Some("garbage"), None).await.0, 401);

    let keys = JwtKeys::new(SECRET, 3600);
    let (expired, _) = keys.issue(1, 0, chrono::Utc::now() - chrono::Duration::hours(2)).expect("issue");
    assert_eq!(app.call("GET", "/api/campaigns", Some(&expired), None).await.0, 401, "expired");

    let other = JwtKeys::new(b"some-other-secret-some-other-secret-0123", 3600);
    let (wrong_key, _) = other.issue(1, 0, chrono::Utc::now()).expect("issue");
    assert_eq!(app.call("GET", "/api/campaigns", Some(&wrong_key), None).await.0, 401, "wrong key");

    let mut parts: Vec<String> = app.admin_token.split('.').map(String::from).collect();
    let claims = String::from_utf8(base64_url_decode(&parts[1])).expect("claims");
    parts[1] = base64_url_encode(claims.replace("\"sub\":\"1\"", "\"sub\":\"2\"").as_bytes());
    assert_eq!(app.call("GET", "/api/campaigns", Some(&parts.join(".")), None).await.0, 401, "tampered");

    let none_header = base64_url_encode(br#"{"alg":"none","typ":"JWT"}"#);
    let forged = format!("{none_header}.{}.", app.admin_token.split('.').nth(1).unwrap_or(""));
    assert_eq!(app.call("GET", "/api/campaigns", Some(&forged), None).await.0, 401, "alg none");

    let (status, _) = app
        .call("POST", "/api/auth/login", None, Some(json!({"email": callbroker_tests::ADMIN_EMAIL, "password": "wrong password"})))
        .await;
    assert_eq!(status, 401);
    let (status, me) = app.admin("GET", "/api/auth/me", None).await;
    assert_eq!(status, 200);
    assert_eq!(me["role"], "admin");
    assert_absent(&me, &["password_hash", "password"]);

    // A deleted user's token stops working at once.
    let u = app.create("/api/users", json!({"email": "gone@x.example", "password": "gone-password", "role": "operator"})).await;
    let token = app.login("gone@x.example", "gone-password").await;
    assert_eq!(app.call("GET", "/api/campaigns", Some(&token), None).await.0, 200);
    assert_eq!(app.admin("DELETE", &format!("/api/users/{}", u["id"]), None).await.0, 204);
    assert_eq!(app.call("GET", "/api/campaigns", Some(&token), None).await.0, 401);
}

async fn roles_are_enforced(app: TestApp) {
    app.create("/api/users", json!({"email": "op@x.example", "password": "operator-pass", "role": "operator"})).await;
    app.create("/api/users", json!({"email": "view@x.example", "password": "viewer-pass1", "role": "viewer"})).await;
    let op = app.login("op@x.example", "operator-pass").await;
    let viewer = app.login("view@x.example", "viewer-pass1").await;
    let campaign = json!({"name": "By operator"});

    let (status, c) = app.call("POST", "/api/campaigns", Some(&op), Some(campaign)).await;
    assert_eq!(status, 201, "operators write the directory");
    let path = format!("/api/campaigns/{}", c["id"]);
    assert_eq!(app.call("GET", &path, Some(&viewer), None).await.0, 200, "viewers read");
    assert_eq!(app.call("PATCH", &path, Some(&viewer), Some(json!({"name": "x"}))).await.0, 403, "viewers do not write");
    assert_eq!(app.call("DELETE", &path, Some(&viewer), None).await.0, 403);
    assert_eq!(app.call("POST", "/api/buyers", Some(&viewer), Some(json!({"name": "b", "phone_number": "+14155550100"}))).await.0, 403);
    assert_eq!(app.call("GET", "/api/users", Some(&op), None).await.0, 403, "only admins manage users");
    assert_eq!(
        app.call("POST", "/api/users", Some(&op), Some(json!({"email": "a@b.example", "password": "0123456789", "role": "admin"}))).await.0,
        403
    );
    assert_eq!(
        app.call("POST", "/api/api-keys", Some(&op), Some(json!({"name": "k", "role": "admin"}))).await.0,
        403,
        "operators cannot mint admin keys"
    );
    assert_eq!(app.call("GET", "/api/api-keys", Some(&viewer), None).await.0, 403);

    // The last admin stays.
    let (_, me) = app.admin("GET", "/api/auth/me", None).await;
    let (status, _) = app.admin("PATCH", &format!("/api/users/{}", me["id"]), Some(json!({"role": "viewer"}))).await;
    assert_eq!(status, 409);
    assert_eq!(app.admin("DELETE", &format!("/api/users/{}", me["id"]), None).await.0, 409);
}

async fn publishers_see_only_their_own(app: TestApp) {
    let a = app.create("/api/publishers", json!({"name": "Pub A"})).await;
    let b = app.create("/api/publishers", json!({"name": "Pub B"})).await;
    let na = app.create("/api/numbers", json!({"number": "+17175550001", "publisher_id": a["id"]})).await;
    let nb = app.create("/api/numbers", json!({"number": "+17175550002", "publisher_id": b["id"]})).await;
    app.create("/api/users", json!({"email": "a@pub.example", "password": "publisher-a-pw", "role": "publisher", "publisher_id": a["id"]}))
        .await;
    let token = app.login("a@pub.example", "publisher-a-pw").await;
    let t = Some(token.as_str());

    let (status, list) = app.call("GET", "/api/publishers", t, None).await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], a["id"]);
    assert_eq!(app.call("GET", &format!("/api/publishers/{}", a["id"]), t, None).await.0, 200);
    assert_eq!(app.call("GET", &format!("/api/publishers/{}", b["id"]), t, None).await.0, 404, "another publisher is invisible");

    let (_, numbers) = app.call("GET", "/api/numbers", t, None).await;
    assert_eq!(numbers["total"], 1);
    assert_eq!(numbers["items"][0]["id"], na["id"]);
    let (_, numbers) = app.call("GET", &format!("/api/numbers?publisher_id={}", b["id"]), t, None).await;
    assert_eq!(numbers["total"], 0, "a filter cannot widen the scope");
    assert_eq!(app.call("GET", &format!("/api/numbers/{}", nb["id"]), t, None).await.0, 404);

    for path in ["/api/campaigns", "/api/buyers", "/api/users", "/api/api-keys"] {
        assert_eq!(app.call("GET", path, t, None).await.0, 403, "publisher on {path}");
    }
    assert_eq!(app.call("PATCH", &format!("/api/numbers/{}", na["id"]), t, Some(json!({"publisher_id": b["id"]}))).await.0, 403);
    assert_eq!(app.call("PATCH", &format!("/api/publishers/{}", a["id"]), t, Some(json!({"name": "mine now"}))).await.0, 403);
}

async fn api_keys_work_and_can_be_revoked(app: TestApp) {
    let p = app.create("/api/publishers", json!({"name": "Keyed"})).await;
    let created = app.create("/api/api-keys", json!({"name": "reporting", "role": "publisher", "publisher_id": p["id"]})).await;
    let secret = created["secret"].as_str().expect("secret").to_string();
    assert!(secret.starts_with("cbk_"));
    assert!(secret.starts_with(created["key"]["prefix"].as_str().expect("prefix")));

    let (status, list) = app.call("GET", "/api/publishers", Some(&secret), None).await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 1);
    assert_eq!(app.call("GET", "/api/campaigns", Some(&secret), None).await.0, 403);

    let (_, keys) = app.admin("GET", "/api/api-keys", None).await;
    assert_eq!(keys["total"], 1);
    assert!(keys.to_string().find(&secret).is_none(), "the secret is never listed");
    assert!(!keys["items"][0]["last_used_at"].is_null(), "use is recorded");

    assert_eq!(app.admin("DELETE", &format!("/api/api-keys/{}", created["key"]["id"]), None).await.0, 204);
    assert_eq!(app.call("GET", "/api/publishers", Some(&secret), None).await.0, 401, "revoked");
    assert_eq!(app.call("GET", "/api/publishers", Some("cbk_not-a-real-key"), None).await.0, 401);
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).expect("base64")
}

fn base64_url_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}
