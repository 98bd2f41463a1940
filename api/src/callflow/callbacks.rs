//! What Twilio reports after the voice webhook: the outcome of each `<Dial>` attempt (fail over
//! to the next buyer when it was busy, unanswered, failed, or not accepted by an agent who had to),
//! the status callbacks of the call and of each buyer leg, and the recording.
use callbroker_wire::LiveEventKind;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;

use super::lifecycle::{self, Progress, Report};
use super::voice::{redial, route_attempt, Attempt};
use super::{contended, settle, Answer, Run};
use crate::domain::states::{CallStatus, CostStatus, LegStatus, Outcome, TranscriptStatus};
use crate::error::Error;
use crate::jobs::CallWork;
use crate::store::calls::flow::{self as calls, CallState, Commit, Effects, Find};
use crate::store::calls::LegRow;
use crate::store::directory::Directory;
use crate::twilio::params::{CallStatusCallback, DialActionCallback, DialCallStatus, RecordingStatusCallback};

/// The `<Dial action>` callback: the attempt on leg `leg_id` ended.
pub fn on_dial_result(run: &mut Run<'_>, leg_id: i64, d: &DialActionCallback, now: DateTime<Utc>) -> Result<Answer, Error> {
    let t = now.naive_utc();
    for _ in 0..super::TRIES {
        let (state, dir) = run.read(Find::Leg(leg_id))?.ok_or(Error::NotFound("call leg"))?;
        if let Some(answer) = dial_result(run, &state, &dir, leg_id, d, now, t)? {
            return Ok(answer);
        }
    }
    Err(contended())
}

/// [`on_dial_result`] on the call as read; `None` when it changed meanwhile (nothing written).
fn dial_result(
    run: &mut Run<'_>,
    state: &CallState,
    dir: &Directory,
    leg_id: i64,
    d: &DialActionCallback,
    now: DateTime<Utc>,
    t: NaiveDateTime,
) -> Result<Option<Answer>, Error> {
    let call = &state.call;
    let leg = state.leg(leg_id).ok_or(Error::NotFound("call leg"))?;
    if call.call_sid != d.call_sid {
        return Err(Error::bad_request("CallSid does not match the leg"));
    }
    let status = d.dial_status();
    // An agent who had to accept and did not never took the call, though their phone was picked
    // up (to hear the whisper): the attempt counts as unanswered, and the call goes on.
    let picked_up = status.is_some_and(DialCallStatus::was_answered);
    let refused = picked_up && !leg.acceptance().took(true);
    let answered = picked_up && !refused;
    // A retried action callback: if the next attempt already exists, answer it again. An answered
    // attempt never has a next one.
    if !answered {
        if let Some(next) = state.legs.iter().find(|l| l.attempt == leg.attempt + 1) {
            if next.status == LegStatus::Reserved {
                return redial(dir, call, next, None).map(Some);
            }
            return Ok(Some(Answer::Hangup));
        }
    }
    let mut e = Effects::new(state, t);
    let mut result = json!({"attempt": leg.attempt, "leg_id": leg.id, "buyer_id": leg.buyer_id, "dial_call_status": d.dial_call_status, "duration_secs": d.dial_call_duration_secs()});
    if leg.accept_required {
        result["accepted"] = json!(leg.accepted_at.is_some());
    }
    e.log("attempt_result", result);
    let leg_status = match status {
        _ if refused => CallStatus::NoAnswer,
        Some(DialCallStatus::Completed | DialCallStatus::Answered) => CallStatus::Completed,
        Some(DialCallStatus::Busy) => CallStatus::Busy,
        Some(DialCallStatus::NoAnswer) => CallStatus::NoAnswer,
        Some(DialCallStatus::Canceled) => CallStatus::Canceled,
        Some(DialCallStatus::Failed) | None => CallStatus::Failed,
    };
    let duration = d.dial_call_duration_secs().and_then(|s| i32::try_from(s).ok());
    let report = Report { status: leg_status, at: t, duration_secs: duration, sequence: None };
    apply_leg_report(run, dir, state, &mut e, leg, &report, d.dial_call_sid.as_deref())?;
    let call_over = call.is_over();
    let fail_over = refused || matches!(status, Some(DialCallStatus::Busy | DialCallStatus::NoAnswer | DialCallStatus::Failed) | None);
    let campaign = call.campaign_id.and_then(|c| dir.campaign(c));
    let answer = if answered {
        Answer::Hangup
    } else if !fail_over || call_over {
        // The caller hung up: not a reason to ring anyone else.
        if call.connected_at.is_none() {
            set_outcome(&mut e, Outcome::Abandoned);
        }
        Answer::Hangup
    } else if let Some(c) = campaign {
        if u32::try_from(leg.attempt).unwrap_or(u32::MAX) >= run.ctx.routing.max_attempts {
            set_outcome(&mut e, Outcome::Failed);
            e.log("attempts_exhausted", json!({"attempts": leg.attempt}));
            Answer::SayHangup(c.row.busy_message.clone())
        } else {
            let tried: Vec<i64> = state.legs.iter().filter_map(|l| l.buyer_id).collect();
            let repeat_since = t - chrono::Duration::seconds(run.ctx.routing.repeat_window_secs);
            let loads = calls::loads(run.conn, Some(c.row.id), &call.caller, &calls::Lookback::repeat_only(repeat_since))?;
            if loads.directory_version > dir.version {
                // Read the directory again, then the call.
                run.ctx.directory.at_least(run.conn, loads.directory_version)?;
                return Ok(None);
            }
            match route_attempt(run, dir, c, e, call.caller_state.as_deref(), &tried, leg.attempt + 1, now, &loads)? {
                Attempt::Claimed { leg_id, buyer_number, whisper } => {
                    return Ok(Some(Answer::Dial { greeting: None, leg_id, buyer_number, caller_id: call.caller.clone(), whisper }))
                }
                Attempt::Again | Attempt::Duplicate | Attempt::Ping(_) => return Ok(None),
                Attempt::NoBuyer(no_buyer) => {
                    e = *no_buyer;
                    set_outcome(&mut e, Outcome::Failed);
                    Answer::SayHangup(c.row.busy_message.clone())
                }
            }
        }
    } else {
        Answer::Hangup
    };
    Ok(match run.commit(&e)? {
        Commit::Done { .. } => Some(answer),
        _ => None,
    })
}

fn set_outcome(e: &mut Effects, outcome: Outcome) {
    e.call.outcome = outcome;
    e.call.updated_at = e.at;
}

/// The `Progress` stored in a leg.
fn leg_progress(l: &LegRow) -> Progress {
    Progress {
        status: l.status.progress(),
        ringing_at: l.ringing_at,
        answered_at: l.answered_at,
        ended_at: l.ended_at,
        duration_secs: l.duration_secs,
        last_sequence: l.last_sequence,
    }
}

/// Folds a report into a leg of `state` (as `e` changes it): see [`apply_leg_change`].
fn apply_leg_report(
    run: &mut Run<'_>,
    dir: &Directory,
    state: &CallState,
    e: &mut Effects,
    leg: &LegRow,
    r: &Report,
    dial_sid: Option<&str>,
) -> Result<(), Error> {
    let p = leg_progress(leg).apply(r);
    // The leg's first dial SID stays, whatever the order of the callbacks.
    let dial_call_sid = leg.dial_call_sid.clone().or_else(|| dial_sid.map(String::from));
    let changed = LegRow {
        status: LegStatus::Twilio(p.status),
        ringing_at: p.ringing_at,
        answered_at: p.answered_at,
        ended_at: p.ended_at,
        duration_secs: p.duration_secs,
        last_sequence: p.last_sequence,
        dial_call_sid,
        ..leg.clone()
    };
    apply_leg_change(run, dir, state, e, leg, changed, r.at)
}

/// Writes a leg of `state` as `changed` (a report, or its agent's acceptance, folded in) into `e`,
/// with what follows from it at `at`: once its buyer took the call (it answered, and accepted when
/// it had to) the call is connected; when the leg ends its slot is given back; once the call is
/// over too it is settled.
pub(super) fn apply_leg_change(
    run: &mut Run<'_>,
    dir: &Directory,
    state: &CallState,
    e: &mut Effects,
    leg: &LegRow,
    mut changed: LegRow,
    at: NaiveDateTime,
) -> Result<(), Error> {
    if changed == *leg {
        // Nothing new: a repeated callback, or the dial action after the leg's own final status
        // callback. Everything below follows from the leg's record alone, so it was all done when
        // the leg's record last changed.
        return Ok(());
    }
    let p = leg_progress(&changed);
    if leg.ringing_at.is_none() && p.ringing_at.is_some() {
        e.announce(LiveEventKind::CallRinging, None);
    }
    if crate::money::leg_answered(&changed) {
        if e.call.connected_at.is_none() {
            // The first answer of any leg of the call.
            e.announce(LiveEventKind::CallAnswered, None);
        }
        // Connected at the earliest answer (or acceptance) of any leg, billed for the answered
        // leg's talk time once it is final.
        let connected_at = changed.accepted_at.or(p.answered_at).or(p.ended_at).unwrap_or(at);
        e.call.connected_at = Some(e.call.connected_at.map_or(connected_at, |c| c.min(connected_at)));
        e.call.buyer_id = changed.buyer_id;
        e.call.outcome = Outcome::Connected;
        if p.is_final() {
            if let Some(secs) = crate::money::leg_talk_secs(&changed) {
                e.call.billable_secs = Some(secs);
            }
        }
        e.call.updated_at = e.at;
    }
    if p.is_final() && !changed.released {
        changed.released = true;
        e.releases.extend(leg.buyer_id);
        e.log("slot_released", json!({"leg_id": leg.id, "buyer_id": leg.buyer_id, "leg_status": p.status.as_str()}));
    }
    e.set_leg(changed);
    // Money: settles once the call is final and the answered leg's length known, whatever the
    // order. A leg of a call still under way cannot make it ready: the call's own final callback
    // settles it.
    if p.is_final() && state.call.is_over() {
        settle::if_ready(run, dir, state, e)?;
    }
    Ok(())
}

fn report_from(cb: &CallStatusCallback, status: CallStatus, now: NaiveDateTime) -> Report {
    Report {
        status,
        at: lifecycle::parse_timestamp(cb.timestamp.as_deref()).unwrap_or(now),
        duration_secs: cb.call_duration_secs().and_then(|s| i32::try_from(s).ok()),
        sequence: cb.sequence().and_then(|s| i32::try_from(s).ok()),
    }
}

/// A status callback: of buyer leg `leg_id` when given, else of the inbound call.
pub fn on_status(run: &mut Run<'_>, leg_id: Option<i64>, cb: &CallStatusCallback, now: DateTime<Utc>) -> Result<(), Error> {
    let Some(status) = cb.status() else {
        return Err(Error::bad_request(format!("unknown CallStatus {:?}", cb.call_status)));
    };
    let t = now.naive_utc();
    let report = report_from(cb, status, t);
    if let Some(leg_id) = leg_id {
        return run.change(Find::Leg(leg_id), "call leg", |run, state, dir| {
            let leg = state.leg(leg_id).ok_or(Error::NotFound("call leg"))?.clone();
            let mut e = Effects::new(&state, t);
            apply_leg_report(run, dir, &state, &mut e, &leg, &report, Some(&cb.call_sid))?;
            Ok((Some(e).filter(|e| !e.is_empty(&state)), ()))
        });
    }
    let twilio_credentials = run.ctx.twilio_credentials;
    run.change(Find::Sid(&cb.call_sid), "call", |run, state, dir| {
        let call = &state.call;
        let current = Progress {
            status: call.status,
            ringing_at: call.ringing_at,
            answered_at: call.answered_at,
            ended_at: call.ended_at,
            duration_secs: call.duration_secs,
            last_sequence: call.last_sequence,
        };
        let p = current.apply(&report);
        let ended = p.is_final();
        let mut e = Effects::new(&state, t);
        e.call.status = p.status;
        e.call.ringing_at = p.ringing_at;
        e.call.answered_at = p.answered_at;
        e.call.ended_at = p.ended_at;
        e.call.duration_secs = p.duration_secs;
        e.call.last_sequence = p.last_sequence;
        // The caller hung up before any buyer answered.
        if ended && call.outcome == Outcome::Routed && call.connected_at.is_none() {
            e.call.outcome = Outcome::Abandoned;
        }
        // The caller hung up while answering the IVR.
        if ended && call.outcome == Outcome::InIvr {
            e.call.outcome = Outcome::IvrAbandoned;
            super::ivr::finish(&mut e, callbroker_wire::IvrOutcome::Abandoned, p.ended_at.unwrap_or(t));
            e.log("ivr_abandoned", json!({"question": call.ivr_question, "attempt": call.ivr_attempt}));
        }
        if e.call == *call {
            // A repeated callback: nothing new.
            return Ok((None, ()));
        }
        e.call.updated_at = t;
        if ended && !current.is_final() {
            e.announce(LiveEventKind::CallCompleted, None);
        }
        if ended {
            // The caller is gone: no leg of this call can still hold a slot.
            for leg in state.legs.iter().filter(|l| !l.released) {
                e.releases.extend(leg.buyer_id);
                e.log("slot_released", json!({"leg_id": leg.id, "buyer_id": leg.buyer_id, "reason": "call ended"}));
                e.set_leg(LegRow { released: true, ..leg.clone() });
            }
            if e.call.cost_status.is_none() {
                // The cost is asked for once the call is over, when there is an account to ask.
                let ask = dir.twilio_account || twilio_credentials;
                e.call.cost_status = Some(if ask { CostStatus::Pending } else { CostStatus::Unconfigured });
                if ask {
                    e.jobs.push(CallWork::Cost.job(call.id, t));
                }
            }
            settle::if_ready(run, dir, &state, &mut e)?;
        }
        Ok((Some(e), ()))
    })
}

/// The recording status callback.
pub fn on_recording(run: &mut Run<'_>, r: &RecordingStatusCallback, now: DateTime<Utc>) -> Result<(), Error> {
    let t = now.naive_utc();
    run.change(Find::Sid(&r.call_sid), "call", |_run, state, dir| {
        let mut e = Effects::new(&state, t);
        e.log("recording", json!({"sid": r.recording_sid, "status": r.recording_status, "duration_secs": r.duration_secs()}));
        if r.recording_status == "completed" {
            e.call.recording_sid = Some(r.recording_sid.clone());
            e.call.recording_url.clone_from(&r.recording_url);
            e.call.recording_duration_secs = r.duration_secs().and_then(|s| i32::try_from(s).ok());
            e.call.recording_channels = r.channels().and_then(|s| i32::try_from(s).ok());
            e.call.updated_at = t;
            let transcribe = state.call.campaign_id.and_then(|c| dir.campaign(c)).is_some_and(|c| c.row.transcribe);
            if transcribe && e.call.transcript_status.is_none() {
                e.call.transcript_status = Some(TranscriptStatus::Pending);
                e.jobs.push(CallWork::Transcript.job(state.call.id, t));
            }
        }
        Ok((Some(e), ()))
    })
}
