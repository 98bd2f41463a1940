//! Money: what each completed call earns (revenue from the buyer), pays (the publisher's payout)
//! and costs (telephony), under the campaign's rules with per-buyer and per-publisher overrides.
//!
//! A call is *settled* once it is final and the length of every answered buyer leg is known (the
//! callbacks arrive in any order; [`settle_if_ready`] is called after each of them and is
//! idempotent). Settling snapshots the rule in force onto the call (`rule_*` columns), so later
//! rule changes never rewrite past calls; [`recompute`] re-applies the current rules to a date
//! range on an admin's explicit request.
//!
//! The hourly rollups (`call_rollups`) are kept in the same transaction: settling subtracts what
//! the call contributed before (derived from its stored settled columns) and adds what it
//! contributes now, so re-settling never double counts. Inside `Db::write` the upsert is written
//! last thing before the commit (see [`rollup::flush_deferred`]).
pub mod rollup;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{direct, update};

use crate::db::schema::{call_legs, calls, campaign_buyers, campaign_publishers, campaigns};
use crate::db::DbConnection;
use crate::error::Error;
use crate::store::calls::{CallRow, LegRow};
use crate::twilio::params::CallStatus;

/// Why a call is or is not qualified (the `qualify_reason` column).
pub mod reason {
    pub const QUALIFIED: &str = "qualified";
    pub const DUPLICATE: &str = "duplicate";
    pub const NO_BUYER: &str = "no_buyer";
    pub const NOT_CONNECTED: &str = "not_connected";
    pub const SHORT: &str = "short";
    pub const NO_CAMPAIGN: &str = "no_campaign";
}

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
pub struct Facts {
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
    pub reason: &'static str,
    pub revenue_micros: i64,
    pub payout_micros: i64,
    pub profit_micros: i64,
}

/// Applies a rule to the facts. Pure; the rules table tests drive it.
pub fn compute(rules: &Rules, f: &Facts) -> Settlement {
    let reason = if f.no_buyer {
        reason::NO_BUYER
    } else if !f.connected {
        reason::NOT_CONNECTED
    } else if f.duplicate {
        reason::DUPLICATE
    } else if f.talk_secs < rules.buffer_secs {
        reason::SHORT
    } else {
        reason::QUALIFIED
    };
    let qualified = reason == reason::QUALIFIED;
    let (revenue, payout) = if qualified { (rules.revenue_micros, rules.payout_micros) } else { (0, 0) };
    Settlement {
        qualified,
        reason,
        revenue_micros: revenue,
        payout_micros: payout,
        profit_micros: revenue.saturating_sub(payout).saturating_sub(f.cost_micros.unwrap_or(0)),
    }
}

/// Whether a leg's buyer answered.
pub fn leg_answered(l: &LegRow) -> bool {
    crate::callflow::lifecycle::answered(CallStatus::parse(&l.status), l.answered_at, l.duration_secs)
}

fn leg_final(l: &LegRow) -> bool {
    CallStatus::parse(&l.status).is_some_and(CallStatus::is_final)
}

/// Loads the rules of `campaign` with the overrides for `buyer` and `publisher`.
pub fn load_rules(conn: &mut DbConnection, campaign: i64, buyer: Option<i64>, publisher: Option<i64>) -> Result<Option<RuleSet>, Error> {
    // One query: the overrides are left-joined, for either may be missing (and a missing buyer or
    // publisher matches no row).
    let query = campaigns::table
        .left_join(
            campaign_buyers::table.on(campaign_buyers::campaign_id.eq(campaigns::id).and(campaign_buyers::buyer_id.nullable().eq(buyer))),
        )
        .left_join(
            campaign_publishers::table
                .on(campaign_publishers::campaign_id.eq(campaigns::id).and(campaign_publishers::publisher_id.nullable().eq(publisher))),
        )
        .filter(campaigns::id.eq(campaign))
        .select((
            (
                campaigns::currency,
                campaigns::revenue_micros,
                campaigns::payout_micros,
                campaigns::buffer_secs,
                campaigns::duplicate_window_secs,
            ),
            (campaign_buyers::buyer_id, campaign_buyers::revenue_micros, campaign_buyers::buffer_secs).nullable(),
            campaign_publishers::payout_micros.nullable(),
        ));
    type Found = ((String, i64, i64, i32, i32), Option<(i64, Option<i64>, Option<i32>)>, Option<i64>);
    let found: Option<Found> = direct::run!(conn, first, query).optional()?;
    Ok(found.map(|((currency, revenue_micros, payout_micros, buffer_secs, duplicate_window_secs), buyer, publisher_payout)| RuleSet {
        campaign: Rules { currency, revenue_micros, payout_micros, buffer_secs, duplicate_window_secs },
        buyer: buyer.map(|(_, price, buffer)| (price, buffer)),
        publisher_payout,
    }))
}

/// Whether `call` repeats a call of the same caller to the same campaign started at most
/// `window_secs` before it.
fn is_duplicate(conn: &mut DbConnection, call: &CallRow, window_secs: i32) -> Result<bool, Error> {
    let Some(campaign) = call.campaign_id else { return Ok(false) };
    if window_secs <= 0 {
        return Ok(false);
    }
    let since = call.started_at - chrono::Duration::seconds(i64::from(window_secs));
    let earlier = diesel::select(diesel::dsl::exists(
        calls::table
            .filter(calls::caller.eq(&call.caller))
            .filter(calls::started_at.ge(crate::db::stamp::Stamp(since)))
            .filter(calls::started_at.le(crate::db::stamp::Stamp(call.started_at)))
            .filter(calls::campaign_id.eq(campaign))
            .filter(calls::id.lt(call.id)),
    ));
    Ok(direct::run!(conn, get_result, earlier)?)
}

/// How [`settle`] picks the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleChoice {
    /// The rule already on the call when there is one (else the current one).
    Keep,
    /// The campaign's current rule (an explicit recompute).
    Current,
}

/// Settles the call if it is final and every answered buyer leg has ended; returns whether it did.
/// Call after any update of the call or its legs: idempotent.
pub fn settle_if_ready(conn: &mut DbConnection, call_id: i64) -> Result<bool, Error> {
    // Most callbacks come before the call is over: ask for its status alone first.
    let status: Option<String> = direct::run!(conn, first, calls::table.find(call_id).select(calls::status)).optional()?;
    let status = status.ok_or(Error::NotFound("call"))?;
    if !CallStatus::parse(&status).is_some_and(CallStatus::is_final) {
        return Ok(false);
    }
    let call = crate::store::calls::get_row(conn, call_id)?;
    let legs = crate::store::calls::legs(conn, call_id)?;
    settle_if_final(conn, call, &legs)
}

/// [`settle_if_ready`] for a caller that holds the call and its legs as they stand in its
/// transaction (locked, or read by SQLite's one writer).
pub fn settle_if_final(conn: &mut DbConnection, call: CallRow, legs: &[LegRow]) -> Result<bool, Error> {
    if !CallStatus::parse(&call.status).is_some_and(CallStatus::is_final) || legs.iter().any(|l| leg_answered(l) && !leg_final(l)) {
        return Ok(false);
    }
    settle_row(conn, call, legs, RuleChoice::Keep, crate::db::now())?;
    Ok(true)
}

/// Settles a call whatever its state (the reaper, when a leg's last callback never came).
pub fn settle(conn: &mut DbConnection, call_id: i64, choice: RuleChoice) -> Result<(), Error> {
    let call = crate::store::calls::get_row(conn, call_id)?;
    let legs = crate::store::calls::legs(conn, call_id)?;
    settle_row(conn, call, &legs, choice, crate::db::now())
}

fn settle_row(conn: &mut DbConnection, call: CallRow, legs: &[LegRow], choice: RuleChoice, now: NaiveDateTime) -> Result<(), Error> {
    let answered_leg = legs.iter().filter(|l| leg_answered(l)).max_by_key(|l| (l.duration_secs.unwrap_or(0), l.id));
    let buyer = answered_leg.and_then(|l| l.buyer_id).or(call.buyer_id);
    let snapshot = match (
        choice,
        call.currency.clone(),
        call.rule_revenue_micros,
        call.rule_payout_micros,
        call.rule_buffer_secs,
        call.rule_duplicate_window_secs,
    ) {
        (RuleChoice::Keep, Some(currency), Some(revenue_micros), Some(payout_micros), Some(buffer_secs), Some(duplicate_window_secs)) => {
            Some(Rules { currency, revenue_micros, payout_micros, buffer_secs, duplicate_window_secs })
        }
        _ => None,
    };
    let rules = match snapshot {
        Some(r) => Some(r),
        None => match call.campaign_id {
            Some(c) => load_rules(conn, c, buyer, call.publisher_id)?.map(|s| s.resolve()),
            None => None,
        },
    };
    let talk_secs = answered_leg.and_then(|l| l.duration_secs).unwrap_or(0).max(0);
    let no_buyer = call.outcome == crate::callflow::outcome::NO_BUYER;
    let duplicate = match &rules {
        Some(r) => is_duplicate(conn, &call, r.duplicate_window_secs)?,
        None => false,
    };
    let facts = Facts { no_buyer, connected: answered_leg.is_some(), talk_secs, duplicate, cost_micros: call.cost_micros };
    let (qualified, reason, revenue, payout, profit) = match &rules {
        Some(r) => {
            let s = compute(r, &facts);
            (s.qualified, s.reason, s.revenue_micros, s.payout_micros, s.profit_micros)
        }
        None => (false, reason::NO_CAMPAIGN, 0, 0, -call.cost_micros.unwrap_or(0)),
    };
    let before = rollup::Contribution::of(&call);
    let settled = crate::store::calls::update_row!(conn, call.clone(), {
        settled_at: Some(call.settled_at.unwrap_or(now)),
        money_buyer_id: buyer,
        answered: facts.connected,
        no_buyer: no_buyer,
        talk_secs: talk_secs,
        duplicate: duplicate,
        qualified: Some(qualified),
        qualify_reason: Some(reason.to_string()),
        currency: rules.as_ref().map(|r| r.currency.clone()),
        rule_revenue_micros: rules.as_ref().map(|r| r.revenue_micros),
        rule_payout_micros: rules.as_ref().map(|r| r.payout_micros),
        rule_buffer_secs: rules.as_ref().map(|r| r.buffer_secs),
        rule_duplicate_window_secs: rules.as_ref().map(|r| r.duplicate_window_secs),
        revenue_micros: revenue,
        payout_micros: payout,
        counted_cost_micros: call.cost_micros.unwrap_or(0),
        profit_micros: Some(profit),
    })?;
    let after = rollup::Contribution::of(&settled);
    if before != after {
        // A new or changed verdict (first settlement, a cost that arrived, a recompute).
        crate::live::emit(conn, crate::live::LiveEvent::Qualified { call_id: call.id, qualification: verdict(&settled) })?;
    }
    if qualified && call.qualified != Some(true) {
        crate::postback::enqueue_if_wanted(conn, &settled)?;
    }
    let mut delta = rollup::Delta::default();
    delta.replace(before.as_ref(), after.as_ref());
    // Legs: each counts once as offered to its buyer, and as connected when its buyer answered.
    for l in legs {
        let connected = leg_answered(l);
        if l.counted && l.counted_connected == connected {
            continue;
        }
        let key = rollup::Key { buyer_id: l.buyer_id.unwrap_or(0), ..rollup::Key::of(&call) };
        let offered = i64::from(!l.counted);
        let connected_delta = i64::from(connected) - i64::from(l.counted_connected);
        delta.add(key, rollup::Sums { offered, connected: connected_delta, ..Default::default() });
        direct::run!(
            conn,
            execute,
            update(call_legs::table, call_legs::id.eq(l.id), (call_legs::counted.eq(true), call_legs::counted_connected.eq(connected)))
        )?;
    }
    delta.write(conn)
}

/// The money verdict of a settled call, as live events carry it.
fn verdict(c: &CallRow) -> callbroker_wire::LiveQualification {
    callbroker_wire::LiveQualification {
        qualified: c.qualified.unwrap_or(false),
        reason: c.qualify_reason.clone(),
        currency: c.currency.clone().or_else(|| c.cost_currency.clone()).unwrap_or_default(),
        payout_micros: c.payout_micros,
        revenue_micros: Some(c.revenue_micros),
        cost_micros: c.cost_micros,
        profit_micros: c.profit_micros,
    }
}

/// Re-settles every settled call started in `[from, to)` under the current rules. Returns how many.
pub fn recompute(conn: &mut DbConnection, from: NaiveDateTime, to: NaiveDateTime) -> Result<usize, Error> {
    let mut n = 0;
    let mut after_id = 0i64;
    loop {
        let ids: Vec<i64> = calls::table
            .filter(calls::started_at.ge(from))
            .filter(calls::started_at.lt(to))
            .filter(calls::settled_at.is_not_null())
            .filter(calls::id.gt(after_id))
            .order(calls::id.asc())
            .select(calls::id)
            .limit(1000)
            .load(conn)?;
        let Some(last) = ids.last().copied() else { break };
        for id in ids {
            settle(conn, id, RuleChoice::Current)?;
            n += 1;
        }
        after_id = last;
    }
    Ok(n)
}

#[cfg(test)]
mod tests;
