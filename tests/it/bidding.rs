//! Real-time bidding (issue 23): a campaign's external bidders pinged at the voice webhook, the
//! best bid dialled with failover, revenue and payout from the bid; the bidders' API and test
//! ping; and the publishers' ping API. Stand-in bidders are wiremock servers with scripted bids,
//! delays, errors and malformed answers. On both backends, through signed Twilio conversations.
use std::time::Duration;

use callbroker_tests::{both_backends, Backend, TestApp};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

both_backends!(
    the_best_bid_wins_and_pays,
    a_failed_transfer_tries_the_next_bid_then_static_buyers,
    bidders_out_of_time_leave_the_call_to_static_buyers,
    route_by_bid_winner_compares_prices,
    an_expired_bid_is_not_dialled,
    bidders_are_checked_and_test_pinged,
    quotes_are_given_matched_and_repeated,
    quotes_refuse_with_reasons,
);
both_backends!(backend: pings_are_rate_limited);

const NUMBER: &str = "+17175550100";
const CALLER: &str = "+12015550123";

/// A stand-in bidder answering `body` after `delay_ms` with `status`.
async fn bidder_server(status: u16, body: &str, delay_ms: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/bid"))
        .respond_with(
            ResponseTemplate::new(status)
                .set_body_raw(body.as_bytes().to_vec(), "application/json")
                .set_delay(Duration::from_millis(delay_ms)),
        )
        .mount(&server)
        .await;
    server
}

/// A bid of `amount` for `number`, optionally lapsing after `ttl` seconds, paid after 60 s.
fn bid(amount: f64, number: &str, ttl: Option<f64>) -> String {
    let mut b = json!({"bid": amount, "accepted": true, "phone": number, "duration": 60});
    if let Some(t) = ttl {
        b["ttl"] = json!(t);
    }
    b.to_string()
}

/// Adds a bidder on `server` to `campaign`.
async fn add_bidder(app: &TestApp, campaign: i64, name: &str, server: &MockServer) -> i64 {
    let body = json!({
        "campaign_id": campaign, "name": name, "url": format!("{}/bid", server.uri()),
        "headers": {"Authorization": "Bearer bidder-secret-token-1234"},
        "body_template": "{\"cid\": \"{call_id}\", \"area\": \"{caller_area_code}\", \"state\": \"{state}\"}",
        "mapping": {"amount": "/bid", "accept": "/accepted", "number": "/phone", "expires": "/ttl", "min_duration": "/duration"},
        "timeout_ms": 1000, "allow_private": true
    });
    app.create("/api/bidders", body).await["id"].as_i64().expect("bidder id")
}

/// A campaign on `NUMBER` ($10 a call, $4 payout, 30 s buffer) with one static buyer and the
/// bidding settings `bids`; returns (campaign, buyer, publisher).
async fn campaign(app: &TestApp, bids: Value) -> (i64, i64, i64) {
    let buyer = app.create("/api/buyers", json!({"name": "Static", "phone_number": "+14155550199", "max_concurrent_calls": 5})).await;
    let publisher = app.create("/api/publishers", json!({"name": "Pub"})).await;
    let c = app
        .create(
            "/api/campaigns",
            json!({"name": "Sold", "buyers": [{"buyer_id": buyer["id"]}], "revenue_micros": 10_000_000, "payout_micros": 4_000_000,
                   "buffer_secs": 30, "routing": {"bids": bids}}),
        )
        .await;
    app.create("/api/numbers", json!({"number": NUMBER, "campaign_id": c["id"], "publisher_id": publisher["id"]})).await;
    (c["id"].as_i64().expect("id"), buyer["id"].as_i64().expect("id"), publisher["id"].as_i64().expect("id"))
}

/// The call's pings by bidder name: (outcome, bid).
fn pings(detail: &Value) -> Vec<(String, String, Option<i64>)> {
    detail["bids"]
        .as_array()
        .expect("bids")
        .iter()
        .map(|p| {
            (p["bidder_name"].as_str().unwrap_or("").to_string(), p["outcome"].as_str().unwrap_or("").to_string(), p["bid_micros"].as_i64())
        })
        .collect()
}

fn outcome_of(detail: &Value, name: &str) -> String {
    pings(detail).into_iter().find(|(n, _, _)| n == name).map_or_else(|| panic!("no ping of {name}: {detail}"), |(_, o, _)| o)
}

/// The highest bid is dialled (equal bids: the faster answer); a bid below the floor, a
/// timeout, a 500 and a malformed answer are out with their reason; the caller's whole number
/// never reaches a bidder; the call is paid the bid, its publisher a share of it.
async fn the_best_bid_wins_and_pays(app: TestApp) {
    let (c, _, _) = campaign(&app, json!({"floor_micros": 5_000_000, "ping_budget_ms": 400, "payout_percent": 50})).await;
    let low = bidder_server(200, &bid(12.0, "+14155550101", None), 5).await;
    let slow_top = bidder_server(200, &bid(20.0, "+14155550102", None), 120).await;
    let fast_top = bidder_server(200, &bid(20.0, "+14155550103", None), 5).await;
    let cheap = bidder_server(200, &bid(3.0, "+14155550104", None), 5).await;
    let silent = bidder_server(200, &bid(99.0, "+14155550105", None), 3000).await;
    let broken = bidder_server(500, "{}", 5).await;
    let garbage = bidder_server(200, "<html>not json", 5).await;
    for (name, server) in [
        ("Low", &low),
        ("SlowTop", &slow_top),
        ("FastTop", &fast_top),
        ("Cheap", &cheap),
        ("Silent", &silent),
        ("Broken", &broken),
        ("Garbage", &garbage),
    ] {
        add_bidder(&app, c, name, server).await;
    }
    let started = std::time::Instant::now();
    let dial = app.incoming_call("CB1", CALLER, NUMBER, &[("FromState", "NJ")]).await;
    assert!(started.elapsed() < Duration::from_millis(2500), "the budget bounds the wait: {:?}", started.elapsed());
    assert_eq!(dial.dialled_number().as_deref(), Some("+14155550103"), "equal bids: the faster first: {}", dial.body);
    let detail = app.call_by_sid("CB1").await;
    assert_eq!(outcome_of(&detail, "FastTop"), "won", "{detail}");
    assert_eq!(outcome_of(&detail, "SlowTop"), "outbid");
    assert_eq!(outcome_of(&detail, "Low"), "outbid");
    assert_eq!(outcome_of(&detail, "Cheap"), "below_floor");
    assert_eq!(outcome_of(&detail, "Silent"), "timeout");
    assert_eq!(outcome_of(&detail, "Broken"), "error");
    assert_eq!(outcome_of(&detail, "Garbage"), "invalid");
    // The routing log says why each bidder is out.
    let routing = detail["events"].as_array().and_then(|e| e.iter().find(|e| e["kind"] == "routing")).expect("routing");
    let logged = routing["data"]["pings"].as_array().expect("pings in the routing log");
    let cheap = logged.iter().find(|p| p["bidder"] == "Cheap").expect("Cheap");
    assert_eq!(cheap["outcome"], "below_floor", "{cheap}");
    assert!(cheap["detail"].as_str().is_some_and(|d| d.contains("floor")), "{cheap}");
    let leg = &detail["legs"][0];
    assert_eq!((leg["bid_micros"].as_i64(), leg["dial_to"].as_str()), (Some(20_000_000), Some("+14155550103")), "{leg}");
    assert!(leg["buyer_id"].is_null());
    // What the bidders were told: the area code, never the whole number.
    let sent = fast_top.received_requests().await.expect("recorded");
    let body: Value = serde_json::from_slice(&sent[0].body).expect("a JSON ping");
    assert_eq!((body["area"].as_str(), body["state"].as_str(), body["cid"].as_str()), (Some("201"), Some("NJ"), Some("CB1")), "{body}");
    assert!(!String::from_utf8_lossy(&sent[0].body).contains("5550123"));
    assert_eq!(sent[0].headers.get("authorization").and_then(|v| v.to_str().ok()), Some("Bearer bidder-secret-token-1234"));

    // The call lasts past the bid's 60 s: paid $20, the publisher half of it.
    let leg_id = dial.leg().expect("leg");
    assert_eq!(app.leg_status(leg_id, "CB1", "CB1L", "in-progress", 1, None).await.status, 204);
    assert_eq!(app.leg_status(leg_id, "CB1", "CB1L", "completed", 2, Some(70)).await.status, 204);
    assert_eq!(app.call_status("CB1", "completed", 3, Some(75)).await.status, 204);
    let money = &app.call_by_sid("CB1").await["call"]["money"];
    assert_eq!((money["qualified"].as_bool(), money["revenue_micros"].as_i64()), (Some(true), Some(20_000_000)), "{money}");
    assert_eq!((money["payout_micros"].as_i64(), money["buffer_secs"].as_i64()), (Some(10_000_000), Some(60)), "{money}");

    // A second call shorter than the bid's minimum duration is not paid.
    let dial = app.incoming_call("CB2", "+12015550124", NUMBER, &[]).await;
    let leg_id = dial.leg().expect("leg");
    assert_eq!(app.leg_status(leg_id, "CB2", "CB2L", "in-progress", 1, None).await.status, 204);
    assert_eq!(app.leg_status(leg_id, "CB2", "CB2L", "completed", 2, Some(45)).await.status, 204);
    assert_eq!(app.call_status("CB2", "completed", 3, Some(50)).await.status, 204);
    let money = &app.call_by_sid("CB2").await["call"]["money"];
    assert_eq!((money["qualified"].as_bool(), money["reason"].as_str()), (Some(false), Some("short")), "{money}");

    // Analytics by bidder, counted from the pings and the calls.
    let (status, stats) = app.admin("GET", &format!("/api/analytics/bidders?campaign_id={c}"), None).await;
    assert_eq!(status, 200, "{stats}");
    let row = |name: &str| stats.as_array().and_then(|s| s.iter().find(|r| r["bidder_name"] == name)).cloned().expect("a row");
    let top = row("FastTop");
    assert_eq!((top["pings"].as_i64(), top["bids"].as_i64(), top["wins"].as_i64()), (Some(2), Some(2), Some(2)), "{top}");
    assert_eq!((top["revenue_micros"].as_i64(), top["total_bid_micros"].as_i64()), (Some(20_000_000), Some(40_000_000)), "{top}");
    assert_eq!(row("Silent")["timeouts"].as_i64(), Some(2));
    assert_eq!(row("SlowTop")["wins"].as_i64(), Some(0));
    assert_eq!(row("Garbage")["other_failures"].as_i64(), Some(2));
}

/// The winner does not answer: the next valid bid is dialled, then the static buyer.
async fn a_failed_transfer_tries_the_next_bid_then_static_buyers(app: TestApp) {
    let (c, _, _) = campaign(&app, json!({"ping_budget_ms": 500})).await;
    let first = bidder_server(200, &bid(30.0, "+14155550111", None), 5).await;
    let second = bidder_server(200, &bid(25.0, "+14155550112", None), 5).await;
    add_bidder(&app, c, "First", &first).await;
    add_bidder(&app, c, "Second", &second).await;
    let dial = app.incoming_call("CF1", CALLER, NUMBER, &[]).await;
    assert_eq!(dial.dialled_number().as_deref(), Some("+14155550111"));
    // Twilio sends the webhook again: answered as before, the bidders not pinged again.
    let again = app.incoming_call("CF1", CALLER, NUMBER, &[]).await;
    assert_eq!(again.dialled_number().as_deref(), Some("+14155550111"), "{}", again.body);
    let next = app.dial_result(dial.leg().expect("leg"), "CF1", "CF1A", "busy", None).await;
    assert_eq!(next.dialled_number().as_deref(), Some("+14155550112"), "the next bid: {}", next.body);
    let last = app.dial_result(next.leg().expect("leg"), "CF1", "CF1B", "no-answer", None).await;
    assert_eq!(last.dialled_number().as_deref(), Some("+14155550199"), "then the static buyer: {}", last.body);
    let detail = app.call_by_sid("CF1").await;
    assert_eq!((outcome_of(&detail, "First"), outcome_of(&detail, "Second")), ("won".into(), "won".into()), "{detail}");
    assert_eq!(first.received_requests().await.map(|r| r.len()), Some(1), "pinged once per call");
    // The buyer answers and talks: the static price is the revenue.
    let leg = last.leg().expect("leg");
    assert_eq!(app.leg_status(leg, "CF1", "CF1C", "in-progress", 1, None).await.status, 204);
    assert_eq!(app.leg_status(leg, "CF1", "CF1C", "completed", 2, Some(40)).await.status, 204);
    assert_eq!(app.call_status("CF1", "completed", 3, Some(90)).await.status, 204);
    let money = &app.call_by_sid("CF1").await["call"]["money"];
    assert_eq!((money["revenue_micros"].as_i64(), money["payout_micros"].as_i64()), (Some(10_000_000), Some(4_000_000)), "{money}");
}

/// Every bidder too slow for the budget: the static buyer takes the call at once.
async fn bidders_out_of_time_leave_the_call_to_static_buyers(app: TestApp) {
    let (c, _, _) = campaign(&app, json!({"ping_budget_ms": 150})).await;
    let slow = bidder_server(200, &bid(50.0, "+14155550121", None), 2000).await;
    let slower = bidder_server(200, &bid(60.0, "+14155550122", None), 3000).await;
    add_bidder(&app, c, "Slow", &slow).await;
    add_bidder(&app, c, "Slower", &slower).await;
    let started = std::time::Instant::now();
    let dial = app.incoming_call("CT1", CALLER, NUMBER, &[]).await;
    assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
    assert_eq!(dial.dialled_number().as_deref(), Some("+14155550199"), "{}", dial.body);
    let detail = app.call_by_sid("CT1").await;
    assert_eq!(pings(&detail).iter().filter(|(_, o, _)| o == "timeout").count(), 2, "{detail}");
}

/// `route_by_bid_winner`: a static buyer priced above the bids is rung first despite the bids'
/// tier; otherwise the bids' tier (priority 0, like the buyer) comes first.
async fn route_by_bid_winner_compares_prices(app: TestApp) {
    let (c, buyer, _) = campaign(&app, json!({})).await;
    let server = bidder_server(200, &bid(15.0, "+14155550131", None), 5).await;
    add_bidder(&app, c, "Mid", &server).await;
    let dial = app.incoming_call("CW1", CALLER, NUMBER, &[]).await;
    assert_eq!(dial.dialled_number().as_deref(), Some("+14155550131"), "the bids' tier first: {}", dial.body);
    let assignments =
        json!({"buyers": [{"buyer_id": buyer, "revenue_micros": 18_000_000}], "routing": {"bids": {"route_by_bid_winner": true}}});
    assert_eq!(app.admin("PATCH", &format!("/api/campaigns/{c}"), Some(assignments)).await.0, 200);
    let dial = app.incoming_call("CW2", "+12015550125", NUMBER, &[]).await;
    assert_eq!(dial.dialled_number().as_deref(), Some("+14155550199"), "$18 beats the $15 bid: {}", dial.body);
    let detail = app.call_by_sid("CW2").await;
    let routing = detail["events"].as_array().and_then(|e| e.iter().find(|e| e["kind"] == "routing")).expect("routing");
    assert_eq!(routing["data"]["order"][1]["kind"], "bid", "{routing}");
}

/// A bid that lapsed before the failover is dropped with that reason.
async fn an_expired_bid_is_not_dialled(app: TestApp) {
    let (c, _, _) = campaign(&app, json!({})).await;
    let first = bidder_server(200, &bid(30.0, "+14155550141", None), 5).await;
    let brief = bidder_server(200, &bid(25.0, "+14155550142", Some(1.0)), 5).await;
    add_bidder(&app, c, "First", &first).await;
    add_bidder(&app, c, "Brief", &brief).await;
    let dial = app.incoming_call("CX1", CALLER, NUMBER, &[]).await;
    assert_eq!(dial.dialled_number().as_deref(), Some("+14155550141"));
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let next = app.dial_result(dial.leg().expect("leg"), "CX1", "CX1A", "no-answer", None).await;
    assert_eq!(next.dialled_number().as_deref(), Some("+14155550199"), "the lapsed bid is skipped: {}", next.body);
    let detail = app.call_by_sid("CX1").await;
    let routing: Vec<&Value> = detail["events"].as_array().expect("events").iter().filter(|e| e["kind"] == "routing").collect();
    let dropped = routing[1]["data"]["dropped_bids"].as_array().expect("dropped bids");
    assert!(dropped.iter().any(|d| d["reason"] == "expired"), "{}", routing[1]);
    assert!(dropped.iter().any(|d| d["reason"] == "already_tried"), "{}", routing[1]);
}

/// Templates and mappings that cannot work are refused naming the field, with nothing written;
/// header values come back masked; the test ping shows the request and the parsed answer.
async fn bidders_are_checked_and_test_pinged(app: TestApp) {
    let (c, _, _) = campaign(&app, json!({})).await;
    let base = json!({"campaign_id": c, "name": "B", "url": "https://rtb.example.com/bid", "mapping": {"amount": "/bid", "number": "/to"}});
    let with = |patch: Value| {
        let mut b = base.clone();
        for (k, v) in patch.as_object().expect("object") {
            b[k] = v.clone();
        }
        b
    };
    for (body, field) in [
        (with(json!({"body_template": "{\"c\": \"{calller}\"}"})), "body_template"),
        (with(json!({"body_template": "{\"c\": \"{caller}\"}"})), "body_template"),
        (with(json!({"body_template": "{\"c\": {state}}"})), "body_template"),
        (with(json!({"url": "https://rtb.example.com/bid?c={caller}"})), "url"),
        (with(json!({"url": "ftp://rtb.example.com/"})), "url"),
        (with(json!({"url": "http://10.1.2.3/bid"})), "url"),
        (with(json!({"mapping": {"amount": "bid", "number": "/to"}})), "mapping.amount"),
        (with(json!({"mapping": {"amount": "/bid", "number": "/to~2"}})), "mapping.number"),
        (with(json!({"timeout_ms": 20})), "timeout_ms"),
        (with(json!({"headers": {"Bad Header": "x"}})), "headers.Bad Header"),
        (with(json!({"campaign_id": 999_999})), "campaign_id"),
    ] {
        let (status, err) = app.admin("POST", "/api/bidders", Some(body.clone())).await;
        assert_eq!(status, 422, "{body} -> {err}");
        assert!(err["details"]["fields"][field].is_string(), "{field} named: {err}");
    }
    let (_, list) = app.admin("GET", &format!("/api/bidders?campaign_id={c}"), None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(0), "nothing written: {list}");
    // `{caller}` with `expose_caller`; headers masked.
    let server = bidder_server(200, &bid(7.5, "sip:agent@pbx.example.com", Some(30.0)), 5).await;
    let created = app
        .create(
            "/api/bidders",
            with(json!({"url": format!("{}/bid", server.uri()), "allow_private": true, "expose_caller": true,
                "headers": {"X-Key": "super-secret-value-9876"}, "body_template": "{\"caller\": \"{caller}\", \"age\": \"{tag:Age}\"}",
                "mapping": {"amount": "/bid", "number": "/phone", "expires": "/ttl", "min_duration": "/duration"}})),
        )
        .await;
    assert_eq!(created["headers"]["X-Key"], "••••9876", "{created}");
    let id = created["id"].as_i64().expect("id");
    let (status, tested) =
        app.admin("POST", &format!("/api/bidders/{id}/test"), Some(json!({"caller": "+13125550100", "tags": {"Age": "70"}}))).await;
    assert_eq!(status, 200, "{tested}");
    assert_eq!((tested["status"].as_u64(), tested["bid_micros"].as_i64()), (Some(200), Some(7_500_000)), "{tested}");
    assert_eq!(tested["dial_to"], "sip:agent@pbx.example.com");
    assert_eq!(tested["headers"]["X-Key"], "••••9876");
    let sent: Value = serde_json::from_str(tested["body"].as_str().expect("body")).expect("json");
    assert_eq!((sent["caller"].as_str(), sent["age"].as_str()), (Some("+13125550100"), Some("70")));
    // A PATCH removes a header with null, keeps the others, and is checked like a create.
    let (status, patched) =
        app.admin("PATCH", &format!("/api/bidders/{id}"), Some(json!({"headers": {"X-Key": null, "X-Other": "v-1"}}))).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["headers"], json!({"X-Other": "••••"}));
    let (status, _) = app.admin("PATCH", &format!("/api/bidders/{id}"), Some(json!({"expose_caller": false}))).await;
    assert_eq!(status, 422, "the template still holds {{caller}}");
    // A private address is refused to a bidder without allow_private.
    let (status, _) = app.admin("PATCH", &format!("/api/bidders/{id}"), Some(json!({"allow_private": false}))).await;
    assert_eq!(status, 422);
    // A SIP bid is dialled with <Sip>.
    let dial = app.incoming_call("CS1", CALLER, NUMBER, &[]).await;
    assert!(dial.body.contains("<Sip") && dial.body.contains("sip:agent@pbx.example.com"), "{}", dial.body);
    assert_eq!(app.admin("DELETE", &format!("/api/bidders/{id}"), None).await.0, 204);
    assert_eq!(app.admin("GET", &format!("/api/bidders/{id}"), None).await.0, 404);
}

/// A publisher with its API key.
async fn publisher_key(app: &TestApp, publisher: i64) -> String {
    let key = app.create("/api/api-keys", json!({"name": "rtb", "role": "publisher", "publisher_id": publisher})).await;
    key["secret"].as_str().expect("key").to_string()
}

/// A quote, then the call that matches it (paid as quoted); a repeated ping gets the same quote;
/// a call to another publisher's number, or after expiry, does not match.
async fn quotes_are_given_matched_and_repeated(app: TestApp) {
    let (c, _, publisher) = campaign(&app, json!({"ping_api": true, "payout_percent": 40, "quote_ttl_secs": 5})).await;
    let server = bidder_server(200, &bid(30.0, "+14155550151", None), 5).await;
    add_bidder(&app, c, "Top", &server).await;
    let key = publisher_key(&app, publisher).await;
    let ask = json!({"campaign_id": c, "caller": CALLER, "state": "NJ", "zip": "07030", "tags": {"insured": "yes"}});
    let (status, quote) = app.call("POST", "/api/rtb/ping", Some(&key), Some(ask.clone())).await;
    assert_eq!(status, 200, "{quote}");
    assert_eq!((quote["accepted"].as_bool(), quote["payout_micros"].as_i64()), (Some(true), Some(12_000_000)), "40% of $30: {quote}");
    assert_eq!((quote["number"].as_str(), quote["min_duration_secs"].as_i64()), (Some(NUMBER), Some(60)));
    assert_eq!(quote["payout"].as_f64(), Some(12.0));
    let (_, again) = app.call("POST", "/api/rtb/ping", Some(&key), Some(ask.clone())).await;
    assert_eq!(again["ping_id"], quote["ping_id"], "the same quote: {again}");
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1), "not pinged again");

    // Another publisher's number on the campaign: its call does not take this quote.
    let other = app.create("/api/publishers", json!({"name": "Other"})).await;
    app.create("/api/numbers", json!({"number": "+17175550109", "campaign_id": c, "publisher_id": other["id"]})).await;
    app.incoming_call("CQ0", CALLER, "+17175550109", &[]).await;
    assert!(app.call_by_sid("CQ0").await["call"]["quote_ping_id"].is_null());

    // The caller comes to the quoted number: the call keeps the quote and its payout.
    let dial = app.incoming_call("CQ1", CALLER, NUMBER, &[]).await;
    let call = app.call_by_sid("CQ1").await;
    assert_eq!(call["call"]["quote_ping_id"], quote["ping_id"], "{call}");
    let leg = dial.leg().expect("leg");
    assert_eq!(app.leg_status(leg, "CQ1", "CQ1L", "in-progress", 1, None).await.status, 204);
    assert_eq!(app.leg_status(leg, "CQ1", "CQ1L", "completed", 2, Some(90)).await.status, 204);
    assert_eq!(app.call_status("CQ1", "completed", 3, Some(95)).await.status, 204);
    let money = &app.call_by_sid("CQ1").await["call"]["money"];
    assert_eq!(money["payout_micros"].as_i64(), Some(12_000_000), "paid as quoted: {money}");
    // The quote is used: a second call from the caller does not take it again.
    app.incoming_call("CQ2", CALLER, NUMBER, &[]).await;
    assert!(app.call_by_sid("CQ2").await["call"]["quote_ping_id"].is_null());

    // A quote past its expiry is not matched.
    let late = "+12015550177";
    let (_, q) = app.call("POST", "/api/rtb/ping", Some(&key), Some(json!({"campaign_id": c, "caller": late}))).await;
    assert_eq!(q["accepted"], true, "{q}");
    tokio::time::sleep(Duration::from_millis(5200)).await;
    app.incoming_call("CQ3", late, NUMBER, &[]).await;
    assert!(app.call_by_sid("CQ3").await["call"]["quote_ping_id"].is_null(), "expired");
    // The publisher's quotes, with the call each got.
    let (status, recent) = app.call("GET", "/api/rtb/quotes", Some(&key), None).await;
    assert_eq!(status, 200, "{recent}");
    let matched = recent.as_array().and_then(|r| r.iter().find(|q| q["quote"]["ping_id"] == quote["ping_id"])).expect("listed");
    assert!(matched["call_id"].is_i64(), "{matched}");
    // Staff cannot ping: the API is the publishers'.
    assert_eq!(app.admin("POST", "/api/rtb/ping", Some(ask)).await.0, 403);
}

/// Refusals with stable reasons, and bad input refused with nothing written.
async fn quotes_refuse_with_reasons(app: TestApp) {
    let (c, buyer, publisher) = campaign(&app, json!({"ping_api": false})).await;
    let key = publisher_key(&app, publisher).await;
    let ask = |caller: &str| json!({"campaign_id": c, "caller": caller});
    let reason = |q: &Value| q["reason"].as_str().unwrap_or("").to_string();
    let (_, q) = app.call("POST", "/api/rtb/ping", Some(&key), Some(ask(CALLER))).await;
    assert_eq!((q["accepted"].as_bool(), reason(&q)), (Some(false), "closed".into()), "ping API off: {q}");
    assert!(q["number"].is_null());
    assert_eq!(app.admin("PATCH", &format!("/api/campaigns/{c}"), Some(json!({"routing": {"bids": {"ping_api": true}}}))).await.0, 200);
    let (_, q) = app.call("POST", "/api/rtb/ping", Some(&key), Some(ask(CALLER))).await;
    assert_eq!(q["accepted"], true, "{q}");
    // Blocked caller.
    app.create("/api/blocklist", json!({"number": "+12015550166"})).await;
    let (_, q) = app.call("POST", "/api/rtb/ping", Some(&key), Some(ask("+12015550166"))).await;
    assert_eq!(reason(&q), "blocked", "{q}");
    // No room: the only buyer takes no calls.
    assert_eq!(app.admin("PATCH", &format!("/api/buyers/{buyer}"), Some(json!({"max_concurrent_calls": 0}))).await.0, 200);
    let (_, q) = app.call("POST", "/api/rtb/ping", Some(&key), Some(ask("+12015550167"))).await;
    assert_eq!(reason(&q), "no_capacity", "{q}");
    // Filtered: the buyer takes no callers from NJ.
    let patch = json!({"max_concurrent_calls": 5, "denied_states": ["NJ"]});
    assert_eq!(app.admin("PATCH", &format!("/api/buyers/{buyer}"), Some(patch)).await.0, 200);
    let (_, q) = app.call("POST", "/api/rtb/ping", Some(&key), Some(ask("+12015550168"))).await;
    assert_eq!(reason(&q), "filtered", "{q}");
    // Duplicate: the caller called within the campaign's duplicate window.
    assert_eq!(app.admin("PATCH", &format!("/api/campaigns/{c}"), Some(json!({"duplicate_window_secs": 3600}))).await.0, 200);
    app.incoming_call("CD1", "+13125550169", NUMBER, &[]).await;
    let (_, q) = app.call("POST", "/api/rtb/ping", Some(&key), Some(ask("+13125550169"))).await;
    assert_eq!(reason(&q), "duplicate", "{q}");
    // Only bidders, none bidding.
    let none = bidder_server(200, "{\"accepted\": false}", 5).await;
    add_bidder(&app, c, "Declines", &none).await;
    assert_eq!(app.admin("PATCH", &format!("/api/campaigns/{c}"), Some(json!({"buyers": []}))).await.0, 200);
    let (_, q) = app.call("POST", "/api/rtb/ping", Some(&key), Some(ask("+13125550170"))).await;
    assert_eq!(reason(&q), "no_bid", "{q}");
    // Bad input: 422 naming the field, nothing kept.
    let (_, before) = app.call("GET", "/api/rtb/quotes", Some(&key), None).await;
    for (body, field) in [
        (json!({"campaign_id": c, "caller": "12345"}), "caller"),
        (json!({"campaign_id": c, "caller": CALLER, "state": "XX"}), "state"),
        (json!({"campaign_id": c, "caller": CALLER, "tags": {"bad name": "x"}}), "tags.bad name"),
        (json!({"campaign_id": 0, "caller": CALLER}), "campaign_id"),
    ] {
        let (status, err) = app.call("POST", "/api/rtb/ping", Some(&key), Some(body.clone())).await;
        assert_eq!(status, 422, "{body} -> {err}");
        assert!(err["details"]["fields"][field].is_string(), "{field}: {err}");
    }
    let (_, after) = app.call("GET", "/api/rtb/quotes", Some(&key), None).await;
    assert_eq!(before.as_array().map(Vec::len), after.as_array().map(Vec::len), "nothing written");
}

/// Over the key's pings per minute: 429 with `Retry-After`.
async fn pings_are_rate_limited(backend: Backend) {
    let app = TestApp::launch_with(backend, |c| c.rtb_pings_per_minute = 3).await;
    let (c, _, publisher) = campaign(&app, json!({"ping_api": true})).await;
    let key = publisher_key(&app, publisher).await;
    for i in 0..3 {
        let (status, q) =
            app.call("POST", "/api/rtb/ping", Some(&key), Some(json!({"campaign_id": c, "caller": format!("+1201555020{i}")}))).await;
        assert_eq!(status, 200, "{q}");
    }
    let reply = app.request("POST", "/api/rtb/ping", Some(&key), Some(json!({"campaign_id": c, "caller": "+12015550209"}))).await;
    assert_eq!(reply.status, 429);
    let other = publisher_key(&app, publisher).await;
    assert_eq!(
        app.call("POST", "/api/rtb/ping", Some(&other), Some(json!({"campaign_id": c, "caller": "+12015550210"}))).await.0,
        200,
        "per key"
    );
    let raw = reqwest::Client::new()
        .post(app.url("/api/rtb/ping"))
        .bearer_auth(&key)
        .json(&json!({"campaign_id": c, "caller": "+12015550211"}))
        .send()
        .await
        .expect("reply");
    assert_eq!(raw.status().as_u16(), 429);
    let wait: u64 = raw.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=60).contains(&wait), "{wait}");
}
