//! Buyer acceptance on the call flow: what a buyer's agent hears on answering (the whisper, which
//! Twilio asks for at the dialled number's `url`), and their answer to "press 1 to accept" (the
//! action of that whisper's `<Gather>`).
//!
//! Whether a leg's agent must accept is fixed on the leg when it is dialled, so the whisper, the
//! acceptance and the `<Dial>` action all judge the leg alike whatever the buyer's settings become
//! meanwhile. The acceptance is recorded on the leg through the call's [`Effects`] like every
//! change of a call: the call connects then, and its talk time counts from then
//! ([`crate::money::talk_secs`]). An agent who does not accept is hung up on; the `<Dial>` action
//! that follows finds the leg not accepted and fails over to the next buyer
//! ([`super::callbacks`]).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{callbacks, Answer, Ctx, Run};
use crate::db::DbConnection;
use crate::domain::acceptance::{Whisper, WhisperValues, ACCEPT_DIGIT};
use crate::domain::validate::ACCEPT_TIMEOUT_SECS;
use crate::error::Error;
use crate::store::buyers::BuyerRow;
use crate::store::calls::flow::{self as calls, CallState, Effects, Find};
use crate::store::calls::{CallRow, LegRow};
use crate::store::campaigns::AssignmentRow;
use crate::store::directory::Directory;
use crate::twilio::params::GatherCallback;

/// A buyer's acceptance settings on one campaign: the buyer's own, with the assignment's
/// overrides (read for every candidate of every call: borrowed, nothing allocated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings<'a> {
    /// The whisper's template; `None`: nothing is said (but the prompt to accept).
    pub whisper: Option<&'a str>,
    pub require_accept: bool,
    /// Seconds the agent has to press 1.
    pub timeout_secs: u32,
}

impl<'a> Settings<'a> {
    pub fn of(buyer: &'a BuyerRow, assignment: Option<&'a AssignmentRow>) -> Settings<'a> {
        // An assignment's empty whisper silences the buyer's on that campaign.
        let whisper = assignment.and_then(|a| a.whisper.as_deref()).or(buyer.whisper.as_deref()).map(str::trim).filter(|w| !w.is_empty());
        let timeout = assignment.and_then(|a| a.accept_timeout_secs).unwrap_or(buyer.accept_timeout_secs);
        let timeout = timeout.clamp(*ACCEPT_TIMEOUT_SECS.start(), *ACCEPT_TIMEOUT_SECS.end());
        Settings {
            whisper,
            require_accept: assignment.and_then(|a| a.require_accept).unwrap_or(buyer.require_accept),
            timeout_secs: u32::try_from(timeout).unwrap_or(1),
        }
    }

    /// The settings of `buyer` on `campaign`, from the directory.
    pub fn lookup(dir: &'a Directory, campaign: Option<i64>, buyer: Option<i64>) -> Option<Settings<'a>> {
        let b = dir.buyers.get(&buyer?)?;
        Some(Settings::of(b, campaign.and_then(|c| dir.campaign(c)).and_then(|c| c.assignment(b.id))))
    }

    /// Whether the agent hears anything before the bridge (the dial then names the whisper URL).
    pub fn whispers(&self) -> bool {
        self.whisper.is_some() || self.require_accept
    }
}

/// The whisper `template` as said on `call`: empty when the template does not read (it was
/// checked when written, so only a row changed behind the API's back gets here).
fn render(template: &str, dir: &Directory, call: &CallRow) -> String {
    let Ok(whisper) = Whisper::parse(template) else {
        tracing::warn!(call_id = call.id, "a buyer's stored whisper does not parse; saying nothing");
        return String::new();
    };
    let campaign = call.campaign_id.and_then(|c| dir.campaign(c)).map_or("", |c| c.row.name.as_str());
    // Every tag the call holds: Twilio's at arrival and, later, the IVR's answers.
    let tags = call.tags();
    whisper.render(&WhisperValues { campaign, caller_state: call.caller_state.as_deref(), tags: &tags })
}

/// Refuses a request about leg `leg` of another call than `state`'s (Twilio names the inbound
/// call as the parent of the dialled one, and the leg's own call once known).
fn check_call(state: &CallState, leg: &LegRow, g: &GatherCallback) -> Result<(), Error> {
    if g.parent_call_sid.as_deref().is_some_and(|p| p != state.call.call_sid) {
        return Err(Error::bad_request("ParentCallSid does not match the leg's call"));
    }
    if leg.dial_call_sid.as_deref().is_some_and(|sid| sid != g.call_sid) {
        return Err(Error::bad_request("CallSid does not match the leg"));
    }
    Ok(())
}

/// What the agent on leg `leg_id` hears on answering: the whisper and, when the leg's agent must
/// accept, the prompt to press 1. Reads only.
pub fn on_whisper(conn: &mut DbConnection, ctx: &Ctx, leg_id: i64, g: &GatherCallback) -> Result<Answer, Error> {
    let (state, version) = calls::read(conn, Find::Leg(leg_id))?.ok_or(Error::NotFound("call leg"))?;
    let dir = ctx.directory.at_least(conn, version)?;
    let leg = state.leg(leg_id).ok_or(Error::NotFound("call leg"))?;
    check_call(&state, leg, g)?;
    if state.call.is_over() {
        // The caller is gone: nobody to put the agent through to.
        return Ok(Answer::Hangup);
    }
    let settings = Settings::lookup(&dir, state.call.campaign_id, leg.buyer_id);
    let say = settings.and_then(|s| s.whisper).map(|t| render(t, &dir, &state.call)).filter(|s| !s.is_empty());
    let timeout = settings.map_or(callbroker_wire::DEFAULT_ACCEPT_TIMEOUT_SECS.unsigned_abs(), |s| s.timeout_secs);
    Ok(Answer::Whisper { leg_id, say, accept_timeout: leg.accept_required.then_some(timeout) })
}

/// The agent's answer to "press 1" on leg `leg_id` (silence comes too): `1` accepts the call,
/// which is then put through; anything else hangs up on the agent (the `<Dial>` action that
/// follows fails over). A repeated acceptance changes nothing and is answered alike.
pub fn on_accept(run: &mut Run<'_>, leg_id: i64, g: &GatherCallback, now: DateTime<Utc>) -> Result<Answer, Error> {
    let t = now.naive_utc();
    let accepts = g.digits.as_deref().map(str::trim) == Some(ACCEPT_DIGIT);
    run.change(Find::Leg(leg_id), "call leg", |run, state, dir| {
        let leg = state.leg(leg_id).ok_or(Error::NotFound("call leg"))?.clone();
        check_call(&state, &leg, g)?;
        if !accepts {
            let mut e = Effects::new(&state, t);
            e.log("not_accepted", json!({"attempt": leg.attempt, "leg_id": leg.id, "buyer_id": leg.buyer_id, "digits": g.digits}));
            return Ok((Some(e), Answer::Hangup));
        }
        if state.call.is_over() {
            return Ok((None, Answer::Hangup));
        }
        if !leg.accept_required || leg.accepted_at.is_some() {
            // Nothing to accept, or accepted already.
            return Ok((None, Answer::Bridge));
        }
        let mut e = Effects::new(&state, t);
        e.log("accepted", json!({"attempt": leg.attempt, "leg_id": leg.id, "buyer_id": leg.buyer_id}));
        let changed = LegRow {
            accepted_at: leg.acceptance().accept(t).accepted_at,
            dial_call_sid: leg.dial_call_sid.clone().or_else(|| Some(g.call_sid.clone())),
            ..leg.clone()
        };
        callbacks::apply_leg_change(run, dir, &state, &mut e, &leg, changed, t)?;
        Ok((Some(e), Answer::Bridge))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buyer(whisper: Option<&str>, require_accept: bool, timeout: i32) -> BuyerRow {
        let t = chrono::DateTime::from_timestamp(1_780_000_000, 0).map(|d| d.naive_utc()).unwrap_or_default();
        BuyerRow {
            id: 7,
            name: "B".into(),
            phone_number: "+14155550101".into(),
            status: "active".into(),
            priority: 0,
            weight: 1,
            max_concurrent_calls: 1,
            cap_hourly: None,
            cap_daily: None,
            cap_monthly: None,
            timezone: "UTC".into(),
            schedule: "[]".into(),
            allowed_states: "[]".into(),
            denied_states: "[]".into(),
            sticky_repeat_callers: true,
            created_at: t,
            updated_at: t,
            tag_rules: "[]".into(),
            whisper: whisper.map(String::from),
            require_accept,
            accept_timeout_secs: timeout,
            labels: "[]".into(),
        }
    }

    fn assignment(whisper: Option<&str>, require_accept: Option<bool>, timeout: Option<i32>) -> AssignmentRow {
        AssignmentRow {
            campaign_id: 1,
            buyer_id: 7,
            priority: None,
            weight: None,
            revenue_micros: None,
            buffer_secs: None,
            tag_rules: None,
            whisper: whisper.map(String::from),
            require_accept,
            accept_timeout_secs: timeout,
        }
    }

    #[test]
    fn assignment_overrides_each_setting() {
        let b = buyer(Some("Lead from {campaign}"), false, 10);
        // (assignment, whisper, require, timeout)
        let table: Vec<(Option<AssignmentRow>, Option<&str>, bool, u32)> = vec![
            (None, Some("Lead from {campaign}"), false, 10),
            (Some(assignment(None, None, None)), Some("Lead from {campaign}"), false, 10),
            (Some(assignment(Some("Solar lead"), None, None)), Some("Solar lead"), false, 10),
            (Some(assignment(Some(""), None, None)), None, false, 10),
            (Some(assignment(Some("  "), Some(true), Some(25))), None, true, 25),
            (Some(assignment(None, Some(true), None)), Some("Lead from {campaign}"), true, 10),
        ];
        for (a, whisper, require, timeout) in table {
            let s = Settings::of(&b, a.as_ref());
            assert_eq!((s.whisper, s.require_accept, s.timeout_secs), (whisper, require, timeout), "{a:?}");
        }
        let quiet = buyer(None, false, 10);
        assert!(!Settings::of(&quiet, None).whispers());
        assert!(Settings::of(&quiet, Some(&assignment(None, Some(true), None))).whispers(), "the prompt alone is said");
        assert!(Settings::of(&quiet, Some(&assignment(Some("Hi"), None, None))).whispers());
        assert!(!Settings::of(&b, Some(&assignment(Some(""), Some(false), None))).whispers());
        // A stored timeout outside the bounds is brought within them.
        assert_eq!(Settings::of(&buyer(None, true, 0), None).timeout_secs, 1);
        assert_eq!(Settings::of(&buyer(None, true, 900), None).timeout_secs, 60);
    }
}
