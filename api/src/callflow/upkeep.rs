//! Changes to calls that no webhook makes: slots whose callbacks never came, a recompute of the
//! money under the current rules, and what the background jobs learn (the cost, the transcript).
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;

use super::{settle, Run};
use crate::domain::states::{CostStatus, TranscriptStatus};
use crate::error::Error;
use crate::money::RuleChoice;
use crate::store::calls::flow::{self as calls, Effects, Find};
use crate::store::calls::LegRow;

/// Legs looked at per round of the reaper.
const REAP_BATCH: i64 = 500;

/// Releases the slots of legs past their expiry (their callbacks never came); a finished call is
/// then settled with what is known. Returns how many slots were released.
pub fn reap(run: &mut Run<'_>, now: DateTime<Utc>) -> Result<usize, Error> {
    let t = now.naive_utc();
    let mut n = 0;
    for (leg_id, call_id) in calls::expired_legs(run.conn, t, REAP_BATCH)? {
        let released = run.change(Find::Id(call_id), "call", |run, state, dir| {
            let Some(leg) = state.leg(leg_id).filter(|l| !l.released) else { return Ok((None, false)) };
            let mut e = Effects::new(&state, t);
            e.releases.extend(leg.buyer_id);
            e.log("slot_reaped", json!({"leg_id": leg.id, "buyer_id": leg.buyer_id}));
            e.set_leg(LegRow { released: true, ..leg.clone() });
            // The leg's last callback never came: settle a finished call with what is known.
            if state.call.is_over() {
                settle::settle(run, dir, &state, &mut e, RuleChoice::Keep)?;
            }
            Ok((Some(e), true))
        })?;
        n += usize::from(released);
    }
    Ok(n)
}

/// Re-settles every settled call started in `[from, to)` under the current rules. Returns how many.
pub fn recompute(run: &mut Run<'_>, from: NaiveDateTime, to: NaiveDateTime) -> Result<usize, Error> {
    let now = crate::db::now();
    let mut n = 0;
    let mut after_id = 0i64;
    loop {
        let ids = calls::settled_between(run.conn, from, to, after_id, 1000)?;
        let Some(last) = ids.last().copied() else { break };
        for id in ids {
            run.change(Find::Id(id), "call", |run, state, dir| {
                let mut e = Effects::new(&state, now);
                settle::settle(run, dir, &state, &mut e, RuleChoice::Current)?;
                Ok((Some(e).filter(|e| !e.is_empty(&state)), ()))
            })?;
            n += 1;
        }
        after_id = last;
    }
    Ok(n)
}

/// Twilio priced the call: its cost is known; profit and the rollups include it from now on.
pub fn cost_known(e: &mut Effects, cost_micros: i64, currency: &str, attempt: i32) {
    e.call.cost_micros = Some(cost_micros);
    e.call.cost_currency = Some(currency.to_string());
    e.call.cost_status = Some(CostStatus::Done);
    e.call.updated_at = e.at;
    e.log("cost", json!({"cost_micros": cost_micros, "currency": currency, "attempt": attempt}));
}

/// The Twilio account is gone: the call's cost stays unknown.
pub fn cost_unconfigured(e: &mut Effects) {
    e.call.cost_status = Some(CostStatus::Unconfigured);
}

/// Twilio accepted the transcript request.
pub fn transcript_requested(e: &mut Effects, sid: &str) {
    e.call.transcript_sid = Some(sid.to_string());
}

/// The transcript is done.
pub fn transcript_done(e: &mut Effects, sid: &str, text: String) {
    e.log("transcript", json!({"transcript_sid": sid, "chars": text.len()}));
    e.call.transcript = Some(text);
    e.call.transcript_status = Some(TranscriptStatus::Done);
    e.call.updated_at = e.at;
}

/// The transcript cannot be made.
pub fn transcript_failed(e: &mut Effects, why: &str) {
    e.call.transcript_status = Some(TranscriptStatus::Failed);
    e.call.updated_at = e.at;
    e.log("transcript_failed", json!({"reason": why}));
}
