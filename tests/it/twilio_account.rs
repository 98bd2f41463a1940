//! The Twilio account: the REST client against Prism (Twilio's own contract) and against
//! scripted `wiremock` sequences; number import, webhook set-up, call cost (also across a
//! restart), recording streaming and transcripts through the real server on both backends.
use std::time::{Duration, Instant};

use callbroker::config::{Secret, TwilioConfig};
use callbroker::twilio::client::{Credentials, TwilioClient, TwilioError};
use callbroker_tests::twilio::params;
use callbroker_tests::twilio_mock::{self as mock, account_path, call_resource, incoming_number, prism, sid, use_twilio, REST_ACCOUNT_SID};
use callbroker_tests::{both_backends, Backend, TestApp};
use serde_json::{json, Value};
use wiremock::matchers::{basic_auth, body_string_contains, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

both_backends!(
    backend:
    credentials_are_admin_only_and_masked,
    import_and_webhooks_against_prism,
    cost_against_prism,
    cost_with_the_account_set_through_the_api,
    import_reads_every_page,
    price_appears_on_third_poll,
    pending_cost_survives_restart,
    recording_streams_with_range,
    transcript_when_campaign_asks,
);

fn client(base: &str) -> TwilioClient {
    let cfg = TwilioConfig {
        api_base: base.into(),
        retry_base_ms: 20,
        retry_max_ms: 3_000,
        max_retries: 3,
        timeout_secs: 5,
        ..TwilioConfig::default()
    };
    let creds = Credentials {
        account_sid: REST_ACCOUNT_SID.into(),
        username: REST_ACCOUNT_SID.into(),
        password: Secret::new(mock::REST_AUTH_TOKEN),
    };
    TwilioClient::new(&cfg, creds).expect("client")
}

// ---------------------------------------------------------------- the client against Prism

#[tokio::test]
async fn client_requests_satisfy_twilios_contract() {
    let base = prism();
    let c = client(base);
    let page = c.numbers_page(None, 50).await.expect("list numbers");
    assert!(!page.incoming_phone_numbers.is_empty());
    let number = &page.incoming_phone_numbers[0];
    assert!(number.sid.starts_with("PN") && number.phone_number.starts_with('+'), "{number:?}");
    let fetched = c.fetch_number(&sid("PN", 7)).await.expect("fetch number");
    assert!(fetched.sid.starts_with("PN"));
    let hooks = callbroker::twilio::tasks::expected_webhooks("https://callbroker.example");
    c.set_number_webhooks(&sid("PN", 7), &hooks).await.expect("Prism accepts the webhook update");
    let call = c.fetch_call(&sid("CA", 9)).await.expect("fetch call");
    assert!(call.price.is_some(), "{call:?}");
    let rec = c.fetch_recording(&sid("RE", 9)).await.expect("fetch recording");
    assert!(rec.sid.starts_with("RE"));

    // The mock really checks the contract: a request Twilio would refuse is refused.
    let res = reqwest::Client::new()
        .post(format!("{base}{}", account_path(&format!("/IncomingPhoneNumbers/{}.json", sid("PN", 7)))))
        .basic_auth(REST_ACCOUNT_SID, Some("x"))
        .form(&[("VoiceMethod", "BOGUS")])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 422);
    // ... and so is a malformed SID.
    let err = c.fetch_call("CA1").await.expect_err("bad SID");
    assert_eq!(err.status(), Some(422), "{err}");
}

// ---------------------------------------------------------------- the client against wiremock

#[tokio::test]
async fn retries_429_honouring_retry_after() {
    let server = MockServer::start().await;
    let p = account_path(&format!("/Calls/{}.json", sid("CA", 1)));
    Mock::given(method("GET"))
        .and(path(p.clone()))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"code": 20429, "message": "Too Many Requests", "status": 429})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(p))
        .and(basic_auth(REST_ACCOUNT_SID, mock::REST_AUTH_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_resource(&sid("CA", 1), "completed", Some("-0.0085"))))
        .with_priority(2)
        .mount(&server)
        .await;
    let started = Instant::now();
    let call = client(&server.uri()).fetch_call(&sid("CA", 1)).await.expect("succeeds after the 429");
    let waited = started.elapsed();
    assert_eq!(call.price.as_deref(), Some("-0.0085"));
    assert!(waited >= Duration::from_millis(950), "Retry-After: 1 honoured, waited {waited:?}");
    assert!(waited < Duration::from_secs(3), "not much longer: {waited:?}");
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(2));
}

#[tokio::test]
async fn retries_500_then_succeeds_but_never_4xx() {
    let server = MockServer::start().await;
    let p = account_path(&format!("/Calls/{}.json", sid("CA", 2)));
    Mock::given(method("GET"))
        .and(path(p.clone()))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_resource(&sid("CA", 2), "completed", None)))
        .with_priority(2)
        .mount(&server)
        .await;
    let call = client(&server.uri()).fetch_call(&sid("CA", 2)).await.expect("succeeds after the 500");
    assert_eq!(call.price, None);
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(2));

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": 20404, "message": "The requested resource was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404
        })))
        .mount(&server)
        .await;
    let err = client(&server.uri()).fetch_call(&sid("CA", 3)).await.expect_err("404");
    match &err {
        TwilioError::Api { status, code, message, more_info } => {
            assert_eq!((*status, *code), (404, Some(20404)));
            assert_eq!(message, "The requested resource was not found");
            assert!(more_info.as_deref().is_some_and(|m| m.ends_with("20404")));
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert!(err.to_string().contains("20404"), "{err}");
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1), "no retry on 4xx");

    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    let err = client(&server.uri()).fetch_call(&sid("CA", 4)).await.expect_err("503 for ever");
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(4), "first try + 3 retries");
}

#[tokio::test]
async fn malformed_json_is_a_clear_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_string("{\"sid\": \"CA")).mount(&server).await;
    let err = client(&server.uri()).fetch_call(&sid("CA", 5)).await.expect_err("malformed");
    assert!(matches!(err, TwilioError::Malformed(_)), "{err:?}");
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(400).set_body_string("<html>oops</html>")).mount(&server).await;
    let err = client(&server.uri()).fetch_call(&sid("CA", 5)).await.expect_err("400 without JSON");
    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn webhook_update_is_a_form_post_with_basic_auth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(account_path(&format!("/IncomingPhoneNumbers/{}.json", sid("PN", 3)))))
        .and(basic_auth(REST_ACCOUNT_SID, mock::REST_AUTH_TOKEN))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("VoiceUrl=https%3A%2F%2Fcb.example%2Fapi%2Fwebhooks%2Ftwilio%2Fvoice"))
        .and(body_string_contains("StatusCallbackMethod=POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(incoming_number(3, "+15005550006", "x")))
        .expect(1)
        .mount(&server)
        .await;
    let hooks = callbroker::twilio::tasks::expected_webhooks("https://cb.example");
    client(&server.uri()).set_number_webhooks(&sid("PN", 3), &hooks).await.expect("update");
}

// ---------------------------------------------------------------- through the server

const CALLER: &str = "+12015550123";

/// A campaign (transcribing or not) on `number` with one buyer, then a connected, recorded call
/// that completes. Returns the call's id.
async fn completed_call(app: &TestApp, n: u64, number: &str, transcribe: bool) -> i64 {
    let b = app.create("/api/buyers", json!({"name": format!("Buyer {n}"), "phone_number": "+14155550101"})).await;
    let c = app
        .create("/api/campaigns", json!({"name": format!("Campaign {n}"), "transcribe": transcribe, "buyers": [{"buyer_id": b["id"]}]}))
        .await;
    assert_eq!(c["transcribe"], transcribe);
    let p = app.create("/api/publishers", json!({"name": format!("Publisher {n}")})).await;
    app.create("/api/numbers", json!({"number": number, "campaign_id": c["id"], "publisher_id": p["id"]})).await;
    let (call_sid, leg_sid) = (sid("CA", n * 10), sid("CA", n * 10 + 1));
    let answer = app.incoming_call(&call_sid, CALLER, number, &[]).await;
    let leg = answer.leg().unwrap_or_else(|| panic!("dials: {answer:?}"));
    assert_eq!(app.leg_status(leg, &call_sid, &leg_sid, "in-progress", 1, None).await.status, 204);
    assert_eq!(app.leg_status(leg, &call_sid, &leg_sid, "completed", 2, Some(50)).await.status, 204);
    assert!(app.dial_result(leg, &call_sid, &leg_sid, "completed", Some(50)).await.hangs_up());
    assert_eq!(app.call_status(&call_sid, "completed", 1, Some(60)).await.status, 204);
    let recording = sid("RE", n);
    let url = format!("https://api.twilio.com{}", account_path(&format!("/Recordings/{recording}")));
    let rec = app.recording_completed(&call_sid, &recording, &url, 49, 2).await;
    assert_eq!(rec.status, 204, "{rec:?}");
    app.call_by_sid(&call_sid).await["call"]["id"].as_i64().expect("call id")
}

/// Polls the call until `done` holds (10 s at most); returns the detail.
async fn wait_for(app: &TestApp, id: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let (status, detail) = app.admin("GET", &format!("/api/calls/{id}"), None).await;
        assert_eq!(status, 200, "{detail}");
        if done(&detail["call"]) {
            return detail;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "timed out waiting for {what}: {}", detail["call"]);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_import(app: &TestApp, id: i64) -> Value {
    let started = Instant::now();
    loop {
        let (status, imp) = app.admin("GET", &format!("/api/numbers/imports/{id}"), None).await;
        assert_eq!(status, 200, "{imp}");
        if imp["status"] != "running" {
            return imp;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "import still running: {imp}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn import(app: &TestApp) -> Value {
    let (status, started) = app.admin("POST", "/api/numbers/import", None).await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["status"], "running");
    wait_import(app, started["id"].as_i64().expect("import id")).await
}

async fn credentials_are_admin_only_and_masked(backend: Backend) {
    let app = TestApp::launch(backend).await;
    let (status, acct) = app.admin("GET", "/api/twilio/account", None).await;
    assert_eq!(status, 200, "{acct}");
    assert_eq!(acct["source"], "none");
    let (status, _) = app.admin("POST", "/api/numbers/import", None).await;
    assert_eq!(status, 409, "no credentials: nothing to import from");

    let (status, err) = app.admin("PUT", "/api/twilio/account", Some(json!({"account_sid": "XX1", "auth_token": "short"}))).await;
    assert_eq!(status, 422, "{err}");
    assert!(err["details"]["fields"]["account_sid"].is_string() && err["details"]["fields"]["auth_token"].is_string(), "{err}");
    let (_, still) = app.admin("GET", "/api/twilio/account", None).await;
    assert_eq!(still["source"], "none", "nothing written");

    let token = "f00dfeedf00dfeedf00dfeedf00d1234";
    let (status, set) = app.admin("PUT", "/api/twilio/account", Some(json!({"account_sid": REST_ACCOUNT_SID, "auth_token": token}))).await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["source"], "api");
    assert_eq!(set["auth_token"], "••••1234");
    assert_eq!(set["account_sid"], "AC01…cdef");
    let (_, got) = app.admin("GET", "/api/twilio/account", None).await;
    assert!(!got.to_string().contains(token) && !got.to_string().contains(REST_ACCOUNT_SID), "never in full: {got}");

    // Webhooks are now signed with the token set through the API, no longer with the old one.
    let pairs = params(&[
        ("CallSid", &sid("CA", 99)),
        ("AccountSid", REST_ACCOUNT_SID),
        ("From", CALLER),
        ("To", "+17175550199"),
        ("CallStatus", "ringing"),
    ]);
    let url = format!("{}/api/webhooks/twilio/voice", callbroker_tests::PUBLIC_URL);
    let sign = |t: &str| callbroker::twilio::signature::sign(t, callbroker::twilio::signature::Algorithm::HmacSha1, &url, &pairs);
    let old = app.twilio_raw("/api/webhooks/twilio/voice", &pairs, Some(&sign(callbroker_tests::TWILIO_AUTH_TOKEN))).await;
    assert_eq!(old.status, 403, "{old:?}");
    let new = app.twilio_raw("/api/webhooks/twilio/voice", &pairs, Some(&sign(token))).await;
    assert_eq!(new.status, 200, "{new:?}");

    app.create("/api/users", json!({"email": "op@test.example", "password": "operator-password-1", "role": "operator"})).await;
    let op = app.login("op@test.example", "operator-password-1").await;
    assert_eq!(app.call("GET", "/api/twilio/account", Some(&op), None).await.0, 403);
    assert_eq!(
        app.call("PUT", "/api/twilio/account", Some(&op), Some(json!({"account_sid": REST_ACCOUNT_SID, "auth_token": token}))).await.0,
        403
    );
    assert_eq!(app.call("GET", "/api/twilio/account", None, None).await.0, 401);

    assert_eq!(app.admin("DELETE", "/api/twilio/account", None).await.0, 204);
    assert_eq!(app.admin("GET", "/api/twilio/account", None).await.1["source"], "none");
}

async fn import_and_webhooks_against_prism(backend: Backend) {
    let base = prism().to_string();
    let app = TestApp::launch_with(backend, |c| use_twilio(c, &base)).await;
    let first = import(&app).await;
    assert_eq!(first["status"], "done", "{first}");
    assert!(first["new"].as_i64().unwrap_or(0) >= 1, "{first}");
    assert_eq!(first["updated"], 0);
    let again = import(&app).await;
    assert_eq!(again["status"], "done", "{again}");
    assert_eq!(again["new"], 0, "idempotent: {again}");
    assert_eq!(again["unchanged"], first["new"], "{again}");
    let (_, numbers) = app.admin("GET", "/api/numbers", None).await;
    let imported = &numbers["items"][0];
    assert!(imported["provider_sid"].as_str().is_some_and(|s| s.starts_with("PN")), "{numbers}");

    let (status, list) = app.admin("GET", "/api/numbers/webhooks", None).await;
    assert_eq!(status, 200, "{list}");
    let one = &list[0];
    assert_eq!(one["state"], "drift", "the example number's voice_url is not ours: {one}");
    assert!(one["drift"].as_array().is_some_and(|d| d.iter().any(|f| f == "voice_url")), "{one}");
    assert_eq!(one["expected"]["voice_url"], "https://callbroker.test/api/webhooks/twilio/voice");
    let (status, fixed) = app.admin("POST", "/api/numbers/webhooks/configure", None).await;
    assert_eq!(status, 200, "{fixed}");
    assert!(fixed[0]["error"].is_null(), "Prism accepted the update Twilio's contract describes: {fixed}");
    let id = imported["id"].as_i64().expect("id");
    let (status, single) = app.admin("POST", &format!("/api/numbers/{id}/webhooks/configure"), None).await;
    assert_eq!(status, 200, "{single}");
    assert!(single["error"].is_null(), "{single}");
    let (status, single) = app.admin("GET", &format!("/api/numbers/{id}/webhooks"), None).await;
    assert_eq!((status, single["number_id"].as_i64()), (200, Some(id)), "{single}");
}

async fn cost_against_prism(backend: Backend) {
    let base = prism().to_string();
    let app = TestApp::launch_with(backend, |c| use_twilio(c, &base)).await;
    let id = completed_call(&app, 1, "+17175550101", false).await;
    let detail = wait_for(&app, id, "the cost", |c| c["cost_status"] == "done").await;
    // Twilio's example Call resource costs -0.200 USD: parent and buyer leg.
    assert_eq!(detail["call"]["cost_micros"], 400_000, "{}", detail["call"]);
    assert_eq!(detail["call"]["cost_currency"], "USD");
    assert!(detail["call"]["transcript_status"].is_null(), "campaign does not transcribe");
}

/// No account in the configuration: a call's cost is `unconfigured` until credentials are set
/// through the API, and fetched with them after.
async fn cost_with_the_account_set_through_the_api(backend: Backend) {
    let base = prism().to_string();
    let app = TestApp::launch_with(backend, |c| c.twilio.api_base.clone_from(&base)).await;
    let before = completed_call(&app, 4, "+17175550104", false).await;
    let (_, detail) = app.admin("GET", &format!("/api/calls/{before}"), None).await;
    assert_eq!(detail["call"]["cost_status"], "unconfigured", "{}", detail["call"]);
    // The same token as the configuration's, so the test's webhook signatures stay valid.
    let account = json!({"account_sid": REST_ACCOUNT_SID, "auth_token": callbroker_tests::TWILIO_AUTH_TOKEN});
    let (status, set) = app.admin("PUT", "/api/twilio/account", Some(account)).await;
    assert_eq!(status, 200, "{set}");
    let id = completed_call(&app, 5, "+17175550105", false).await;
    let detail = wait_for(&app, id, "the cost", |c| c["cost_status"] == "done").await;
    assert_eq!(detail["call"]["cost_micros"], 400_000, "{}", detail["call"]);
    let (_, first) = app.admin("GET", &format!("/api/calls/{before}"), None).await;
    assert_eq!(first["call"]["cost_status"], "unconfigured", "the earlier call is not asked again");
}

async fn import_reads_every_page(backend: Backend) {
    let server = MockServer::start().await;
    let base = server.uri();
    let app = TestApp::launch_with(backend, |c| use_twilio(c, &base)).await;
    // Known before: one number without its SID (updated by the import).
    app.create("/api/numbers", json!({"number": "+15005550003", "friendly_name": "old name"})).await;
    let list = account_path("/IncomingPhoneNumbers.json");
    let next = |token: &str| format!("{list}?PageSize=100&Page=1&PageToken={token}");
    let page =
        |numbers: Vec<Value>, next: Option<String>| json!({"incoming_phone_numbers": numbers, "next_page_uri": next, "page_size": 100});
    Mock::given(method("GET"))
        .and(path(list.clone()))
        .and(query_param_is_missing("PageToken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![incoming_number(1, "+15005550001", "one"), incoming_number(2, "+15005550002", "two")],
            Some(next("PA1")),
        )))
        .mount(&server)
        .await;
    // Page 2 is rate-limited once.
    Mock::given(method("GET"))
        .and(path(list.clone()))
        .and(query_param("PageToken", "PA1"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(list.clone()))
        .and(query_param("PageToken", "PA1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![incoming_number(3, "+15005550003", "three"), incoming_number(4, "+15005550004", "four")],
            Some(next("PA2")),
        )))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(list.clone()))
        .and(query_param("PageToken", "PA2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(vec![incoming_number(5, "+15005550005", "five")], None)))
        .mount(&server)
        .await;
    let first = import(&app).await;
    assert_eq!(first["status"], "done", "{first}");
    assert_eq!((first["pages"].as_i64(), first["processed"].as_i64()), (Some(3), Some(5)), "{first}");
    assert_eq!((first["new"].as_i64(), first["updated"].as_i64(), first["unchanged"].as_i64()), (Some(4), Some(1), Some(0)), "{first}");
    let (_, numbers) = app.admin("GET", "/api/numbers?q=three", None).await;
    assert_eq!(numbers["items"][0]["provider_sid"], sid("PN", 3), "matched by number, SID filled in: {numbers}");
    let second = import(&app).await;
    assert_eq!((second["new"].as_i64(), second["updated"].as_i64(), second["unchanged"].as_i64()), (Some(0), Some(0), Some(5)), "{second}");
    let (_, all) = app.admin("GET", "/api/numbers", None).await;
    assert_eq!(all["total"], 5);

    // A malformed page fails the import with a readable error (after its retries).
    server.reset().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_string("not json")).mount(&server).await;
    let failed = import(&app).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(failed["error"].as_str().is_some_and(|e| e.contains("unexpected answer")), "{failed}");
}

async fn price_appears_on_third_poll(backend: Backend) {
    let server = MockServer::start().await;
    let base = server.uri();
    let app = TestApp::launch_with(backend, |c| use_twilio(c, &base)).await;
    let (parent, leg) = (sid("CA", 20), sid("CA", 21));
    let parent_path = account_path(&format!("/Calls/{parent}.json"));
    Mock::given(method("GET"))
        .and(path(parent_path.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_resource(&parent, "completed", None)))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(parent_path.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_resource(&parent, "completed", Some("-0.01750"))))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(account_path(&format!("/Calls/{leg}.json"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_resource(&leg, "completed", Some("-0.0130"))))
        .mount(&server)
        .await;
    let id = completed_call(&app, 2, "+17175550102", false).await;
    let detail = wait_for(&app, id, "the cost", |c| c["cost_status"] == "done").await;
    assert_eq!(detail["call"]["cost_micros"], 17_500 + 13_000, "{}", detail["call"]);
    let polls = server.received_requests().await.unwrap_or_default().iter().filter(|r| r.url.path() == parent_path).count();
    assert_eq!(polls, 3, "priced on the third poll");
    let cost = detail["events"].as_array().and_then(|e| e.iter().find(|e| e["kind"] == "cost")).expect("cost event");
    assert_eq!(cost["data"]["attempt"], 3);
}

async fn pending_cost_survives_restart(backend: Backend) {
    // Before the restart Twilio has not priced the call.
    let unpriced = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_resource(&sid("CA", 30), "completed", None)))
        .mount(&unpriced)
        .await;
    let base = unpriced.uri();
    let app = TestApp::launch_with(backend, |c| {
        use_twilio(c, &base);
        c.jobs.lease_secs = 1;
    })
    .await;
    let id = completed_call(&app, 3, "+17175550103", false).await;
    let started = Instant::now();
    while unpriced.received_requests().await.unwrap_or_default().len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(10), "the cost job never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, before) = app.admin("GET", &format!("/api/calls/{id}"), None).await;
    assert_eq!(before["call"]["cost_status"], "pending", "{}", before["call"]);

    // A new server process on the same database, and Twilio has priced the call by now.
    let priced = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(account_path(&format!("/Calls/{}.json", sid("CA", 30)))))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_resource(&sid("CA", 30), "completed", Some("-0.02"))))
        .mount(&priced)
        .await;
    Mock::given(method("GET"))
        .and(path(account_path(&format!("/Calls/{}.json", sid("CA", 31)))))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_resource(&sid("CA", 31), "completed", Some("-0.01"))))
        .mount(&priced)
        .await;
    let base = priced.uri();
    let restarted = app
        .restart_with(|c| {
            use_twilio(c, &base);
            c.jobs.lease_secs = 1;
        })
        .await;
    let after = wait_for(&restarted, id, "the cost after the restart", |c| c["cost_status"] == "done").await;
    assert_eq!(after["call"]["cost_micros"], 30_000, "{}", after["call"]);
}

async fn recording_streams_with_range(backend: Backend) {
    let server = MockServer::start().await;
    let base = server.uri();
    let app = TestApp::launch_with(backend, |c| use_twilio(c, &base)).await;
    let audio: Vec<u8> = (0u8..10).collect();
    let media = account_path(&format!("/Recordings/{}.mp3", sid("RE", 4)));
    Mock::given(method("GET"))
        .and(path(media.clone()))
        .and(header("range", "bytes=2-5"))
        .and(basic_auth(sid("SK", 1), mock::REST_AUTH_TOKEN))
        .respond_with(
            ResponseTemplate::new(206)
                .insert_header("Content-Range", "bytes 2-5/10")
                .insert_header("Content-Type", "audio/mpeg")
                .set_body_bytes(audio[2..6].to_vec()),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(media))
        .respond_with(ResponseTemplate::new(200).insert_header("Content-Type", "audio/mpeg").set_body_bytes(audio.clone()))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(account_path(&format!("/Calls/{}.json", sid("CA", 40)))))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_resource("x", "completed", Some("0"))))
        .mount(&server)
        .await;
    let id = completed_call(&app, 4, "+17175550104", false).await;
    let url = app.url(&format!("/api/calls/{id}/recording"));

    let whole = app.client.get(&url).bearer_auth(&app.admin_token).send().await.expect("request");
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers().get("accept-ranges").and_then(|v| v.to_str().ok()), Some("bytes"));
    assert_eq!(whole.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("audio/mpeg"));
    assert_eq!(whole.bytes().await.expect("body").to_vec(), audio);

    let part = app.client.get(&url).bearer_auth(&app.admin_token).header("Range", "bytes=2-5").send().await.expect("request");
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers().get("content-range").and_then(|v| v.to_str().ok()), Some("bytes 2-5/10"));
    assert_eq!(part.bytes().await.expect("body").to_vec(), audio[2..6].to_vec());

    assert_eq!(app.client.get(&url).send().await.expect("request").status(), 401, "authenticated only");
    // A publisher sees recordings of its own calls only.
    let other = app.create("/api/publishers", json!({"name": "Other publisher"})).await;
    app.create(
        "/api/users",
        json!({"email": "pub@test.example", "password": "publisher-password-1", "role": "publisher", "publisher_id": other["id"]}),
    )
    .await;
    let publisher = app.login("pub@test.example", "publisher-password-1").await;
    assert_eq!(app.client.get(&url).bearer_auth(&publisher).send().await.expect("request").status(), 404);
    // A call without a recording.
    let (_, calls) = app.admin("GET", "/api/calls", None).await;
    assert_eq!(calls["items"][0]["recording"]["sid"], sid("RE", 4));
    assert_eq!(app.admin("GET", "/api/calls/999999/recording", None).await.0, 404);
}

async fn transcript_when_campaign_asks(backend: Backend) {
    let server = MockServer::start().await;
    let base = server.uri();
    let service = sid("GA", 1);
    let svc = service.clone();
    let app = TestApp::launch_with(backend, |c| {
        use_twilio(c, &base);
        c.twilio.intelligence_service_sid = Some(svc);
    })
    .await;
    let transcript = sid("GT", 5);
    Mock::given(method("POST"))
        .and(path("/v2/Transcripts"))
        .and(body_string_contains(format!("ServiceSid={service}").as_str()))
        .and(body_string_contains(sid("RE", 5).as_str()))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"sid": transcript, "status": "queued"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/Transcripts/{transcript}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sid": transcript, "status": "in-progress"})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/Transcripts/{transcript}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sid": transcript, "status": "completed"})))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/Transcripts/{transcript}/Sentences")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sentences": [{"transcript": "Thanks for calling.", "media_channel": 2}, {"transcript": "I need a quote.", "media_channel": 1}],
            "meta": {"next_page_url": null}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(account_path(&format!("/Calls/{}.json", sid("CA", 50)))))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_resource("x", "completed", Some("-0.01"))))
        .mount(&server)
        .await;
    let id = completed_call(&app, 5, "+17175550105", true).await;
    let detail = wait_for(&app, id, "the transcript", |c| c["transcript_status"] == "done").await;
    assert_eq!(detail["call"]["transcript"], "[2] Thanks for calling.\n[1] I need a quote.");

    // Off by default: a call of a campaign that does not transcribe asks for nothing.
    let quiet = completed_call(&app, 6, "+17175550106", false).await;
    let (_, q) = app.admin("GET", &format!("/api/calls/{quiet}"), None).await;
    assert!(q["call"]["transcript_status"].is_null() && q["call"]["transcript"].is_null(), "{}", q["call"]);
    // (The `expect(1)` on the transcript request is checked when the mock server drops.)
}
