//! A campaign's IVR: questions before routing, as signed Twilio conversations against the real
//! server, on both backends. Answered, silent, invalid until it fails, ended by an answer, hung
//! up in, spoken answers, a label keeping the call to some buyers, the funnel counted from the
//! calls, the simulator and the settings' checks.
use callbroker_tests::twilio::{params, Answer, ACCOUNT_SID};
use callbroker_tests::{both_backends, TestApp, PUBLIC_URL};
use serde_json::{json, Value};

both_backends!(
    answered_then_routed_to_the_label,
    silence_and_invalid_answers_fail,
    failure_may_continue_untagged,
    an_answer_ends_the_call,
    hanging_up_in_the_ivr,
    spoken_answers,
    callbacks_are_signed_and_checked,
    the_funnel_counts_calls,
    the_simulator_walks_the_ivr,
    settings_are_checked,
);

const NUMBER: &str = "+17175550100";
const CALLER: &str = "+12015550123";
const BUYER_A: &str = "+14155550101";
const BUYER_B: &str = "+14155550102";

/// Q0: "65 or older?" (1 yes, 2 ends the call); Q1: language (1 English, 2 Spanish buyers only).
fn ivr() -> Value {
    json!({
        "questions": [
            {"say": "Press 1 if you are 65 or older, 2 otherwise.", "num_digits": 1, "timeout_secs": 6, "tag": "Senior",
             "input": "dtmf_speech", "min_confidence": 0.5,
             "answers": [
                {"digits": "1", "speech": ["yes", "i am"], "value": "yes"},
                {"digits": "2", "speech": ["no"], "value": "no", "action": "end", "message": "This line is for seniors. Goodbye."}
             ]},
            {"say": "For English press 1. Para español oprima 2.", "num_digits": 1, "tag": "Language",
             "answers": [
                {"digits": "1", "value": "en"},
                {"digits": "2", "value": "es", "action": "route", "label": "spanish", "set_tags": {"Lang2": "es"}}
             ]}
        ],
        "retry_message": "Sorry, once more."
    })
}

/// A campaign on `NUMBER` with `ivr`: buyer A (priority 10, no label) and buyer B (labelled
/// `Spanish`); returns (campaign id, [A, B]).
async fn setup(app: &TestApp, ivr: Value) -> (i64, Vec<i64>) {
    let a = app.create("/api/buyers", json!({"name": "A", "phone_number": BUYER_A, "max_concurrent_calls": 5, "priority": 10})).await;
    let b =
        app.create("/api/buyers", json!({"name": "B", "phone_number": BUYER_B, "max_concurrent_calls": 5, "labels": ["Spanish"]})).await;
    assert_eq!(b["labels"], json!(["Spanish"]), "{b}");
    let c = app
        .create(
            "/api/campaigns",
            json!({"name": "Medicare", "greeting": "Welcome to Medicare help.", "buyers": [{"buyer_id": a["id"]}, {"buyer_id": b["id"]}],
                   "revenue_micros": 30_000_000, "buffer_secs": 60, "ivr": ivr}),
        )
        .await;
    let p = app.create("/api/publishers", json!({"name": "Pub"})).await;
    app.create("/api/numbers", json!({"number": NUMBER, "campaign_id": c["id"], "publisher_id": p["id"]})).await;
    (c["id"].as_i64().expect("campaign id"), vec![a["id"].as_i64().expect("id"), b["id"].as_i64().expect("id")])
}

fn gather_url(call: i64, q: u32, attempt: u32) -> String {
    format!("{PUBLIC_URL}/api/webhooks/twilio/calls/{call}/ivr/{q}/{attempt}")
}

/// Asserts `a` asks question `q` (try `attempt`) of `call` and returns nothing else.
fn asks(a: &Answer, call: i64, q: u32, attempt: u32) {
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.is_twiml(), "{a:?}");
    assert_eq!(a.ivr_question(), Some((call, q, attempt)), "{}", a.body);
    assert!(a.body.contains(&format!(r#"action="{}" method="POST""#, gather_url(call, q, attempt))), "{}", a.body);
    assert!(a.body.contains(r#"actionOnEmptyResult="true""#), "{}", a.body);
    assert!(!a.body.contains("<Dial"), "{}", a.body);
}

fn events_of<'a>(detail: &'a Value, kind: &str) -> Vec<&'a Value> {
    detail["events"].as_array().unwrap_or_else(|| panic!("no events in {detail}")).iter().filter(|e| e["kind"] == kind).collect()
}

/// A new call from `caller` asked the first question; returns the call's id.
async fn arrive(app: &TestApp, sid: &str, caller: &str) -> i64 {
    let first = app.incoming_call(sid, caller, NUMBER, &[("FromState", "PA")]).await;
    let (call, q, attempt) = first.ivr_question().unwrap_or_else(|| panic!("a question: {first:?}"));
    asks(&first, call, q, attempt);
    assert_eq!((q, attempt), (0, 1));
    call
}

/// Answers 1 then 2: tagged, kept to buyer B by the label, dialled with no greeting; a retried
/// callback is answered alike and changes nothing; the talk time is the leg's, not the IVR's.
async fn answered_then_routed_to_the_label(app: TestApp) {
    let (_, buyers) = setup(&app, ivr()).await;
    let first = app.incoming_call("CA1", CALLER, NUMBER, &[("FromState", "PA")]).await;
    let (call, _, _) = first.ivr_question().expect("a question");
    asks(&first, call, 0, 1);
    for part in [
        "<Say>Welcome to Medicare help.</Say>",
        r#"<Gather input="dtmf speech""#,
        r#"timeout="6""#,
        r#"numDigits="1""#,
        r#"speechTimeout="auto""#,
        "<Say>Press 1 if you are 65 or older, 2 otherwise.</Say></Gather>",
    ] {
        assert!(first.body.contains(part), "{part} in {}", first.body);
    }
    let in_ivr = app.call_by_sid("CA1").await;
    assert_eq!(in_ivr["call"]["outcome"], "in_ivr", "{in_ivr}");
    assert_eq!(in_ivr["call"]["ivr_outcome"], "in_progress");
    assert_eq!(in_ivr["call"]["ivr_question"], 0);
    assert!(in_ivr["legs"].as_array().is_some_and(Vec::is_empty), "no buyer is rung during the IVR: {in_ivr}");
    // The voice webhook again (Twilio retries): the same question, nothing new.
    let again = app.incoming_call("CA1", CALLER, NUMBER, &[("FromState", "PA")]).await;
    assert_eq!(again.body, first.body);

    let second = app.ivr_answer(call, 0, 1, "CA1", Some("1"), None).await;
    asks(&second, call, 1, 1);
    assert!(second.says("For English press 1.") && !second.says("Welcome"), "{}", second.body);
    let routed = app.ivr_answer(call, 1, 1, "CA1", Some("2"), None).await;
    assert_eq!(routed.status, 200, "{routed:?}");
    assert_eq!(routed.dialled_number().as_deref(), Some(BUYER_B), "{}", routed.body);
    assert!(!routed.says("Welcome"), "the greeting was said before the IVR: {}", routed.body);
    let leg = routed.leg().expect("a leg");

    let detail = app.call_by_sid("CA1").await;
    let c = &detail["call"];
    assert_eq!(c["outcome"], "routed", "{detail}");
    assert_eq!(c["ivr_outcome"], "completed");
    assert_eq!(c["ivr_question"], 1);
    assert_eq!(c["route_label"], "spanish");
    assert!(c["ivr_secs"].as_i64().is_some_and(|s| s >= 0), "{c}");
    assert_eq!(c["buyer_id"], buyers[1]);
    assert_eq!(c["tags"]["Senior"], "yes");
    assert_eq!(c["tags"]["Language"], "es");
    assert_eq!(c["tags"]["Lang2"], "es");
    assert_eq!(c["tags"]["FromState"], "PA", "the arrival tags stay");
    let answers = events_of(&detail, "ivr_answer");
    assert_eq!(answers.len(), 2, "{detail}");
    assert_eq!(answers[1]["data"]["result"], "taken");
    let routing = events_of(&detail, "routing");
    let verdicts = routing[0]["data"]["decision"]["verdicts"].as_array().expect("verdicts");
    let a = verdicts.iter().find(|v| v["buyer_id"] == buyers[0]).expect("A judged");
    assert_eq!(a["reason"]["code"], "not_labelled", "{a}");
    assert_eq!(a["reason"]["label"], "spanish");

    // Twilio retries the last answer: the same dial, nothing written.
    let retried = app.ivr_answer(call, 1, 1, "CA1", Some("2"), None).await;
    assert_eq!((retried.status, retried.leg()), (200, Some(leg)), "{retried:?}");
    let after = app.call_by_sid("CA1").await;
    assert_eq!(after["call"], detail["call"]);
    assert_eq!(after["events"].as_array().map(Vec::len), detail["events"].as_array().map(Vec::len));
    // An earlier question's callback, late: answered with the dial too.
    let stale = app.ivr_answer(call, 0, 1, "CA1", Some("1"), None).await;
    assert_eq!(stale.leg(), Some(leg), "{stale:?}");

    // The buyer talks 75 s: the talk time and the money are the leg's alone.
    assert_eq!(app.leg_status(leg, "CA1", "CA2", "in-progress", 1, None).await.status, 204);
    assert_eq!(app.leg_status(leg, "CA1", "CA2", "completed", 2, Some(75)).await.status, 204);
    assert_eq!(app.call_status("CA1", "completed", 3, Some(140)).await.status, 204);
    let done = app.call_by_sid("CA1").await;
    let money = &done["call"]["money"];
    assert_eq!(money["talk_secs"], 75, "{done}");
    assert_eq!(money["qualified"], true);
    assert_eq!(money["revenue_micros"], 30_000_000);
    assert_eq!(done["call"]["ivr_outcome"], "completed", "a completed IVR is not abandoned by the hang-up");
}

/// Silence, then a key no answer has, twice: asked again with the retry message (default 2
/// retries), then the failure message and a hang-up; no buyer is rung, nothing is billed.
async fn silence_and_invalid_answers_fail(app: TestApp) {
    setup(&app, ivr()).await;
    let call = arrive(&app, "CA10", CALLER).await;
    let retry = app.ivr_answer(call, 0, 1, "CA10", None, None).await;
    asks(&retry, call, 0, 2);
    assert!(retry.says("Sorry, once more.") && retry.says("Press 1 if you are 65"), "{}", retry.body);
    let invalid = app.ivr_answer(call, 0, 2, "CA10", Some("9"), None).await;
    asks(&invalid, call, 0, 3);
    let failed = app.ivr_answer(call, 0, 3, "CA10", Some("7"), None).await;
    assert_eq!(failed.status, 200);
    assert!(failed.says("We could not process your answer. Goodbye.") && failed.hangs_up(), "{}", failed.body);
    assert!(failed.ivr_question().is_none() && !failed.body.contains("<Dial"));
    let detail = app.call_by_sid("CA10").await;
    let c = &detail["call"];
    assert_eq!((&c["outcome"], &c["ivr_outcome"], &c["ivr_question"]), (&json!("ivr_ended"), &json!("failed"), &json!(0)), "{detail}");
    assert!(c["tags"].get("Senior").is_none(), "{c}");
    let results: Vec<&Value> = events_of(&detail, "ivr_answer").iter().map(|e| &e["data"]["result"]).collect();
    assert_eq!(results, [&json!("no_input"), &json!("invalid"), &json!("invalid")]);
    assert!(detail["legs"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(app.call_status("CA10", "completed", 1, Some(25)).await.status, 204);
    let settled = app.call_by_sid("CA10").await;
    assert_eq!(settled["call"]["outcome"], "ivr_ended", "the hang-up after the goodbye is not an abandonment");
    assert_eq!(settled["call"]["money"]["qualified"], false, "{settled}");
    assert_eq!(settled["call"]["money"]["revenue_micros"], 0);
}

/// With `on_failure: continue` and no retries, silence passes the question over untagged.
async fn failure_may_continue_untagged(app: TestApp) {
    let mut settings = ivr();
    settings["retries"] = json!(0);
    settings["on_failure"] = json!("continue");
    let (_, buyers) = setup(&app, settings).await;
    let call = arrive(&app, "CA20", CALLER).await;
    asks(&app.ivr_answer(call, 0, 1, "CA20", None, None).await, call, 1, 1);
    let routed = app.ivr_answer(call, 1, 1, "CA20", Some("1"), None).await;
    assert_eq!(routed.dialled_number().as_deref(), Some(BUYER_A), "no label: priority decides: {}", routed.body);
    let c = app.call_by_sid("CA20").await["call"].clone();
    assert!(c["tags"].get("Senior").is_none(), "{c}");
    assert_eq!(c["tags"]["Language"], "en");
    assert_eq!(c["ivr_outcome"], "completed");
    assert_eq!(c["buyer_id"], buyers[0]);
}

/// Pressing 2 on the first question ends the call with the answer's message; the answer is kept.
async fn an_answer_ends_the_call(app: TestApp) {
    setup(&app, ivr()).await;
    let call = arrive(&app, "CA30", CALLER).await;
    let ended = app.ivr_answer(call, 0, 1, "CA30", Some("2"), None).await;
    assert!(ended.says("This line is for seniors. Goodbye.") && ended.hangs_up(), "{}", ended.body);
    let c = app.call_by_sid("CA30").await["call"].clone();
    assert_eq!((&c["outcome"], &c["ivr_outcome"]), (&json!("ivr_ended"), &json!("ended")), "{c}");
    assert_eq!(c["tags"]["Senior"], "no");
    // A callback after the end (a retry) is answered with a hang-up and changes nothing.
    let late = app.ivr_answer(call, 0, 1, "CA30", Some("1"), None).await;
    assert!(late.hangs_up() && late.ivr_question().is_none(), "{}", late.body);
    assert_eq!(app.call_by_sid("CA30").await["call"], c);
}

/// The caller hangs up on the second question: recorded as such, with the question and the
/// seconds spent; a late answer changes nothing.
async fn hanging_up_in_the_ivr(app: TestApp) {
    setup(&app, ivr()).await;
    let call = arrive(&app, "CA40", CALLER).await;
    asks(&app.ivr_answer(call, 0, 1, "CA40", Some("1"), None).await, call, 1, 1);
    let ended_at = (chrono::Utc::now() + chrono::Duration::seconds(12)).to_rfc2822();
    let p = params(&[
        ("CallSid", "CA40"),
        ("AccountSid", ACCOUNT_SID),
        ("CallStatus", "completed"),
        ("SequenceNumber", "2"),
        ("CallDuration", "12"),
        ("Timestamp", &ended_at),
    ]);
    assert_eq!(app.twilio("/api/webhooks/twilio/status", &p).await.status, 204);
    let detail = app.call_by_sid("CA40").await;
    let c = &detail["call"];
    assert_eq!((&c["outcome"], &c["ivr_outcome"], &c["ivr_question"]), (&json!("ivr_abandoned"), &json!("abandoned"), &json!(1)), "{c}");
    assert!(c["ivr_secs"].as_i64().is_some_and(|s| (11..=13).contains(&s)), "the IVR's seconds up to the hang-up: {c}");
    assert_eq!(events_of(&detail, "ivr_abandoned").len(), 1);
    let late = app.ivr_answer(call, 1, 1, "CA40", Some("1"), None).await;
    assert!(late.hangs_up() && !late.body.contains("<Dial"), "{}", late.body);
    assert_eq!(app.call_by_sid("CA40").await["call"], detail["call"]);
    let (status, page) = app.admin("GET", "/api/calls?ivr_outcome=abandoned", None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
    let (_, none) = app.admin("GET", "/api/calls?ivr_outcome=completed", None).await;
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0), "{none}");
    let (bad, body) = app.admin("GET", "/api/calls?ivr_outcome=gone", None).await;
    assert_eq!(bad, 400, "{body}");
}

/// Spoken answers: whole words, with enough confidence.
async fn spoken_answers(app: TestApp) {
    setup(&app, ivr()).await;
    let call = arrive(&app, "CA50", CALLER).await;
    let unsure = app.ivr_answer(call, 0, 1, "CA50", None, Some(("yes", "0.2"))).await;
    asks(&unsure, call, 0, 2);
    let sure = app.ivr_answer(call, 0, 2, "CA50", None, Some(("Yes, I am.", "0.91"))).await;
    asks(&sure, call, 1, 1);
    let detail = app.call_by_sid("CA50").await;
    assert_eq!(detail["call"]["tags"]["Senior"], "yes", "{detail}");
    let answers = events_of(&detail, "ivr_answer");
    assert_eq!(answers[0]["data"]["result"], "low_confidence");
    assert_eq!(answers[1]["data"]["speech"], "Yes, I am.");
}

/// The Gather callbacks are checked like every webhook: a forged signature, another call's
/// `CallSid`, an unknown call and a path that is not numbers are refused and change nothing.
async fn callbacks_are_signed_and_checked(app: TestApp) {
    setup(&app, ivr()).await;
    let call = arrive(&app, "CA60", CALLER).await;
    let before = app.call_by_sid("CA60").await;
    let p = params(&[("CallSid", "CA60"), ("AccountSid", ACCOUNT_SID), ("Digits", "1")]);
    let path = format!("/api/webhooks/twilio/calls/{call}/ivr/0/1");
    assert_eq!(app.twilio_raw(&path, &p, Some("forged")).await.status, 403);
    assert_eq!(app.twilio_raw(&path, &p, None).await.status, 403);
    // Signed for another question's URL.
    let other = callbroker::twilio::signature::sign(
        callbroker_tests::TWILIO_AUTH_TOKEN,
        callbroker::twilio::signature::Algorithm::HmacSha1,
        &format!("{PUBLIC_URL}/api/webhooks/twilio/calls/{call}/ivr/1/1"),
        &p,
    );
    assert_eq!(app.twilio_raw(&path, &p, Some(&other)).await.status, 403);
    assert_eq!(app.ivr_answer(call, 0, 1, "CA99", Some("1"), None).await.status, 400);
    assert_eq!(app.ivr_answer(call + 1000, 0, 1, "CA60", Some("1"), None).await.status, 404);
    let not_numbers = app.twilio("/api/webhooks/twilio/calls/x/ivr/0/1", &p).await;
    assert_eq!(not_numbers.status, 422, "{not_numbers:?}");
    assert_eq!(app.call_by_sid("CA60").await, before, "nothing written");
}

/// Four calls: completed, ended on Q0, failed on Q0, abandoned on Q1, and one still on Q0. The
/// funnel counts them per question.
async fn the_funnel_counts_calls(app: TestApp) {
    let (campaign, _) = setup(&app, ivr()).await;
    let completed = arrive(&app, "CA70", "+12015550170").await;
    app.ivr_answer(completed, 0, 1, "CA70", Some("1"), None).await;
    app.ivr_answer(completed, 1, 1, "CA70", Some("1"), None).await;
    let ended = arrive(&app, "CA71", "+12015550171").await;
    app.ivr_answer(ended, 0, 1, "CA71", Some("2"), None).await;
    let failed = arrive(&app, "CA72", "+12015550172").await;
    for attempt in 1..=3 {
        app.ivr_answer(failed, 0, attempt, "CA72", None, None).await;
    }
    let abandoned = arrive(&app, "CA73", "+12015550173").await;
    app.ivr_answer(abandoned, 0, 1, "CA73", Some("1"), None).await;
    assert_eq!(app.call_status("CA73", "completed", 1, Some(9)).await.status, 204);
    arrive(&app, "CA74", "+12015550174").await;

    let (status, f) = app.admin("GET", &format!("/api/analytics/ivr?campaign_id={campaign}"), None).await;
    assert_eq!(status, 200, "{f}");
    let totals: Vec<&Value> = ["entered", "completed", "ended", "failed", "abandoned", "in_progress"].iter().map(|k| &f[k]).collect();
    assert_eq!(totals, [&json!(5), &json!(1), &json!(1), &json!(1), &json!(1), &json!(1)], "{f}");
    assert_eq!(
        f["steps"],
        json!([
            {"question": 0, "reached": 5, "abandoned": 0, "ended": 1, "failed": 1, "in_progress": 1},
            {"question": 1, "reached": 2, "abandoned": 1, "ended": 0, "failed": 0, "in_progress": 0}
        ]),
        "{f}"
    );
    assert!(f["mean_ivr_secs"].is_number(), "{f}");
    let (other, empty) = app.admin("GET", &format!("/api/analytics/ivr?campaign_id={}", campaign + 1), None).await;
    assert_eq!((other, &empty["entered"]), (200, &json!(0)), "{empty}");
    let (bad, body) = app.admin("GET", "/api/analytics/ivr?campaign_id=0", None).await;
    assert_eq!(bad, 422, "{body}");
}

/// The simulator walks the IVR with the given answers and routes (or ends) as a call would.
async fn the_simulator_walks_the_ivr(app: TestApp) {
    let (_, buyers) = setup(&app, ivr()).await;
    let (status, sim) =
        app.admin("POST", "/api/routing/simulate", Some(json!({"number": NUMBER, "caller": CALLER, "ivr_answers": ["", "1", "2"]}))).await;
    assert_eq!(status, 200, "{sim}");
    assert_eq!(sim["outcome"], "routed", "{sim}");
    assert_eq!(sim["buyer_id"], buyers[1]);
    assert_eq!(sim["ivr"]["outcome"], "completed");
    assert_eq!(sim["ivr"]["route_label"], "spanish");
    let steps: Vec<(i64, i64, String)> = sim["ivr"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| (s["question"].as_i64().unwrap_or(-1), s["attempt"].as_i64().unwrap_or(-1), s["result"].as_str().unwrap_or("").into()))
        .collect();
    assert_eq!(steps, [(0, 1, "no_input".to_string()), (0, 2, "taken".into()), (1, 1, "taken".into())]);
    assert_eq!(sim["tags"]["Language"], "es");
    let skipped = sim["decision"]["verdicts"].as_array().and_then(|v| v.iter().find(|v| v["buyer_id"] == buyers[0]).cloned());
    assert_eq!(skipped.map(|v| v["reason"]["code"].clone()), Some(json!("not_labelled")));
    let (_, ended) =
        app.admin("POST", "/api/routing/simulate", Some(json!({"number": NUMBER, "caller": CALLER, "ivr_answers": ["2"]}))).await;
    assert_eq!(ended["outcome"], "ivr_ended", "{ended}");
    assert_eq!(ended["ivr"]["message"], "This line is for seniors. Goodbye.");
    assert!(ended["buyer_id"].is_null());
    let (bad, body) =
        app.admin("POST", "/api/routing/simulate", Some(json!({"number": NUMBER, "caller": CALLER, "ivr_answers": ["a\u{7}b"]}))).await;
    assert_eq!(bad, 422, "{body}");
}

/// Bad IVR settings and labels are refused with every field named and nothing written; the
/// preview renders unsaved settings.
async fn settings_are_checked(app: TestApp) {
    let (campaign, buyers) = setup(&app, ivr()).await;
    let mut bad = ivr();
    bad["retries"] = json!(7);
    bad["questions"][0]["play"] = json!("ftp://example.com/q.mp3");
    bad["questions"][1]["answers"][1]["label"] = Value::Null;
    bad["questions"][1]["timeout_secs"] = json!(0);
    let (status, body) = app.admin("PATCH", &format!("/api/campaigns/{campaign}"), Some(json!({"ivr": bad}))).await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    for field in ["ivr.retries", "ivr.questions[0].say", "ivr.questions[1].answers[1].label", "ivr.questions[1].timeout_secs"] {
        assert!(text.contains(field), "{field} named in {text}");
    }
    let (_, kept) = app.admin("GET", &format!("/api/campaigns/{campaign}"), None).await;
    assert_eq!(kept["ivr"]["questions"].as_array().map(Vec::len), Some(2), "{kept}");
    assert_eq!(kept["ivr"]["retries"], 2, "the default");

    let (status, body) = app.admin("PATCH", &format!("/api/buyers/{}", buyers[0]), Some(json!({"labels": ["ok", "not ok"]}))).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("labels[1]"), "{body}");

    let (status, preview) = app.admin("POST", "/api/campaigns/ivr/preview", Some(json!({"ivr": ivr(), "greeting": "Hi."}))).await;
    assert_eq!(status, 200, "{preview}");
    let first = preview["questions"][0].as_str().expect("twiml");
    assert!(first.contains("<Say>Hi.</Say>") && first.contains("<Gather"), "{first}");
    assert!(first.contains("/api/webhooks/twilio/calls/{call_id}/ivr/0/1"), "{first}");
    assert!(preview["questions"][1].as_str().is_some_and(|x| x.contains("/ivr/1/1") && !x.contains("Hi.")), "{preview}");
    assert!(preview["retry"].as_str().is_some_and(|x| x.contains("Sorry, once more.") && x.contains("/ivr/0/2")), "{preview}");
    let (status, body) = app.admin("POST", "/api/campaigns/ivr/preview", Some(json!({"ivr": bad}))).await;
    assert_eq!(status, 422, "{body}");

    // Turning the IVR off: calls go straight to routing.
    let (status, off) = app.admin("PATCH", &format!("/api/campaigns/{campaign}"), Some(json!({"ivr": {"questions": []}}))).await;
    assert_eq!(status, 200, "{off}");
    let direct = app.incoming_call("CA80", CALLER, NUMBER, &[]).await;
    assert_eq!(direct.dialled_number().as_deref(), Some(BUYER_A), "{}", direct.body);
    assert!(direct.ivr_question().is_none());
}
