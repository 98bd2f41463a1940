//! Screening callers (#22): the blocklist, anonymous callers, STIR/SHAKEN attestation, repeat
//! callers and the rate limit, buyers' tag rules; scripted signed Twilio conversations on both
//! backends. Also the blocklist's CSV import, the calls filter by tag and the blocked figures.
use std::fmt::Write as _;

use callbroker_tests::twilio::Answer;
use callbroker_tests::{both_backends, TestApp};
use serde_json::{json, Value};

both_backends!(
    blocklist_exact_prefix_expiry_and_scope,
    anonymous_callers_allowed_or_blocked,
    attestation_levels_against_minimums,
    repeat_callers_block_allow_and_same_buyer,
    qualified_repeat_and_rate_limit,
    tag_rules_skip_buyers_with_the_rule_named,
    blocked_calls_never_claim_a_slot_and_are_counted,
    csv_import_of_ten_thousand_rows_and_all_or_nothing,
    blocklist_crud_validation_and_export,
    calls_filtered_by_tag_and_simulated,
    screening_adds_no_statement_to_the_voice_webhook,
);

const NUMBER: &str = "+17175550100";
const OTHER_NUMBER: &str = "+17175550200";

fn buyer(name: &str, phone: &str, extra: Value) -> Value {
    let mut b = json!({"name": name, "phone_number": phone, "max_concurrent_calls": 50});
    if let (Some(obj), Some(more)) = (b.as_object_mut(), extra.as_object()) {
        obj.extend(more.clone());
    }
    b
}

/// A campaign on `number` with the given buyers and screening; returns (campaign id, buyer ids).
async fn campaign(app: &TestApp, name: &str, number: &str, buyers: &[Value], screening: Value) -> (i64, Vec<i64>) {
    let mut ids = vec![];
    for b in buyers {
        ids.push(app.create("/api/buyers", b.clone()).await["id"].as_i64().expect("buyer id"));
    }
    let assignments: Vec<Value> = ids.iter().map(|id| json!({"buyer_id": id})).collect();
    let c = app.create("/api/campaigns", json!({"name": name, "buyers": assignments, "screening": screening})).await;
    app.create("/api/numbers", json!({"number": number, "campaign_id": c["id"]})).await;
    (c["id"].as_i64().expect("campaign id"), ids)
}

async fn patch_screening(app: &TestApp, campaign: i64, screening: Value) {
    let (status, body) = app.admin("PATCH", &format!("/api/campaigns/{campaign}"), Some(json!({"screening": screening}))).await;
    assert_eq!(status, 200, "{body}");
}

fn rejected(a: &Answer) -> bool {
    a.status == 200 && a.is_twiml() && a.body.contains(r#"<Reject reason="rejected"/>"#) && !a.body.contains("<Dial")
}

fn events_of<'a>(detail: &'a Value, kind: &str) -> Vec<&'a Value> {
    detail["events"].as_array().unwrap_or_else(|| panic!("no events in {detail}")).iter().filter(|e| e["kind"] == kind).collect()
}

/// The call's blocking rule, checking that everything about a blocked call agrees.
async fn blocked_by(app: &TestApp, sid: &str) -> Option<String> {
    let detail = app.call_by_sid(sid).await;
    let call = &detail["call"];
    let rule = call["blocked_by"].as_str().map(String::from);
    if let Some(rule) = &rule {
        assert_eq!(call["outcome"], "blocked", "{detail}");
        assert_eq!(call["attempts"], 0, "{detail}");
        assert!(call["buyer_id"].is_null(), "{detail}");
        assert_eq!(detail["legs"].as_array().map(Vec::len), Some(0), "no leg: {detail}");
        assert!(events_of(&detail, "routing").is_empty(), "no routing: {detail}");
        let logged = events_of(&detail, "blocked");
        assert_eq!(logged.len(), 1, "{detail}");
        assert_eq!(logged[0]["data"]["rule"], rule.as_str());
        assert!(logged[0]["data"]["detail"].as_str().is_some_and(|d| !d.is_empty()));
    } else {
        assert_ne!(call["outcome"], "blocked", "{detail}");
    }
    rule
}

/// The verdict reason of `buyer_id` in the call's first routing entry.
fn verdict(detail: &Value, buyer_id: i64) -> &Value {
    let routing = events_of(detail, "routing");
    let verdicts = &routing.first().expect("a routing entry")["data"]["decision"]["verdicts"];
    verdicts.as_array().and_then(|v| v.iter().find(|v| v["buyer_id"] == buyer_id)).map(|v| &v["reason"]).expect("a verdict")
}

/// Ends a routed call: the buyer answers for `talk` seconds, then everyone hangs up.
async fn connect_and_end(app: &TestApp, answer: &Answer, sid: &str, talk: u32) {
    let leg = answer.leg().unwrap_or_else(|| panic!("{sid} was not routed: {answer:?}"));
    let child = format!("{sid}X");
    app.leg_status(leg, sid, &child, "in-progress", 0, None).await;
    app.leg_status(leg, sid, &child, "completed", 1, Some(talk)).await;
    app.dial_result(leg, sid, &child, "completed", Some(talk)).await;
    assert_eq!(app.call_status(sid, "completed", 1, Some(talk + 5)).await.status, 204);
}

async fn blocklist_exact_prefix_expiry_and_scope(app: TestApp) {
    let (first, _) = campaign(&app, "First", NUMBER, &[buyer("A", "+14155550101", json!({}))], json!({})).await;
    let (second, _) = campaign(&app, "Second", OTHER_NUMBER, &[buyer("B", "+14155550102", json!({}))], json!({})).await;
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let future = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    app.create("/api/blocklist", json!({"number": "+12015550111", "note": "exact, global"})).await;
    app.create("/api/blocklist", json!({"number": "+1212", "note": "prefix, global", "expires_at": future})).await;
    app.create("/api/blocklist", json!({"number": "+13105550133", "expires_at": past, "note": "expired"})).await;
    app.create("/api/blocklist", json!({"number": "+1646*", "campaign_id": second})).await;

    let exact = app.incoming_call("CAB1", "+12015550111", NUMBER, &[]).await;
    assert!(rejected(&exact), "{exact:?}");
    assert_eq!(blocked_by(&app, "CAB1").await.as_deref(), Some("blocklist"));
    let prefix = app.incoming_call("CAB2", "+12125550122", NUMBER, &[]).await;
    assert!(rejected(&prefix), "{prefix:?}");
    assert_eq!(blocked_by(&app, "CAB2").await.as_deref(), Some("blocklist"));
    let detail = app.call_by_sid("CAB2").await;
    assert!(events_of(&detail, "blocked")[0]["data"]["detail"].as_str().is_some_and(|d| d.contains("+1212")), "{detail}");
    // A neighbour of the exact number, and the expired entry, block nobody.
    let neighbour = app.incoming_call("CAB3", "+12015550112", NUMBER, &[]).await;
    assert!(neighbour.leg().is_some(), "{neighbour:?}");
    assert_eq!(blocked_by(&app, "CAB3").await, None);
    let expired = app.incoming_call("CAB4", "+13105550133", NUMBER, &[]).await;
    assert!(expired.leg().is_some(), "an expired entry blocks nobody: {expired:?}");
    // A campaign's entry blocks its campaign only.
    let elsewhere = app.incoming_call("CAB5", "+16465550144", NUMBER, &[]).await;
    assert!(elsewhere.leg().is_some(), "{elsewhere:?}");
    let there = app.incoming_call("CAB6", "+16465550144", OTHER_NUMBER, &[]).await;
    assert!(rejected(&there), "{there:?}");
    assert_eq!(blocked_by(&app, "CAB6").await.as_deref(), Some("blocklist"));
    // Removing the entry takes effect on the next call.
    let (_, list) = app.admin("GET", &format!("/api/blocklist?campaign_id={second}"), None).await;
    assert_eq!(list["total"], 1, "{list}");
    let id = list["items"][0]["id"].as_i64().expect("id");
    assert_eq!(list["items"][0]["kind"], "prefix");
    assert_eq!(list["items"][0]["number"], "+1646");
    assert_eq!(app.admin("DELETE", &format!("/api/blocklist/{id}"), None).await.0, 204);
    let after = app.incoming_call("CAB7", "+16465550145", OTHER_NUMBER, &[]).await;
    assert!(after.leg().is_some(), "{after:?}");
    let _ = first;
}

async fn anonymous_callers_allowed_or_blocked(app: TestApp) {
    let (c, _) = campaign(&app, "Anon", NUMBER, &[buyer("A", "+14155550101", json!({}))], json!({})).await;
    // Allowed by default: "Anonymous" as Twilio sends it, and the keypad stand-in number.
    let a = app.incoming_call("CAN1", "Anonymous", NUMBER, &[]).await;
    assert!(a.leg().is_some(), "{a:?}");
    let b = app.incoming_call("CAN2", "+266696687", NUMBER, &[]).await;
    assert!(b.leg().is_some(), "{b:?}");
    patch_screening(&app, c, json!({"anonymous": "block", "block_message": "We do not take calls from withheld numbers."})).await;
    for (sid, from) in [("CAN3", "Anonymous"), ("CAN4", "+266696687"), ("CAN5", "Restricted"), ("CAN6", "+7378742833")] {
        let answer = app.incoming_call(sid, from, NUMBER, &[]).await;
        assert!(answer.says("We do not take calls from withheld numbers.") && answer.hangs_up(), "{from}: {answer:?}");
        assert!(!answer.body.contains("<Reject"), "{answer:?}");
        assert_eq!(blocked_by(&app, sid).await.as_deref(), Some("anonymous"), "{from}");
    }
    let number = app.incoming_call("CAN7", "+12015550177", NUMBER, &[]).await;
    assert!(number.leg().is_some(), "a caller with a number: {number:?}");
    // Back to rejecting once the message is cleared.
    patch_screening(&app, c, json!({"block_message": null})).await;
    let again = app.incoming_call("CAN8", "Anonymous", NUMBER, &[]).await;
    assert!(rejected(&again), "{again:?}");
}

async fn attestation_levels_against_minimums(app: TestApp) {
    let (c, _) = campaign(&app, "Stir", NUMBER, &[buyer("A", "+14155550101", json!({"max_concurrent_calls": 1000}))], json!({})).await;
    let values = [
        ("TN-Validation-Passed-A", 3),
        ("TN-Validation-Passed-B", 2),
        ("TN-Validation-Passed-C", 1),
        ("TN-Validation-Passed-B-Diverted", 2),
        ("TN-Validation-Failed-A", 0),
        ("TN-Validation-Failed", 0),
        ("No-TN-Validation", 0),
    ];
    let mut n = 0;
    for (min, level) in [("none", 0), ("c", 1), ("b", 2), ("a", 3)] {
        patch_screening(&app, c, json!({"min_attestation": min})).await;
        for (value, has) in values {
            n += 1;
            let sid = format!("CAS{n}");
            let answer = app.incoming_call(&sid, &format!("+1201555{n:04}"), NUMBER, &[("StirVerstat", value)]).await;
            let passes = min == "none" || (has > 0 && has >= level);
            assert_eq!(answer.leg().is_some(), passes, "{value} against {min}: {answer:?}");
            assert_eq!(rejected(&answer), !passes, "{value} against {min}: {answer:?}");
            assert_eq!(blocked_by(&app, &sid).await.as_deref(), (!passes).then_some("attestation"), "{value} against {min}");
            let detail = app.call_by_sid(&sid).await;
            assert_eq!(detail["call"]["tags"]["StirVerstat"], value);
        }
        // No StirVerstat: let through unless the campaign says otherwise.
        for missing in ["allow", "block"] {
            patch_screening(&app, c, json!({"missing_attestation": missing})).await;
            n += 1;
            let sid = format!("CAS{n}");
            let answer = app.incoming_call(&sid, &format!("+1201555{n:04}"), NUMBER, &[]).await;
            let blocked = min != "none" && missing == "block";
            assert_eq!(rejected(&answer), blocked, "absent against {min} ({missing}): {answer:?}");
            assert_eq!(blocked_by(&app, &sid).await.is_some(), blocked);
        }
        patch_screening(&app, c, json!({"missing_attestation": "allow"})).await;
    }
}

async fn repeat_callers_block_allow_and_same_buyer(app: TestApp) {
    let (c, buyers) = campaign(
        &app,
        "Repeat",
        NUMBER,
        &[
            buyer("A", "+14155550101", json!({"sticky_repeat_callers": false})),
            buyer("B", "+14155550102", json!({"sticky_repeat_callers": false})),
        ],
        json!({"repeat_window_secs": 2, "repeat_action": "block"}),
    )
    .await;
    let caller = "+12015550123";
    let first = app.incoming_call("CAR1", caller, NUMBER, &[]).await;
    assert!(first.leg().is_some(), "{first:?}");
    let within = app.incoming_call("CAR2", caller, NUMBER, &[]).await;
    assert!(rejected(&within), "{within:?}");
    assert_eq!(blocked_by(&app, "CAR2").await.as_deref(), Some("repeat"));
    // A blocked call is a call too: the window starts again from it. Past the window: routed.
    tokio::time::sleep(std::time::Duration::from_millis(2_300)).await;
    let outside = app.incoming_call("CAR3", caller, NUMBER, &[]).await;
    assert!(outside.leg().is_some(), "outside the window: {outside:?}");
    connect_and_end(&app, &outside, "CAR3", 30).await;
    // Allowed repeats are routed like any call.
    patch_screening(&app, c, json!({"repeat_window_secs": 600, "repeat_action": "allow"})).await;
    let allowed = app.incoming_call("CAR4", caller, NUMBER, &[]).await;
    assert!(allowed.leg().is_some(), "{allowed:?}");
    app.dial_result(allowed.leg().expect("leg"), "CAR4", "CAR4X", "no-answer", None).await;
    app.call_status("CAR4", "completed", 2, Some(20)).await;
    // Same buyer: only the buyer that took the caller's last connected call (CAR3's).
    patch_screening(&app, c, json!({"repeat_action": "same_buyer"})).await;
    let took = app.call_by_sid("CAR3").await["call"]["buyer_id"].as_i64().expect("CAR3's buyer");
    let other = *buyers.iter().find(|b| **b != took).expect("the other buyer");
    for sid in ["CAR5", "CAR6"] {
        let answer = app.incoming_call(sid, caller, NUMBER, &[]).await;
        let leg = answer.leg().unwrap_or_else(|| panic!("{sid}: {answer:?}"));
        let detail = app.call_by_sid(sid).await;
        assert_eq!(detail["call"]["buyer_id"], took, "{detail}");
        assert_eq!(verdict(&detail, other)["code"], "not_repeat_buyer", "{detail}");
        assert_eq!(verdict(&detail, other)["buyer_id"], took);
        if sid == "CAR5" {
            // The buyer is busy: no failover to the other one.
            let next = app.dial_result(leg, sid, "CAR5X", "busy", None).await;
            assert!(next.dialled_number().is_none() && next.hangs_up(), "{next:?}");
        } else {
            app.dial_result(leg, sid, "CAR6X", "no-answer", None).await;
        }
        app.call_status(sid, "completed", 2, Some(20)).await;
    }
    // A new caller is routed to anyone.
    let fresh = app.incoming_call("CAR7", "+12015550999", NUMBER, &[]).await;
    assert!(fresh.leg().is_some(), "{fresh:?}");
    assert!(verdict(&app.call_by_sid("CAR7").await, other)["code"] != "not_repeat_buyer");
}

async fn qualified_repeat_and_rate_limit(app: TestApp) {
    let (c, _) = campaign(&app, "Qualified", NUMBER, &[buyer("A", "+14155550101", json!({}))], json!({"qualified_repeat_days": 30})).await;
    let (status, _) =
        app.admin("PATCH", &format!("/api/campaigns/{c}"), Some(json!({"buffer_secs": 10, "revenue_micros": 5_000_000}))).await;
    assert_eq!(status, 200);
    let caller = "+12015550123";
    // A short call does not qualify: the next call goes through.
    let short = app.incoming_call("CAQ1", caller, NUMBER, &[]).await;
    connect_and_end(&app, &short, "CAQ1", 3).await;
    assert_eq!(app.call_by_sid("CAQ1").await["call"]["money"]["qualified"], false);
    let paid = app.incoming_call("CAQ2", caller, NUMBER, &[]).await;
    connect_and_end(&app, &paid, "CAQ2", 60).await;
    assert_eq!(app.call_by_sid("CAQ2").await["call"]["money"]["qualified"], true);
    let again = app.incoming_call("CAQ3", caller, NUMBER, &[]).await;
    assert!(rejected(&again), "{again:?}");
    assert_eq!(blocked_by(&app, "CAQ3").await.as_deref(), Some("qualified_repeat"));
    // Another caller, and another campaign's history, do not count.
    let other = app.incoming_call("CAQ4", "+12015550124", NUMBER, &[]).await;
    assert!(other.leg().is_some(), "{other:?}");
    app.call_status("CAQ4", "completed", 1, Some(2)).await;

    // Rate limit: 2 calls in 10 minutes, the third is blocked (blocked calls count as calls).
    patch_screening(&app, c, json!({"qualified_repeat_days": 0, "rate_limit_calls": 2, "rate_limit_minutes": 10})).await;
    let caller = "+12015550555";
    for sid in ["CAQ5", "CAQ6"] {
        let a = app.incoming_call(sid, caller, NUMBER, &[]).await;
        assert!(a.leg().is_some(), "{sid}: {a:?}");
        app.call_status(sid, "completed", 1, Some(2)).await;
    }
    for sid in ["CAQ7", "CAQ8"] {
        let a = app.incoming_call(sid, caller, NUMBER, &[]).await;
        assert!(rejected(&a), "{sid}: {a:?}");
        assert_eq!(blocked_by(&app, sid).await.as_deref(), Some("rate_limit"));
    }
    let detail = app.call_by_sid("CAQ8").await;
    assert!(events_of(&detail, "blocked")[0]["data"]["detail"].as_str().is_some_and(|d| d.starts_with("3 calls")), "{detail}");
    // Turned off: through again.
    patch_screening(&app, c, json!({"rate_limit_calls": 0})).await;
    assert!(app.incoming_call("CAQ9", caller, NUMBER, &[]).await.leg().is_some());
}

async fn tag_rules_skip_buyers_with_the_rule_named(app: TestApp) {
    let (c, buyers) = campaign(
        &app,
        "Tags",
        NUMBER,
        &[
            buyer("East", "+14155550101", json!({"priority": 5, "tag_rules": [{"tag": "FromState", "op": "in", "value": ["NY", "NJ"]}]})),
            buyer("Any", "+14155550102", json!({})),
        ],
        json!({}),
    )
    .await;
    let (east, any) = (buyers[0], buyers[1]);
    let from_ca =
        app.incoming_call("CAT1", "+13105550100", NUMBER, &[("FromState", "CA"), ("FromZip", "90001"), ("FromCity", "LOS ANGELES")]).await;
    assert_eq!(from_ca.dialled_number().as_deref(), Some("+14155550102"), "{from_ca:?}");
    let detail = app.call_by_sid("CAT1").await;
    let reason = verdict(&detail, east);
    assert_eq!(reason["code"], "tag_rule", "{detail}");
    assert_eq!(reason["index"], 0);
    assert_eq!(reason["tag"], "FromState");
    assert_eq!(reason["op"], "in");
    assert_eq!(reason["actual"], "CA");
    assert_eq!(verdict(&detail, any)["code"], "selected");
    let tags = &detail["call"]["tags"];
    assert_eq!(tags, &json!({"FromState": "CA", "FromZip": "90001", "FromCity": "LOS ANGELES", "AreaCode": "310"}), "{detail}");

    let from_ny = app.incoming_call("CAT2", "+12125550100", NUMBER, &[("FromState", "NY")]).await;
    assert_eq!(from_ny.dialled_number().as_deref(), Some("+14155550101"), "the rule holds: {from_ny:?}");
    // No FromState at all: the rule fails (the tag is absent).
    let unknown = app.incoming_call("CAT3", "+442071234567", NUMBER, &[]).await;
    assert_eq!(unknown.dialled_number().as_deref(), Some("+14155550102"), "{unknown:?}");
    let detail = app.call_by_sid("CAT3").await;
    assert!(verdict(&detail, east)["actual"].is_null(), "{detail}");

    // The assignment's own rules replace the buyer's on this campaign: [] takes every call.
    let (status, body) = app
        .admin(
            "PATCH",
            &format!("/api/campaigns/{c}"),
            Some(json!({"buyers": [{"buyer_id": east, "tag_rules": []}, {"buyer_id": any, "tag_rules": [{"tag": "AreaCode", "op": "eq", "value": "999"}]}]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["buyers"][0]["tag_rules"], json!([]));
    let from_ca = app.incoming_call("CAT4", "+13105550101", NUMBER, &[("FromState", "CA")]).await;
    assert_eq!(from_ca.dialled_number().as_deref(), Some("+14155550101"), "{from_ca:?}");
    let detail = app.call_by_sid("CAT4").await;
    assert_eq!(verdict(&detail, any)["code"], "tag_rule");
    assert_eq!(verdict(&detail, any)["value"], "\"999\"");
    // Every buyer fails: no buyer, the busy message.
    let (status, _) =
        app.admin("PATCH", &format!("/api/buyers/{east}"), Some(json!({"tag_rules": [{"tag": "Age", "op": "gte", "value": 65}]}))).await;
    assert_eq!(status, 200);
    let (status, _) = app.admin("PATCH", &format!("/api/campaigns/{c}"), Some(json!({"buyers": [{"buyer_id": east}]}))).await;
    assert_eq!(status, 200);
    let none = app.incoming_call("CAT5", "+13105550102", NUMBER, &[]).await;
    assert!(none.says("All agents are currently busy") && none.dialled_number().is_none(), "{none:?}");
    let detail = app.call_by_sid("CAT5").await;
    assert_eq!(detail["call"]["outcome"], "no_buyer");
    assert_eq!(verdict(&detail, east)["code"], "tag_rule");
    assert_eq!(verdict(&detail, east)["tag"], "Age");

    // Rules are checked on write: the rule index and field are named.
    let (status, body) = app
        .admin(
            "PATCH",
            &format!("/api/buyers/{east}"),
            Some(json!({"tag_rules": [{"tag": "Age", "op": "gte", "value": 65}, {"tag": "State", "op": "in", "value": "CA"}, {"tag": "X", "op": "exists", "value": "1"}]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let fields = &body["details"]["fields"];
    assert!(fields["tag_rules[1].value"].as_str().is_some_and(|m| m.contains("list")), "{body}");
    assert!(fields["tag_rules[2].value"].as_str().is_some_and(|m| m.contains("absent")), "{body}");
    assert!(fields.get("tag_rules[0].value").is_none(), "{body}");
    let (status, body) = app
        .admin(
            "PATCH",
            &format!("/api/campaigns/{c}"),
            Some(json!({"buyers": [{"buyer_id": east, "tag_rules": [{"tag": "bad tag", "op": "exists"}]}]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["details"]["fields"]["buyers[0].tag_rules[0].tag"].is_string(), "{body}");
    let (_, b) = app.admin("GET", &format!("/api/buyers/{east}"), None).await;
    assert_eq!(b["tag_rules"], json!([{"tag": "Age", "op": "gte", "value": 65.0}]), "nothing written: {b}");
}

async fn blocked_calls_never_claim_a_slot_and_are_counted(app: TestApp) {
    let (campaign_id, buyers) =
        campaign(&app, "Slots", NUMBER, &[buyer("Solo", "+14155550101", json!({"max_concurrent_calls": 1}))], json!({})).await;
    app.create("/api/blocklist", json!({"number": "+1900"})).await;
    // Announced live as it is recorded: blocked, with its rule and tags.
    let mut stream = app.sse(&app.admin_token, callbroker_tests::sse::TokenIn::Header, None).await;
    for i in 0..5 {
        let sid = format!("CAK{i}");
        let a = app.incoming_call(&sid, &format!("+1900555{i:04}"), NUMBER, &[]).await;
        assert!(rejected(&a), "{a:?}");
        // Twilio reports the rejected call as busy.
        assert_eq!(app.call_status(&sid, "busy", 1, None).await.status, 204);
    }
    let created = stream.take(1).await.remove(0);
    assert_eq!(created.call.call_sid, "CAK0");
    assert_eq!(created.call.outcome, "blocked");
    assert_eq!(created.call.blocked_by.as_deref(), Some("blocklist"));
    assert_eq!(created.call.tags.get("AreaCode").map(String::as_str), Some("900"));
    // The only slot is still free.
    let routed = app.incoming_call("CAK9", "+12015550123", NUMBER, &[]).await;
    assert_eq!(routed.dialled_number().as_deref(), Some("+14155550101"), "{routed:?}");
    connect_and_end(&app, &routed, "CAK9", 100).await;

    // Settled as blocked: not qualified, never on a buyer, counted in `blocked`.
    let detail = app.call_by_sid("CAK0").await;
    assert_eq!(detail["call"]["money"]["reason"], "blocked", "{detail}");
    assert_eq!(detail["call"]["money"]["qualified"], false);
    let (_, blocked) = app.admin("GET", "/api/calls?outcome=blocked&per_page=1", None).await;
    let (_, by_rule) = app.admin("GET", "/api/calls?blocked_by=blocklist&per_page=1", None).await;
    assert_eq!(blocked["total"], 5);
    assert_eq!(by_rule["total"], 5);
    let (status, s) = app.admin("GET", &format!("/api/analytics/summary?campaign_id={campaign_id}"), None).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["total"]["blocked"], blocked["total"], "{s}");
    assert_eq!(s["total"]["calls"], 6, "{s}");
    let (_, by_buyer) = app.admin("GET", &format!("/api/analytics/summary?buyer_id={}", buyers[0]), None).await;
    assert_eq!(by_buyer["total"]["calls"], 1, "blocked calls are on no buyer: {by_buyer}");
    assert_eq!(by_buyer["total"]["blocked"], 0);
    let (status, g) = app.admin("GET", "/api/analytics/summary?group_by=blocked_by", None).await;
    assert_eq!(status, 200, "{g}");
    let groups = g["groups"].as_array().expect("groups");
    let rule = groups.iter().find(|x| x["key"] == "blocklist").expect("the blocklist group");
    assert_eq!(rule["metrics"]["blocked"], 5);
    assert_eq!(rule["metrics"]["calls"], 5);
    let rest = groups.iter().find(|x| x.get("key").is_none()).expect("the unblocked group");
    assert_eq!(rest["metrics"]["calls"], 1);
    let from = (chrono::Utc::now() - chrono::Duration::hours(2)).format("%Y-%m-%dT%H:%M:%SZ");
    let (status, ts) = app.admin("GET", &format!("/api/analytics/timeseries?group_by=blocked_by&bucket=hour&from={from}"), None).await;
    assert_eq!(status, 200, "{ts}");
    let blocked_points: i64 = ts["points"]
        .as_array()
        .expect("points")
        .iter()
        .filter(|p| p["key"] == "blocklist")
        .map(|p| p["metrics"]["blocked"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(blocked_points, 5, "{ts}");
    let (status, t) = app.admin("GET", "/api/analytics/summary?group_by=tag&tag=AreaCode", None).await;
    assert_eq!(status, 200, "{t}");
    let area = t["groups"].as_array().expect("groups").iter().find(|x| x["key"] == "900").expect("area code 900");
    assert_eq!(area["metrics"]["calls"], 5);
    let (status, e) = app.admin("GET", "/api/analytics/summary?group_by=tag", None).await;
    assert_eq!(status, 422, "{e}");
    assert!(e["details"]["fields"]["tag"].is_string());
}

async fn csv_import_of_ten_thousand_rows_and_all_or_nothing(app: TestApp) {
    let (c, _) = campaign(&app, "Csv", NUMBER, &[buyer("A", "+14155550101", json!({}))], json!({})).await;
    let mut csv = String::from("number,kind,campaign_id,note,expires_at\n");
    for i in 0..10_000 {
        let campaign = if i % 2 == 0 { c.to_string() } else { String::new() };
        let _ = writeln!(csv, "+1303555{i:04},,{campaign},\"row {i}, imported\",");
    }
    let res = app
        .send(app.client.post(app.url("/api/blocklist/import")).bearer_auth(&app.admin_token).header("content-type", "text/csv").body(csv))
        .await
        .expect("import");
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["created"], 10_000);
    let (_, list) = app.admin("GET", "/api/blocklist?per_page=1", None).await;
    assert_eq!(list["total"], 10_000);
    let blocked = app.incoming_call("CAC1", "+13035559998", NUMBER, &[]).await;
    assert!(rejected(&blocked), "the imported list blocks at once: {blocked:?}");
    let campaign_row = app.incoming_call("CAC2", "+13035559999", NUMBER, &[]).await;
    assert!(rejected(&campaign_row), "{campaign_row:?}");

    // A file with bad rows: each named, nothing written.
    let bad = "number,note,kind,campaign_id,expires_at\n+13125550001,ok,,,\n12345,no plus,,,\n+13125550002,,sometimes,,\n+13125550003,,,999999,\n+13125550004,,,,yesterday\n+1312*,,exact,,\n+13125550005,fine,,,\n";
    let res = app
        .send(app.client.post(app.url("/api/blocklist/import")).bearer_auth(&app.admin_token).header("content-type", "text/csv").body(bad))
        .await
        .expect("import");
    assert_eq!(res.status().as_u16(), 422);
    let body: Value = res.json().await.expect("json");
    let fields = body["details"]["fields"].as_object().unwrap_or_else(|| panic!("{body}"));
    let named: Vec<&str> = fields.keys().map(String::as_str).collect();
    for want in ["line 3: number", "line 4: kind", "line 5: campaign_id", "line 6: expires_at", "line 7: number"] {
        assert!(named.contains(&want), "{want} in {named:?}");
    }
    assert_eq!(named.len(), 5, "only the bad rows: {named:?}");
    let (_, list) = app.admin("GET", "/api/blocklist?per_page=1", None).await;
    assert_eq!(list["total"], 10_000, "nothing written");
    // Not CSV, or no number column.
    let res =
        app.send(app.client.post(app.url("/api/blocklist/import")).bearer_auth(&app.admin_token).json(&json!({}))).await.expect("import");
    assert_eq!(res.status().as_u16(), 415);
    let res = app
        .send(
            app.client
                .post(app.url("/api/blocklist/import"))
                .bearer_auth(&app.admin_token)
                .header("content-type", "text/csv")
                .body("note\nx\n"),
        )
        .await
        .expect("import");
    assert_eq!(res.status().as_u16(), 422);
}

async fn blocklist_crud_validation_and_export(app: TestApp) {
    let (c, _) = campaign(&app, "Crud", NUMBER, &[buyer("A", "+14155550101", json!({}))], json!({})).await;
    let e = app.create("/api/blocklist", json!({"number": "+14155550123", "campaign_id": c, "note": "=HYPERLINK(\"x\")"})).await;
    assert_eq!(e["kind"], "exact");
    let id = e["id"].as_i64().expect("id");
    for (body, field) in [
        (json!({"number": "415"}), "number"),
        (json!({"number": "+1415", "kind": "exact"}), "number"),
        (json!({"number": "+14155550100", "campaign_id": 999_999}), "campaign_id"),
        (json!({"number": "+14155550100", "expires_at": "1900-01-01T00:00:00Z"}), "expires_at"),
    ] {
        let (status, err) = app.admin("POST", "/api/blocklist", Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {err}");
        assert!(err["details"]["fields"][field].is_string(), "{body}: {err}");
    }
    let (status, patched) =
        app.admin("PATCH", &format!("/api/blocklist/{id}"), Some(json!({"campaign_id": null, "number": "+1415*"}))).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["kind"], "prefix");
    assert_eq!(patched["number"], "+1415");
    assert!(patched["campaign_id"].is_null());
    let (_, found) = app.admin("GET", "/api/blocklist?q=hyperlink", None).await;
    assert_eq!(found["total"], 1, "{found}");
    let (_, global) = app.admin("GET", "/api/blocklist?global=true", None).await;
    assert_eq!(global["total"], 1);
    let export = app.request("GET", "/api/blocklist/export", Some(&app.admin_token), None).await;
    assert_eq!(export.status, 200);
    assert!(export.content_type.starts_with("text/csv"), "{export:?}");
    let text = export.text();
    assert!(text.starts_with("number,kind,campaign_id,note,expires_at\n"), "{text}");
    assert!(text.contains("+1415,prefix,,\"'=HYPERLINK(\"\"x\"\")\","), "the note is neutralised: {text}");
    // Publishers never see it.
    let p = app.create("/api/publishers", json!({"name": "P"})).await;
    app.create("/api/users", json!({"email": "p@s.example", "password": "password-123456", "role": "publisher", "publisher_id": p["id"]}))
        .await;
    let token = app.login("p@s.example", "password-123456").await;
    assert_eq!(app.call("GET", "/api/blocklist", Some(&token), None).await.0, 403);
    assert_eq!(app.call("GET", &format!("/api/blocklist/{id}"), Some(&token), None).await.0, 403);
    assert_eq!(app.admin("DELETE", &format!("/api/blocklist/{id}"), None).await.0, 204);
    assert_eq!(app.admin("GET", &format!("/api/blocklist/{id}"), None).await.0, 404);
}

async fn calls_filtered_by_tag_and_simulated(app: TestApp) {
    let (c, buyers) = campaign(
        &app,
        "Filter",
        NUMBER,
        &[buyer("West", "+14155550101", json!({"tag_rules": [{"tag": "FromState", "op": "eq", "value": "CA"}]}))],
        json!({"min_attestation": "b"}),
    )
    .await;
    app.incoming_call("CAF1", "+13105550001", NUMBER, &[("FromState", "CA"), ("StirVerstat", "TN-Validation-Passed-A")]).await;
    app.incoming_call("CAF2", "+13105550002", NUMBER, &[("FromState", "CA"), ("StirVerstat", "TN-Validation-Passed-C")]).await;
    app.incoming_call("CAF3", "+12125550003", NUMBER, &[("FromState", "NY"), ("StirVerstat", "TN-Validation-Passed-A")]).await;
    app.incoming_call("CAF4", "Anonymous", NUMBER, &[("StirVerstat", "TN-Validation-Passed-A")]).await;
    let total = |q: &str| {
        let app = &app;
        let q = q.to_string();
        async move {
            let (status, page) = app.admin("GET", &format!("/api/calls?{q}"), None).await;
            assert_eq!(status, 200, "{q}: {page}");
            page["total"].as_i64().expect("total")
        }
    };
    assert_eq!(total("tag=FromState:CA").await, 2);
    assert_eq!(total("tag=FromState:CA&tag=StirVerstat:TN-Validation-Passed-A").await, 1);
    assert_eq!(total("tag=AreaCode").await, 3, "the anonymous caller has no area code");
    assert_eq!(total("tag=AreaCode:310").await, 2);
    assert_eq!(total("tag=Nothing").await, 0);
    assert_eq!(total("tag=FromState:CA&outcome=blocked").await, 1);
    let (status, err) = app.admin("GET", "/api/calls?tag=bad%20name", None).await;
    assert_eq!(status, 422, "{err}");

    // The simulator: the screening rule that decides, or the tag rule.
    let sim = |body: Value| {
        let app = &app;
        async move {
            let (status, r) = app.admin("POST", "/api/routing/simulate", Some(body)).await;
            assert_eq!(status, 200, "{r}");
            r
        }
    };
    let r = sim(json!({"number": NUMBER, "caller": "+13105550009", "stir_verstat": "TN-Validation-Passed-C"})).await;
    assert_eq!(r["outcome"], "blocked", "{r}");
    assert_eq!(r["blocked"]["rule"], "attestation");
    let r = sim(json!({"number": NUMBER, "caller": "+13105550009", "state": "NY", "stir_verstat": "TN-Validation-Passed-A"})).await;
    assert_eq!(r["outcome"], "no_buyer", "{r}");
    assert_eq!(r["decision"]["verdicts"][0]["reason"]["code"], "tag_rule");
    assert_eq!(r["tags"]["AreaCode"], "310");
    let r = sim(json!({"number": NUMBER, "caller": "+13105550009", "stir_verstat": "TN-Validation-Passed-A", "tags": {"FromState": "CA"}}))
        .await;
    assert_eq!(r["outcome"], "routed", "{r}");
    assert_eq!(r["buyer_id"], buyers[0]);
    patch_screening(&app, c, json!({"anonymous": "block"})).await;
    let r = sim(json!({"number": NUMBER, "caller": "Anonymous", "stir_verstat": "TN-Validation-Passed-A"})).await;
    assert_eq!(r["blocked"]["rule"], "anonymous", "{r}");
    let (status, err) =
        app.admin("POST", "/api/routing/simulate", Some(json!({"number": NUMBER, "caller": "x", "tags": {"bad name": "1"}}))).await;
    assert_eq!(status, 422, "{err}");
    // Screening settings are checked too.
    let (status, err) = app.admin("PATCH", &format!("/api/campaigns/{c}"), Some(json!({"screening": {"rate_limit_calls": 3}}))).await;
    assert_eq!(status, 422, "{err}");
    assert!(err["details"]["fields"]["screening.rate_limit_minutes"].is_string(), "{err}");
    let (_, campaign) = app.admin("GET", &format!("/api/campaigns/{c}"), None).await;
    assert_eq!(campaign["screening"]["anonymous"], "block");
    assert_eq!(campaign["screening"]["min_attestation"], "b");
    assert_eq!(campaign["screening"]["rate_limit_calls"], 0);
}

/// The server's count of statements run (`/metrics`, read as admin).
async fn statements(app: &TestApp) -> u64 {
    let res = app.client.get(app.url("/metrics")).bearer_auth(&app.admin_token).send().await.expect("scrape");
    let text = res.text().await.expect("text");
    callbroker_tests::metric(&text, "callbroker_db_statements_total").expect("callbroker_db_statements_total")
}

/// The statements of voice webhooks from `from(i)` to `to`: the fewest any one of ten took
/// (background work, the job worker and the reaper, runs statements of its own meanwhile, more
/// often on a busy machine).
async fn fewest_statements(app: &TestApp, sid: &str, from: impl Fn(usize) -> String, to: &str) -> (u64, Vec<Answer>) {
    let mut fewest = u64::MAX;
    let mut answers = vec![];
    for i in 0..10 {
        let before = statements(app).await;
        let answer =
            app.incoming_call(&format!("{sid}{i}"), &from(i), to, &[("FromState", "CA"), ("StirVerstat", "TN-Validation-Passed-A")]).await;
        fewest = fewest.min(statements(app).await - before);
        answers.push(answer);
    }
    (fewest, answers)
}

async fn screening_adds_no_statement_to_the_voice_webhook(app: TestApp) {
    campaign(&app, "Plain", NUMBER, &[buyer("A", "+14155550101", json!({}))], json!({})).await;
    let every_rule = json!({
        "anonymous": "block", "min_attestation": "b", "missing_attestation": "block", "repeat_window_secs": 600,
        "repeat_action": "same_buyer", "qualified_repeat_days": 30, "rate_limit_calls": 50, "rate_limit_minutes": 10
    });
    let rules = json!({"tag_rules": [{"tag": "FromState", "op": "in", "value": ["CA", "NY"]}, {"tag": "AreaCode", "op": "exists"}]});
    campaign(&app, "Screened", OTHER_NUMBER, &[buyer("B", "+14155550102", rules)], every_rule).await;
    app.create("/api/blocklist", json!({"number": "+1900"})).await;
    // The directory is read again after the changes, and the metrics' own figures once: not
    // part of what is measured.
    app.incoming_call("CAW0", "+12015550100", NUMBER, &[]).await;
    statements(&app).await;
    let (plain, a) = fewest_statements(&app, "CAWP", |i| format!("+120155502{i:02}"), NUMBER).await;
    assert!(a.iter().all(|a| a.leg().is_some()), "{a:?}");
    let (screened, b) = fewest_statements(&app, "CAWS", |i| format!("+120155503{i:02}"), OTHER_NUMBER).await;
    assert!(b.iter().all(|b| b.leg().is_some()), "{b:?}");
    // One repeat caller with history on the campaign, calling again and again.
    let (repeat, c) = fewest_statements(&app, "CAWR", |_| "+12015550400".to_string(), OTHER_NUMBER).await;
    assert!(c.iter().all(|c| c.leg().is_some()), "{c:?}");
    let (blocked, d) = fewest_statements(&app, "CAWB", |i| format!("+190055505{i:02}"), OTHER_NUMBER).await;
    assert!(d.iter().all(rejected), "{d:?}");
    eprintln!("statements per voice webhook: plain {plain}, screened {screened}, repeat caller {repeat}, blocked {blocked}");
    assert_eq!(screened, plain, "screening with every rule on costs no statement");
    assert_eq!(repeat, plain, "a caller with history costs no more");
    assert!(blocked <= plain, "blocked {blocked}, plain {plain}");
}
