//! Routing by money (issue 23's revenue and EPC modes): a campaign's priority tiers ordered by
//! price per call, or by earnings per call measured from the settled calls, with an exploration
//! share for buyers not measured yet; on both backends, through signed Twilio conversations.
use callbroker::routing::value::explore_draw;
use callbroker_tests::{both_backends, TestApp};
use serde_json::{json, Value};

both_backends!(by_price, by_earnings_per_call, policy_is_checked);

const NUMBER: &str = "+17175550100";

async fn buyer(app: &TestApp, name: &str, phone: &str) -> i64 {
    app.create("/api/buyers", json!({"name": name, "phone_number": phone, "max_concurrent_calls": 5})).await["id"].as_i64().expect("id")
}

/// A campaign on `NUMBER` ($10 a qualified call, 60 s buffer) with `assignments`.
async fn campaign(app: &TestApp, assignments: Value, routing: Value) -> i64 {
    let c = app
        .create(
            "/api/campaigns",
            json!({"name": "Auto", "buyers": assignments, "revenue_micros": 10_000_000, "buffer_secs": 60, "routing": routing}),
        )
        .await;
    app.create("/api/numbers", json!({"number": NUMBER, "campaign_id": c["id"]})).await;
    c["id"].as_i64().expect("campaign id")
}

/// A call that reaches the first buyer, which talks `talk` seconds; returns the dialled number.
async fn call(app: &TestApp, sid: &str, caller: &str, talk: u32) -> String {
    let dial = app.incoming_call(sid, caller, NUMBER, &[]).await;
    let leg = dial.leg().unwrap_or_else(|| panic!("a dial: {dial:?}"));
    let number = dial.dialled_number().expect("a number");
    let child = format!("{sid}L");
    assert_eq!(app.leg_status(leg, sid, &child, "in-progress", 1, None).await.status, 204);
    assert_eq!(app.leg_status(leg, sid, &child, "completed", 2, Some(talk)).await.status, 204);
    assert_eq!(app.call_status(sid, "completed", 3, Some(talk + 5)).await.status, 204);
    number
}

fn verdict(detail: &Value, buyer: i64) -> &Value {
    let routing = detail["events"].as_array().and_then(|e| e.iter().find(|e| e["kind"] == "routing")).expect("a routing entry");
    routing["data"]["decision"]["verdicts"].as_array().and_then(|v| v.iter().find(|v| v["buyer_id"] == buyer)).expect("a verdict")
}

/// `revenue`: the dearest buyer first whatever its weight; failover goes down the prices.
async fn by_price(app: TestApp) {
    let cheap = buyer(&app, "Cheap", "+14155550101").await;
    let dear = buyer(&app, "Dear", "+14155550102").await;
    let middle = buyer(&app, "Middle", "+14155550103").await;
    let assignments = json!([
        {"buyer_id": cheap, "weight": 100},
        {"buyer_id": dear, "revenue_micros": 45_000_000},
        {"buyer_id": middle, "revenue_micros": 30_000_000}
    ]);
    campaign(&app, assignments, json!({"mode": "revenue"})).await;
    let dial = app.incoming_call("CA1", "+12015550100", NUMBER, &[]).await;
    assert_eq!(dial.dialled_number().as_deref(), Some("+14155550102"), "{}", dial.body);
    let detail = app.call_by_sid("CA1").await;
    let f = &verdict(&detail, dear)["figures"];
    assert_eq!((&f["mode"], &f["price_micros"]), (&json!("revenue"), &json!(45_000_000)), "{detail}");
    assert_eq!(verdict(&detail, cheap)["figures"]["price_micros"], 10_000_000, "the campaign's price");
    // The dear buyer does not answer: the next price down.
    let next = app.dial_result(dial.leg().expect("leg"), "CA1", "CA1L", "no-answer", None).await;
    assert_eq!(next.dialled_number().as_deref(), Some("+14155550103"), "{}", next.body);
}

/// `epc`: a buyer that earned more per call is rung first though its price is lower; a new
/// buyer gets the calls of the exploration share; the simulator shows the figures.
async fn by_earnings_per_call(app: TestApp) {
    let earner = buyer(&app, "Earner", "+14155550101").await;
    let talker = buyer(&app, "Talker", "+14155550102").await;
    // History under weighted routing: the earner's two calls qualify ($10 each), the talker's
    // two are short (nothing earned) though its price is $50.
    let id = campaign(&app, json!([{"buyer_id": earner}]), json!({})).await;
    for (sid, caller) in [("CH1", "+12015550101"), ("CH2", "+12015550102")] {
        assert_eq!(call(&app, sid, caller, 100).await, "+14155550101");
    }
    let only_talker = json!({"buyers": [{"buyer_id": talker, "revenue_micros": 50_000_000}]});
    assert_eq!(app.admin("PATCH", &format!("/api/campaigns/{id}"), Some(only_talker)).await.0, 200);
    for (sid, caller) in [("CH3", "+12015550103"), ("CH4", "+12015550104")] {
        assert_eq!(call(&app, sid, caller, 5).await, "+14155550102");
    }
    let newcomer = buyer(&app, "Newcomer", "+14155550103").await;
    let epc = json!({
        "buyers": [{"buyer_id": earner}, {"buyer_id": talker, "revenue_micros": 50_000_000}, {"buyer_id": newcomer}],
        "routing": {"mode": "epc", "epc_days": 7, "exploration_calls": 2, "exploration_percent": 30}
    });
    let (status, saved) = app.admin("PATCH", &format!("/api/campaigns/{id}"), Some(epc)).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["routing"]["mode"], "epc");

    // Calls outside and inside the exploration share (the draw comes from the CallSid).
    let sid_with = |explore: bool| (0..1000).map(|i| format!("CE{i:04}")).find(|s| (explore_draw(s) < 30) == explore).expect("a sid");
    let (measured_sid, exploring_sid) = (sid_with(false), sid_with(true));
    let dial = app.incoming_call(&measured_sid, "+12015550110", NUMBER, &[]).await;
    assert_eq!(dial.dialled_number().as_deref(), Some("+14155550101"), "the best earner first: {}", dial.body);
    let detail = app.call_by_sid(&measured_sid).await;
    let e = &verdict(&detail, earner)["figures"];
    assert_eq!((&e["epc_calls"], &e["epc_revenue_micros"], &e["epc_micros"]), (&json!(2), &json!(20_000_000), &json!(10_000_000)), "{e}");
    let t = &verdict(&detail, talker)["figures"];
    assert_eq!((&t["epc_calls"], &t["epc_micros"], &t["price_micros"]), (&json!(2), &json!(0), &json!(50_000_000)), "{t}");
    assert!(verdict(&detail, newcomer)["figures"]["epc_micros"].is_null(), "not measured yet");
    assert_eq!(verdict(&detail, talker)["rank"], 2);
    assert_eq!(verdict(&detail, newcomer)["rank"], 3);

    let dial = app.incoming_call(&exploring_sid, "+12015550111", NUMBER, &[]).await;
    assert_eq!(dial.dialled_number().as_deref(), Some("+14155550103"), "the newcomer is measured: {}", dial.body);
    let detail = app.call_by_sid(&exploring_sid).await;
    assert_eq!(verdict(&detail, newcomer)["figures"]["explored"], true);

    let sim = |explore: bool| json!({"number": NUMBER, "caller": "+12015550120", "explore": explore});
    let (status, plain) = app.admin("POST", "/api/routing/simulate", Some(sim(false))).await;
    assert_eq!(status, 200, "{plain}");
    assert_eq!(plain["buyer_id"], earner, "{plain}");
    let (_, exploring) = app.admin("POST", "/api/routing/simulate", Some(sim(true))).await;
    assert_eq!(exploring["buyer_id"], newcomer, "{exploring}");
}

/// A bad policy is refused with the field named and nothing written.
async fn policy_is_checked(app: TestApp) {
    let b = buyer(&app, "B", "+14155550101").await;
    let id = campaign(&app, json!([{"buyer_id": b}]), json!({})).await;
    let bad = json!({"routing": {"mode": "epc", "epc_days": 0, "exploration_percent": 80,
                                 "tiers": [{"priority": 1, "mode": "revenue"}, {"priority": 1, "mode": "epc"}]}});
    let (status, body) = app.admin("PATCH", &format!("/api/campaigns/{id}"), Some(bad)).await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    for field in ["routing.epc_days", "routing.exploration_percent", "routing.tiers[1].priority"] {
        assert!(text.contains(field), "{field} in {text}");
    }
    let (_, kept) = app.admin("GET", &format!("/api/campaigns/{id}"), None).await;
    assert_eq!(
        kept["routing"],
        json!({"mode": "weighted", "tiers": [], "epc_days": 7, "exploration_calls": 20, "exploration_percent": 10,
               "bids": {"priority": 0, "floor_micros": 0, "ping_budget_ms": 1000, "route_by_bid_winner": false, "ping_api": false,
                        "quote_ttl_secs": 60}})
    );
    let (status, body) = app.admin("PATCH", &format!("/api/campaigns/{id}"), Some(json!({"routing": {"mode": "highest"}}))).await;
    assert_eq!((status, &body["code"]), (400, &json!("invalid_json")), "an unknown mode: {body}");
}
