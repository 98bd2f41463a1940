//! Server-side request forgery through postbacks: a publisher aims its postback at the server's
//! own network, directly, through a name that resolves there, or through a tracker answering
//! `307 Location: http://127.0.0.1:<internal port>/...`. Nothing reaches the internal peer, each
//! attempt is given up at once, and what the publisher reads back (`GET /api/calls/{id}`) names
//! neither the final URL nor an address. Then the operator's allow list
//! (`CALLBROKER_OUTBOUND_ALLOW_HOSTS`, given to the real binary) lets a private host through.
//! Both backends; a reliability test (its counts go to the reliability table).
use std::time::Duration;

use callbroker_tests::process::free_port;
use callbroker_tests::report::Tally;
use callbroker_tests::{both_backends, Backend, TestApp, TestDb};
use serde_json::{json, Value};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::postbacks::{answered, attempts, setup};

both_backends!(backend: postbacks_cannot_reach_private_addresses);

/// The only attempt of the call's postback (a second would be a retry).
async fn only_attempt(app: &TestApp, sid: &str) -> Value {
    let first = attempts(app, sid, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let now = app.call_by_sid(sid).await["postbacks"].clone();
    assert_eq!(now.as_array().map(Vec::len), Some(1), "{sid}: given up at once, not retried: {now}");
    first[0].clone()
}

async fn patch_postback(app: &TestApp, id: i64, url: &str) -> (u16, Value) {
    app.admin("PATCH", &format!("/api/publishers/{id}"), Some(json!({"postback_url": url}))).await
}

async fn postbacks_cannot_reach_private_addresses(backend: Backend) {
    let mut tally = Tally::new(format!("SSRF: postbacks kept off private addresses ({backend:?})"));
    // The service that must stay unreachable, and the publisher's tracker, which redirects to it.
    let internal = MockServer::start().await;
    Mock::given(path("/v1/agent/self")).respond_with(ResponseTemplate::new(200).set_body_string("secret config")).mount(&internal).await;
    let internal_at = format!("127.0.0.1:{}", internal.address().port());
    let tracker = MockServer::start().await;
    let tracker_port = tracker.address().port();
    Mock::given(path("/pb/CA3"))
        .respond_with(ResponseTemplate::new(307).insert_header("Location", format!("http://{internal_at}/v1/agent/self")))
        .mount(&tracker)
        .await;
    Mock::given(path("/pb/CA4")).respond_with(ResponseTemplate::new(200)).mount(&tracker).await;

    // A postback saved while the operator allowed 127.0.0.1 ...
    let first = TestApp::launch_with(backend, |c| c.outbound.allow_hosts = vec!["127.0.0.1".into()]).await;
    let publisher = setup(&first, &format!("http://127.0.0.1:{tracker_port}/pb/{{call_sid}}"), "post").await;
    let id = publisher["id"].as_i64().expect("id");
    // ... and the server restarted without that allowance.
    let app = first.restart_with(|_| {}).await;

    // Literal private addresses are refused when saved, naming the field.
    for (url, kind) in [
        (format!("http://{internal_at}/v1/agent/self"), "loopback"),
        ("http://169.254.169.254/latest/meta-data/iam/security-credentials/".to_string(), "link-local"),
        ("http://[::ffff:10.0.0.5]:8500/v1/agent/self".to_string(), "private"),
    ] {
        let (status, body) = patch_postback(&app, id, &url).await;
        let why = body["details"]["fields"]["postback_url"].as_str().unwrap_or_default();
        tally.check(status == 422 && why.contains(kind), format_args!("{url} refused when saved: {status} {body}"));
    }
    let saved = app.admin("GET", &format!("/api/publishers/{id}"), None).await.1;
    tally.check(
        saved["postback_url"].as_str().is_some_and(|u| u.contains(&format!(":{tracker_port}/"))),
        format_args!("unchanged: {saved}"),
    );

    // The literal address saved earlier is checked again when sent.
    answered(&app, "CA1", 95).await;
    let a = only_attempt(&app, "CA1").await;
    tally.check(a["error"] == "refused: private address" && a["status_code"].is_null(), format_args!("literal address at send: {a}"));
    // A name that resolves to a private address is accepted when saved, refused when sent.
    let (status, body) =
        patch_postback(&app, id, &format!("http://localhost:{}/v1/agent/self?c={{call_sid}}", internal.address().port())).await;
    tally.check(status == 200, format_args!("a host name is accepted when saved: {status} {body}"));
    answered(&app, "CA2", 95).await;
    let a = only_attempt(&app, "CA2").await;
    tally.check(a["error"] == "refused: private address" && a["status_code"].is_null(), format_args!("name resolving to loopback: {a}"));
    let mut requests = first.requests() + app.requests();
    app.stop();

    // The real binary, allowed to reach `localhost` by the operator's setting.
    let env = [("CALLBROKER_OUTBOUND_ALLOW_HOSTS", "localhost".to_string())];
    let allowed = TestApp::start_process(TestDb::reuse(&first.db), &env).await;
    let (status, body) = patch_postback(&allowed, id, &format!("http://localhost:{tracker_port}/pb/{{call_sid}}")).await;
    tally.check(status == 200, format_args!("{status} {body}"));
    // The tracker redirects to the internal service: the redirect is not followed.
    answered(&allowed, "CA3", 95).await;
    let a = only_attempt(&allowed, "CA3").await;
    tally.check(a["status_code"] == 307, format_args!("the tracker's answer is recorded: {a}"));
    tally.check(a["error"] == "HTTP 307: redirects are not followed", format_args!("the redirect is not followed: {a}"));
    // An allowed name is reached.
    answered(&allowed, "CA4", 95).await;
    let a = only_attempt(&allowed, "CA4").await;
    tally.check(a["status_code"] == 200 && a["error"].is_null(), format_args!("an allowed host is reached: {a}"));
    // A connection refused is reported coarsely (and retried later).
    let closed = free_port();
    let (status, _) = patch_postback(&allowed, id, &format!("http://localhost:{closed}/pb/{{call_sid}}")).await;
    tally.check(status == 200, format_args!("closed port saved: {status}"));
    answered(&allowed, "CA5", 95).await;
    let a = attempts(&allowed, "CA5", 1).await[0].clone();
    tally.check(a["error"] == "connect failed" && a["status_code"].is_null(), format_args!("connection refused: {a}"));

    // Nothing reached the internal service; the tracker got exactly the two allowed postbacks.
    let hits = internal.received_requests().await.expect("recorded");
    tally.check(hits.is_empty(), format_args!("the internal service was reached {} times", hits.len()));
    let tracked: Vec<String> = tracker.received_requests().await.expect("recorded").iter().map(|r| r.url.path().to_string()).collect();
    tally.check(tracked == ["/pb/CA3", "/pb/CA4"], format_args!("the tracker got {tracked:?}"));
    // What the publisher reads back names no URL, host or port beyond the one it set.
    for sid in ["CA1", "CA2", "CA3", "CA4", "CA5"] {
        for a in allowed.call_by_sid(sid).await["postbacks"].as_array().cloned().unwrap_or_default() {
            let error = a["error"].as_str().unwrap_or_default();
            let leaks = error.contains("://")
                || error.contains("127.0.0.1")
                || error.contains("localhost")
                || error.contains(&internal.address().port().to_string())
                || error.contains(&tracker_port.to_string());
            tally.check(!leaks, format_args!("{sid}: the stored error names a place: {error}"));
        }
    }
    requests += allowed.requests();
    tally.requests = requests;
    tally.save();
}
