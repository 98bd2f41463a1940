//! Screening: whether a call is blocked before any buyer is considered, by the campaign's
//! settings ([`Screening`]), the blocklist and the caller's history on the campaign.
//!
//! Pure: the I/O layer keeps the blocklist in the directory ([`Blocklist`], built once per
//! directory version), reads the caller's [`History`] in the statement the voice webhook already
//! runs (over the windows [`Windows::of`] gives), and calls [`screen`].
//!
//! Rules, in the order they are checked (the first that blocks names the block):
//! 1. `blocklist`: an unexpired entry, global or of this campaign, equal to the caller's number
//!    (`exact`) or starting it (`prefix`);
//! 2. `anonymous`: the caller withheld its number ([`is_anonymous`]) and the campaign blocks them;
//! 3. `attestation`: the campaign wants a minimum STIR/SHAKEN level and the call's `StirVerstat`
//!    is below it (a failed validation, `No-TN-Validation` or a value not understood is below
//!    any level), or absent when the campaign blocks calls without one;
//! 4. `rate_limit`: the caller already made `rate_limit_calls` calls to the campaign within the
//!    last `rate_limit_minutes`;
//! 5. `qualified_repeat`: the caller had a qualified call on the campaign within the last
//!    `qualified_repeat_days`;
//! 6. `repeat`: the caller called the campaign within the last `repeat_window_secs` and the
//!    campaign blocks such calls (with `same_buyer` the call goes on, offered only to the buyer
//!    of the caller's last connected call in the window, when there is one).
//!
//! The history rules (4 to 6) never apply to anonymous callers: their shared stand-in number
//! identifies nobody.
use std::collections::HashMap;

use callbroker_wire::screening::{Attestation, Block, BlockKind, BlockRule, RepeatAction, ScreenAction, Screening};
use chrono::{DateTime, Duration, Utc};

/// What the caller's number says: its text as Twilio sent `From`, and `StirVerstat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallFacts<'a> {
    pub caller: &'a str,
    pub stir_verstat: Option<&'a str>,
}

/// Numbers Twilio puts in `From` for callers who withheld theirs: the keypad spellings of
/// ANONYMOUS, RESTRICTED, UNAVAILABLE, BLOCKED and UNKNOWN. They look like E.164 numbers
/// (`+266696687` is a valid Lesotho shape), so they are listed.
pub const WITHHELD_NUMBERS: [&str; 5] = ["+266696687", "+7378742833", "+86282452253", "+2562533", "+8656696"];

/// Whether `from` identifies no caller: not an E.164 number (`Anonymous`, `Restricted`, empty,
/// ...) or one of [`WITHHELD_NUMBERS`].
pub fn is_anonymous(from: &str) -> bool {
    let digits = from.strip_prefix('+').unwrap_or("");
    let e164 = (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    !e164 || WITHHELD_NUMBERS.contains(&from)
}

/// A `StirVerstat` value read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verstat {
    /// `TN-Validation-Passed-A|B|C` (and their `-Diverted` forms).
    Passed(Attestation),
    /// `TN-Validation-Failed`, `TN-Validation-Failed-A|B|C` (and `-Diverted`).
    Failed,
    /// `No-TN-Validation` (and `-Diverted`): the carrier did not validate the caller.
    NotValidated,
    /// Anything else.
    Unknown,
}

impl Verstat {
    pub fn parse(s: &str) -> Verstat {
        let s = s.trim();
        let s = s.strip_suffix("-Diverted").unwrap_or(s);
        match s {
            "TN-Validation-Passed-A" => Verstat::Passed(Attestation::A),
            "TN-Validation-Passed-B" => Verstat::Passed(Attestation::B),
            "TN-Validation-Passed-C" => Verstat::Passed(Attestation::C),
            "No-TN-Validation" => Verstat::NotValidated,
            _ if s == "TN-Validation-Failed" || s.starts_with("TN-Validation-Failed-") => Verstat::Failed,
            _ => Verstat::Unknown,
        }
    }
}

fn level_name(a: Attestation) -> &'static str {
    match a {
        Attestation::None => "none",
        Attestation::C => "C",
        Attestation::B => "B",
        Attestation::A => "A",
    }
}

/// A blocklist entry as the directory keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub number: String,
    pub kind: BlockKind,
    pub campaign_id: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Entry {
    fn applies(&self, campaign: i64, now: DateTime<Utc>) -> bool {
        self.campaign_id.is_none_or(|c| c == campaign) && self.expires_at.is_none_or(|t| now < t)
    }
}

/// The blocklist, indexed: exact numbers and prefixes by their text. Checking a caller costs one
/// lookup per prefix length of its number (at most 16).
#[derive(Debug, Clone, Default)]
pub struct Blocklist {
    exact: HashMap<String, Vec<Entry>>,
    prefixes: HashMap<String, Vec<Entry>>,
    longest_prefix: usize,
    len: usize,
}

impl Blocklist {
    pub fn new(entries: impl IntoIterator<Item = Entry>) -> Blocklist {
        let mut list = Blocklist::default();
        for e in entries {
            list.len += 1;
            match e.kind {
                BlockKind::Exact => list.exact.entry(e.number.clone()).or_default().push(e),
                BlockKind::Prefix => {
                    list.longest_prefix = list.longest_prefix.max(e.number.len());
                    list.prefixes.entry(e.number.clone()).or_default().push(e);
                }
            }
        }
        list
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entry that blocks `caller` on `campaign` at `now`: an exact one first, then the
    /// longest prefix.
    pub fn find(&self, caller: &str, campaign: i64, now: DateTime<Utc>) -> Option<&Entry> {
        fn applying(list: Option<&Vec<Entry>>, campaign: i64, now: DateTime<Utc>) -> Option<&Entry> {
            list.and_then(|l| l.iter().find(|e| e.applies(campaign, now)))
        }
        if let Some(e) = applying(self.exact.get(caller), campaign, now) {
            return Some(e);
        }
        let longest = self.longest_prefix.min(caller.len());
        (1..=longest).rev().filter(|&n| caller.is_char_boundary(n)).find_map(|n| applying(self.prefixes.get(&caller[..n]), campaign, now))
    }
}

/// The caller's earlier calls on the campaign, as far as the screening needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct History {
    /// Its most recent call (any outcome) since [`Windows::since`].
    pub last_call_at: Option<DateTime<Utc>>,
    /// Its calls since [`Windows::rate_since`].
    pub rate_calls: u32,
    /// Whether it had a qualified call since [`Windows::qualified_since`].
    pub qualified: bool,
    /// The buyer of its last connected call since [`Windows::repeat_since`].
    pub last_buyer: Option<i64>,
}

/// The windows of history a campaign's screening needs at `now`: `None` where its rule is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub repeat_since: Option<DateTime<Utc>>,
    pub rate_since: Option<DateTime<Utc>>,
    pub qualified_since: Option<DateTime<Utc>>,
}

impl Windows {
    pub fn of(s: &Screening, now: DateTime<Utc>) -> Windows {
        let back = |d: Duration| now.checked_sub_signed(d);
        Windows {
            repeat_since: (s.repeat_window_secs > 0 && s.repeat_action != RepeatAction::Allow)
                .then(|| back(Duration::seconds(i64::from(s.repeat_window_secs))))
                .flatten(),
            rate_since: (s.rate_limit_calls > 0 && s.rate_limit_minutes > 0)
                .then(|| back(Duration::minutes(i64::from(s.rate_limit_minutes))))
                .flatten(),
            qualified_since: (s.qualified_repeat_days > 0).then(|| back(Duration::days(i64::from(s.qualified_repeat_days)))).flatten(),
        }
    }

    /// The earliest start of any window: the history read covers `[since, now]`; `None` when no
    /// rule needs history.
    pub fn since(&self) -> Option<DateTime<Utc>> {
        [self.repeat_since, self.rate_since, self.qualified_since].into_iter().flatten().min()
    }
}

/// What screening decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screened {
    /// Route the call; `only_buyer`: offer it to that buyer alone (a repeat caller sent back).
    Pass {
        only_buyer: Option<i64>,
    },
    Blocked(Block),
}

impl Screened {
    pub fn block(&self) -> Option<&Block> {
        match self {
            Screened::Blocked(b) => Some(b),
            Screened::Pass { .. } => None,
        }
    }
}

fn blocked(rule: BlockRule, detail: String) -> Screened {
    Screened::Blocked(Block { rule, detail })
}

/// Screens a call to `campaign` (with settings `s`) at `now`.
pub fn screen(
    call: &CallFacts<'_>,
    campaign: i64,
    s: &Screening,
    blocklist: &Blocklist,
    history: &History,
    now: DateTime<Utc>,
) -> Screened {
    if let Some(e) = blocklist.find(call.caller, campaign, now) {
        let scope = if e.campaign_id.is_some() { "this campaign's" } else { "the global" };
        let what = match e.kind {
            BlockKind::Exact => format!("{} is on {scope} blocklist (entry {})", call.caller, e.id),
            BlockKind::Prefix => format!("{} starts with {}, on {scope} blocklist (entry {})", call.caller, e.number, e.id),
        };
        return blocked(BlockRule::Blocklist, what);
    }
    let anonymous = is_anonymous(call.caller);
    if anonymous && s.anonymous == ScreenAction::Block {
        return blocked(BlockRule::Anonymous, format!("the caller withheld its number (From {:?})", call.caller));
    }
    if s.min_attestation != Attestation::None {
        let min = level_name(s.min_attestation);
        match call.stir_verstat.map(|v| (v, Verstat::parse(v))) {
            None if s.missing_attestation == ScreenAction::Block => {
                return blocked(BlockRule::Attestation, format!("no StirVerstat, and the campaign wants attestation {min} or better"));
            }
            None => {}
            Some((_, Verstat::Passed(level))) if level >= s.min_attestation => {}
            Some((raw, _)) => {
                return blocked(BlockRule::Attestation, format!("StirVerstat {raw} is below the campaign's minimum attestation {min}"));
            }
        }
    }
    if anonymous {
        return Screened::Pass { only_buyer: None };
    }
    let w = Windows::of(s, now);
    if w.rate_since.is_some() && history.rate_calls >= u32::try_from(s.rate_limit_calls).unwrap_or(u32::MAX) {
        return blocked(
            BlockRule::RateLimit,
            format!(
                "{} calls from this caller in the last {} minutes (limit {})",
                history.rate_calls, s.rate_limit_minutes, s.rate_limit_calls
            ),
        );
    }
    if w.qualified_since.is_some() && history.qualified {
        return blocked(
            BlockRule::QualifiedRepeat,
            format!("the caller had a qualified call in the last {} days", s.qualified_repeat_days),
        );
    }
    let recent = match (w.repeat_since, history.last_call_at) {
        (Some(since), Some(last)) if last >= since => Some(last),
        _ => None,
    };
    match (recent, s.repeat_action) {
        (Some(last), RepeatAction::Block) => {
            let ago = now.signed_duration_since(last).num_seconds().max(0);
            blocked(BlockRule::Repeat, format!("the caller called {ago} s ago (repeat window {} s)", s.repeat_window_secs))
        }
        (Some(_), RepeatAction::SameBuyer) => Screened::Pass { only_buyer: history.last_buyer },
        _ => Screened::Pass { only_buyer: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-06-10T15:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    fn entry(id: i64, number: &str, kind: BlockKind, campaign_id: Option<i64>, expires_at: Option<DateTime<Utc>>) -> Entry {
        Entry { id, number: number.into(), kind, campaign_id, expires_at }
    }

    fn call(caller: &str) -> CallFacts<'_> {
        CallFacts { caller, stir_verstat: None }
    }

    fn rule_of(s: &Screened) -> Option<BlockRule> {
        s.block().map(|b| b.rule)
    }

    const CALLER: &str = "+14155550123";

    #[test]
    fn defaults_block_nobody() {
        let list = Blocklist::default();
        let busy = History { last_call_at: Some(now()), rate_calls: 1000, qualified: true, last_buyer: Some(3) };
        for from in [CALLER, "Anonymous", "+266696687", ""] {
            let c = CallFacts { caller: from, stir_verstat: Some("TN-Validation-Failed") };
            assert_eq!(screen(&c, 1, &Screening::default(), &list, &busy, now()), Screened::Pass { only_buyer: None }, "{from}");
        }
        assert_eq!(Windows::of(&Screening::default(), now()).since(), None, "no history is read");
    }

    #[test]
    fn blocklist_exact_prefix_scope_and_expiry() {
        let later = now() + Duration::hours(1);
        let list = Blocklist::new([
            entry(1, "+14155550123", BlockKind::Exact, None, Some(now())),
            entry(2, "+1415", BlockKind::Prefix, Some(7), None),
            entry(3, "+1212", BlockKind::Prefix, None, Some(later)),
            entry(4, "+12125550199", BlockKind::Exact, Some(7), None),
        ]);
        let s = Screening::default();
        let h = History::default();
        let blocks = |caller: &str, campaign: i64| screen(&call(caller), campaign, &s, &list, &h, now()).block().map(|b| b.detail.clone());
        // Entry 1 expired at `now` exactly: it no longer blocks; the prefix of campaign 7 does.
        assert_eq!(blocks(CALLER, 8), None);
        assert!(blocks(CALLER, 7).is_some_and(|d| d.contains("starts with +1415") && d.contains("entry 2")));
        assert!(blocks("+12125550100", 8).is_some_and(|d| d.contains("global") && d.contains("entry 3")));
        // An exact entry wins over a prefix.
        assert!(blocks("+12125550199", 7).is_some_and(|d| d.contains("entry 4")));
        assert!(blocks("+13105550100", 7).is_none());
        assert_eq!(list.len(), 4);
    }

    #[test]
    fn anonymous_callers() {
        for from in ["Anonymous", "Restricted", "", "+266696687", "+7378742833", "+86282452253", "+2562533", "+8656696", "12025550123"] {
            assert!(is_anonymous(from), "{from}");
        }
        for from in [CALLER, "+442071234567", "+26650123456"] {
            assert!(!is_anonymous(from), "{from}");
        }
        let s = Screening { anonymous: ScreenAction::Block, ..Screening::default() };
        let list = Blocklist::default();
        let h = History::default();
        assert_eq!(rule_of(&screen(&call("+266696687"), 1, &s, &list, &h, now())), Some(BlockRule::Anonymous));
        assert_eq!(rule_of(&screen(&call(CALLER), 1, &s, &list, &h, now())), None);
    }

    #[test]
    fn each_attestation_against_each_minimum() {
        let values = [
            ("TN-Validation-Passed-A", Some(Attestation::A)),
            ("TN-Validation-Passed-B", Some(Attestation::B)),
            ("TN-Validation-Passed-C", Some(Attestation::C)),
            ("TN-Validation-Passed-B-Diverted", Some(Attestation::B)),
            ("TN-Validation-Failed", None),
            ("TN-Validation-Failed-A", None),
            ("TN-Validation-Failed-C-Diverted", None),
            ("No-TN-Validation", None),
            ("No-TN-Validation-Diverted", None),
            ("something new", None),
        ];
        let list = Blocklist::default();
        let h = History::default();
        for min in [Attestation::None, Attestation::C, Attestation::B, Attestation::A] {
            let s = Screening { min_attestation: min, ..Screening::default() };
            for (value, level) in values {
                let c = CallFacts { caller: CALLER, stir_verstat: Some(value) };
                let passes = min == Attestation::None || level.is_some_and(|l| l >= min);
                let got = screen(&c, 1, &s, &list, &h, now());
                assert_eq!(rule_of(&got).is_none(), passes, "{value} against {min:?}: {got:?}");
                if !passes {
                    assert!(got.block().is_some_and(|b| b.detail.contains(value)), "{got:?}");
                }
            }
            // Absent: the campaign's choice, when it wants a minimum.
            for missing in [ScreenAction::Allow, ScreenAction::Block] {
                let s = Screening { min_attestation: min, missing_attestation: missing, ..Screening::default() };
                let got = screen(&call(CALLER), 1, &s, &list, &h, now());
                let blocked = min != Attestation::None && missing == ScreenAction::Block;
                assert_eq!(rule_of(&got) == Some(BlockRule::Attestation), blocked, "{min:?} {missing:?}");
            }
        }
    }

    #[test]
    fn repeat_rules() {
        let list = Blocklist::default();
        let ago = |secs: i64| Some(now() - Duration::seconds(secs));
        let s = |action| Screening { repeat_window_secs: 300, repeat_action: action, ..Screening::default() };
        let within = History { last_call_at: ago(299), last_buyer: Some(9), ..History::default() };
        let outside = History { last_call_at: ago(301), last_buyer: None, ..History::default() };
        let blocked = screen(&call(CALLER), 1, &s(RepeatAction::Block), &list, &within, now());
        assert_eq!(rule_of(&blocked), Some(BlockRule::Repeat));
        assert!(blocked.block().is_some_and(|b| b.detail.contains("299 s ago")), "{blocked:?}");
        assert_eq!(screen(&call(CALLER), 1, &s(RepeatAction::Block), &list, &outside, now()), Screened::Pass { only_buyer: None });
        assert_eq!(screen(&call(CALLER), 1, &s(RepeatAction::Allow), &list, &within, now()), Screened::Pass { only_buyer: None });
        assert_eq!(screen(&call(CALLER), 1, &s(RepeatAction::SameBuyer), &list, &within, now()), Screened::Pass { only_buyer: Some(9) });
        // No buyer took the last call: routed like any call.
        let unrouted = History { last_buyer: None, ..within };
        assert_eq!(screen(&call(CALLER), 1, &s(RepeatAction::SameBuyer), &list, &unrouted, now()), Screened::Pass { only_buyer: None });
        assert_eq!(Windows::of(&s(RepeatAction::Allow), now()).since(), None, "allow needs no history");
        assert_eq!(Windows::of(&s(RepeatAction::Block), now()).since(), ago(300));
    }

    #[test]
    fn qualified_repeat_and_rate_limit() {
        let list = Blocklist::default();
        let s = Screening { qualified_repeat_days: 30, rate_limit_calls: 3, rate_limit_minutes: 10, ..Screening::default() };
        let w = Windows::of(&s, now());
        assert_eq!(w.since(), Some(now() - Duration::days(30)));
        assert_eq!(w.rate_since, Some(now() - Duration::minutes(10)));
        let check = |h: History| rule_of(&screen(&call(CALLER), 1, &s, &list, &h, now()));
        assert_eq!(check(History { rate_calls: 2, ..History::default() }), None, "the third call is allowed");
        assert_eq!(check(History { rate_calls: 3, ..History::default() }), Some(BlockRule::RateLimit), "the fourth is not");
        assert_eq!(check(History { qualified: true, ..History::default() }), Some(BlockRule::QualifiedRepeat));
        // Anonymous callers share a stand-in number: no history rule applies to them.
        let h = History { rate_calls: 50, qualified: true, ..History::default() };
        assert_eq!(rule_of(&screen(&call("Anonymous"), 1, &s, &list, &h, now())), None);
    }
}
