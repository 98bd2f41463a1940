//! A campaign's IVR on the call flow. The voice webhook of a call that passed the screening asks
//! the first question (a `<Gather>` whose action names the call, the question and the try); each
//! answer comes back to [`on_gather`], which judges it ([`crate::routing::ivr::step`]), tags the
//! call, and asks the next question, ends the call, or routes it like the voice webhook would.
//!
//! Where the caller stands (question and try) is on the call, and a callback is acted on only
//! when it answers that position: a repeated callback (Twilio retries) or a stale one is
//! answered with what the call is doing now and changes nothing. The IVR's seconds are kept on
//! the call (`ivr_secs`); a buyer's billable time starts when its leg is answered, after them.
use callbroker_wire::{IvrOutcome, IvrQuestion};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;

use super::voice::{redial, route_attempt, Attempt};
use super::{contended, Answer, Run, CAMPAIGN_PAUSED_MESSAGE};
use crate::domain::states::{LegStatus, Outcome};
use crate::error::Error;
use crate::routing::ivr::{self, Heard, Next};
use crate::store::calls::flow::{self as calls, CallState, Commit, Effects, Find, Lookback};
use crate::store::calls::CallRow;
use crate::store::directory::{CampaignEntry, Directory};
use crate::twilio::params::GatherCallback;

/// A question put to the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    pub call_id: i64,
    /// 0-based.
    pub question: u32,
    /// 1 = the first time it is asked.
    pub attempt: u32,
    /// Said before the question: the greeting (first question, first time) or the retry message.
    pub before: Option<String>,
    pub q: IvrQuestion,
}

/// The answer asking question `question` (try `attempt`) of `campaign`'s IVR on call `call_id`;
/// `Hangup` when the IVR no longer has that question.
pub fn ask(campaign: &CampaignEntry, call_id: i64, question: usize, attempt: u32, greeting: Option<&str>) -> Answer {
    let Some(q) = campaign.ivr.questions.get(question) else { return Answer::Hangup };
    let before = if attempt > 1 {
        Some(campaign.ivr.retry_message.clone().unwrap_or_else(|| callbroker_wire::DEFAULT_IVR_RETRY_MESSAGE.to_string()))
    } else {
        greeting.map(String::from)
    };
    Answer::Ivr(Box::new(Ask { call_id, question: u32::try_from(question).unwrap_or(u32::MAX), attempt, before, q: q.clone() }))
}

/// Starts the IVR on a new call (changed in `e`): its first question, after the greeting.
pub(super) fn start(e: &mut Effects, campaign: &CampaignEntry) -> Answer {
    e.call.outcome = Outcome::InIvr;
    e.call.set_ivr(IvrOutcome::InProgress);
    e.call.ivr_question = Some(0);
    e.call.ivr_attempt = Some(1);
    e.log("ivr_question", json!({"question": 0, "attempt": 1}));
    ask(campaign, e.call.id, 0, 1, Some(&campaign.row.greeting))
}

/// Seconds from the call's start to `t` (the IVR starts when the call is answered).
fn ivr_secs(call: &CallRow, t: NaiveDateTime) -> i32 {
    i32::try_from((t - call.started_at).num_seconds().max(0)).unwrap_or(i32::MAX)
}

/// Ends the call's IVR at `t` with `outcome` (its seconds counted up to then).
pub(super) fn finish(e: &mut Effects, outcome: IvrOutcome, t: NaiveDateTime) {
    e.call.set_ivr(outcome);
    e.call.ivr_secs = Some(ivr_secs(&e.call, t));
    e.call.updated_at = t;
}

/// What a call in the IVR, or past it, is answered when a callback does not answer its current
/// position (a repeat, or one overtaken): what it is doing now.
pub(super) fn current(dir: &Directory, state: &CallState) -> Result<Answer, Error> {
    let call = &state.call;
    let campaign = call.campaign_id.and_then(|c| dir.campaign(c));
    match (call.outcome, campaign) {
        (Outcome::InIvr, Some(c)) => {
            let question = usize::try_from(call.ivr_question.unwrap_or(0)).unwrap_or(0);
            let attempt = u32::try_from(call.ivr_attempt.unwrap_or(1)).unwrap_or(1);
            let greeting = ((question, attempt) == (0, 1)).then_some(c.row.greeting.as_str());
            Ok(ask(c, call.id, question, attempt, greeting))
        }
        (Outcome::Routed, _) => match state.legs.iter().rev().find(|l| l.status == LegStatus::Reserved) {
            Some(leg) => redial(dir, call, leg, None),
            None => Ok(Answer::Hangup),
        },
        (Outcome::NoBuyer | Outcome::Failed, Some(c)) => Ok(Answer::SayHangup(c.row.busy_message.clone())),
        _ => Ok(Answer::Hangup),
    }
}

/// The caller's answer to question `question`, try `attempt`, on call `call_id` (silence comes
/// too: `actionOnEmptyResult`).
pub fn on_gather(
    run: &mut Run<'_>,
    call_id: i64,
    question: u32,
    attempt: u32,
    g: &GatherCallback,
    now: DateTime<Utc>,
) -> Result<Answer, Error> {
    let confidence = g.confidence.as_deref().and_then(|c| c.trim().parse::<f64>().ok()).filter(|c| c.is_finite());
    let heard = Heard { digits: g.digits.as_deref(), speech: g.speech_result.as_deref(), confidence };
    for _ in 0..super::TRIES {
        let (state, dir) = run.read(Find::Id(call_id))?.ok_or(Error::NotFound("call"))?;
        if state.call.call_sid != g.call_sid {
            return Err(Error::bad_request("CallSid does not match the call"));
        }
        if state.call.is_over() {
            return Ok(Answer::Hangup);
        }
        let at = (state.call.ivr_question, state.call.ivr_attempt);
        let here = (i32::try_from(question).ok(), i32::try_from(attempt).ok());
        if state.call.outcome != Outcome::InIvr || at != here {
            return current(&dir, &state);
        }
        if let Some(answer) = answer(run, &state, &dir, &heard, now)? {
            return Ok(answer);
        }
    }
    Err(contended())
}

/// [`on_gather`] on the call as read; `None` when it changed meanwhile (nothing written).
fn answer(run: &mut Run<'_>, state: &CallState, dir: &Directory, heard: &Heard<'_>, now: DateTime<Utc>) -> Result<Option<Answer>, Error> {
    let t = now.naive_utc();
    let call = &state.call;
    let question = usize::try_from(call.ivr_question.unwrap_or(0)).unwrap_or(0);
    let attempt = u32::try_from(call.ivr_attempt.unwrap_or(1)).unwrap_or(1);
    let mut e = Effects::new(state, t);
    let Some(c) = call.campaign_id.and_then(|c| dir.campaign(c)).filter(|c| c.active()) else {
        // The campaign was paused or deleted while the caller answered.
        e.call.outcome = Outcome::CampaignPaused;
        finish(&mut e, IvrOutcome::Ended, t);
        e.log("unrouted", json!({"reason": "the campaign is paused"}));
        return commit(run, &e, Answer::SayHangup(CAMPAIGN_PAUSED_MESSAGE.into()));
    };
    let step = ivr::step(&c.ivr, question, attempt, heard);
    e.log(
        "ivr_answer",
        json!({"question": question, "attempt": attempt, "digits": heard.digits, "speech": heard.speech,
               "confidence": heard.confidence, "result": step.judged.as_str(), "tags": step.tags, "label": step.label}),
    );
    e.merge_tags(step.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if step.label.is_some() {
        e.call.route_label.clone_from(&step.label);
    }
    e.call.updated_at = t;
    match step.next {
        Next::Ask { question, attempt, .. } => {
            e.call.ivr_question = i32::try_from(question).ok();
            e.call.ivr_attempt = i32::try_from(attempt).ok();
            e.log("ivr_question", json!({"question": question, "attempt": attempt}));
            commit(run, &e, ask(c, call.id, question, attempt, None))
        }
        Next::End { message, outcome } => {
            e.call.outcome = Outcome::IvrEnded;
            finish(&mut e, outcome, t);
            e.log("ivr_ended", json!({"outcome": outcome.as_str(), "question": question}));
            commit(run, &e, Answer::SayHangup(message))
        }
        Next::Route => {
            finish(&mut e, IvrOutcome::Completed, t);
            route(run, dir, c, e, now)
        }
    }
}

/// Routes the call of `e` once its IVR is over, as the voice webhook would have.
fn route(run: &mut Run<'_>, dir: &Directory, c: &CampaignEntry, e: Effects, now: DateTime<Utc>) -> Result<Option<Answer>, Error> {
    let call = e.call.clone();
    let repeat_since = now.naive_utc() - chrono::Duration::seconds(run.ctx.routing.repeat_window_secs);
    let loads = calls::loads(run.conn, Some(c.row.id), &call.caller, &Lookback::repeat_only(repeat_since))?;
    if loads.directory_version > dir.version {
        // Read the directory again, then the call.
        run.ctx.directory.at_least(run.conn, loads.directory_version)?;
        return Ok(None);
    }
    match route_attempt(run, dir, c, e, call.caller_state.as_deref(), &[], 1, now, &loads)? {
        Attempt::Claimed { leg_id, buyer_number, whisper } => {
            Ok(Some(Answer::Dial { greeting: None, leg_id, buyer_number, caller_id: call.caller.clone(), whisper }))
        }
        Attempt::NoBuyer(e) => {
            let mut e = *e;
            e.call.outcome = Outcome::NoBuyer;
            commit(run, &e, Answer::SayHangup(c.row.busy_message.clone()))
        }
        Attempt::Again | Attempt::Duplicate => Ok(None),
        // Nothing written: the webhook pings the bidders and comes back.
        Attempt::Ping(job) => Ok(Some(Answer::PingBidders(job))),
    }
}

fn commit(run: &mut Run<'_>, e: &Effects, answer: Answer) -> Result<Option<Answer>, Error> {
    Ok(match run.commit(e)? {
        Commit::Done { .. } => Some(answer),
        _ => None,
    })
}
