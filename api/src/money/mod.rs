//! Money: what each completed call earns (revenue from the buyer), pays (the publisher's payout)
//! and costs (telephony), under the campaign's rules with per-buyer and per-publisher overrides.
//! Pure: the call flow reads what settling needs and writes what [`settle`] returns.
//!
//! A call is *settled* once it is final and the length of every answered buyer leg is known
//! ([`ready`]; the callbacks arrive in any order). Settling snapshots the rule in force onto the
//! call (`rule_*` columns), so later rule changes never rewrite past calls; a recompute re-applies
//! the current rules on an admin's explicit request ([`RuleChoice::Current`]).
//!
//! Settling also says what the call changes in the hourly rollups: it takes away what the call
//! contributed before (derived from its stored settled columns) and adds what it contributes now,
//! so settling again never counts twice.
pub mod rollup;

use chrono::NaiveDateTime;

use crate::domain::states::QualifyReason;
use crate::store::calls::flow::CallState;
use crate::store::calls::{CallRow, LegRow};
use crate::store::directory::Directory;
use crate::store::rollups::RollupRow;

/// The rule in force for one call, after overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub currency: String,
    pub revenue_micros: i64,
    pub payout_micros: i64,
    pub buffer_secs: i32,
    pub duplicate_window_secs: i32,
}

/// A campaign's own rules and the overrides that may apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    pub campaign: Rules,
    /// The buyer's (price, buffer) overrides on this campaign.
    pub buyer: Option<(Option<i64>, Option<i32>)>,
    /// The publisher's payout override on this campaign.
    pub publisher_payout: Option<i64>,
}

impl RuleSet {
    /// The rules of `campaign` with the overrides of `buyer` and `publisher`, from the directory.
    pub fn of(dir: &Directory, campaign: i64, buyer: Option<i64>, publisher: Option<i64>) -> Option<RuleSet> {
        let c = dir.campaign(campaign)?;
        let row = &c.row;
        Some(RuleSet {
            campaign: Rules {
                currency: row.currency.clone(),
                revenue_micros: row.revenue_micros,
                payout_micros: row.payout_micros,
                buffer_secs: row.buffer_secs,
                duplicate_window_secs: row.duplicate_window_secs,
            },
            buyer: buyer.and_then(|b| c.assignment(b)).map(|a| (a.revenue_micros, a.buffer_secs)),
            publisher_payout: publisher.and_then(|p| c.publisher_payouts.get(&p).copied()),
        })
    }

    /// The effective rule: a buyer override beats the campaign for price and buffer, a publisher
    /// override beats it for the payout.
    pub fn resolve(&self) -> Rules {
        let mut r = self.campaign.clone();
        if let Some((price, buffer)) = self.buyer {
            if let Some(p) = price {
                r.revenue_micros = p;
            }
            if let Some(b) = buffer {
                r.buffer_secs = b;
            }
        }
        if let Some(p) = self.publisher_payout {
            r.payout_micros = p;
        }
        r
    }
}

/// What is known about a finished call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools, reason = "independent facts of a call, each read by the rules table")]
pub struct Facts {
    /// Screening blocked it before any buyer was considered.
    pub blocked: bool,
    /// No buyer could take it.
    pub no_buyer: bool,
    /// A buyer answered.
    pub connected: bool,
    /// Seconds the answered buyer leg lasted.
    pub talk_secs: i32,
    /// The caller called this campaign within the duplicate window before.
    pub duplicate: bool,
    /// Telephony cost, when known.
    pub cost_micros: Option<i64>,
}

/// The money of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub qualified: bool,
    pub reason: QualifyReason,
    pub revenue_micros: i64,
    pub payout_micros: i64,
    pub profit_micros: i64,
}

/// Applies a rule to the facts.
pub fn compute(rules: &Rules, f: &Facts) -> Settlement {
    let reason = if f.blocked {
        QualifyReason::Blocked
    } else if f.no_buyer {
        QualifyReason::NoBuyer
    } else if !f.connected {
        QualifyReason::NotConnected
    } else if f.duplicate {
        QualifyReason::Duplicate
    } else if f.talk_secs < rules.buffer_secs {
        QualifyReason::Short
    } else {
        QualifyReason::Qualified
    };
    let qualified = reason == QualifyReason::Qualified;
    let (revenue, payout) = if qualified { (rules.revenue_micros, rules.payout_micros) } else { (0, 0) };
    Settlement {
        qualified,
        reason,
        revenue_micros: revenue,
        payout_micros: payout,
        profit_micros: revenue.saturating_sub(payout).saturating_sub(f.cost_micros.unwrap_or(0)),
    }
}

/// Whether a leg's buyer took the call: it answered, and its agent accepted when it had to.
pub fn leg_answered(l: &LegRow) -> bool {
    l.acceptance().took(crate::callflow::lifecycle::answered(Some(l.status.progress()), l.answered_at, l.duration_secs))
}

/// The seconds of a buyer leg that count as talk time (the buffer is measured against them):
/// the leg's length (`duration_secs`), or, when its agent accepted the call (`accepted_at`), the
/// part of it after the acceptance: the whisper and the wait for a key are the buyer's own time.
/// The acceptance is placed on the leg by its answer (`answered_at`), else by its end. `None`
/// while the leg's length is unknown.
pub fn talk_secs(
    duration_secs: Option<i32>,
    answered_at: Option<NaiveDateTime>,
    ended_at: Option<NaiveDateTime>,
    accepted_at: Option<NaiveDateTime>,
) -> Option<i32> {
    let duration = duration_secs?.max(0);
    let Some(accepted) = accepted_at else { return Some(duration) };
    // Seconds from `from` to `to`, within the leg.
    let between =
        |from: NaiveDateTime, to: NaiveDateTime| i32::try_from((to - from).num_seconds().clamp(0, i64::from(duration))).unwrap_or(duration);
    Some(match (answered_at, ended_at) {
        (Some(answered), _) => duration - between(answered, accepted),
        (None, Some(ended)) => between(accepted, ended),
        // Nothing to place the acceptance by: the whole leg.
        (None, None) => duration,
    })
}

/// [`talk_secs`] of a leg.
pub fn leg_talk_secs(l: &LegRow) -> Option<i32> {
    talk_secs(l.duration_secs, l.answered_at, l.ended_at, l.accepted_at)
}

/// Whether the call can be settled: it is over and every answered leg has ended (so its length,
/// the talk time, is known).
pub fn ready(state: &CallState) -> bool {
    state.call.is_over() && !state.legs.iter().any(|l| leg_answered(l) && !l.status.is_final())
}

/// The leg the call is paid for: the answered one with the most talk time.
fn answered_leg(legs: &[LegRow]) -> Option<&LegRow> {
    legs.iter().filter(|l| leg_answered(l)).max_by_key(|l| (leg_talk_secs(l).unwrap_or(0), l.id))
}

/// The buyer credited with the call's money.
pub fn money_buyer(state: &CallState) -> Option<i64> {
    match answered_leg(&state.legs) {
        Some(l) if l.bidder_id.is_some() => None,
        Some(l) => l.buyer_id.or(state.call.buyer_id),
        None => state.call.buyer_id,
    }
}

/// The bidder credited with the call's money (its answered leg was dialled on a bid).
pub fn money_bidder(state: &CallState) -> Option<i64> {
    answered_leg(&state.legs).and_then(|l| l.bidder_id)
}

/// How [`rules_for`] picks the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleChoice {
    /// The rule already on the call when there is one (else the current one).
    Keep,
    /// The campaign's current rule (an explicit recompute).
    Current,
}

/// The rule to settle `state` under: its snapshot, or the directory's current one.
pub fn rules_for(state: &CallState, choice: RuleChoice, dir: &Directory) -> Option<Rules> {
    let c = &state.call;
    if choice == RuleChoice::Keep {
        if let (Some(currency), Some(revenue_micros), Some(payout_micros), Some(buffer_secs), Some(duplicate_window_secs)) =
            (c.currency.clone(), c.rule_revenue_micros, c.rule_payout_micros, c.rule_buffer_secs, c.rule_duplicate_window_secs)
        {
            return Some(Rules { currency, revenue_micros, payout_micros, buffer_secs, duplicate_window_secs });
        }
    }
    let campaign = c.campaign_id?;
    let mut rules = RuleSet::of(dir, campaign, money_buyer(state), c.publisher_id)?.resolve();
    let payout_percent = dir.campaign(campaign).and_then(|c| c.routing.bids.payout_percent);
    if let Some(leg) = answered_leg(&state.legs) {
        apply_bid(&mut rules, leg.bid_micros, leg.bid_min_duration_secs, payout_percent);
    }
    if let Some(quoted) = c.quote_payout_micros {
        rules.payout_micros = quoted;
    }
    Some(rules)
}

/// The rule of a call paid by a bid: the bid is the revenue, its minimum duration (when it
/// named one) the buffer, and the payout a share of the bid when the campaign pays one.
pub fn apply_bid(rules: &mut Rules, bid_micros: Option<i64>, min_duration_secs: Option<i32>, payout_percent: Option<i32>) {
    let Some(bid) = bid_micros else { return };
    rules.revenue_micros = bid;
    if let Some(secs) = min_duration_secs {
        rules.buffer_secs = secs;
    }
    if let Some(pct) = payout_percent {
        rules.payout_micros = bid.saturating_mul(i64::from(pct.clamp(0, 100))) / 100;
    }
}

/// The start of the window in which an earlier call of the same caller makes this one a
/// duplicate; `None` when the rule has no window.
pub fn duplicate_since(call: &CallRow, rules: &Rules) -> Option<NaiveDateTime> {
    (rules.duplicate_window_secs > 0 && call.campaign_id.is_some())
        .then(|| call.started_at - chrono::Duration::seconds(i64::from(rules.duplicate_window_secs)))
}

/// What settling changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// The call with its settled columns.
    pub call: CallRow,
    /// Legs whose rollup counting changed.
    pub legs: Vec<LegRow>,
    /// The rollup changes.
    pub rollups: Vec<RollupRow>,
    /// The verdict changed (first settlement, a cost that arrived, a recompute): announce it.
    pub verdict_changed: bool,
    /// The call has just become qualified (its postback goes out).
    pub newly_qualified: bool,
}

/// Settles `state` under `rules` at `now`; `duplicate`: whether it repeats an earlier call within
/// the rule's window.
pub fn settle(state: &CallState, rules: Option<&Rules>, duplicate: bool, now: NaiveDateTime) -> Settled {
    let call = &state.call;
    let answered = answered_leg(&state.legs);
    let buyer = money_buyer(state);
    let talk_secs = answered.and_then(leg_talk_secs).unwrap_or(0);
    let no_buyer = call.outcome == crate::domain::states::Outcome::NoBuyer;
    let duplicate = duplicate && rules.is_some();
    let blocked = call.outcome == crate::domain::states::Outcome::Blocked;
    let facts = Facts { blocked, no_buyer, connected: answered.is_some(), talk_secs, duplicate, cost_micros: call.cost_micros };
    let (qualified, reason, revenue, payout, profit) = match rules {
        Some(r) => {
            let s = compute(r, &facts);
            (s.qualified, s.reason, s.revenue_micros, s.payout_micros, s.profit_micros)
        }
        None => (false, QualifyReason::NoCampaign, 0, 0, -call.cost_micros.unwrap_or(0)),
    };
    let settled = CallRow {
        settled_at: Some(call.settled_at.unwrap_or(now)),
        money_buyer_id: buyer,
        money_bidder_id: money_bidder(state),
        answered: facts.connected,
        no_buyer,
        talk_secs,
        duplicate,
        qualified: Some(qualified),
        qualify_reason: Some(reason),
        currency: rules.map(|r| r.currency.clone()),
        rule_revenue_micros: rules.map(|r| r.revenue_micros),
        rule_payout_micros: rules.map(|r| r.payout_micros),
        rule_buffer_secs: rules.map(|r| r.buffer_secs),
        rule_duplicate_window_secs: rules.map(|r| r.duplicate_window_secs),
        revenue_micros: revenue,
        payout_micros: payout,
        counted_cost_micros: call.cost_micros.unwrap_or(0),
        profit_micros: Some(profit),
        ..call.clone()
    };
    let before = rollup::contribution(call);
    let after = rollup::contribution(&settled);
    let mut delta = rollup::Delta::default();
    delta.replace(before.as_ref(), after.as_ref());
    // Legs: each counts once as offered to its buyer, and as connected when its buyer answered.
    let mut legs = vec![];
    for l in &state.legs {
        let connected = leg_answered(l);
        if l.counted && l.counted_connected == connected {
            continue;
        }
        let key = rollup::Key { buyer_id: l.buyer_id.unwrap_or(0), ..rollup::Key::of(call) };
        let offered = i64::from(!l.counted);
        let connected_delta = i64::from(connected) - i64::from(l.counted_connected);
        delta.add(key, rollup::Sums { offered, connected: connected_delta, ..Default::default() });
        legs.push(LegRow { counted: true, counted_connected: connected, ..l.clone() });
    }
    Settled {
        verdict_changed: before != after,
        newly_qualified: qualified && call.qualified != Some(true),
        call: settled,
        legs,
        rollups: delta.rows(crate::store::rollups::shard_of(call.id)),
    }
}

/// The money verdict of a settled call, as live events carry it.
pub fn verdict(c: &CallRow) -> callbroker_wire::LiveQualification {
    callbroker_wire::LiveQualification {
        qualified: c.qualified.unwrap_or(false),
        reason: c.qualify_reason.map(|r| r.as_str().to_string()),
        currency: c.currency.clone().or_else(|| c.cost_currency.clone()).unwrap_or_default(),
        payout_micros: c.payout_micros,
        revenue_micros: Some(c.revenue_micros),
        cost_micros: c.cost_micros,
        profit_micros: c.profit_micros,
    }
}

#[cfg(test)]
mod tests;
