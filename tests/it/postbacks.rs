//! Publisher postbacks against a real HTTP peer (wiremock): sent once per qualified call with the
//! template filled in, retried on 5xx until the publisher accepts, given up on 4xx, never sent
//! for unqualified calls; every attempt shown on the call; signed with the publisher's secret,
//! which is shown once and never read back. Both backends. The peers listen on 127.0.0.1, which
//! the servers here are configured to allow (`outbound.allow_hosts`); `outbound.rs` checks what
//! happens without.
use std::time::Duration;

use callbroker_tests::{assert_absent, both_backends, Backend, TestApp};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

both_backends!(
    backend:
    postbacks_follow_qualified_calls,
    postbacks_are_signed_with_a_secret_shown_once,
);
both_backends!(postback_settings_are_validated);

const NUMBER: &str = "+17175550100";

/// A server whose postbacks may reach this machine's test peers.
pub(crate) async fn with_local_peers(backend: Backend) -> TestApp {
    TestApp::launch_with(backend, |c| c.outbound.allow_hosts = vec!["127.0.0.1".into()]).await
}

/// Campaign paying 12.50 per call of 90 s or more, on NUMBER of a publisher whose postback is
/// `template`. Returns the publisher as created.
pub(crate) async fn setup(app: &TestApp, template: &str, method: &str) -> Value {
    let buyer = app.create("/api/buyers", json!({"name": "B", "phone_number": "+14155550101", "max_concurrent_calls": 5})).await;
    let publisher = app.create("/api/publishers", json!({"name": "Pub", "postback_url": template, "postback_method": method})).await;
    assert_eq!(publisher["postback_url"], template, "{publisher}");
    let c = app
        .create(
            "/api/campaigns",
            json!({"name": "Solar", "currency": "USD", "revenue_micros": 25_000_000, "payout_micros": 12_500_000,
                   "buffer_secs": 90, "duplicate_window_secs": 0, "buyers": [{"buyer_id": buyer["id"]}]}),
        )
        .await;
    app.create("/api/numbers", json!({"number": NUMBER, "campaign_id": c["id"], "publisher_id": publisher["id"]})).await;
    publisher
}

/// A call of `talk` seconds to NUMBER, answered and completed.
pub(crate) async fn answered(app: &TestApp, sid: &str, talk: u32) {
    let a = app.incoming_call(sid, "+12015550123", NUMBER, &[]).await;
    let leg = a.leg().unwrap_or_else(|| panic!("{a:?}"));
    let child = format!("{sid}L");
    app.leg_status(leg, sid, &child, "in-progress", 1, None).await;
    app.leg_status(leg, sid, &child, "completed", 2, Some(talk)).await;
    app.dial_result(leg, sid, &child, "completed", Some(talk)).await;
    app.call_status(sid, "completed", 1, Some(talk + 10)).await;
}

/// The call's postback attempts once `n` are there (the job queue sends them in the background).
pub(crate) async fn attempts(app: &TestApp, sid: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let detail = app.call_by_sid(sid).await;
        let got = detail["postbacks"].as_array().cloned().unwrap_or_else(|| panic!("no postbacks in {detail}"));
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{sid}: fewer than {n} postback attempts: {}", app.call_by_sid(sid).await["postbacks"]);
}

async fn postbacks_follow_qualified_calls(backend: Backend) {
    let app = with_local_peers(backend).await;
    let peer = MockServer::start().await;
    // The first try fails with 503, the second is accepted.
    Mock::given(method("GET"))
        .and(path("/pb"))
        .and(query_param("sid", "CA1"))
        .and(query_param("ac", "201"))
        .and(query_param("d", "95"))
        .and(query_param("p", "12.50"))
        .and(query_param("cur", "USD"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&peer)
        .await;
    Mock::given(method("GET"))
        .and(path("/pb"))
        .and(query_param("sid", "CA1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&peer)
        .await;
    let template = format!("{}/pb?sid={{call_sid}}&ac={{caller_area_code}}&d={{duration}}&p={{payout}}&cur={{currency}}", peer.uri());
    setup(&app, &template, "get").await;

    answered(&app, "CA1", 95).await;
    let tries = attempts(&app, "CA1", 2).await;
    assert_eq!(tries[0]["status_code"], 503, "{tries:?}");
    assert_eq!(tries[0]["error"], "HTTP 503", "{tries:?}");
    assert_eq!(tries[1]["status_code"], 200, "{tries:?}");
    assert!(tries[1]["error"].is_null());
    assert_eq!(tries[1]["attempt"], 2);
    assert_eq!(tries[1]["method"], "GET");
    assert!(tries[1]["url"].as_str().is_some_and(|u| u.ends_with("/pb?sid=CA1&ac=201&d=95&p=12.50&cur=USD")), "{tries:?}");

    // A call too short to qualify sends nothing; a rejected postback (404) is not retried.
    answered(&app, "CA2", 30).await;
    assert_eq!(app.call_by_sid("CA2").await["call"]["money"]["qualified"], false);
    Mock::given(method("GET"))
        .and(path("/pb"))
        .and(query_param("sid", "CA3"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&peer)
        .await;
    answered(&app, "CA3", 120).await;
    let tries = attempts(&app, "CA3", 1).await;
    assert_eq!(tries[0]["status_code"], 404);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(app.call_by_sid("CA3").await["postbacks"].as_array().map(Vec::len), Some(1), "a 4xx is final");
    assert_eq!(app.call_by_sid("CA2").await["postbacks"].as_array().map(Vec::len), Some(0));
    // Each qualified call's postback went out exactly as often as the mocks expect.
    peer.verify().await;
}

async fn postback_settings_are_validated(app: TestApp) {
    for (template, field) in [
        ("https://pub.example/pb?id={nope}", "unknown placeholder"),
        ("https://pub.example/pb?id={call_id", "without its '}'"),
        ("mailto:someone@pub.example", "http:// or https://"),
        ("http://127.0.0.1:8500/pb?id={call_id}", "points to a loopback address; postbacks go to public addresses only"),
        ("http://169.254.169.254/latest/meta-data/?c={call_id}", "points to a link-local address"),
        ("http://10.0.0.5:8500/v1/agent/self", "points to a private address"),
        ("http://[::ffff:192.168.1.1]/pb", "points to a private address"),
        ("http://[fd00::1]/pb", "points to a unique-local address"),
    ] {
        let (status, body) =
            app.call("POST", "/api/publishers", Some(&app.admin_token), Some(json!({"name": "P", "postback_url": template}))).await;
        assert_eq!(status, 422, "{template}: {body}");
        assert!(body["details"]["fields"]["postback_url"].as_str().is_some_and(|m| m.contains(field)), "{template}: {body}");
    }
    let (status, body) =
        app.call("POST", "/api/publishers", Some(&app.admin_token), Some(json!({"name": "P", "postback_method": "PUT"}))).await;
    assert!(status == 400 || status == 422, "{body}");
    let (_, list) = app.call("GET", "/api/publishers", Some(&app.admin_token), None).await;
    assert_eq!(list["total"], 0, "nothing written: {list}");

    // Set, change the method, then remove.
    let p = app.create("/api/publishers", json!({"name": "P", "postback_url": "https://pub.example/pb?id={call_id}"})).await;
    assert_eq!(p["postback_method"], "get");
    let id = p["id"].as_i64().expect("id");
    let (status, p) =
        app.call("PATCH", &format!("/api/publishers/{id}"), Some(&app.admin_token), Some(json!({"postback_method": "post"}))).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!((p["postback_method"].as_str(), p["postback_url"].as_str()), (Some("post"), Some("https://pub.example/pb?id={call_id}")));
    let (status, p) =
        app.call("PATCH", &format!("/api/publishers/{id}"), Some(&app.admin_token), Some(json!({"postback_url": null}))).await;
    assert_eq!(status, 200, "{p}");
    assert!(p["postback_url"].is_null());
    // A change aimed at a private address is refused and leaves the publisher as it was.
    let (status, body) = app
        .call("PATCH", &format!("/api/publishers/{id}"), Some(&app.admin_token), Some(json!({"postback_url": "http://100.64.0.9/pb"})))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["details"]["fields"]["postback_url"].as_str().is_some_and(|m| m.contains("shared (CGNAT)")), "{body}");
    assert!(app.admin("GET", &format!("/api/publishers/{id}"), None).await.1["postback_url"].is_null());
}

/// Checks `X-Callbroker-Signature: t=<t>,v1=<hex>` against HMAC-SHA256(secret, "<t>.<content>").
fn signature_holds(header: &str, secret: &str, content: &[u8]) -> bool {
    let Some((t, v1)) = header.split_once(",v1=").and_then(|(t, v)| Some((t.strip_prefix("t=")?, v))) else { return false };
    let Ok(t) = t.parse::<i64>() else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(content);
    let fresh = (chrono::Utc::now().timestamp() - t).abs() < 60;
    fresh && hex::decode(v1).is_ok_and(|v| mac.verify_slice(&v).is_ok())
}

async fn postbacks_are_signed_with_a_secret_shown_once(backend: Backend) {
    let app = with_local_peers(backend).await;
    let peer = MockServer::start().await;
    Mock::given(path("/pb")).respond_with(ResponseTemplate::new(200)).mount(&peer).await;
    let publisher = setup(&app, &format!("{}/pb?sid={{call_sid}}", peer.uri()), "post").await;
    let id = publisher["id"].as_i64().expect("id");
    let secret = publisher["postback_secret"].as_str().expect("the secret, in the creation's answer").to_string();
    assert!(secret.starts_with("cbps_") && secret.len() >= 40, "{secret}");
    assert_eq!(publisher["name"], "Pub", "the publisher's fields beside it: {publisher}");

    // A POST postback: the body is signed.
    answered(&app, "CA1", 95).await;
    assert_eq!(attempts(&app, "CA1", 1).await[0]["status_code"], 200);
    let got = peer.received_requests().await.expect("recorded");
    let post = got.last().expect("a postback");
    assert_eq!(post.method.as_str(), "POST");
    let header = post.headers.get("x-callbroker-signature").and_then(|v| v.to_str().ok()).expect("signed").to_string();
    assert!(signature_holds(&header, &secret, &post.body), "{header} over {}", String::from_utf8_lossy(&post.body));
    assert!(!signature_holds(&header, &secret, b"sid=CA1&payout=99.00"), "a changed body does not verify");

    // A new secret, shown once; GET postbacks are signed over their path and query.
    let (status, rotated) = app.admin("POST", &format!("/api/publishers/{id}/postback-secret"), None).await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["postback_secret"].as_str().expect("the new secret").to_string();
    assert_ne!(new_secret, secret);
    let (status, patched) = app.admin("PATCH", &format!("/api/publishers/{id}"), Some(json!({"postback_method": "get"}))).await;
    assert_eq!(status, 200, "{patched}");
    answered(&app, "CA2", 95).await;
    assert_eq!(attempts(&app, "CA2", 1).await[0]["status_code"], 200);
    let got = peer.received_requests().await.expect("recorded");
    let get = got.last().expect("a postback");
    assert_eq!(get.method.as_str(), "GET");
    let target = format!("{}?{}", get.url.path(), get.url.query().unwrap_or_default());
    assert_eq!(target, "/pb?sid=CA2");
    let header = get.headers.get("x-callbroker-signature").and_then(|v| v.to_str().ok()).expect("signed").to_string();
    assert!(signature_holds(&header, &new_secret, target.as_bytes()), "{header} over {target}");
    assert!(!signature_holds(&header, &secret, target.as_bytes()), "the old secret no longer verifies");
    let (status, _) = app.admin("POST", "/api/publishers/999999/postback-secret", None).await;
    assert_eq!(status, 404);

    // Neither secret is ever read back: not by staff, not by the publisher itself.
    let key = app.create("/api/api-keys", json!({"name": "pub", "role": "publisher", "publisher_id": id})).await;
    let key = key["secret"].as_str().expect("key").to_string();
    let call_id = app.call_by_sid("CA2").await["call"]["id"].clone();
    for (token, path) in [
        (app.admin_token.as_str(), format!("/api/publishers/{id}")),
        (app.admin_token.as_str(), "/api/publishers".to_string()),
        (app.admin_token.as_str(), format!("/api/calls/{call_id}")),
        (key.as_str(), format!("/api/publishers/{id}")),
        (key.as_str(), "/api/publishers".to_string()),
        (key.as_str(), format!("/api/calls/{call_id}")),
    ] {
        let reply = app.request("GET", &path, Some(token), None).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let text = reply.text();
        assert!(!text.contains(&secret) && !text.contains(&new_secret) && !text.contains("cbps_"), "{path}: {text}");
        let body = reply.json();
        let one = if body["items"].is_array() { body["items"][0].clone() } else { body.clone() };
        if path.starts_with("/api/publishers") {
            assert_absent(&one, &["postback_secret"]);
        }
    }
    assert_absent(&patched, &["postback_secret"]);
}
