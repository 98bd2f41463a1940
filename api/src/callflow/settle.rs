//! Settling a call inside a webhook's change: its money, its rollups, its verdict on the live
//! stream and its publisher's postback, from [`crate::money`]'s pure rules.
use callbroker_wire::LiveEventKind;

use super::Run;
use crate::error::Error;
use crate::jobs::CallWork;
use crate::money::{self, RuleChoice};
use crate::store::calls::flow::{self as calls, CallState, Effects};
use crate::store::directory::Directory;

/// The call and its legs as `e` leaves them.
pub fn after(before: &CallState, e: &Effects) -> CallState {
    let legs = before.legs.iter().map(|l| e.legs.iter().find(|n| n.id == l.id).unwrap_or(l).clone()).collect();
    CallState { call: e.call.clone(), legs }
}

/// Settles the call as `e` leaves it if it is ready: over, with every answered leg ended (its
/// talk time known). Returns whether it did.
pub fn if_ready(run: &mut Run<'_>, dir: &Directory, before: &CallState, e: &mut Effects) -> Result<bool, Error> {
    if !money::ready(&after(before, e)) {
        return Ok(false);
    }
    settle(run, dir, before, e, RuleChoice::Keep)?;
    Ok(true)
}

/// Settles the call as `e` leaves it, whatever its state (the reaper, a recompute).
pub fn settle(run: &mut Run<'_>, dir: &Directory, before: &CallState, e: &mut Effects, choice: RuleChoice) -> Result<(), Error> {
    let state = after(before, e);
    let rules = money::rules_for(&state, choice, dir);
    let duplicate = match rules.as_ref().and_then(|r| money::duplicate_since(&state.call, r)) {
        Some(since) => calls::has_earlier_call(run.conn, &state.call, since)?,
        None => false,
    };
    let s = money::settle(&state, rules.as_ref(), duplicate, e.at);
    e.call = s.call;
    for l in s.legs {
        e.set_leg(l);
    }
    e.rollups = s.rollups;
    if s.verdict_changed {
        e.announce(LiveEventKind::CallQualified, Some(money::verdict(&e.call)));
    }
    let wants_postback = e.call.publisher_id.is_some_and(|p| dir.postback_publishers.contains(&p));
    if s.newly_qualified && wants_postback && e.call.postback_at.is_none() {
        e.call.postback_at = Some(e.at);
        e.jobs.push(CallWork::Postback.job(e.call.id, e.at));
    }
    Ok(())
}
