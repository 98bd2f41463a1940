//! `route`: from a call, its candidate buyers and the time to the ordered
//! list of buyers to ring, with a verdict for every candidate.
//!
//! Pure: no I/O, no clock, no randomness. The I/O layer loads the candidates
//! with their live figures (calls in progress, cap counters for the current
//! [`period_keys`](super::period_keys), recent volume), calls [`route`], rings
//! `ranked` in order, and claims each slot with a conditional update before
//! ringing (a concurrent call may have taken it since the load).

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::distribution::{order_eligible, Share};
use super::geo;
use super::local_time::LocalClocks;
use super::tags::{self, Rule};
use callbroker_wire::routing::{Decision, Reason, RoutingPolicy, Verdict};
use callbroker_wire::schedule::{ClockTime, WeeklySchedule};
use callbroker_wire::screening::Tags;

/// The call being routed, with what the I/O layer found about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    /// The caller's number, E.164 (`+12015550123`).
    pub caller: String,
    /// The number dialled (the campaign's tracking number), E.164. No rule
    /// uses it yet.
    pub dialled: String,
    /// Twilio's `FromState` (two-letter code), when sent; it beats the area
    /// code.
    pub from_state: Option<String>,
    /// The routing instant; every time rule is evaluated at it.
    pub now: DateTime<Utc>,
    /// False when the campaign is paused: nobody is ranked.
    pub campaign_active: bool,
    /// The buyer that took this caller's last call within the campaign's
    /// repeat window, if any.
    pub repeat_buyer: Option<i64>,
    /// Buyers already tried on this call (failover); they are skipped.
    pub exclude: Vec<i64>,
    /// The call's tags, which buyers' tag rules are checked against.
    pub tags: Tags,
    /// When set, only this buyer may take the call (the campaign sends repeat callers back to
    /// the buyer of their last call); every other one is skipped.
    pub only_buyer: Option<i64>,
    /// When set (an IVR answer), only buyers carrying this label may take the call.
    pub only_label: Option<String>,
    /// How each priority tier is ordered (by weight, price or earnings per call).
    pub policy: Arc<RoutingPolicy>,
    /// 0 to 99, drawn by the I/O layer per call (from its `CallSid`): the call is one of an
    /// `epc` tier's exploration share when below the campaign's `exploration_percent`.
    pub explore_draw: u8,
}

/// Optional caps per local hour, day and month; `None` is unlimited and
/// `Some(0)` takes no calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caps {
    pub hourly: Option<u32>,
    pub daily: Option<u32>,
    pub monthly: Option<u32>,
}

/// Calls already counted for the buyer in the current local hour, day and
/// month (the I/O layer resets a counter when its period key changes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeriodCounts {
    pub hour: u32,
    pub day: u32,
    pub month: u32,
}

/// A buyer of the campaign with its live figures.
///
/// `buyer_id` must be unique within one `route` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub buyer_id: i64,
    pub name: String,
    pub active: bool,
    /// Effective priority for this campaign: higher is tried first, strictly.
    pub priority: i32,
    /// Share among buyers of equal priority; 0 counts as 1 (the API should
    /// refuse 0).
    pub weight: u32,
    /// Calls it takes at once; 0 means it takes none.
    pub max_concurrent: u32,
    pub in_progress: u32,
    pub caps: Caps,
    pub counts: PeriodCounts,
    /// The zone its schedule and caps are written in.
    pub timezone: Tz,
    /// Empty: always open.
    pub schedule: WeeklySchedule,
    /// When non-empty, only callers from these states (two-letter codes).
    pub allowed_states: Vec<String>,
    /// Never callers from these states.
    pub denied_states: Vec<String>,
    /// Whether a repeat caller goes back to this buyer first.
    pub sticky_repeat_callers: bool,
    /// Its recent call volume, the basis of even distribution (the I/O
    /// layer picks the span, the same for all candidates).
    pub recent_calls: u32,
    /// When it last got a call; breaks ties in favour of the longest wait.
    pub last_call_at: Option<DateTime<Utc>>,
    /// Every rule must hold for the call's tags (shared with the directory: not copied per call).
    pub tag_rules: Arc<[Rule]>,
    /// Labels an IVR answer can keep a call to (shared with the directory).
    pub labels: Arc<[String]>,
    /// Its price per qualified call on the campaign (micro-units): `revenue` tiers order by it.
    pub price_micros: i64,
    /// Its settled calls and revenue on the campaign over the policy's EPC window: `epc` tiers
    /// order by revenue per call.
    pub earnings: Earnings,
}

/// Settled calls and their revenue (micro-units) over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Earnings {
    pub calls: i64,
    pub revenue_micros: i64,
}

/// Ranks the candidates for `call`.
///
/// A candidate is skipped for the first of these that applies, in this order
/// (its verdict names it): campaign paused, already tried, not the repeat
/// caller's buyer (`only_buyer`), inactive, not carrying the IVR's label (`only_label`), state denied / not allowed /
/// unknown, a tag rule failing (the first, in the buyer's order), outside
/// hours, at capacity, hourly cap, daily cap, monthly cap. The eligible ones are ordered by priority
/// (strictly), then by even distribution within a priority (see
/// `distribution.rs`); a sticky repeat buyer, when eligible, is then moved
/// to the front whatever its priority, the others keeping their order.
///
/// `Decision::verdicts` follows the order of `candidates`; the result does not
/// depend on that order otherwise. The decision borrows the candidates' names
/// (see [`Decision::into_owned`]).
pub fn route<'a>(call: &CallInfo, candidates: &'a [Candidate]) -> Decision<'a> {
    let caller_state = geo::caller_state(call.from_state.as_deref(), &call.caller);
    if !call.campaign_active {
        return Decision {
            ranked: Vec::new(),
            verdicts: candidates.iter().map(|c| skipped(c, Reason::CampaignPaused)).collect(),
            caller_state,
        };
    }
    // The state as lent to skip reasons (no allocation per candidate).
    let state = caller_state.as_ref().map(|s| geo::state_code(&s.state));
    let state = state.as_ref();
    let mut clocks = LocalClocks::new(call.now);

    // One pass: a verdict per candidate (eligible ones get their rank below)
    // and the eligible ones' figures for ordering.
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(candidates.len());
    let mut eligible: Vec<Share> = Vec::new();
    for (index, c) in candidates.iter().enumerate() {
        match skip_reason(call, state, c, &mut clocks) {
            Some(reason) => verdicts.push(skipped(c, reason)),
            None => {
                eligible.push(Share::new(index, c));
                verdicts.push(Verdict {
                    buyer_id: c.buyer_id,
                    name: Cow::Borrowed(&c.name),
                    eligible: true,
                    rank: None,
                    reason: Reason::RepeatCaller, // set with the rank below
                    figures: None,
                });
            }
        }
    }

    order_eligible(&mut eligible);
    let figures = super::value::order_tiers(&mut eligible, candidates, &call.policy, call.explore_draw);
    // A sticky repeat buyer moves to the front; the others keep their order.
    let repeat = call.repeat_buyer.and_then(|id| {
        let pos = eligible.iter().position(|s| s.buyer_id == id && candidates[s.index].sticky_repeat_callers)?;
        eligible[..=pos].rotate_right(1);
        Some(eligible[0].index)
    });

    let mut ranked = Vec::with_capacity(eligible.len());
    for (place, index) in eligible.iter().map(|s| s.index).enumerate() {
        let rank = u32::try_from(place + 1).unwrap_or(u32::MAX);
        let c = &candidates[index];
        let v = &mut verdicts[index];
        v.rank = Some(rank);
        v.figures = figures.get(&index).copied();
        if Some(index) != repeat {
            v.reason = Reason::Selected { rank, priority: c.priority, weight: c.weight.max(1), recent_calls: c.recent_calls };
        }
        ranked.push(c.buyer_id);
    }

    Decision { ranked, verdicts, caller_state }
}

fn skipped(c: &Candidate, reason: Reason) -> Verdict<'_> {
    Verdict { buyer_id: c.buyer_id, name: Cow::Borrowed(&c.name), eligible: false, rank: None, reason, figures: None }
}

/// The first rule `c` fails for this call, or `None` when eligible.
fn skip_reason(call: &CallInfo, state: Option<&Cow<'static, str>>, c: &Candidate, clocks: &mut LocalClocks) -> Option<Reason> {
    if call.exclude.contains(&c.buyer_id) {
        return Some(Reason::AlreadyTried);
    }
    if let Some(only) = call.only_buyer.filter(|&b| b != c.buyer_id) {
        return Some(Reason::NotRepeatBuyer { buyer_id: only });
    }
    if !c.active {
        return Some(Reason::Inactive);
    }
    if let Some(label) = call.only_label.as_deref().filter(|l| !super::ivr::has_label(&c.labels, l)) {
        return Some(Reason::NotLabelled { label: Cow::Owned(label.to_string()) });
    }
    if let Err(reason) = geo::check_states(state, &c.allowed_states, &c.denied_states) {
        return Some(reason);
    }
    if let Some(reason) = tags::first_failing(&c.tag_rules, &call.tags) {
        return Some(reason);
    }
    if !c.schedule.is_always_open() {
        let local = clocks.clock(c.timezone);
        if !c.schedule.is_open(local.day, local.minute) {
            return Some(Reason::OutsideHours {
                day: local.day,
                local_time: ClockTime::from_minutes(local.minute).unwrap_or(ClockTime::MIDNIGHT),
                utc_offset_minutes: local.utc_offset_minutes,
                timezone: Cow::Borrowed(c.timezone.name()),
            });
        }
    }
    if c.in_progress >= c.max_concurrent {
        return Some(Reason::AtCapacity { in_progress: c.in_progress, max: c.max_concurrent });
    }
    let capped = |count: u32, cap: Option<u32>| cap.filter(|&cap| count >= cap).map(|cap| (count, cap));
    if let Some((count, cap)) = capped(c.counts.hour, c.caps.hourly) {
        return Some(Reason::HourlyCap { count, cap });
    }
    if let Some((count, cap)) = capped(c.counts.day, c.caps.daily) {
        return Some(Reason::DailyCap { count, cap });
    }
    if let Some((count, cap)) = capped(c.counts.month, c.caps.monthly) {
        return Some(Reason::MonthlyCap { count, cap });
    }
    None
}
