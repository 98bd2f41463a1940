//! Scripted Twilio conversations against the real server: signed webhook sequences as Twilio
//! sends them, on both backends.
use callbroker_tests::twilio::params;
use callbroker_tests::{assert_absent, both_backends, TestApp};
use serde_json::{json, Value};

both_backends!(
    routed_and_completed,
    failover_to_second_buyer,
    all_busy,
    outside_hours,
    geo_reject,
    repeat_caller_goes_back,
    unknown_number_and_paused_campaign,
    duplicated_and_reordered_callbacks,
    simultaneous_voice_webhooks_of_one_call_answer_alike,
    simultaneous_callbacks_fold_like_sequential_ones,
    forged_signatures_write_nothing,
    malformed_webhooks,
    commits_are_all_or_nothing,
    recording_sids_checked_and_urls_kept_from_publishers,
);

const NUMBER: &str = "+17175550100";
const RECORDING: &str = "RE0123456789abcdef0123456789abcdef";

fn recording_url(sid: &str) -> String {
    format!("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{sid}")
}

/// A campaign on `NUMBER` with the given buyers; returns (campaign id, buyer ids).
async fn setup(app: &TestApp, buyers: &[Value]) -> (i64, Vec<i64>) {
    let mut ids = vec![];
    for b in buyers {
        ids.push(app.create("/api/buyers", b.clone()).await["id"].as_i64().expect("buyer id"));
    }
    let assignments: Vec<Value> = ids.iter().map(|id| json!({"buyer_id": id})).collect();
    let c =
        app.create("/api/campaigns", json!({"name": "Solar", "greeting": "Thanks for calling Solar & Co", "buyers": assignments})).await;
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

fn skip_reason(detail: &Value, buyer_id: i64) -> String {
    let routing = events_of(detail, "routing");
    let verdicts = routing.first().map(|r| &r["data"]["decision"]["verdicts"]).expect("a routing event");
    verdicts
        .as_array()
        .and_then(|v| v.iter().find(|v| v["buyer_id"] == buyer_id))
        .and_then(|v| v["reason"]["code"].as_str())
        .unwrap_or_else(|| panic!("no verdict with a reason for buyer {buyer_id}: {verdicts}"))
        .to_string()
}

async fn routed_and_completed(app: TestApp) {
    let (_, buyers) = setup(&app, &[buyer("A", "+14155550101", json!({}))]).await;
    let answer = app.incoming_call("CA100", "+12015550123", NUMBER, &[("FromState", "NJ"), ("FromCity", "NEWARK")]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.is_twiml(), "{answer:?}");
    assert!(answer.says("Thanks for calling Solar &amp; Co"), "greeting, escaped: {}", answer.body);
    assert_eq!(answer.dialled_number().as_deref(), Some("+14155550101"));
    assert!(answer.body.contains(r#"record="record-from-answer""#), "{}", answer.body);
    assert!(answer.body.contains(r#"callerId="+12015550123""#), "{}", answer.body);
    assert!(answer.body.contains("statusCallbackEvent=\"initiated ringing answered completed\""), "{}", answer.body);
    let leg = answer.leg().expect("dial action names the leg");

    assert_eq!(app.leg_status(leg, "CA100", "CA101", "initiated", 0, None).await.status, 204);
    assert_eq!(app.leg_status(leg, "CA100", "CA101", "ringing", 1, None).await.status, 204);
    assert_eq!(app.leg_status(leg, "CA100", "CA101", "in-progress", 2, None).await.status, 204);
    let during = app.call_by_sid("CA100").await;
    assert_eq!(during["call"]["outcome"], "connected");
    assert_eq!(during["legs"][0]["released"], false, "the slot is held while connected");
    assert_eq!(app.leg_status(leg, "CA100", "CA101", "completed", 3, Some(95)).await.status, 204);
    let hang = app.dial_result(leg, "CA100", "CA101", "completed", Some(95)).await;
    assert!(hang.hangs_up(), "{hang:?}");
    assert_eq!(app.call_status("CA100", "completed", 1, Some(110)).await.status, 204);
    let rec = app.recording_completed("CA100", RECORDING, &recording_url(RECORDING), 94, 1).await;
    assert_eq!(rec.status, 204, "{rec:?}");

    let detail = app.call_by_sid("CA100").await;
    let call = &detail["call"];
    assert_eq!(call["status"], "completed");
    assert_eq!(call["outcome"], "connected");
    assert_eq!(call["buyer_id"], buyers[0]);
    assert_eq!(call["caller_state"], "NJ");
    assert_eq!(call["caller_city"], "NEWARK");
    assert_eq!(call["duration_secs"], 110);
    assert_eq!(call["billable_secs"], 95);
    assert_eq!(call["recording"]["sid"], RECORDING);
    assert_eq!(call["recording"]["duration_secs"], 94);
    assert!(!call["connected_at"].is_null() && !call["ended_at"].is_null());
    assert_eq!(detail["legs"][0]["status"], "completed");
    assert_eq!(detail["legs"][0]["dial_call_sid"], "CA101");
    assert_eq!(detail["legs"][0]["released"], true);
    assert_eq!(skip_reason(&detail, buyers[0]), "selected");
    assert_eq!(events_of(&detail, "slot_released").len(), 1, "released exactly once");
    // No Twilio account here (only the Auth Token that signs webhooks): nobody to ask for the
    // cost, so it is marked unknown at once and no job is queued for it.
    assert_eq!(call["cost_status"], "unconfigured");
    assert_eq!(jobs_of_kind(&app.db.url, "twilio.call_cost"), 0);
}

/// How many jobs of `kind` were ever queued, from the database.
fn jobs_of_kind(url: &str, kind: &str) -> i64 {
    use callbroker::db::schema::jobs;
    use callbroker::db::{Db, PoolOptions};
    use diesel::prelude::*;
    let db = Db::connect(url, &PoolOptions { max_connections: 2, ..PoolOptions::default() }).expect("db");
    let kind = kind.to_string();
    db.read_blocking(move |c| Ok(jobs::table.filter(jobs::kind.eq(kind)).count().get_result::<i64>(c)?)).expect("count")
}

#[allow(clippy::many_single_char_names, reason = "the answers to the webhooks of one call, a to e in order")]
async fn failover_to_second_buyer(app: TestApp) {
    let (_, buyers) =
        setup(&app, &[buyer("Primary", "+14155550101", json!({"priority": 10})), buyer("Backup", "+14155550102", json!({"priority": 1}))])
            .await;
    let first = app.incoming_call("CA200", "+12015550123", NUMBER, &[]).await;
    assert_eq!(first.dialled_number().as_deref(), Some("+14155550101"), "priority first");
    let leg1 = first.leg().expect("leg");
    app.leg_status(leg1, "CA200", "CA201", "ringing", 0, None).await;
    app.leg_status(leg1, "CA200", "CA201", "busy", 1, None).await;
    let second = app.dial_result(leg1, "CA200", "CA201", "busy", None).await;
    assert!(second.is_twiml(), "{second:?}");
    assert_eq!(second.dialled_number().as_deref(), Some("+14155550102"), "fails over: {}", second.body);
    assert!(!second.body.contains("<Say"), "no second greeting");
    let leg2 = second.leg().expect("leg 2");
    assert_ne!(leg1, leg2);
    // A retried action callback answers the same second attempt, claims nothing new.
    let again = app.dial_result(leg1, "CA200", "CA201", "busy", None).await;
    assert_eq!(again.leg(), Some(leg2));

    app.leg_status(leg2, "CA200", "CA202", "in-progress", 1, None).await;
    app.leg_status(leg2, "CA200", "CA202", "completed", 2, Some(30)).await;
    assert!(app.dial_result(leg2, "CA200", "CA202", "completed", Some(30)).await.hangs_up());
    app.call_status("CA200", "completed", 1, Some(60)).await;
    let detail = app.call_by_sid("CA200").await;
    assert_eq!(detail["call"]["attempts"], 2);
    assert_eq!(detail["call"]["buyer_id"], buyers[1]);
    assert_eq!(detail["call"]["outcome"], "connected");
    assert_eq!(detail["legs"].as_array().map(Vec::len), Some(2));
    assert!(detail["legs"].as_array().expect("legs").iter().all(|l| l["released"] == true));
    let second_routing = events_of(&detail, "routing")[1];
    let verdicts = second_routing["data"]["decision"]["verdicts"].as_array().expect("verdicts");
    assert!(verdicts.iter().any(|v| v["buyer_id"] == buyers[0] && v["reason"]["code"] == "already_tried"));

    // When every buyer has been tried, the caller hears the busy message.
    let a = app.incoming_call("CA210", "+12015550999", NUMBER, &[]).await;
    let b = app.dial_result(a.leg().expect("leg"), "CA210", "CA211", "no-answer", None).await;
    let c = app.dial_result(b.leg().expect("leg"), "CA210", "CA212", "failed", None).await;
    assert!(c.says("All agents are currently busy") && c.hangs_up(), "{c:?}");
    assert_eq!(app.call_by_sid("CA210").await["call"]["outcome"], "failed");

    // A caller hanging up is no reason to ring the next buyer.
    let d = app.incoming_call("CA220", "+12015550888", NUMBER, &[]).await;
    let e = app.dial_result(d.leg().expect("leg"), "CA220", "CA221", "canceled", None).await;
    assert!(e.hangs_up() && e.dialled_number().is_none(), "{e:?}");
}

async fn all_busy(app: TestApp) {
    setup(&app, &[buyer("Solo", "+14155550101", json!({"max_concurrent_calls": 1}))]).await;
    let first = app.incoming_call("CA300", "+12015550123", NUMBER, &[]).await;
    assert!(first.leg().is_some());
    let second = app.incoming_call("CA301", "+12015550124", NUMBER, &[]).await;
    assert_eq!(second.status, 200);
    assert!(second.says("All agents are currently busy. Please try again later") && second.hangs_up(), "{second:?}");
    let detail = app.call_by_sid("CA301").await;
    assert_eq!(detail["call"]["outcome"], "no_buyer");
    let verdict = &events_of(&detail, "routing")[0]["data"]["decision"]["verdicts"][0]["reason"];
    assert_eq!(verdict["code"], "at_capacity");
    assert_eq!(verdict["in_progress"], 1);
    // The first call ends: the slot comes back.
    app.call_status("CA300", "completed", 1, Some(5)).await;
    let third = app.incoming_call("CA302", "+12015550125", NUMBER, &[]).await;
    assert!(third.leg().is_some(), "{third:?}");
}

async fn outside_hours(app: TestApp) {
    // Open only on a weekday that is not today in the buyer's zone.
    let tz: chrono_tz::Tz = "America/Los_Angeles".parse().expect("tz");
    let today = chrono::Utc::now().with_timezone(&tz).format("%a").to_string().to_lowercase();
    let other = if today == "mon" { "wed" } else { "mon" };
    let (_, buyers) = setup(
        &app,
        &[buyer(
            "Daytime",
            "+14155550101",
            json!({"timezone": "America/Los_Angeles", "schedule": [{"day": other, "start": "09:00", "end": "17:00"}]}),
        )],
    )
    .await;
    let answer = app.incoming_call("CA400", "+12015550123", NUMBER, &[]).await;
    assert!(answer.says("All agents are currently busy"), "{answer:?}");
    let detail = app.call_by_sid("CA400").await;
    assert_eq!(skip_reason(&detail, buyers[0]), "outside_hours");
}

async fn geo_reject(app: TestApp) {
    let (_, buyers) = setup(
        &app,
        &[
            buyer("West", "+14155550101", json!({"allowed_states": ["CA"]})),
            buyer("NoTexas", "+14155550102", json!({"denied_states": ["TX"]})),
        ],
    )
    .await;
    let answer = app.incoming_call("CA500", "+12145550123", NUMBER, &[("FromState", "TX")]).await;
    assert!(answer.says("All agents are currently busy"), "{answer:?}");
    let detail = app.call_by_sid("CA500").await;
    assert_eq!(skip_reason(&detail, buyers[0]), "state_not_allowed");
    assert_eq!(skip_reason(&detail, buyers[1]), "state_denied");
    // No FromState: the area code (213, Los Angeles) says CA.
    let answer = app.incoming_call("CA501", "+12135550123", NUMBER, &[]).await;
    assert!(answer.leg().is_some(), "{answer:?}");
    let detail = app.call_by_sid("CA501").await;
    assert_eq!(detail["call"]["caller_state"], "CA");
}

async fn repeat_caller_goes_back(app: TestApp) {
    let (_, buyers) = setup(&app, &[buyer("A", "+14155550101", json!({})), buyer("B", "+14155550102", json!({}))]).await;
    let caller = "+12015550777";
    let first = app.incoming_call("CA600", caller, NUMBER, &[]).await;
    let first_buyer = first.dialled_number().expect("dials");
    let leg = first.leg().expect("leg");
    app.leg_status(leg, "CA600", "CA601", "in-progress", 0, None).await;
    app.leg_status(leg, "CA600", "CA601", "completed", 1, Some(40)).await;
    app.call_status("CA600", "completed", 1, Some(45)).await;
    // Another caller would now go to the other buyer (even distribution) ...
    let other = app.incoming_call("CA610", "+12015550778", NUMBER, &[]).await;
    assert_ne!(other.dialled_number().as_deref(), Some(first_buyer.as_str()), "even distribution");
    app.call_status("CA610", "completed", 1, Some(3)).await;
    // ... but the repeat caller goes back to the buyer that took their last call.
    let again = app.incoming_call("CA620", caller, NUMBER, &[]).await;
    assert_eq!(again.dialled_number(), Some(first_buyer), "{again:?}");
    let detail = app.call_by_sid("CA620").await;
    let chosen = detail["call"]["buyer_id"].as_i64().expect("buyer");
    assert!(buyers.contains(&chosen));
    assert_eq!(skip_reason(&detail, chosen), "repeat_caller");
}

async fn unknown_number_and_paused_campaign(app: TestApp) {
    let (campaign, _) = setup(&app, &[buyer("A", "+14155550101", json!({}))]).await;
    let answer = app.incoming_call("CA700", "+12015550123", "+19995550000", &[]).await;
    assert_eq!(answer.status, 200);
    assert!(answer.says("not in service") && answer.hangs_up(), "{answer:?}");
    let detail = app.call_by_sid("CA700").await;
    assert_eq!(detail["call"]["outcome"], "unknown_number");
    assert_eq!(detail["call"]["campaign_id"], Value::Null);

    app.admin("PATCH", &format!("/api/campaigns/{campaign}"), Some(json!({"status": "paused"}))).await;
    let answer = app.incoming_call("CA701", "+12015550123", NUMBER, &[]).await;
    assert!(answer.hangs_up() && answer.dialled_number().is_none(), "{answer:?}");
    assert_eq!(app.call_by_sid("CA701").await["call"]["outcome"], "campaign_paused");
}

async fn duplicated_and_reordered_callbacks(app: TestApp) {
    setup(&app, &[buyer("A", "+14155550101", json!({}))]).await;
    let answer = app.incoming_call("CA800", "+12015550123", NUMBER, &[]).await;
    let leg = answer.leg().expect("leg");
    // Twilio retries the voice webhook: same answer, no second slot.
    let retry = app.incoming_call("CA800", "+12015550123", NUMBER, &[]).await;
    assert_eq!(retry.leg(), Some(leg));
    // Leg callbacks out of order and duplicated.
    app.leg_status(leg, "CA800", "CA801", "completed", 3, Some(61)).await;
    app.leg_status(leg, "CA800", "CA801", "ringing", 1, None).await;
    app.leg_status(leg, "CA800", "CA801", "in-progress", 2, None).await;
    app.leg_status(leg, "CA800", "CA801", "completed", 3, Some(61)).await;
    app.leg_status(leg, "CA800", "CA801", "initiated", 0, None).await;
    // Parent callbacks: completed first, then a late ringing.
    app.call_status("CA800", "completed", 2, Some(70)).await;
    app.call_status("CA800", "ringing", 0, None).await;
    app.call_status("CA800", "completed", 2, Some(70)).await;
    let detail = app.call_by_sid("CA800").await;
    assert_eq!(detail["call"]["status"], "completed", "a late ringing never undoes completed");
    assert_eq!(detail["call"]["duration_secs"], 70);
    assert_eq!(detail["call"]["billable_secs"], 61);
    assert_eq!(detail["call"]["outcome"], "connected");
    assert_eq!(detail["legs"].as_array().map(Vec::len), Some(1));
    assert_eq!(detail["legs"][0]["status"], "completed");
    assert!(!detail["legs"][0]["ringing_at"].is_null());
    assert_eq!(events_of(&detail, "slot_released").len(), 1, "released once whatever the order");
}

/// Twilio may send a call's voice webhook again while the first is still being answered (a
/// retry after a slow answer). Every copy must get the same answer, and the call one record and
/// one buyer slot.
async fn simultaneous_voice_webhooks_of_one_call_answer_alike(app: TestApp) {
    let (_, buyers) = setup(&app, &[buyer("A", "+14155550101", json!({}))]).await;
    let copies = (0..8).map(|_| app.incoming_call("CA900", "+12015550123", NUMBER, &[]));
    let answers = futures::future::join_all(copies).await;
    let legs: Vec<Option<i64>> = answers.iter().map(callbroker_tests::twilio::Answer::leg).collect();
    assert!(answers.iter().all(|a| a.status == 200), "{answers:?}");
    assert!(legs[0].is_some() && legs.iter().all(|l| *l == legs[0]), "every copy dials the same leg: {legs:?}");
    let detail = app.call_by_sid("CA900").await;
    assert_eq!(detail["legs"].as_array().map(Vec::len), Some(1), "{detail}");
    assert_eq!(events_of(&detail, "attempt").len(), 1, "{detail}");
    let (_, calls) = app.admin("GET", &format!("/api/calls?buyer_id={}", buyers[0]), None).await;
    assert_eq!(calls["total"], 1, "{calls}");
    // The buyer (two slots) has one left: one more call gets it, the next finds none.
    assert!(app.incoming_call("CA901", "+12015550124", NUMBER, &[]).await.leg().is_some());
    assert!(app.incoming_call("CA902", "+12015550125", NUMBER, &[]).await.leg().is_none(), "only one slot went to CA900");
}

/// Twilio may deliver a call's callbacks at the same moment. Each one reads the record, folds its
/// report in and writes the result back; run concurrently they must not overwrite each other (on
/// PostgreSQL they lock what they fold). Every callback of 12 calls, duplicates included, is sent
/// at once; each record must come out as if they had arrived one by one.
async fn simultaneous_callbacks_fold_like_sequential_ones(app: TestApp) {
    const CALLS: usize = 12;
    let (_, buyers) = setup(&app, &[buyer("A", "+14155550101", json!({"max_concurrent_calls": 50}))]).await;
    let mut legs = vec![];
    for i in 0..CALLS {
        let answer = app.incoming_call(&format!("CA7{i:02}"), &format!("+1201555{i:04}"), NUMBER, &[]).await;
        legs.push(answer.leg().expect("routed"));
    }
    let mut callbacks: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = u16> + '_>>> = vec![];
    for (i, &leg) in legs.iter().enumerate() {
        let (sid, child) = (format!("CA7{i:02}"), format!("CA8{i:02}"));
        for (status, seq, duration) in [
            ("initiated", 0, None),
            ("ringing", 1, None),
            ("in-progress", 2, None),
            ("completed", 3, Some(61)),
            ("completed", 3, Some(61)),
            ("ringing", 1, None),
        ] {
            let (sid, child) = (sid.clone(), child.clone());
            let app = &app;
            callbacks.push(Box::pin(async move { app.leg_status(leg, &sid, &child, status, seq, duration).await.status }));
        }
        let (s, c) = (sid.clone(), child.clone());
        let app_ref = &app;
        callbacks.push(Box::pin(async move { app_ref.dial_result(leg, &s, &c, "completed", Some(61)).await.status }));
        for (status, seq, duration) in [("completed", 2, Some(70)), ("ringing", 0, None), ("completed", 2, Some(70))] {
            let sid = sid.clone();
            let app = &app;
            callbacks.push(Box::pin(async move { app.call_status(&sid, status, seq, duration).await.status }));
        }
    }
    let statuses = futures::future::join_all(callbacks).await;
    assert!(statuses.iter().all(|s| *s == 200 || *s == 204), "every callback accepted: {statuses:?}");
    for i in 0..CALLS {
        let detail = app.call_by_sid(&format!("CA7{i:02}")).await;
        let call = &detail["call"];
        assert_eq!(call["status"], "completed", "call {i}: {call}");
        assert_eq!(call["duration_secs"], 70, "call {i}");
        assert_eq!(call["billable_secs"], 61, "call {i}");
        assert_eq!(call["outcome"], "connected", "call {i}");
        assert!(!call["connected_at"].is_null(), "call {i}");
        assert!(!call["money"].is_null(), "call {i} settled: {call}");
        let leg = &detail["legs"][0];
        assert_eq!(leg["status"], "completed", "call {i}: {leg}");
        assert_eq!(leg["duration_secs"], 61, "call {i}");
        assert_eq!(leg["dial_call_sid"], format!("CA8{i:02}"), "call {i}");
        assert!(!leg["ringing_at"].is_null() && !leg["answered_at"].is_null() && !leg["ended_at"].is_null(), "call {i}: {leg}");
        assert_eq!(leg["released"], true, "call {i}");
        assert_eq!(events_of(&detail, "slot_released").len(), 1, "call {i}: released once");
    }
    let (_, calls) = app.admin("GET", &format!("/api/calls?buyer_id={}&per_page=100", buyers[0]), None).await;
    assert_eq!(calls["total"], CALLS);
    assert_eq!(held_slots(&app.db.url), (0, 0), "every slot given back, once");
}

/// (legs still holding a slot, calls in progress on the buyers' counters), from the database.
fn held_slots(url: &str) -> (i64, i64) {
    use callbroker::db::schema::{buyer_load, call_legs};
    use callbroker::db::{Db, PoolOptions};
    use diesel::prelude::*;
    let db = Db::connect(url, &PoolOptions { max_connections: 2, ..PoolOptions::default() }).expect("db");
    db.read_blocking(|c| {
        let legs = call_legs::table.filter(call_legs::released.eq(false)).count().get_result::<i64>(c)?;
        let in_progress: Vec<i32> = buyer_load::table.select(buyer_load::in_progress).load(c)?;
        Ok((legs, in_progress.iter().map(|&n| i64::from(n)).sum()))
    })
    .expect("count")
}

async fn calls_total(app: &TestApp) -> i64 {
    app.admin("GET", "/api/calls", None).await.1["total"].as_i64().expect("total")
}

async fn forged_signatures_write_nothing(app: TestApp) {
    setup(&app, &[buyer("A", "+14155550101", json!({}))]).await;
    let p = params(&[("CallSid", "CA900"), ("AccountSid", "AC1"), ("From", "+12015550123"), ("To", NUMBER), ("CallStatus", "ringing")]);
    let unsigned = app.twilio_raw("/api/webhooks/twilio/voice", &p, None).await;
    assert_eq!(unsigned.status, 403, "{unsigned:?}");
    let forged = app.twilio_raw("/api/webhooks/twilio/voice", &p, Some("bm90IGEgcmVhbCBzaWduYXR1cmU=")).await;
    assert_eq!(forged.status, 403);
    // Signed for other parameters, replayed with a changed one.
    let good = callbroker::twilio::signature::sign(
        callbroker_tests::TWILIO_AUTH_TOKEN,
        callbroker::twilio::signature::Algorithm::HmacSha1,
        &format!("{}/api/webhooks/twilio/voice", callbroker_tests::PUBLIC_URL),
        &p,
    );
    let mut changed = p.clone();
    changed[2].1 = "+12015550000".into();
    assert_eq!(app.twilio_raw("/api/webhooks/twilio/voice", &changed, Some(&good)).await.status, 403);
    // Signed with another account's token.
    let other = callbroker::twilio::signature::sign(
        "another-token",
        callbroker::twilio::signature::Algorithm::HmacSha1,
        &format!("{}/api/webhooks/twilio/voice", callbroker_tests::PUBLIC_URL),
        &p,
    );
    assert_eq!(app.twilio_raw("/api/webhooks/twilio/voice", &p, Some(&other)).await.status, 403);
    // Status callbacks too.
    let s = params(&[("CallSid", "CA900"), ("AccountSid", "AC1"), ("CallStatus", "completed")]);
    assert_eq!(app.twilio_raw("/api/webhooks/twilio/status", &s, None).await.status, 403);
    assert_eq!(calls_total(&app).await, 0, "nothing written");
    // The genuine request goes through.
    assert_eq!(app.twilio_raw("/api/webhooks/twilio/voice", &p, Some(&good)).await.status, 200);
    assert_eq!(calls_total(&app).await, 1);
}

async fn malformed_webhooks(app: TestApp) {
    setup(&app, &[buyer("A", "+14155550101", json!({}))]).await;
    // Signed, but without CallSid/To.
    let missing = app.twilio("/api/webhooks/twilio/voice", &params(&[("AccountSid", "AC1"), ("From", "+12015550123")])).await;
    assert_eq!(missing.status, 400, "{missing:?}");
    assert!(missing.body.contains("\"code\""), "a JSON error: {}", missing.body);
    // Unknown leg.
    let unknown = app.dial_result(999_999, "CA1", "CA2", "busy", None).await;
    assert_eq!(unknown.status, 404);
    // Status callback for a call never seen.
    assert_eq!(app.call_status("CA-never", "completed", 1, None).await.status, 404);
    assert_eq!(calls_total(&app).await, 0);
    // The server keeps serving.
    assert_eq!(app.call("GET", "/readyz", None, None).await.0, 200);
    assert!(app.incoming_call("CA950", "+12015550123", NUMBER, &[]).await.leg().is_some());
}

both_backends!(reaper_frees_slots_whose_callbacks_never_come);

async fn reaper_frees_slots_whose_callbacks_never_come(app: TestApp) {
    // This server reaps a leg 2 s after it was claimed (1 s ring + 1 s limit, no margin).
    let db = callbroker_tests::TestDb::create(app.backend);
    let app = TestApp::start(db, |c| {
        c.routing.dial_timeout_secs = 1;
        c.routing.time_limit_secs = 1;
        c.routing.reaper_margin_secs = 0;
        c.routing.reaper_interval_secs = 1;
    })
    .await;
    setup(&app, &[buyer("Solo", "+14155550101", json!({"max_concurrent_calls": 1}))]).await;
    assert!(app.incoming_call("CAR1", "+12015550123", NUMBER, &[]).await.leg().is_some());
    assert!(app.incoming_call("CAR2", "+12015550124", NUMBER, &[]).await.leg().is_none(), "full while the first holds the slot");
    // No callback ever comes for CAR1.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let detail = app.call_by_sid("CAR1").await;
        if !events_of(&detail, "slot_reaped").is_empty() {
            assert_eq!(detail["legs"][0]["released"], true);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the reaper never released the slot");
    }
    assert!(app.incoming_call("CAR3", "+12015550125", NUMBER, &[]).await.leg().is_some(), "capacity came back");
    // A late callback for the reaped leg does not release it twice.
    let leg = app.call_by_sid("CAR1").await["legs"][0]["id"].as_i64().expect("leg");
    app.leg_status(leg, "CAR1", "CAR1C", "completed", 3, Some(10)).await;
    let held = app.call_by_sid("CAR3").await["legs"][0]["released"].clone();
    assert_eq!(held, false, "the new call's slot is still held");
    assert!(app.incoming_call("CAR4", "+12015550126", NUMBER, &[]).await.leg().is_none(), "still exactly one slot");
}

both_backends!(simulator_explains_without_side_effects, calls_api_filters_and_scopes, sha256_signature_scheme);

async fn simulator_explains_without_side_effects(app: TestApp) {
    let (_, buyers) = setup(
        &app,
        &[buyer("West", "+14155550101", json!({"allowed_states": ["CA"], "priority": 5})), buyer("Any", "+14155550102", json!({}))],
    )
    .await;
    let (status, sim) =
        app.admin("POST", "/api/routing/simulate", Some(json!({"number": NUMBER, "caller": "+12015550123", "state": "nj"}))).await;
    assert_eq!(status, 200, "{sim}");
    assert_eq!(sim["outcome"], "routed");
    assert_eq!(sim["buyer_id"], buyers[1]);
    let verdicts = sim["decision"]["verdicts"].as_array().expect("verdicts");
    assert_eq!(verdicts.len(), 2);
    assert!(verdicts.iter().any(|v| v["buyer_id"] == buyers[0] && v["reason"]["code"] == "state_not_allowed"));
    // From California at a given time, the priority-5 buyer wins.
    let (_, sim) = app
        .admin("POST", "/api/routing/simulate", Some(json!({"number": NUMBER, "caller": "+12135550123", "at": "2026-06-01T15:00:00Z"})))
        .await;
    assert_eq!(sim["buyer_id"], buyers[0], "{sim}");
    assert_eq!(sim["decision"]["caller_state"]["source"], "area_code");
    // Nothing was written and no slot taken.
    assert_eq!(calls_total(&app).await, 0);
    let (status, err) =
        app.admin("POST", "/api/routing/simulate", Some(json!({"number": "x", "caller": "+12015550123", "state": "ZZ"}))).await;
    assert_eq!(status, 422, "{err}");
    assert!(err["details"]["fields"]["number"].is_string() && err["details"]["fields"]["state"].is_string());
    let (_, sim) = app.admin("POST", "/api/routing/simulate", Some(json!({"number": "+19995550000", "caller": "+12015550123"}))).await;
    assert_eq!(sim["outcome"], "unknown_number");
}

async fn calls_api_filters_and_scopes(app: TestApp) {
    let (campaign, _) = setup(&app, &[buyer("A", "+14155550101", json!({}))]).await;
    let other_pub = app.create("/api/publishers", json!({"name": "Other"})).await;
    app.create("/api/numbers", json!({"number": "+17175550199", "campaign_id": campaign, "publisher_id": other_pub["id"]})).await;
    app.incoming_call("CAF1", "+12015550001", NUMBER, &[]).await;
    app.incoming_call("CAF2", "+12015550002", "+17175550199", &[]).await;
    app.incoming_call("CAF3", "+12015550003", "+19995550000", &[]).await;

    let (_, page) = app.admin("GET", "/api/calls?outcome=unknown_number", None).await;
    assert_eq!(page["total"], 1);
    let (_, page) = app.admin("GET", &format!("/api/calls?publisher_id={}", other_pub["id"]), None).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["call_sid"], "CAF2");
    let (_, page) = app.admin("GET", "/api/calls?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z", None).await;
    assert_eq!(page["total"], 0);

    // A publisher sees its own calls only, without buyer identities or routing logs.
    let (_, pubs) = app.admin("GET", "/api/publishers?q=pub", None).await;
    let own = pubs["items"][0]["id"].clone();
    app.create("/api/users", json!({"email": "p@pub.example", "password": "publisher-pass", "role": "publisher", "publisher_id": own}))
        .await;
    let token = app.login("p@pub.example", "publisher-pass").await;
    let (status, page) = app.call("GET", "/api/calls", Some(&token), None).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["call_sid"], "CAF1");
    assert_absent(&page["items"][0], &["buyer_id", "cost_micros", "cost_currency", "cost_status"]);
    let id = page["items"][0]["id"].clone();
    let (_, detail) = app.call("GET", &format!("/api/calls/{id}"), Some(&token), None).await;
    assert_absent(&detail["call"], &["buyer_id", "cost_micros", "cost_currency", "cost_status"]);
    assert_eq!(detail["events"], json!([]));
    assert_eq!(detail["legs"], json!([]));
    let (_, all) = app.admin("GET", "/api/calls?outcome=routed", None).await;
    let staff_view = all["items"].as_array().expect("items").iter().find(|c| c["call_sid"] == "CAF1").expect("CAF1");
    assert!(staff_view["buyer_id"].is_i64(), "staff see the buyer: {staff_view}");
    let foreign = all["items"].as_array().expect("items").iter().find(|c| c["call_sid"] == "CAF2").map(|c| c["id"].clone()).expect("CAF2");
    assert_eq!(app.call("GET", &format!("/api/calls/{foreign}"), Some(&token), None).await.0, 404);
    assert_eq!(
        app.call("POST", "/api/routing/simulate", Some(&token), Some(json!({"number": NUMBER, "caller": "+12015550123"}))).await.0,
        403
    );
}

async fn sha256_signature_scheme(app: TestApp) {
    use callbroker::twilio::signature::{settings_header_value, sign, Algorithm, SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER};
    // A server that also holds a shared key for Twilio's HMAC-SHA256 scheme.
    let db = callbroker_tests::TestDb::create(app.backend);
    let app = TestApp::start(db, |c| c.twilio.webhook_shared_key = Some(callbroker::config::Secret::new("shared-key-0123456789"))).await;
    setup(&app, &[buyer("A", "+14155550101", json!({}))]).await;
    let p = params(&[("CallSid", "CASHA"), ("AccountSid", "AC1"), ("From", "+12015550123"), ("To", NUMBER), ("CallStatus", "ringing")]);
    let url = format!("{}/api/webhooks/twilio/voice", callbroker_tests::PUBLIC_URL);
    let post = |sig: String| {
        app.client
            .post(app.url("/api/webhooks/twilio/voice"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(SIGNATURE_HEADER, sig)
            .header(SIGNATURE_SETTINGS_HEADER, settings_header_value("KS1", Algorithm::HmacSha256))
            .body(serde_urlencoded::to_string(&p).expect("form"))
            .send()
    };
    let wrong = post(sign(callbroker_tests::TWILIO_AUTH_TOKEN, Algorithm::HmacSha256, &url, &p)).await.expect("send");
    assert_eq!(wrong.status(), 403, "the auth token does not sign SHA-256 requests");
    let good = post(sign("shared-key-0123456789", Algorithm::HmacSha256, &url, &p)).await.expect("send");
    assert_eq!(good.status(), 200);
    assert!(good.text().await.unwrap_or_default().contains("<Dial"));
}

/// A change is written whole only if the call is still as it was read: computed from a version
/// the call has moved past, or claiming a slot that is no longer free, it writes nothing at all
/// (neither the call, nor its log, nor a live event, nor the slot).
async fn commits_are_all_or_nothing(app: TestApp) {
    use callbroker::db::schema::{buyer_load, call_events, calls, live_events};
    use callbroker::db::{Db, PoolOptions};
    use callbroker::routing::PeriodKeys;
    use callbroker::store::calls::flow::{self, Claim, Commit, Effects, Find};
    use callbroker_wire::LiveEventKind;
    use diesel::prelude::*;
    let (_, buyers) = setup(&app, &[buyer("Only", "+14155550101", json!({"max_concurrent_calls": 1}))]).await;
    app.incoming_call("CA950", "+12015550123", NUMBER, &[]).await.leg().expect("dialled");
    let db = Db::connect(&app.db.url, &PoolOptions { max_connections: 2, ..PoolOptions::default() }).expect("db");
    let counts = |db: &Db| {
        db.read_blocking(|c| {
            let events = call_events::table.count().get_result::<i64>(c)?;
            let live = live_events::table.count().get_result::<i64>(c)?;
            let load = buyer_load::table.select(buyer_load::in_progress).first::<i32>(c)?;
            let outcome = calls::table.filter(calls::call_sid.eq("CA950")).select(calls::outcome).first::<String>(c)?;
            Ok((events, live, load, outcome))
        })
        .expect("counts")
    };
    let (state, _) = db.read_blocking(|c| flow::read(c, Find::Sid("CA950"))).expect("read").expect("the call");
    let change = |state: &flow::CallState| {
        let mut e = Effects::new(state, callbroker::db::now());
        e.call.outcome = callbroker::domain::states::Outcome::Failed;
        e.log("test", json!({"n": 1}));
        e.announce(LiveEventKind::CallCompleted, None);
        e
    };
    let before = counts(&db);
    // A claim on the buyer, whose one slot the call holds: nothing at all is written.
    let mut claiming = change(&state);
    claiming.claim = Some(Claim {
        buyer_id: buyers[0],
        buyer_name: "Only".into(),
        max_concurrent: 1,
        caps: [None, None, None],
        keys: PeriodKeys { hour: 0, day: 0, month: 0 },
        attempt: 2,
        expires_at: callbroker::db::now(),
        accept_required: false,
        bid: None,
    });
    let e = claiming.clone();
    assert_eq!(db.write_atomic_blocking(move |c, b| flow::commit(c, b, &e)).expect("commit"), Commit::SlotTaken);
    assert_eq!(counts(&db), before, "a claim that lost writes nothing");
    // The change as read: written whole.
    let e = change(&state);
    assert_eq!(db.write_atomic_blocking(move |c, b| flow::commit(c, b, &e)).expect("commit"), Commit::Done { leg_id: None });
    let after = counts(&db);
    assert_eq!((after.0, after.1, after.3.as_str()), (before.0 + 1, before.1 + 1, "failed"), "the log entry, the event, the call");
    // The same change again, computed from the version the call has moved past: nothing written.
    let e = change(&state);
    assert_eq!(db.write_atomic_blocking(move |c, b| flow::commit(c, b, &e)).expect("commit"), Commit::Stale);
    assert_eq!(counts(&db), after, "a stale change writes nothing");
    let (now, _) = db.read_blocking(|c| flow::read(c, Find::Sid("CA950"))).expect("read").expect("the call");
    assert_eq!(now.call.version, state.call.version + 1, "one change, one version");
}

/// A `RecordingSid` goes into Twilio REST paths (download, transcript): anything but `RE` and 32
/// hex digits is refused on arrival and nothing is written. The recording's Twilio URL names the
/// Twilio account: staff see it, a publisher sees the recording without it.
async fn recording_sids_checked_and_urls_kept_from_publishers(app: TestApp) {
    let b = app.create("/api/buyers", json!({"name": "R", "phone_number": "+14155550101"})).await;
    let c = app.create("/api/campaigns", json!({"name": "R", "buyers": [{"buyer_id": b["id"]}]})).await;
    let p = app.create("/api/publishers", json!({"name": "R pub"})).await;
    app.create("/api/numbers", json!({"number": NUMBER, "campaign_id": c["id"], "publisher_id": p["id"]})).await;
    let answer = app.incoming_call("CA100", "+12015550123", NUMBER, &[]).await;
    let leg = answer.leg().expect("dialled");
    assert_eq!(app.leg_status(leg, "CA100", "CA101", "completed", 3, Some(95)).await.status, 204);
    assert!(app.dial_result(leg, "CA100", "CA101", "completed", Some(95)).await.hangs_up());
    assert_eq!(app.call_status("CA100", "completed", 1, Some(110)).await.status, 204);
    let bad = [
        "RE100",
        "RE0123456789abcdef0123456789abcde",
        "RE0123456789abcdef0123456789abcdef0",
        "CA0123456789abcdef0123456789abcdef",
        "RE0123456789abcdef0123456789abcdeg",
        "RE/../../Calls/CA0123456789abcdef012345",
        "",
    ];
    for sid in bad {
        let rec = app.recording_completed("CA100", sid, &recording_url(sid), 94, 1).await;
        assert_eq!(rec.status, 422, "{sid:?}: {rec:?}");
        let err: Value = serde_json::from_str(&rec.body).unwrap_or_else(|e| panic!("{sid:?}: a JSON error ({e}): {rec:?}"));
        assert!(err["details"]["fields"]["RecordingSid"].is_string(), "{sid:?}: RecordingSid named in {err}");
        assert!(app.call_by_sid("CA100").await["call"]["recording"].is_null(), "{sid:?}: nothing written");
    }
    assert_eq!(app.recording_completed("CA100", RECORDING, &recording_url(RECORDING), 94, 1).await.status, 204);
    let staff = app.call_by_sid("CA100").await;
    assert_eq!(staff["call"]["recording"]["url"], recording_url(RECORDING), "staff see the URL: {staff}");
    let id = staff["call"]["id"].as_i64().expect("id");

    app.create("/api/users", json!({"email": "r@pub.example", "password": "publisher-r-pw", "role": "publisher", "publisher_id": p["id"]}))
        .await;
    let user = app.login("r@pub.example", "publisher-r-pw").await;
    let key = app.create("/api/api-keys", json!({"name": "r feed", "role": "publisher", "publisher_id": p["id"]})).await;
    let key = key["secret"].as_str().expect("the key").to_string();
    for token in [&user, &key] {
        let (status, one) = app.call("GET", &format!("/api/calls/{id}"), Some(token), None).await;
        assert_eq!(status, 200, "{one}");
        assert_eq!(one["call"]["recording"]["sid"], RECORDING, "{one}");
        assert_eq!(one["call"]["recording"]["duration_secs"], 94, "{one}");
        assert_absent(&one["call"]["recording"], &["url"]);
        let (_, list) = app.call("GET", "/api/calls", Some(token), None).await;
        assert_eq!(list["items"][0]["recording"]["sid"], RECORDING, "{list}");
        assert_absent(&list["items"][0]["recording"], &["url"]);
        assert!(!one.to_string().contains("api.twilio.com") && !list.to_string().contains("api.twilio.com"), "{one} {list}");
    }
}
