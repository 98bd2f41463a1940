//! Table tests of `route`, one group per criterion.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::*;

pub(super) fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid instant")
}

/// An always-open, uncapped, active buyer in UTC.
pub(super) fn buyer(id: i64) -> Candidate {
    Candidate {
        buyer_id: id,
        name: format!("Buyer {id}"),
        active: true,
        priority: 0,
        weight: 1,
        max_concurrent: 5,
        in_progress: 0,
        caps: Caps::default(),
        counts: PeriodCounts::default(),
        timezone: chrono_tz::UTC,
        schedule: WeeklySchedule::always_open(),
        allowed_states: vec![],
        denied_states: vec![],
        sticky_repeat_callers: false,
        recent_calls: 0,
        last_call_at: None,
        tag_rules: std::sync::Arc::from([]),
        labels: std::sync::Arc::from([]),
        price_micros: 0,
        earnings: Earnings::default(),
    }
}

/// A call from New Jersey (area code 201) on Wednesday 2026-06-10 15:00 UTC.
pub(super) fn call() -> CallInfo {
    CallInfo {
        caller: "+12015550123".into(),
        dialled: "+17175550100".into(),
        from_state: None,
        now: utc(2026, 6, 10, 15, 0),
        campaign_active: true,
        repeat_buyer: None,
        exclude: vec![],
        tags: callbroker_wire::Tags::default(),
        only_buyer: None,
        only_label: None,
        policy: std::sync::Arc::default(),
        explore_draw: 0,
    }
}

/// `route`, detached from the candidates so tests can pass temporaries.
fn decide(call: &CallInfo, candidates: &[Candidate]) -> Decision<'static> {
    route(call, candidates).into_owned()
}

fn schedule(json: &str) -> WeeklySchedule {
    WeeklySchedule::from_json(json).expect("valid schedule")
}

fn states(list: &[&str]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

/// The verdict of the single candidate `c` for `call`.
fn verdict(call: &CallInfo, c: Candidate) -> Verdict<'static> {
    let d = decide(call, std::slice::from_ref(&c));
    assert_eq!(d.verdicts.len(), 1);
    let v = d.verdicts[0].clone();
    assert_eq!(v.eligible, !d.ranked.is_empty());
    v
}

fn eligible(v: &Verdict) -> bool {
    v.eligible && v.rank == Some(1) && v.reason.is_eligible()
}

#[test]
fn campaign_paused_skips_everyone() {
    let mut c = call();
    c.campaign_active = false;
    let d = decide(&c, &[buyer(1), buyer(2)]);
    assert!(d.ranked.is_empty());
    assert!(d.verdicts.iter().all(|v| v.reason == Reason::CampaignPaused && !v.eligible && v.rank.is_none()));
    assert_eq!(d.caller_state.map(|s| s.state), Some("NJ".to_string()));
}

#[test]
fn status_rules() {
    type Case = (&'static str, CallInfo, fn(&mut Candidate), Option<Reason>);
    let mut tried = call();
    tried.exclude = vec![7, 1];
    let cases: Vec<Case> = vec![
        ("plain", call(), |_| {}, None),
        ("already tried", tried.clone(), |_| {}, Some(Reason::AlreadyTried)),
        ("inactive", call(), |c| c.active = false, Some(Reason::Inactive)),
        ("already tried beats inactive", tried, |c| c.active = false, Some(Reason::AlreadyTried)),
    ];
    for (name, call, edit, expected) in cases {
        let mut c = buyer(1);
        edit(&mut c);
        let v = verdict(&call, c);
        match expected {
            None => assert!(eligible(&v), "{name}: {v:?}"),
            Some(r) => assert_eq!(v.reason, r, "{name}"),
        }
    }
}

#[test]
fn capacity_rules() {
    let cases: [(u32, u32, bool); 6] = [
        (5, 0, true),
        (5, 4, true),
        (5, 5, false),
        (5, 7, false),
        (1, 0, true),
        (0, 0, false), // 0 takes no calls
    ];
    for (max, in_progress, ok) in cases {
        let mut c = buyer(1);
        c.max_concurrent = max;
        c.in_progress = in_progress;
        let v = verdict(&call(), c);
        if ok {
            assert!(eligible(&v), "{max}/{in_progress}: {v:?}");
        } else {
            assert_eq!(v.reason, Reason::AtCapacity { in_progress, max });
        }
    }
}

#[test]
fn cap_rules() {
    let caps = |hourly, daily, monthly| Caps { hourly, daily, monthly };
    let counts = |hour, day, month| PeriodCounts { hour, day, month };
    let cases = [
        (caps(None, None, None), counts(1000, 1000, 1000), None),
        (caps(Some(10), Some(50), Some(500)), counts(9, 49, 499), None),
        (caps(Some(10), Some(50), Some(500)), counts(10, 49, 499), Some(Reason::HourlyCap { count: 10, cap: 10 })),
        (caps(Some(10), Some(50), Some(500)), counts(3, 51, 499), Some(Reason::DailyCap { count: 51, cap: 50 })),
        (caps(None, None, Some(500)), counts(3, 4, 500), Some(Reason::MonthlyCap { count: 500, cap: 500 })),
        (caps(Some(0), None, None), counts(0, 0, 0), Some(Reason::HourlyCap { count: 0, cap: 0 })),
        (caps(Some(1), Some(1), Some(1)), counts(1, 1, 1), Some(Reason::HourlyCap { count: 1, cap: 1 })),
    ];
    for (caps, counts, expected) in cases {
        let mut c = buyer(1);
        c.caps = caps;
        c.counts = counts;
        let v = verdict(&call(), c);
        match expected {
            None => assert!(eligible(&v), "{caps:?} {counts:?}: {v:?}"),
            Some(r) => assert_eq!(v.reason, r, "{caps:?} {counts:?}"),
        }
    }
}

#[test]
fn skip_reasons_come_in_documented_order() {
    let mut c = buyer(1);
    c.allowed_states = states(&["TX"]);
    c.schedule = schedule(r#"[{"day":"mon","start":"09:00","end":"10:00"}]"#);
    c.max_concurrent = 0;
    c.caps.hourly = Some(0);
    assert_eq!(verdict(&call(), c.clone()).reason, Reason::StateNotAllowed { state: "NJ".into() });
    c.allowed_states.clear();
    assert!(matches!(verdict(&call(), c.clone()).reason, Reason::OutsideHours { .. }));
    c.schedule = WeeklySchedule::always_open();
    assert!(matches!(verdict(&call(), c.clone()).reason, Reason::AtCapacity { .. }));
    c.max_concurrent = 1;
    assert!(matches!(verdict(&call(), c).reason, Reason::HourlyCap { .. }));
}

/// (zone, schedule, instant, open?, "local time, offset" when closed)
type HoursCase = (Tz, &'static str, DateTime<Utc>, bool, &'static str);

#[test]
fn hours_in_the_buyers_zone_across_dst() {
    use chrono_tz::America::{Los_Angeles, New_York};
    use chrono_tz::Europe::London;
    const SUN_9_17: &str = r#"[{"day":"sun","start":"09:00","end":"17:00"}]"#;
    const SAT_9_17: &str = r#"[{"day":"sat","start":"09:00","end":"17:00"}]"#;
    const SUN_1_3: &str = r#"[{"day":"sun","start":"01:00","end":"03:00"}]"#;
    const SUN_0130_0145: &str = r#"[{"day":"sun","start":"01:30","end":"01:45"}]"#;
    const FRI_NIGHT: &str = r#"[{"day":"fri","start":"22:00","end":"06:00"}]"#;
    let cases: Vec<HoursCase> = vec![
        // New York, spring forward on Sun 2026-03-08 (EST -5 → EDT -4).
        (New_York, SUN_9_17, utc(2026, 3, 8, 13, 0), true, ""), // 09:00 EDT
        (New_York, SUN_9_17, utc(2026, 3, 8, 12, 59), false, "Sun 08:59, UTC-04:00"),
        (New_York, SUN_9_17, utc(2026, 3, 8, 20, 59), true, ""), // 16:59 EDT
        (New_York, SUN_9_17, utc(2026, 3, 8, 21, 0), false, "Sun 17:00, UTC-04:00"),
        (New_York, SAT_9_17, utc(2026, 3, 7, 14, 0), true, ""), // 09:00 EST
        (New_York, SAT_9_17, utc(2026, 3, 7, 13, 59), false, "Sat 08:59, UTC-05:00"),
        (New_York, SUN_1_3, utc(2026, 3, 8, 6, 59), true, ""), // 01:59 EST
        (New_York, SUN_1_3, utc(2026, 3, 8, 7, 0), false, "Sun 03:00, UTC-04:00"), // 02:xx skipped
        // New York, fall back on Sun 2026-11-01 (EDT -4 → EST -5).
        (New_York, SUN_9_17, utc(2026, 11, 1, 14, 0), true, ""), // 09:00 EST
        (New_York, SUN_9_17, utc(2026, 11, 1, 13, 30), false, "Sun 08:30, UTC-05:00"),
        (New_York, SUN_9_17, utc(2026, 11, 1, 21, 59), true, ""),     // 16:59 EST
        (New_York, SUN_0130_0145, utc(2026, 11, 1, 5, 35), true, ""), // 01:35 EDT
        (New_York, SUN_0130_0145, utc(2026, 11, 1, 6, 35), true, ""), // 01:35 EST, again
        (New_York, SUN_0130_0145, utc(2026, 11, 1, 6, 0), false, "Sun 01:00, UTC-05:00"),
        // London, summer time from Sun 2026-03-29 and until Sun 2026-10-25.
        (London, SUN_9_17, utc(2026, 3, 29, 8, 0), true, ""), // 09:00 BST
        (London, SUN_9_17, utc(2026, 3, 29, 7, 59), false, "Sun 08:59, UTC+01:00"),
        (London, SUN_9_17, utc(2026, 10, 25, 8, 59), false, "Sun 08:59, UTC+00:00"),
        (London, SUN_9_17, utc(2026, 10, 25, 9, 0), true, ""),
        // Overnight Fri 22:00 – Sat 06:00 in Los Angeles (PDT -7).
        (Los_Angeles, FRI_NIGHT, utc(2026, 6, 13, 5, 0), true, ""),   // Fri 22:00
        (Los_Angeles, FRI_NIGHT, utc(2026, 6, 13, 12, 59), true, ""), // Sat 05:59
        (Los_Angeles, FRI_NIGHT, utc(2026, 6, 13, 13, 0), false, "Sat 06:00, UTC-07:00"),
        (Los_Angeles, FRI_NIGHT, utc(2026, 6, 12, 12, 0), false, "Fri 05:00, UTC-07:00"),
    ];
    for (tz, json, now, open, label) in cases {
        let mut c = buyer(1);
        c.timezone = tz;
        c.schedule = schedule(json);
        let mut call = call();
        call.now = now;
        let v = verdict(&call, c);
        if open {
            assert!(eligible(&v), "{tz} {json} {now}: {v:?}");
        } else {
            assert!(matches!(v.reason, Reason::OutsideHours { .. }), "{tz} {json} {now}: {v:?}");
            let (time, offset) = label.split_once(", ").unwrap_or_default();
            let sentence = v.reason.describe();
            assert!(sentence.contains(&format!("it is {time} in {tz}, {offset})")), "{tz} {json} {now}: {sentence}");
        }
    }
}

#[test]
fn empty_schedule_is_always_open() {
    for h in 0..24 {
        let mut call = call();
        call.now = utc(2026, 3, 8, h, 30);
        let mut c = buyer(1);
        c.timezone = chrono_tz::America::New_York;
        assert!(eligible(&verdict(&call, c)), "{h}");
    }
}

#[test]
fn geography_rules() {
    // (from_state, caller, allowed, denied, expected skip)
    type GeoCase = (Option<&'static str>, &'static str, &'static [&'static str], &'static [&'static str], Option<Reason>);
    let not_allowed = |s: &'static str| Some(Reason::StateNotAllowed { state: s.into() });
    let denied = |s: &'static str| Some(Reason::StateDenied { state: s.into() });
    let cases: Vec<GeoCase> = vec![
        (None, "+12015550123", &[], &[], None),
        (None, "+12015550123", &["NJ", "NY"], &[], None),
        (None, "+12015550123", &["NY"], &[], not_allowed("NJ")),
        (None, "+12015550123", &[], &["NJ"], denied("NJ")),
        (None, "+12015550123", &["nj"], &["nj"], denied("NJ")),
        (Some("CA"), "+12015550123", &["NJ"], &[], not_allowed("CA")),
        (Some("ca"), "+12015550123", &["CA"], &[], None),
        (Some(""), "+12015550123", &["NJ"], &[], None),
        (None, "+18765550123", &["NJ"], &[], Some(Reason::StateUnknown)),
        (None, "+442071234567", &["NJ"], &[], Some(Reason::StateUnknown)),
        (None, "+442071234567", &[], &["NJ"], None),
        (None, "+14165550123", &["ON"], &[], None),
    ];
    for (from_state, caller, allowed, deny, expected) in cases {
        let mut call = call();
        call.from_state = from_state.map(String::from);
        call.caller = caller.into();
        let mut c = buyer(1);
        c.allowed_states = states(allowed);
        c.denied_states = states(deny);
        let v = verdict(&call, c);
        match expected {
            None => assert!(eligible(&v), "{from_state:?} {caller} {allowed:?} {deny:?}: {v:?}"),
            Some(r) => assert_eq!(v.reason, r, "{from_state:?} {caller} {allowed:?} {deny:?}"),
        }
    }
}

#[test]
fn caller_state_is_reported_with_its_source() {
    let d = decide(&call(), &[]);
    assert_eq!(d.caller_state, Some(CallerState { state: "NJ".into(), source: StateSource::AreaCode }));
    let mut c = call();
    c.from_state = Some("TX".into());
    assert_eq!(decide(&c, &[]).caller_state.map(|s| s.source), Some(StateSource::Twilio));
    c.from_state = None;
    c.caller = "+442071234567".into();
    assert_eq!(decide(&c, &[]).caller_state, None);
}

#[test]
fn priority_is_strict() {
    let mut high = buyer(1);
    high.priority = 10;
    high.recent_calls = 1_000;
    high.weight = 1;
    let mut low = buyer(2);
    low.priority = 1;
    low.weight = 100;
    let mut mid = buyer(3);
    mid.priority = 5;
    mid.recent_calls = 50;
    let d = decide(&call(), &[low.clone(), high.clone(), mid.clone()]);
    assert_eq!(d.ranked, [1, 3, 2]);
    // The lower tier only when the higher one is not eligible.
    high.in_progress = high.max_concurrent;
    let d = decide(&call(), &[low, high, mid]);
    assert_eq!(d.ranked, [3, 2]);
}

#[test]
#[allow(clippy::many_single_char_names, reason = "buyers a, b, c and x, y, z, as the comments name them")]
fn equal_priority_shares_by_weight_and_volume() {
    let mut a = buyer(1);
    a.recent_calls = 10;
    let mut b = buyer(2);
    b.recent_calls = 4;
    let mut c = buyer(3);
    c.recent_calls = 7;
    assert_eq!(decide(&call(), &[a.clone(), b.clone(), c.clone()]).ranked, [2, 3, 1]);
    // Weight 3 makes 10 calls a light load: 21 calls, a's quota is 13.2.
    a.weight = 3;
    assert_eq!(decide(&call(), &[a, b, c]).ranked, [1, 2, 3]);
    // Equal figures: the longest wait first, never-called before anyone.
    let mut x = buyer(5);
    x.last_call_at = Some(utc(2026, 6, 10, 14, 0));
    let mut y = buyer(6);
    y.last_call_at = Some(utc(2026, 6, 10, 13, 0));
    let z = buyer(7);
    assert_eq!(decide(&call(), &[x, y, z]).ranked, [7, 6, 5]);
}

#[test]
fn weight_zero_counts_as_one() {
    let mut a = buyer(1);
    a.weight = 0;
    a.recent_calls = 1;
    let b = buyer(2);
    let d = decide(&call(), &[a, b]);
    assert_eq!(d.ranked, [2, 1]);
    assert!(matches!(d.verdicts[0].reason, Reason::Selected { weight: 1, rank: 2, .. }));
}

#[test]
fn repeat_caller_goes_back_to_a_sticky_buyer() {
    let mut top = buyer(1);
    top.priority = 9;
    let mut sticky = buyer(2);
    sticky.priority = 1;
    sticky.sticky_repeat_callers = true;
    sticky.recent_calls = 99;
    let mut plain = buyer(3);
    plain.priority = 1;
    let candidates = [top.clone(), sticky.clone(), plain.clone()];

    let mut c = call();
    c.repeat_buyer = Some(2);
    let d = decide(&c, &candidates);
    assert_eq!(d.ranked, [2, 1, 3]);
    assert_eq!(d.verdicts[1].reason, Reason::RepeatCaller);
    assert_eq!(d.verdicts[1].rank, Some(1));
    assert!(matches!(d.verdicts[0].reason, Reason::Selected { rank: 2, .. }));

    // A buyer that does not keep repeat callers gets no favour.
    c.repeat_buyer = Some(3);
    assert_eq!(decide(&c, &candidates).ranked, [1, 3, 2]);

    // An ineligible sticky buyer keeps its skip reason; routing goes on.
    c.repeat_buyer = Some(2);
    sticky.in_progress = sticky.max_concurrent;
    let d = decide(&c, &[top.clone(), sticky, plain.clone()]);
    assert_eq!(d.ranked, [1, 3]);
    assert!(matches!(d.verdicts[1].reason, Reason::AtCapacity { .. }));

    // Failover after the sticky buyer did not answer.
    c.exclude = vec![2];
    let d = decide(&c, &candidates);
    assert_eq!(d.ranked, [1, 3]);
    assert_eq!(d.verdicts[1].reason, Reason::AlreadyTried);

    // A repeat buyer that is not a candidate changes nothing.
    c.exclude.clear();
    c.repeat_buyer = Some(42);
    assert_eq!(decide(&c, &candidates).ranked, [1, 3, 2]);
}

#[test]
fn verdicts_follow_input_order_and_match_ranks() {
    let mut a = buyer(30);
    a.active = false;
    let mut b = buyer(10);
    b.recent_calls = 3;
    let c = buyer(20);
    let d = decide(&call(), &[a, b, c]);
    assert_eq!(d.ranked, [20, 10]);
    let ids: Vec<i64> = d.verdicts.iter().map(|v| v.buyer_id).collect();
    assert_eq!(ids, [30, 10, 20]);
    assert_eq!(d.verdicts[0].name, "Buyer 30");
    assert_eq!(d.verdicts[0].rank, None);
    assert_eq!(d.verdicts[1].rank, Some(2));
    assert_eq!(d.verdicts[2].rank, Some(1));
    assert_eq!(d.verdicts[1].reason, Reason::Selected { rank: 2, priority: 0, weight: 1, recent_calls: 3 });
    assert_eq!(d.first(), Some(20));
}

#[test]
fn names_are_lent_not_copied() {
    let cands = [buyer(1)];
    let d = route(&call(), &cands);
    assert!(matches!(d.verdicts[0].name, std::borrow::Cow::Borrowed("Buyer 1")));
    let owned: Decision<'static> = d.clone().into_owned();
    assert!(matches!(owned.verdicts[0].name, std::borrow::Cow::Owned(_)));
    assert_eq!(owned, d);
}

#[test]
fn no_candidates_no_buyer() {
    let d = decide(&call(), &[]);
    assert!(d.ranked.is_empty() && d.verdicts.is_empty());
    assert_eq!(d.first(), None);
}

#[test]
fn decision_json_for_the_ui() {
    let mut full = buyer(2);
    full.max_concurrent = 1;
    full.in_progress = 1;
    let d = decide(&call(), &[buyer(1), full]);
    let json = serde_json::to_value(&d).expect("serialize");
    assert_eq!(
        json,
        serde_json::json!({
            "ranked": [1],
            "verdicts": [
                {"buyer_id": 1, "name": "Buyer 1", "eligible": true, "rank": 1,
                 "reason": {"code": "selected", "rank": 1, "priority": 0, "weight": 1, "recent_calls": 0}},
                {"buyer_id": 2, "name": "Buyer 2", "eligible": false, "rank": null,
                 "reason": {"code": "at_capacity", "in_progress": 1, "max": 1}}
            ],
            "caller_state": {"state": "NJ", "source": "area_code"}
        })
    );
    let back: Decision = serde_json::from_value(json).expect("deserialize");
    assert_eq!(back, d);
}

#[test]
fn an_ivr_label_keeps_the_call_to_labelled_buyers() {
    let mut spanish = buyer(2);
    spanish.labels = std::sync::Arc::from(["Spanish".to_string(), "medicare".to_string()]);
    let mut inactive = buyer(3);
    inactive.labels = spanish.labels.clone();
    inactive.active = false;
    let kept = CallInfo { only_label: Some("spanish".into()), ..call() };
    let d = decide(&kept, &[buyer(1), spanish.clone(), inactive.clone()]);
    assert_eq!(d.ranked, vec![2], "labels compare without case");
    assert_eq!(d.verdicts[0].reason, Reason::NotLabelled { label: "spanish".into() });
    assert_eq!(d.verdicts[2].reason, Reason::Inactive, "an inactive buyer is inactive first");
    let d = decide(&call(), &[buyer(1), spanish]);
    assert_eq!(d.ranked.len(), 2, "without a label every buyer may take the call");
}
