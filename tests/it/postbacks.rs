//! Publisher postbacks against a real HTTP peer (wiremock): sent once per qualified call with the
//! template filled in, retried on 5xx until the publisher accepts, given up on 4xx, never sent
//! for unqualified calls; every attempt shown on the call. Both backends.
use std::time::Duration;

use callbroker_tests::{both_backends, TestApp};
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

both_backends!(postbacks_follow_qualified_calls, postback_settings_are_validated);

const NUMBER: &str = "+17175550100";

/// Campaign paying 12.50 per call of 90 s or more, on NUMBER of a publisher whose postback is
/// `template`. Returns the publisher's id.
async fn setup(app: &TestApp, template: &str, method: &str) -> i64 {
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
    publisher["id"].as_i64().expect("id")
}

async fn answered(app: &TestApp, sid: &str, talk: u32) {
    let a = app.incoming_call(sid, "+12015550123", NUMBER, &[]).await;
    let leg = a.leg().unwrap_or_else(|| panic!("{a:?}"));
    let child = format!("{sid}L");
    app.leg_status(leg, sid, &child, "in-progress", 1, None).await;
    app.leg_status(leg, sid, &child, "completed", 2, Some(talk)).await;
    app.dial_result(leg, sid, &child, "completed", Some(talk)).await;
    app.call_status(sid, "completed", 1, Some(talk + 10)).await;
}

/// The call's postback attempts once `n` are there (the job queue sends them in the background).
async fn attempts(app: &TestApp, sid: &str, n: usize) -> Vec<Value> {
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

async fn postbacks_follow_qualified_calls(app: TestApp) {
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
    assert!(tries[0]["error"].as_str().is_some_and(|e| e.contains("503")), "{tries:?}");
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
}
