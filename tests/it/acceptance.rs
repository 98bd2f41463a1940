//! Buyer acceptance: the whisper said to a buyer's agent and "press 1 to accept", as signed Twilio
//! conversations against the real server, on both backends.
use std::time::Duration;

use callbroker_tests::sse::TokenIn;
use callbroker_tests::twilio::{params, ACCOUNT_SID};
use callbroker_tests::{both_backends, TestApp, PUBLIC_URL};
use callbroker_wire::LiveEventKind;
use serde_json::{json, Value};

both_backends!(
    agent_accepts,
    never_presses = not_accepted(None, false),
    presses_2 = not_accepted(Some("2"), true),
    whisper_without_acceptance,
    forged_signatures_are_refused,
    settings_are_checked,
);

const NUMBER: &str = "+17175550100";
const CALLER: &str = "+12015550123";

/// A campaign on `NUMBER` (25 USD a qualified call, 90 s buffer) with the given buyers, in order;
/// returns (campaign id, buyer ids).
async fn setup(app: &TestApp, buyers: &[Value]) -> (i64, Vec<i64>) {
    let mut ids = vec![];
    for b in buyers {
        ids.push(app.create("/api/buyers", b.clone()).await["id"].as_i64().expect("buyer id"));
    }
    let assignments: Vec<Value> = ids.iter().map(|id| json!({"buyer_id": id})).collect();
    let c = app
        .create(
            "/api/campaigns",
            json!({"name": "Solar", "buyers": assignments, "revenue_micros": 25_000_000, "payout_micros": 10_000_000, "buffer_secs": 90}),
        )
        .await;
    let p = app.create("/api/publishers", json!({"name": "Pub"})).await;
    app.create("/api/numbers", json!({"number": NUMBER, "campaign_id": c["id"], "publisher_id": p["id"]})).await;
    (c["id"].as_i64().expect("campaign id"), ids)
}

fn buyer(name: &str, phone: &str, extra: Value) -> Value {
    let mut b = json!({"name": name, "phone_number": phone, "max_concurrent_calls": 2});
    if let (Some(obj), Some(more)) = (b.as_object_mut(), extra.as_object()) {
        obj.extend(more.clone());
    }
    b
}

fn events_of<'a>(detail: &'a Value, kind: &str) -> Vec<&'a Value> {
    detail["events"].as_array().unwrap_or_else(|| panic!("no events in {detail}")).iter().filter(|e| e["kind"] == kind).collect()
}

fn time(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()).map_or_else(|| panic!("a time: {v}"), |t| t.to_utc())
}

/// Twilio's `Timestamp` of an event `secs` seconds ago.
fn ago(secs: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(secs)).to_rfc2822()
}

fn whisper_url(leg: i64) -> String {
    format!("{PUBLIC_URL}/api/webhooks/twilio/legs/{leg}/whisper")
}

fn accept_url(leg: i64) -> String {
    format!("{PUBLIC_URL}/api/webhooks/twilio/legs/{leg}/accept")
}

/// A call to an agent who accepts 30 s after picking up: the call connects at the acceptance,
/// its talk time (and so the buffer) counts from there, and a repeated acceptance changes nothing.
async fn agent_accepts(app: TestApp) {
    let whisper = "Lead from {campaign} in {caller_state} {tag:FromCity}{tag:age}.";
    let (_, buyers) =
        setup(&app, &[buyer("A", "+14155550101", json!({"whisper": whisper, "require_accept": true, "accept_timeout_secs": 15}))]).await;
    let mut live = app.sse(&app.admin_token, TokenIn::Header, None).await;
    let dial = app.incoming_call("CA100", CALLER, NUMBER, &[("FromState", "NJ"), ("FromCity", "NEWARK")]).await;
    assert_eq!(dial.status, 200, "{dial:?}");
    let leg = dial.leg().expect("the buyer is dialled");
    assert_eq!(dial.whisper_url(), Some(whisper_url(leg)), "{}", dial.body);
    assert!(dial.body.contains(&format!(r#"url="{}" method="POST""#, whisper_url(leg))), "{}", dial.body);

    // The agent picks up (reported as 30 s ago): not connected until they accept.
    assert_eq!(app.leg_status(leg, "CA100", "CA101", "ringing", 1, None).await.status, 204);
    let picked_up = app.leg_status_with(leg, "CA100", "CA101", "in-progress", 2, None, &[("Timestamp", &ago(30))]).await;
    assert_eq!(picked_up.status, 204);
    let before = app.call_by_sid("CA100").await;
    assert_eq!(before["call"]["outcome"], "routed", "{before}");
    assert!(before["call"]["connected_at"].is_null());
    assert_eq!(before["legs"][0]["status"], "in-progress");
    assert_eq!(before["legs"][0]["accept_required"], true);
    assert!(before["legs"][0]["accepted_at"].is_null());

    let w = app.whisper(leg, "CA100", "CA101").await;
    assert_eq!(w.status, 200, "{w:?}");
    assert!(w.is_twiml(), "{w:?}");
    for part in [
        r#"<Gather input="dtmf""#.to_string(),
        format!(r#"action="{}" method="POST""#, accept_url(leg)),
        r#"timeout="15""#.into(),
        r#"numDigits="1""#.into(),
        r#"actionOnEmptyResult="true""#.into(),
        "<Say>Lead from Solar in NJ NEWARK. Press 1 to accept this call.</Say></Gather><Hangup/>".into(),
    ] {
        assert!(w.body.contains(&part), "{part} in {}", w.body);
    }

    let ok = app.accept(leg, "CA100", "CA101", Some("1")).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert!(ok.is_twiml() && !ok.hangs_up() && !ok.body.contains("<Say") && !ok.body.contains("<Gather"), "put through: {ok:?}");
    let accepted = app.call_by_sid("CA100").await;
    let accepted_at = accepted["legs"][0]["accepted_at"].clone();
    assert!(accepted_at.is_string(), "{accepted}");
    assert_eq!(accepted["call"]["outcome"], "connected");
    assert_eq!(accepted["call"]["buyer_id"], buyers[0]);
    assert_eq!(accepted["call"]["connected_at"], accepted_at, "connected at the acceptance, not the pick-up");
    assert_eq!(accepted["legs"][0]["dial_call_sid"], "CA101");
    let logged = events_of(&accepted, "accepted");
    assert_eq!(logged.len(), 1, "{accepted}");
    assert_eq!(logged[0]["data"]["leg_id"], leg);

    // Twilio sends the acceptance again: answered alike, recorded once.
    let again = app.accept(leg, "CA100", "CA101", Some("1")).await;
    assert_eq!((again.status, &again.body), (200, &ok.body));
    let replayed = app.call_by_sid("CA100").await;
    assert_eq!(events_of(&replayed, "accepted").len(), 1);
    assert_eq!(replayed["legs"][0]["accepted_at"], accepted_at);
    assert_eq!(replayed["call"], accepted["call"], "nothing changed");

    // The live stream: created, ringing, then answered only at the acceptance.
    let events = live.take(3).await;
    let kinds: Vec<LiveEventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [LiveEventKind::CallCreated, LiveEventKind::CallRinging, LiveEventKind::CallAnswered]);
    assert_eq!(events[2].call.outcome, "connected");
    assert_eq!(events[2].call.connected_at, Some(time(&accepted_at)));
    live.expect_quiet(Duration::from_millis(300)).await;

    // 125 s of leg, about 30 of them before the acceptance: the talk time starts at it.
    assert_eq!(app.leg_status(leg, "CA100", "CA101", "completed", 3, Some(125)).await.status, 204);
    assert!(app.dial_result(leg, "CA100", "CA101", "completed", Some(125)).await.hangs_up());
    assert_eq!(app.call_status("CA100", "completed", 1, Some(140)).await.status, 204);
    let done = app.call_by_sid("CA100").await;
    let l = &done["legs"][0];
    let whispered = (time(&l["accepted_at"]) - time(&l["answered_at"])).num_seconds();
    assert!((30..40).contains(&whispered), "{l}");
    let talk = 125 - whispered;
    let (call, money) = (&done["call"], &done["call"]["money"]);
    assert_eq!(l["status"], "completed");
    assert_eq!(call["billable_secs"], talk, "{call}");
    assert_eq!(money["talk_secs"], talk, "{money}");
    assert_eq!(money["qualified"], true, "{talk} s beat the 90 s buffer: {money}");
    assert_eq!(money["revenue_micros"], 25_000_000);

    // The same leg, 110 s long: from its answer it would qualify, from the acceptance it is short.
    let dial = app.incoming_call("CA110", "+12015550124", NUMBER, &[]).await;
    let leg = dial.leg().expect("leg");
    app.leg_status_with(leg, "CA110", "CA111", "in-progress", 2, None, &[("Timestamp", &ago(30))]).await;
    assert!(!app.accept(leg, "CA110", "CA111", Some("1")).await.hangs_up());
    app.leg_status(leg, "CA110", "CA111", "completed", 3, Some(110)).await;
    assert!(app.dial_result(leg, "CA110", "CA111", "completed", Some(110)).await.hangs_up());
    app.call_status("CA110", "completed", 1, Some(120)).await;
    let money = app.call_by_sid("CA110").await["call"]["money"].clone();
    assert_eq!((money["qualified"].clone(), money["reason"].clone()), (json!(false), json!("short")), "{money}");
    assert!(money["talk_secs"].as_i64().is_some_and(|t| t <= 80), "{money}");
    assert_eq!(money["revenue_micros"], 0);
}

/// An agent who stays silent (`digits` None: Twilio posts the empty result) or presses another key
/// is hung up on; the `<Dial>` action (before or after the leg's own last callback: `dial_first`)
/// then ends the leg as no-answer and the call goes to the next buyer.
async fn not_accepted(app: TestApp, digits: Option<&str>, dial_first: bool) {
    let (_, buyers) = setup(
        &app,
        &[
            buyer("Picky", "+14155550101", json!({"priority": 10, "require_accept": true})),
            buyer("Backup", "+14155550102", json!({"priority": 1})),
        ],
    )
    .await;
    let dial = app.incoming_call("CA200", CALLER, NUMBER, &[]).await;
    assert_eq!(dial.dialled_number().as_deref(), Some("+14155550101"));
    let leg1 = dial.leg().expect("leg");
    assert_eq!(dial.whisper_url(), Some(whisper_url(leg1)), "the prompt alone needs the whisper URL");
    app.leg_status(leg1, "CA200", "CA201", "ringing", 1, None).await;
    app.leg_status(leg1, "CA200", "CA201", "in-progress", 2, None).await;
    let w = app.whisper(leg1, "CA200", "CA201").await;
    assert!(w.body.contains("<Say>Press 1 to accept this call.</Say></Gather><Hangup/>"), "{}", w.body);
    assert!(w.body.contains(r#"timeout="10""#), "the default timeout: {}", w.body);

    let no = app.accept(leg1, "CA200", "CA201", digits).await;
    assert_eq!(no.status, 200, "{no:?}");
    assert!(no.is_twiml() && no.hangs_up() && !no.body.contains("<Say"), "{no:?}");
    let refused = app.call_by_sid("CA200").await;
    assert_eq!(refused["call"]["outcome"], "routed", "{refused}");
    assert!(refused["call"]["connected_at"].is_null());
    assert!(refused["legs"][0]["accepted_at"].is_null());
    let logged = events_of(&refused, "not_accepted");
    assert_eq!(logged.len(), 1, "{refused}");
    assert_eq!(logged[0]["data"]["digits"], json!(digits));

    // Twilio says the agent's phone completed (it was picked up): the leg is no-answer anyway.
    if !dial_first {
        app.leg_status(leg1, "CA200", "CA201", "completed", 3, Some(12)).await;
    }
    let next = app.dial_result(leg1, "CA200", "CA201", "completed", Some(12)).await;
    assert_eq!(next.dialled_number().as_deref(), Some("+14155550102"), "fails over: {}", next.body);
    assert_eq!(next.whisper_url(), None, "the backup hears no whisper");
    assert!(!next.body.contains("<Say"), "no second greeting");
    let leg2 = next.leg().expect("leg 2");
    if dial_first {
        app.leg_status(leg1, "CA200", "CA201", "completed", 3, Some(12)).await;
    }
    // A retried action callback answers the same second attempt.
    assert_eq!(app.dial_result(leg1, "CA200", "CA201", "completed", Some(12)).await.leg(), Some(leg2));

    app.leg_status(leg2, "CA200", "CA202", "in-progress", 1, None).await;
    app.leg_status(leg2, "CA200", "CA202", "completed", 2, Some(100)).await;
    assert!(app.dial_result(leg2, "CA200", "CA202", "completed", Some(100)).await.hangs_up());
    app.call_status("CA200", "completed", 1, Some(130)).await;

    let detail = app.call_by_sid("CA200").await;
    let (call, legs) = (&detail["call"], &detail["legs"]);
    assert_eq!(legs[0]["status"], "no-answer", "{detail}");
    assert_eq!(legs[0]["released"], true);
    assert!(legs[0]["accepted_at"].is_null());
    assert_eq!(legs[1]["status"], "completed");
    assert_eq!(legs[1]["accept_required"], false);
    assert_eq!(call["attempts"], 2);
    assert_eq!(call["outcome"], "connected");
    assert_eq!(call["buyer_id"], buyers[1]);
    assert_eq!(call["billable_secs"], 100, "the backup's whole leg");
    assert_eq!(call["money"]["talk_secs"], 100);
    assert_eq!(call["money"]["qualified"], true);
    let results = events_of(&detail, "attempt_result");
    assert_eq!(results[0]["data"]["accepted"], false, "{detail}");
    assert!(results[1]["data"].get("accepted").is_none(), "only asked of legs that needed it");
    let second = events_of(&detail, "routing")[1];
    let verdicts = second["data"]["decision"]["verdicts"].as_array().expect("verdicts");
    assert!(verdicts.iter().any(|v| v["buyer_id"] == buyers[0] && v["reason"]["code"] == "already_tried"), "{second}");
}

/// A whisper alone is said and the call put through; per-campaign overrides change the whisper
/// and the acceptance, and an acceptance where none was asked is not recorded.
async fn whisper_without_acceptance(app: TestApp) {
    let (campaign, buyers) = setup(&app, &[buyer("A", "+14155550101", json!({"whisper": "Solar lead, {{warm}}"}))]).await;
    let dial = app.incoming_call("CA300", CALLER, NUMBER, &[]).await;
    let leg = dial.leg().expect("leg");
    assert_eq!(dial.whisper_url(), Some(whisper_url(leg)));
    app.leg_status(leg, "CA300", "CA301", "in-progress", 1, None).await;
    let connected = app.call_by_sid("CA300").await;
    assert_eq!(connected["call"]["outcome"], "connected", "no acceptance: connected at the answer");
    let w = app.whisper(leg, "CA300", "CA301").await;
    assert_eq!(w.status, 200);
    assert!(w.body.ends_with("<Response><Say>Solar lead, {warm}</Say></Response>"), "{}", w.body);
    assert!(!w.body.contains("<Gather") && !w.hangs_up());
    // A stray keypress on a leg that needs none: put through, nothing recorded.
    assert!(!app.accept(leg, "CA300", "CA301", Some("1")).await.hangs_up());
    app.leg_status(leg, "CA300", "CA301", "completed", 2, Some(95)).await;
    assert!(app.dial_result(leg, "CA300", "CA301", "completed", Some(95)).await.hangs_up());
    app.call_status("CA300", "completed", 1, Some(110)).await;
    let detail = app.call_by_sid("CA300").await;
    assert!(events_of(&detail, "accepted").is_empty(), "{detail}");
    assert_eq!(detail["legs"][0]["accept_required"], false);
    assert!(detail["legs"][0]["accepted_at"].is_null());
    assert_eq!(detail["call"]["billable_secs"], 95);
    assert_eq!(detail["call"]["money"]["talk_secs"], 95);

    // This campaign silences the whisper but asks for acceptance within 5 s.
    let b = buyers[0];
    let (status, c) = app
        .admin(
            "PATCH",
            &format!("/api/campaigns/{campaign}"),
            Some(json!({"buyers": [{"buyer_id": b, "whisper": "", "require_accept": true, "accept_timeout_secs": 5}]})),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["buyers"][0]["whisper"], "");
    assert_eq!(c["buyers"][0]["require_accept"], true);
    let dial = app.incoming_call("CA310", CALLER, NUMBER, &[]).await;
    let leg = dial.leg().expect("leg");
    assert_eq!(dial.whisper_url(), Some(whisper_url(leg)));
    let w = app.whisper(leg, "CA310", "CA311").await;
    assert!(w.body.contains(r#"timeout="5""#) && w.body.contains("<Say>Press 1 to accept this call.</Say>"), "{}", w.body);
    assert_eq!(app.call_by_sid("CA310").await["legs"][0]["accept_required"], true);
    app.call_status("CA310", "completed", 1, Some(3)).await;
    // The caller is gone: an acceptance now puts nobody through and records nothing.
    assert!(app.accept(leg, "CA310", "CA311", Some("1")).await.hangs_up());
    let gone = app.call_by_sid("CA310").await;
    assert!(gone["legs"][0]["accepted_at"].is_null() && gone["call"]["outcome"] == "abandoned", "{gone}");

    // Neither a whisper nor acceptance on this campaign: the number is dialled plainly.
    let (status, _) =
        app.admin("PATCH", &format!("/api/campaigns/{campaign}"), Some(json!({"buyers": [{"buyer_id": b, "whisper": ""}]}))).await;
    assert_eq!(status, 200);
    let plain = app.incoming_call("CA320", CALLER, NUMBER, &[]).await;
    assert!(plain.leg().is_some() && plain.whisper_url().is_none(), "{}", plain.body);
}

/// The whisper and accept webhooks take only Twilio's signed requests: forged, unsigned or
/// signed for another leg, they are refused and write nothing.
async fn forged_signatures_are_refused(app: TestApp) {
    setup(&app, &[buyer("A", "+14155550101", json!({"require_accept": true}))]).await;
    let dial = app.incoming_call("CA400", CALLER, NUMBER, &[]).await;
    let leg = dial.leg().expect("leg");
    let accept = params(&[
        ("CallSid", "CA401"),
        ("ParentCallSid", "CA400"),
        ("AccountSid", ACCOUNT_SID),
        ("CallStatus", "in-progress"),
        ("Digits", "1"),
    ]);
    let whisper_path = format!("/api/webhooks/twilio/legs/{leg}/whisper");
    let accept_path = format!("/api/webhooks/twilio/legs/{leg}/accept");
    let forged = "dGhpcyBpcyBub3QgYSBzaWduYXR1cmU=";
    // Signed as Twilio would for another leg's URL.
    let other_leg = callbroker::twilio::signature::sign(
        callbroker_tests::TWILIO_AUTH_TOKEN,
        callbroker::twilio::signature::Algorithm::HmacSha1,
        &format!("{PUBLIC_URL}/api/webhooks/twilio/legs/{}/accept", leg + 1),
        &accept,
    );
    for path in [&whisper_path, &accept_path] {
        for signature in [Some(forged), None, Some(other_leg.as_str())] {
            let a = app.twilio_raw(path, &accept, signature).await;
            assert_eq!(a.status, 403, "{path} {signature:?}: {a:?}");
            assert!(!a.body.contains("<Response"), "no TwiML for a forged request: {}", a.body);
        }
    }
    let detail = app.call_by_sid("CA400").await;
    assert!(detail["legs"][0]["accepted_at"].is_null(), "{detail}");
    assert!(events_of(&detail, "accepted").is_empty() && events_of(&detail, "not_accepted").is_empty());
    assert_eq!(detail["call"]["outcome"], "routed");
    // The genuine request goes through; one for another call is refused.
    let stranger = params(&[("CallSid", "CA999"), ("ParentCallSid", "CA998"), ("AccountSid", ACCOUNT_SID), ("Digits", "1")]);
    assert_eq!(app.twilio(&accept_path, &stranger).await.status, 400);
    assert_eq!(app.twilio(&format!("/api/webhooks/twilio/legs/{}/accept", leg + 100), &accept).await.status, 404);
    assert_eq!(app.twilio(&accept_path, &accept).await.status, 200);
    assert!(app.call_by_sid("CA400").await["legs"][0]["accepted_at"].is_string());
}

async fn total_buyers(app: &TestApp) -> i64 {
    let (status, page) = app.admin("GET", "/api/buyers", None).await;
    assert_eq!(status, 200, "{page}");
    page["total"].as_i64().expect("total")
}

async fn assert_invalid(app: &TestApp, method: &str, path: &str, body: Value, field: &str, why: &str) {
    let (status, err) = app.admin(method, path, Some(body.clone())).await;
    assert_eq!(status, 422, "{method} {path} {body} -> {err}");
    let said = err["details"]["fields"][field].as_str().unwrap_or_else(|| panic!("{field} named in {err}"));
    assert!(said.contains(why), "{field}: {said}");
}

/// The settings are checked on every write (422 naming the field, nothing written), trimmed, and
/// read back as written; `null` or `""` removes a buyer's whisper.
async fn settings_are_checked(app: TestApp) {
    let b = |extra: Value| buyer("B", "+14155550101", extra);
    assert_invalid(&app, "POST", "/api/buyers", b(json!({"whisper": "Hi {campaign"})), "whisper", "never closed").await;
    assert_invalid(&app, "POST", "/api/buyers", b(json!({"whisper": "Hi } there"})), "whisper", "without its `{`").await;
    assert_invalid(&app, "POST", "/api/buyers", b(json!({"whisper": "{tag:}"})), "whisper", "tag's name is missing").await;
    assert_invalid(&app, "POST", "/api/buyers", b(json!({"whisper": "x".repeat(1001)})), "whisper", "at most 1000").await;
    assert_invalid(&app, "POST", "/api/buyers", b(json!({"accept_timeout_secs": 0})), "accept_timeout_secs", "between 1 and 60").await;
    assert_invalid(&app, "POST", "/api/buyers", b(json!({"accept_timeout_secs": 61})), "accept_timeout_secs", "between 1 and 60").await;
    assert_eq!(total_buyers(&app).await, 0, "nothing written");

    let created = app.create("/api/buyers", b(json!({"whisper": "  Lead {tag:age} from {campaign}  "}))).await;
    assert_eq!(created["whisper"], "Lead {tag:age} from {campaign}");
    assert_eq!(created["require_accept"], false);
    assert_eq!(created["accept_timeout_secs"], 10);
    let id = created["id"].as_i64().expect("id");
    let path = format!("/api/buyers/{id}");
    assert_invalid(&app, "PATCH", &path, json!({"whisper": "{{x}"}), "whisper", "without its `{`").await;
    let (_, unchanged) = app.admin("GET", &path, None).await;
    assert_eq!(unchanged["whisper"], "Lead {tag:age} from {campaign}", "a refused patch writes nothing");
    let (status, patched) = app.admin("PATCH", &path, Some(json!({"require_accept": true, "accept_timeout_secs": 20}))).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!((patched["require_accept"].clone(), patched["accept_timeout_secs"].clone()), (json!(true), json!(20)));
    assert_eq!(patched["whisper"], "Lead {tag:age} from {campaign}", "absent fields are left alone");
    for cleared in [json!(null), json!("  ")] {
        app.admin("PATCH", &path, Some(json!({"whisper": "Again"}))).await;
        let (status, patched) = app.admin("PATCH", &path, Some(json!({"whisper": cleared}))).await;
        assert_eq!(status, 200, "{patched}");
        assert!(patched["whisper"].is_null(), "{cleared} removes it: {patched}");
    }

    let campaign = |assignment: Value| json!({"name": "C", "buyers": [assignment]});
    assert_invalid(
        &app,
        "POST",
        "/api/campaigns",
        campaign(json!({"buyer_id": id, "whisper": "{bad name}"})),
        "buyers[0].whisper",
        "letters",
    )
    .await;
    assert_invalid(
        &app,
        "POST",
        "/api/campaigns",
        campaign(json!({"buyer_id": id, "accept_timeout_secs": 100})),
        "buyers[0].accept_timeout_secs",
        "between 1 and 60",
    )
    .await;
    let (status, page) = app.admin("GET", "/api/campaigns", None).await;
    assert_eq!((status, page["total"].clone()), (200, json!(0)), "{page}");
    let c = app.create("/api/campaigns", campaign(json!({"buyer_id": id, "whisper": " Hot {tag:age} ", "require_accept": false}))).await;
    assert_eq!(c["buyers"][0]["whisper"], "Hot {tag:age}");
    assert_eq!(c["buyers"][0]["require_accept"], false);
    assert!(c["buyers"][0].get("accept_timeout_secs").is_none(), "unset overrides are left out: {c}");
}
