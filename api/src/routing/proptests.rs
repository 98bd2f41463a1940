//! Property tests of `route`: eligibility against an independent oracle,
//! independence from input order, strict priority, even distribution.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::tags::{Cond, Num, Rule};
use super::tests::{buyer, call, utc};
use super::*;
use callbroker_wire::screening::Tags;

const ZONES: [Tz; 6] = [
    chrono_tz::UTC,
    chrono_tz::America::New_York,
    chrono_tz::America::Los_Angeles,
    chrono_tz::Europe::London,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Australia::Lord_Howe,
];
const STATES: [&str; 4] = ["NJ", "NY", "CA", "TX"];
/// (caller, its state by area code)
const CALLERS: [(&str, Option<&str>); 5] = [
    ("+12015550123", Some("NJ")),
    ("+12125550123", Some("NY")),
    ("+13105550123", Some("CA")),
    ("+18765550123", None),
    ("+442071234567", None),
];

fn window() -> impl Strategy<Value = Window> {
    (0usize..7, 0u16..48, 1u16..=48).prop_map(|(d, s, e)| Window {
        day: Day::from_index(d),
        start: ClockTime::new(s / 2, (s % 2) * 30).unwrap_or(ClockTime::MIDNIGHT),
        end: ClockTime::new(e / 2, (e % 2) * 30).unwrap_or(ClockTime::END_OF_DAY),
    })
}

fn state_list() -> impl Strategy<Value = Vec<String>> {
    prop::sample::subsequence(STATES.to_vec(), 0..=2).prop_map(|v| v.into_iter().map(String::from).collect())
}

const TAG_NAMES: [&str; 3] = ["FromState", "Age", "Zip"];
const TAG_VALUES: [&str; 6] = ["CA", "NY", "TX", "65", "70", "abc"];

fn tag_value() -> impl Strategy<Value = String> {
    prop::sample::select(TAG_VALUES.to_vec()).prop_map(String::from)
}

fn value_list() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(tag_value(), 1..4)
}

/// A random valid rule over a few tag names and values.
fn rule() -> impl Strategy<Value = Rule> {
    let cond = prop_oneof![
        tag_value().prop_map(Cond::Eq),
        tag_value().prop_map(Cond::Ne),
        value_list().prop_map(Cond::In),
        value_list().prop_map(Cond::NotIn),
        Just(Cond::Exists),
        Just(Cond::Missing),
        (0i32..100).prop_map(|n| Cond::Gte(Num(f64::from(n)))),
        (0i32..100).prop_map(|n| Cond::Lte(Num(f64::from(n)))),
    ];
    (prop::sample::select(TAG_NAMES.to_vec()), cond).prop_map(|(tag, cond)| Rule { tag: tag.into(), cond })
}

fn rules() -> impl Strategy<Value = std::sync::Arc<[Rule]>> {
    prop::collection::vec(rule(), 0..3).prop_map(std::sync::Arc::from)
}

fn tag_map() -> impl Strategy<Value = Tags> {
    prop::collection::btree_map(prop::sample::select(TAG_NAMES.to_vec()).prop_map(String::from), tag_value(), 0..3)
}

/// Independent statement of a tag rule.
fn oracle_rule(r: &Rule, tags: &Tags) -> bool {
    let actual = tags.get(&r.tag);
    let num = actual.and_then(|a| a.parse::<f64>().ok());
    match &r.cond {
        Cond::Eq(v) => actual == Some(v),
        Cond::Ne(v) => actual != Some(v),
        Cond::In(l) => actual.is_some_and(|a| l.contains(a)),
        Cond::NotIn(l) => actual.is_none_or(|a| !l.contains(a)),
        Cond::Exists => actual.is_some(),
        Cond::Missing => actual.is_none(),
        Cond::Gte(Num(n)) => num.is_some_and(|a| a >= *n),
        Cond::Lte(Num(n)) => num.is_some_and(|a| a <= *n),
    }
}

fn opt_cap() -> impl Strategy<Value = Option<u32>> {
    prop::option::weighted(0.3, 0u32..6)
}

/// A candidate with everything random but its id (set by `candidates`).
fn candidate() -> impl Strategy<Value = Candidate> {
    (
        (prop::bool::weighted(0.9), 0i32..4, 0u32..5, 0u32..4, 0u32..5),
        (opt_cap(), opt_cap(), opt_cap(), 0u32..6, 0u32..6, 0u32..6),
        (0usize..ZONES.len(), prop::collection::vec(window(), 0..3), state_list(), state_list()),
        (any::<bool>(), 0u32..50, prop::option::of(0i64..10_000), rules(), prop::sample::subsequence(vec!["spanish", "Medicare"], 0..=2)),
    )
        .prop_map(
            |(
                (active, priority, weight, max_concurrent, in_progress),
                (hourly, daily, monthly, hour, day, month),
                (zone, windows, allowed_states, denied_states),
                (sticky_repeat_callers, recent_calls, last, tag_rules, labels),
            )| Candidate {
                active,
                priority,
                weight,
                max_concurrent,
                in_progress,
                caps: Caps { hourly, daily, monthly },
                counts: PeriodCounts { hour, day, month },
                timezone: ZONES[zone],
                schedule: WeeklySchedule { windows },
                allowed_states,
                denied_states,
                sticky_repeat_callers,
                recent_calls,
                last_call_at: last.map(|m| utc(2026, 1, 1, 0, 0) + Duration::minutes(m)),
                tag_rules,
                labels: labels.into_iter().map(String::from).collect(),
                ..buyer(0)
            },
        )
}

/// Candidates with unique ids (not in input order).
fn candidates() -> impl Strategy<Value = Vec<Candidate>> {
    prop::collection::vec(candidate(), 0..24).prop_map(|mut v| {
        let n = i64::try_from(v.len()).expect("under 24");
        for (i, c) in (0_i64..).zip(v.iter_mut()) {
            c.buyer_id = (i * 37) % (n.max(1) * 3) + 1000 * (i % 2);
            c.name = format!("B{}", c.buyer_id);
        }
        v
    })
}

fn call_info(n: usize) -> impl Strategy<Value = CallInfo> {
    let n = i64::try_from(n.max(1)).expect("a few candidates");
    (
        0usize..CALLERS.len(),
        prop::option::of(prop::sample::select(vec!["TX", "ca", "", "New York"])),
        0i64..(366 * 24 * 60),
        prop::bool::weighted(0.95),
        prop::option::of(0..n),
        prop::collection::vec(0..n, 0..3),
        (
            tag_map(),
            prop::option::weighted(0.1, 0..n),
            prop::option::weighted(0.2, prop::sample::select(vec!["spanish", "medicare", "vip"])),
        ),
    )
        .prop_map(|(caller, from_state, minute, campaign_active, repeat, exclude, (tags, only, label))| CallInfo {
            caller: CALLERS[caller].0.into(),
            from_state: from_state.map(String::from),
            now: utc(2026, 1, 1, 0, 0) + Duration::minutes(minute) + Duration::seconds(minute % 60),
            campaign_active,
            // Indexes into the candidates, turned into ids by `scenario`.
            repeat_buyer: repeat,
            exclude,
            tags,
            only_buyer: only,
            only_label: label.map(String::from),
            ..call()
        })
}

/// A call and its candidates, repeat/exclude pointing at real ids.
fn scenario() -> impl Strategy<Value = (CallInfo, Vec<Candidate>)> {
    candidates().prop_flat_map(|cands| {
        let n = cands.len();
        (call_info(n), Just(cands)).prop_map(|(mut call, cands)| {
            let id = |i: i64| usize::try_from(i).ok().and_then(|i| cands.get(i)).map_or(-1, |c| c.buyer_id);
            call.repeat_buyer = call.repeat_buyer.map(id);
            call.exclude = call.exclude.iter().map(|&i| id(i)).collect();
            call.only_buyer = call.only_buyer.map(id);
            (call, cands)
        })
    })
}

/// Independent statement of the schedule rule: is the local naive time
/// inside a window that started on its own day or the day before?
fn oracle_open(schedule: &WeeklySchedule, tz: Tz, now: DateTime<Utc>) -> bool {
    if schedule.windows.is_empty() {
        return true;
    }
    let local: NaiveDateTime = now.with_timezone(&tz).naive_local();
    schedule.windows.iter().any(|w| {
        let (s, e) = (i64::from(w.start.minutes()), i64::from(w.end.minutes()));
        let len = if e > s { e - s } else { e + 1440 - s };
        [0i64, 1].iter().any(|back| {
            let date = local.date() - Duration::days(*back);
            let weekday = date.weekday().num_days_from_monday() as usize;
            let Some(midnight) = date.and_hms_opt(0, 0, 0) else {
                return false;
            };
            let from = midnight + Duration::minutes(s);
            weekday == w.day.index() && from <= local && local < from + Duration::minutes(len)
        })
    })
}

fn oracle_state(call: &CallInfo) -> Option<String> {
    match call.from_state.as_deref() {
        Some(s) if s.len() == 2 && s.chars().all(|c| c.is_ascii_alphabetic()) => Some(s.to_uppercase()),
        _ => CALLERS.iter().find(|(num, _)| *num == call.caller).and_then(|(_, st)| st.map(String::from)),
    }
}

/// Independent statement of every eligibility rule.
fn oracle_eligible(call: &CallInfo, c: &Candidate) -> bool {
    let state = oracle_state(call);
    let has = |list: &[String], s: &str| list.iter().any(|x| x.eq_ignore_ascii_case(s));
    let geo_ok = match &state {
        Some(s) => !has(&c.denied_states, s) && (c.allowed_states.is_empty() || has(&c.allowed_states, s)),
        None => c.allowed_states.is_empty(),
    };
    let under = |count: u32, cap: Option<u32>| cap.is_none_or(|cap| count < cap);
    call.campaign_active
        && !call.exclude.contains(&c.buyer_id)
        && call.only_buyer.is_none_or(|b| b == c.buyer_id)
        && c.active
        && call.only_label.as_deref().is_none_or(|l| c.labels.iter().any(|x| x.eq_ignore_ascii_case(l)))
        && geo_ok
        && c.tag_rules.iter().all(|r| oracle_rule(r, &call.tags))
        && oracle_open(&c.schedule, c.timezone, call.now)
        && c.in_progress < c.max_concurrent
        && under(c.counts.hour, c.caps.hourly)
        && under(c.counts.day, c.caps.daily)
        && under(c.counts.month, c.caps.monthly)
}

/// 512 cases per property unless `PROPTEST_CASES` says otherwise; no
/// regression files in the source tree.
fn config() -> ProptestConfig {
    let base = ProptestConfig::default();
    let env_set = std::env::var_os("PROPTEST_CASES").is_some();
    ProptestConfig { cases: if env_set { base.cases } else { 512 }, failure_persistence: None, ..base }
}

proptest! {
    #![proptest_config(config())]

    /// Ranked exactly the candidates the oracle finds eligible; verdicts
    /// agree with `ranked`.
    #[test]
    fn ranked_is_exactly_the_eligible((call, cands) in scenario()) {
        let d = route(&call, &cands);
        prop_assert_eq!(d.verdicts.len(), cands.len());
        for (i, (v, c)) in d.verdicts.iter().zip(&cands).enumerate() {
            prop_assert_eq!(v.buyer_id, c.buyer_id);
            prop_assert_eq!(&v.name, &c.name);
            let expected = oracle_eligible(&call, c);
            prop_assert_eq!(v.eligible, expected, "candidate {} {:?}: {:?}", i, c, v);
            prop_assert_eq!(v.rank.is_some(), expected);
            prop_assert_eq!(v.reason.is_eligible(), expected);
            if let Some(rank) = v.rank {
                prop_assert_eq!(d.ranked.get(rank as usize - 1), Some(&c.buyer_id));
            }
        }
        let eligible = d.verdicts.iter().filter(|v| v.eligible).count();
        prop_assert_eq!(d.ranked.len(), eligible);
        if !call.campaign_active {
            prop_assert!(d.verdicts.iter().all(|v| v.reason == Reason::CampaignPaused));
        }
    }

    /// The decision depends on the candidates, not on their order.
    #[test]
    fn order_of_candidates_does_not_matter(
        (call, cands, shuffled) in scenario().prop_flat_map(|(call, cands)| {
            let s = Just(cands.clone()).prop_shuffle();
            (Just(call), Just(cands), s)
        })
    ) {
        let a = route(&call, &cands);
        let b = route(&call, &shuffled);
        prop_assert_eq!(&a.ranked, &b.ranked);
        prop_assert_eq!(&a.caller_state, &b.caller_state);
        for v in &b.verdicts {
            let same = a.verdicts.iter().find(|x| x.buyer_id == v.buyer_id);
            prop_assert_eq!(Some(v), same);
        }
    }

    /// Priorities never increase along `ranked`, except for a repeat caller's
    /// buyer placed first, which leaves the others in their order.
    #[test]
    fn priority_is_strict((call, cands) in scenario()) {
        let d = route(&call, &cands);
        let by_id = |id: i64| cands.iter().find(|c| c.buyer_id == id);
        let mut rest = d.ranked.as_slice();
        if let Some(first) = d.verdicts.iter().find(|v| v.reason == Reason::RepeatCaller) {
            prop_assert_eq!(d.ranked.first(), Some(&first.buyer_id));
            prop_assert_eq!(call.repeat_buyer, Some(first.buyer_id));
            prop_assert!(by_id(first.buyer_id).is_some_and(|c| c.sticky_repeat_callers));
            rest = &rest[1..];
            // The others keep the order they have without the repeat rule.
            let plain = route(&CallInfo { repeat_buyer: None, ..call.clone() }, &cands);
            let others: Vec<i64> = plain.ranked.iter().copied().filter(|&id| id != first.buyer_id).collect();
            prop_assert_eq!(rest, others.as_slice());
        } else if let Some(id) = call.repeat_buyer {
            // No favour: the repeat buyer was not eligible or not sticky.
            let favoured = by_id(id).is_some_and(|c| c.sticky_repeat_callers && oracle_eligible(&call, c));
            prop_assert!(!favoured);
        }
        let priorities: Vec<i32> = rest.iter().filter_map(|&id| by_id(id)).map(|c| c.priority).collect();
        prop_assert!(priorities.windows(2).all(|p| p[0] >= p[1]), "{:?}", priorities);
    }

    /// From level counts, every prefix of the calls gives each buyer its
    /// exact share within one call, and every run of W calls (W = total
    /// weight) holds exactly `weight` calls of each buyer. Ineligible and
    /// lower-priority buyers around them change nothing.
    #[test]
    fn even_distribution_by_weight(weights in prop::collection::vec(1u32..9, 1..8), rounds in 2usize..4) {
        let total: u32 = weights.iter().sum();
        let mut cands: Vec<Candidate> = (1_i64..).zip(&weights).map(|(id, &w)| {
            let mut c = buyer(id);
            c.priority = 5;
            c.weight = w;
            c.max_concurrent = 1;
            c
        }).collect();
        let mut full = buyer(100);
        full.priority = 9;
        full.max_concurrent = 0;
        let mut low = buyer(101);
        low.priority = 1;
        cands.push(full);
        cands.push(low);

        let mut call = call();
        let mut picks: Vec<usize> = Vec::new();
        for _ in 0..(total as usize * rounds) {
            let d = route(&call, &cands);
            let first = d.first();
            let i = cands.iter().position(|c| Some(c.buyer_id) == first);
            prop_assert!(i.is_some_and(|i| i < weights.len()), "{:?}", first);
            let i = i.unwrap_or_default();
            cands[i].recent_calls += 1;
            cands[i].last_call_at = Some(call.now);
            picks.push(i);
            call.now += Duration::seconds(17);
        }
        let w = u64::from(total);
        for (b, &wb) in weights.iter().enumerate() {
            let mut count = 0u64;
            for (n, &p) in picks.iter().enumerate() {
                count += u64::from(p == b);
                let n = n as u64 + 1;
                // |count − n·wb/W| < 1  ⇔  |count·W − n·wb| < W
                prop_assert!((count * w).abs_diff(n * u64::from(wb)) < w,
                    "buyer {} weight {} has {} of {} calls", b, wb, count, n);
            }
            for run in picks.windows(total as usize) {
                prop_assert_eq!(u32::try_from(run.iter().filter(|&&p| p == b).count()), Ok(wb), "{:?}", picks);
            }
        }
    }

    /// From any counts, a buyer is never handed a call that puts it a whole
    /// call or more above its share of its tier (a buyer already that far
    /// ahead gets nothing until the others catch up).
    #[test]
    fn never_over_serves(
        start in prop::collection::vec((1u32..9, 0u32..40), 1..8),
        calls in 1usize..60,
    ) {
        let mut cands: Vec<Candidate> = (1_i64..).zip(&start).map(|(id, &(w, r))| {
            let mut c = buyer(id);
            c.weight = w;
            c.recent_calls = r;
            c
        }).collect();
        let total: u64 = start.iter().map(|s| u64::from(s.0)).sum();
        let mut call = call();
        for _ in 0..calls {
            let first = route(&call, &cands).first();
            let Some(c) = cands.iter_mut().find(|c| Some(c.buyer_id) == first) else {
                return Err(TestCaseError::fail("nobody ranked"));
            };
            c.recent_calls += 1;
            c.last_call_at = Some(call.now);
            let chosen = c.buyer_id;
            call.now += Duration::seconds(5);
            let n: u64 = cands.iter().map(|c| u64::from(c.recent_calls)).sum();
            let c = cands.iter().find(|c| c.buyer_id == chosen).map(|c| (c.recent_calls, c.weight));
            let (count, weight) = c.unwrap_or_default();
            // count − n·w/W < 1  ⇔  count·W < n·w + W
            prop_assert!(u64::from(count) * total < n * u64::from(weight) + total);
        }
    }

    /// A buyer without tag rules is never skipped for a tag rule, whatever the call's tags.
    #[test]
    fn no_rules_no_tag_skip((call, mut cands) in scenario()) {
        for c in &mut cands {
            c.tag_rules = std::sync::Arc::from([]);
        }
        let d = route(&call, &cands);
        let tag_skips = d.verdicts.iter().filter(|v| matches!(v.reason, Reason::TagRule { .. })).count();
        prop_assert_eq!(tag_skips, 0);
    }

    /// Adding a rule to a buyer never makes a skipped buyer eligible, and a buyer it skips is
    /// skipped for that rule or an earlier check.
    #[test]
    fn a_new_rule_never_admits((call, cands) in scenario(), extra in rule(), pick in any::<prop::sample::Index>()) {
        prop_assume!(!cands.is_empty());
        let i = pick.index(cands.len());
        let before = route(&call, &cands).verdicts[i].eligible;
        let mut more = cands.clone();
        let mut list: Vec<Rule> = more[i].tag_rules.to_vec();
        list.push(extra.clone());
        more[i].tag_rules = std::sync::Arc::from(list);
        let after = route(&call, &more);
        prop_assert!(!after.verdicts[i].eligible || before, "{:?}", after.verdicts[i]);
        if before && !after.verdicts[i].eligible {
            prop_assert!(!oracle_rule(&extra, &call.tags));
            let named_last = matches!(&after.verdicts[i].reason, Reason::TagRule { index, .. } if *index as usize == more[i].tag_rules.len() - 1);
            prop_assert!(named_last, "{:?}", after.verdicts[i].reason);
        }
    }

    /// `in` holds exactly when one of its values' `eq` holds; `not_in` is its negation, as `ne`
    /// is `eq`'s.
    #[test]
    fn in_is_any_eq_and_not_in_is_its_negation(
        tag in prop::sample::select(TAG_NAMES.to_vec()),
        list in value_list(),
        tags in tag_map(),
    ) {
        let r = |cond| Rule { tag: tag.to_string(), cond };
        let any_eq = list.iter().any(|v| r(Cond::Eq(v.clone())).holds(&tags));
        prop_assert_eq!(r(Cond::In(list.clone())).holds(&tags), any_eq);
        prop_assert_eq!(r(Cond::NotIn(list.clone())).holds(&tags), !any_eq);
        for v in &list {
            prop_assert_eq!(r(Cond::Ne(v.clone())).holds(&tags), !r(Cond::Eq(v.clone())).holds(&tags));
        }
        prop_assert_eq!(r(Cond::Missing).holds(&tags), !r(Cond::Exists).holds(&tags));
    }

    /// The memoised local clock agrees with a plain conversion in any zone
    /// at any instant.
    #[test]
    fn local_clock_matches_chrono(zone in 0usize..chrono_tz::TZ_VARIANTS.len(), secs in 0i64..(2 * 366 * 86_400)) {
        let tz = chrono_tz::TZ_VARIANTS[zone];
        let now = utc(2026, 1, 1, 0, 0) + Duration::seconds(secs);
        let local = now.with_timezone(&tz);
        let c = local_clock(tz, now);
        prop_assert_eq!(u32::try_from(c.day.index()), Ok(local.weekday().num_days_from_monday()));
        prop_assert_eq!(u32::from(c.minute), local.hour() * 60 + local.minute());
        let k = period_keys(tz, now);
        prop_assert_eq!(k.hour / 100, k.day);
        prop_assert_eq!(k.day / 100, k.month);
        prop_assert_eq!(k.month, i64::from(local.year()) * 100 + i64::from(local.month()));
    }
}
