//! The call flow: what happens on each Twilio webhook. Each entry point runs inside one database
//! transaction (the caller opens it) and returns what to answer; TwiML is rendered at the edge.
//!
//! - `on_voice`: a call arrives → record it, route it, claim a buyer slot, answer greet + dial.
//! - `on_dial_result`: a `<Dial>` attempt ended → release its slot; fail over to the next buyer
//!   when it was busy / unanswered / failed, else hang up.
//! - `on_status`: status callbacks of the call or of a buyer leg → fold them in (order-independent),
//!   release slots of legs that ended.
//! - `on_recording`: the recording of the call is ready.
//! - `reap`: releases slots whose callbacks never came.
pub mod candidates;
pub mod lifecycle;
pub mod slots;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::stamp::Stamp;
use crate::db::{direct, update};
use serde_json::json;

use self::lifecycle::{Progress, Report};
use crate::config::{RoutingConfig, TwilioConfig};
use crate::db::schema::{call_legs, calls, campaigns, phone_numbers};
use crate::db::DbConnection;
use crate::error::Error;
use crate::live::{self, LiveEvent};
use crate::routing::{route, CallInfo};
use crate::store::calls::{self as store, CallRow, LegRow, NewCall};
use crate::twilio::params::{CallStatus, CallStatusCallback, DialActionCallback, DialCallStatus, RecordingStatusCallback, VoiceWebhook};

pub const UNKNOWN_NUMBER_MESSAGE: &str = "We're sorry, the number you have dialled is not in service. Goodbye.";
pub const CAMPAIGN_PAUSED_MESSAGE: &str = "We're sorry, this line is not taking calls right now. Please try again later.";

/// What to tell Twilio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Greet (first attempt only) and dial a buyer on a claimed slot.
    Dial {
        greeting: Option<String>,
        leg_id: i64,
        buyer_number: String,
        caller_id: String,
    },
    /// Say something and hang up.
    SayHangup(String),
    Hangup,
}

/// Outcomes a call can have (the `outcome` column).
pub mod outcome {
    pub const ROUTED: &str = "routed";
    pub const CONNECTED: &str = "connected";
    pub const NO_BUYER: &str = "no_buyer";
    pub const UNKNOWN_NUMBER: &str = "unknown_number";
    pub const CAMPAIGN_PAUSED: &str = "campaign_paused";
    pub const ABANDONED: &str = "abandoned";
    pub const FAILED: &str = "failed";
}

struct CampaignInfo {
    id: i64,
    active: bool,
    greeting: String,
    busy_message: String,
}

impl CampaignInfo {
    /// From the campaign's (status, greeting, busy message).
    fn new(id: i64, (status, greeting, busy_message): (String, String, String)) -> Self {
        CampaignInfo { id, active: status == "active", greeting, busy_message }
    }
}

fn campaign_info(conn: &mut DbConnection, id: i64) -> Result<Option<CampaignInfo>, Error> {
    Ok(direct::run!(conn, first, campaigns::table.find(id).select((campaigns::status, campaigns::greeting, campaigns::busy_message)))
        .optional()?
        .map(|row: (String, String, String)| CampaignInfo::new(id, row)))
}

/// A new inbound call.
pub fn on_voice(conn: &mut DbConnection, v: &VoiceWebhook, now: DateTime<Utc>, cfg: &RoutingConfig) -> Result<Answer, Error> {
    let t = now.naive_utc();
    // The number and its campaign in one query.
    type NumberAndCampaign = (i64, Option<i64>, Option<i64>, Option<(String, String, String)>);
    let found: Option<NumberAndCampaign> = direct::run!(
        conn,
        first,
        phone_numbers::table.left_join(campaigns::table).filter(phone_numbers::number.eq(&v.to)).select((
            phone_numbers::id,
            phone_numbers::campaign_id,
            phone_numbers::publisher_id,
            (campaigns::status, campaigns::greeting, campaigns::busy_message).nullable(),
        )),
    )
    .optional()?;
    let number = found.as_ref().map(|n| (n.0, n.1, n.2));
    let campaign = found.and_then(|(_, id, _, c)| Some(CampaignInfo::new(id?, c?)));
    let state = crate::routing::caller_state(v.from_state.as_deref(), &v.from);
    let new_call = store::insert(
        conn,
        &NewCall {
            call_sid: v.call_sid.clone(),
            campaign_id: campaign.as_ref().map(|c| c.id),
            number_id: number.map(|n| n.0),
            publisher_id: number.and_then(|n| n.2),
            caller: v.from.clone(),
            dialled: v.to.clone(),
            caller_state: state.as_ref().map(|s| s.state.clone()),
            caller_state_source: state
                .as_ref()
                .map(|s| serde_json::to_value(s.source).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()),
            caller_city: v.from_city.clone(),
            caller_zip: v.from_zip.clone(),
            status: v.status().filter(|s| !s.is_final()).unwrap_or(CallStatus::Ringing).as_str().into(),
            outcome: outcome::ROUTED.into(),
            started_at: t,
            updated_at: t,
        },
    )?;
    let Some(call_id) = new_call else {
        // Twilio sent the webhook again: answer the same thing again, claim nothing new.
        let existing = store::find_by_sid(conn, &v.call_sid)?.ok_or(Error::NotFound("call"))?;
        return replay(conn, &existing);
    };
    live::emit(conn, LiveEvent::Created(call_id))?;
    let Some(campaign) = campaign else {
        store::set_outcome(conn, call_id, outcome::UNKNOWN_NUMBER)?;
        store::event(conn, call_id, "unrouted", json!({"reason": "the dialled number is not assigned to a campaign"}))?;
        return Ok(Answer::SayHangup(UNKNOWN_NUMBER_MESSAGE.into()));
    };
    if !campaign.active {
        store::set_outcome(conn, call_id, outcome::CAMPAIGN_PAUSED)?;
        store::event(conn, call_id, "unrouted", json!({"reason": "the campaign is paused"}))?;
        return Ok(Answer::SayHangup(CAMPAIGN_PAUSED_MESSAGE.into()));
    }
    match try_route(conn, call_id, &campaign, (&v.from, &v.to), v.from_state.as_deref(), &[], 1, now, cfg)? {
        Some((leg_id, buyer_number)) => {
            Ok(Answer::Dial { greeting: Some(campaign.greeting), leg_id, buyer_number, caller_id: v.from.clone() })
        }
        None => {
            store::set_outcome(conn, call_id, outcome::NO_BUYER)?;
            Ok(Answer::SayHangup(campaign.busy_message))
        }
    }
}

/// The answer for a call already handled (a retried webhook).
fn replay(conn: &mut DbConnection, call: &CallRow) -> Result<Answer, Error> {
    let open_leg = store::legs(conn, call.id)?.into_iter().rev().find(|l| l.status == "reserved");
    let campaign = match call.campaign_id {
        Some(id) => campaign_info(conn, id)?,
        None => None,
    };
    match (open_leg, campaign) {
        (Some(leg), Some(c)) => {
            let number = leg_number(conn, &leg)?;
            Ok(Answer::Dial { greeting: Some(c.greeting), leg_id: leg.id, buyer_number: number, caller_id: call.caller.clone() })
        }
        (None, Some(c)) => Ok(Answer::SayHangup(c.busy_message)),
        (_, None) => Ok(Answer::SayHangup(UNKNOWN_NUMBER_MESSAGE.into())),
    }
}

fn leg_number(conn: &mut DbConnection, leg: &LegRow) -> Result<String, Error> {
    let buyer = leg.buyer_id.ok_or(Error::NotFound("buyer"))?;
    Ok(crate::store::buyers::get_row(conn, buyer)?.phone_number)
}

/// Routes the call and claims the first buyer slot it can. Logs the decision with every
/// candidate's reason. Returns the new leg and the number to dial.
#[allow(clippy::too_many_arguments)]
fn try_route(
    conn: &mut DbConnection,
    call_id: i64,
    campaign: &CampaignInfo,
    (caller, dialled): (&str, &str),
    from_state: Option<&str>,
    exclude: &[i64],
    attempt: i32,
    now: DateTime<Utc>,
    cfg: &RoutingConfig,
) -> Result<Option<(i64, String)>, Error> {
    let t = now.naive_utc();
    let loaded = candidates::load(conn, campaign.id, now)?;
    let since = t - chrono::Duration::seconds(cfg.repeat_window_secs);
    let repeat_buyer = candidates::repeat_buyer(conn, campaign.id, caller, since)?;
    let info = CallInfo {
        caller: caller.to_string(),
        dialled: dialled.to_string(),
        from_state: from_state.map(String::from),
        now,
        campaign_active: campaign.active,
        repeat_buyer,
        exclude: exclude.to_vec(),
    };
    let decision = route(&info, &loaded.candidates);
    // The log of this attempt, written at the end. The decision, the largest entry, is written
    // as JSON text directly.
    #[derive(serde::Serialize)]
    struct Routing<'a, D> {
        attempt: i32,
        decision: &'a D,
    }
    let routing = serde_json::to_string(&Routing { attempt, decision: &decision }).map_err(|e| Error::Internal(e.into()))?;
    let mut log = vec![("routing", routing)];
    let Some(buyer_id) = claim_first(conn, &decision.ranked, &loaded, t, &mut log)? else {
        log.push(("no_buyer", json!({"attempt": attempt}).to_string()));
        store::events(conn, call_id, &log)?;
        return Ok(None);
    };
    let rules = &loaded.rules[&buyer_id];
    let expires = t + chrono::Duration::seconds(i64::from(cfg.dial_timeout_secs) + i64::from(cfg.time_limit_secs) + cfg.reaper_margin_secs);
    let leg_id: i64 = direct::run!(
        conn,
        get_result,
        diesel::insert_into(call_legs::table)
            .values((
                call_legs::call_id.eq(call_id),
                call_legs::attempt.eq(attempt),
                call_legs::buyer_id.eq(buyer_id),
                call_legs::status.eq("reserved"),
                call_legs::reserved_at.eq(Stamp(t)),
                call_legs::expires_at.eq(Stamp(expires)),
            ))
            .returning(call_legs::id),
    )?;
    direct::run!(
        conn,
        execute,
        update(
            calls::table,
            calls::id.eq(call_id),
            (calls::buyer_id.eq(buyer_id), calls::attempts.eq(attempt), calls::outcome.eq(outcome::ROUTED), calls::updated_at.eq(Stamp(t)))
        ),
    )?;
    log.push(("attempt", json!({"attempt": attempt, "leg_id": leg_id, "buyer_id": buyer_id, "buyer": rules.name}).to_string()));
    store::events(conn, call_id, &log)?;
    Ok(Some((leg_id, rules.phone_number.clone())))
}

/// Claims the slot of the first ranked buyer that still has room; logs each one found full.
fn claim_first(
    conn: &mut DbConnection,
    ranked: &[i64],
    loaded: &candidates::Loaded,
    t: NaiveDateTime,
    log: &mut Vec<(&'static str, String)>,
) -> Result<Option<i64>, Error> {
    for &buyer_id in ranked {
        let Some(rules) = loaded.rules.get(&buyer_id) else { continue };
        if slots::claim(conn, buyer_id, rules, t)? {
            return Ok(Some(buyer_id));
        }
        log.push(("slot_taken", json!({"buyer_id": buyer_id, "buyer": rules.name}).to_string()));
    }
    Ok(None)
}

/// The `<Dial action>` callback: the attempt on leg `leg_id` ended.
pub fn on_dial_result(
    conn: &mut DbConnection,
    leg_id: i64,
    d: &DialActionCallback,
    now: DateTime<Utc>,
    cfg: &RoutingConfig,
) -> Result<Answer, Error> {
    let Some((leg, call)) = store::leg_and_call_for_update(conn, leg_id)? else {
        return Err(Error::NotFound("call leg"));
    };
    if call.call_sid != d.call_sid {
        return Err(Error::bad_request("CallSid does not match the leg"));
    }
    let status = d.dial_status();
    let answered = status.is_some_and(DialCallStatus::was_answered);
    // A retried action callback: if the next attempt already exists, answer it again. An answered
    // attempt never has a next one.
    let legs = if answered { vec![] } else { store::legs(conn, call.id)? };
    if let Some(next) = legs.iter().find(|l| l.attempt == leg.attempt + 1) {
        if next.status == "reserved" {
            let number = leg_number(conn, next)?;
            return Ok(Answer::Dial { greeting: None, leg_id: next.id, buyer_number: number, caller_id: call.caller.clone() });
        }
        return Ok(Answer::Hangup);
    }
    let t = now.naive_utc();
    store::event(
        conn,
        call.id,
        "attempt_result",
        json!({"attempt": leg.attempt, "leg_id": leg.id, "buyer_id": leg.buyer_id, "dial_call_status": d.dial_call_status, "duration_secs": d.dial_call_duration_secs()}),
    )?;
    let leg_status = match status {
        Some(DialCallStatus::Completed | DialCallStatus::Answered) => CallStatus::Completed,
        Some(DialCallStatus::Busy) => CallStatus::Busy,
        Some(DialCallStatus::NoAnswer) => CallStatus::NoAnswer,
        Some(DialCallStatus::Canceled) => CallStatus::Canceled,
        Some(DialCallStatus::Failed) | None => CallStatus::Failed,
    };
    let duration = d.dial_call_duration_secs().and_then(|s| i32::try_from(s).ok());
    let call_over = CallStatus::parse(&call.status).is_some_and(CallStatus::is_final);
    let state = CallState { over: call_over, connected: call.connected_at.is_some() };
    apply_leg_report(
        conn,
        &leg,
        state,
        &Report { status: leg_status, at: t, duration_secs: duration, sequence: None },
        d.dial_call_sid.as_deref(),
    )?;
    if answered {
        return Ok(Answer::Hangup);
    }
    let fail_over = matches!(status, Some(DialCallStatus::Busy | DialCallStatus::NoAnswer | DialCallStatus::Failed) | None);
    if !fail_over || call_over {
        // The caller hung up: not a reason to ring anyone else.
        if call.connected_at.is_none() {
            store::set_outcome(conn, call.id, outcome::ABANDONED)?;
        }
        return Ok(Answer::Hangup);
    }
    let campaign = match call.campaign_id {
        Some(id) => campaign_info(conn, id)?,
        None => None,
    };
    let Some(campaign) = campaign else { return Ok(Answer::Hangup) };
    if u32::try_from(leg.attempt).unwrap_or(u32::MAX) >= cfg.max_attempts {
        store::set_outcome(conn, call.id, outcome::FAILED)?;
        store::event(conn, call.id, "attempts_exhausted", json!({"attempts": leg.attempt}))?;
        return Ok(Answer::SayHangup(campaign.busy_message));
    }
    let tried: Vec<i64> = legs.iter().filter_map(|l| l.buyer_id).collect();
    match try_route(
        conn,
        call.id,
        &campaign,
        (&call.caller, &call.dialled),
        call.caller_state.as_deref(),
        &tried,
        leg.attempt + 1,
        now,
        cfg,
    )? {
        Some((leg_id, buyer_number)) => Ok(Answer::Dial { greeting: None, leg_id, buyer_number, caller_id: call.caller.clone() }),
        None => {
            store::set_outcome(conn, call.id, outcome::FAILED)?;
            Ok(Answer::SayHangup(campaign.busy_message))
        }
    }
}

/// The `Progress` stored in a row of `calls` or `call_legs`, which name its columns alike.
macro_rules! progress_of {
    ($row:expr) => {
        Progress {
            status: CallStatus::parse(&$row.status).unwrap_or(CallStatus::Queued),
            ringing_at: $row.ringing_at,
            answered_at: $row.answered_at,
            ended_at: $row.ended_at,
            duration_secs: $row.duration_secs,
            last_sequence: $row.last_sequence,
        }
    };
}

/// A `Progress` as changes to the columns of `$table` (`calls` or `call_legs`) that store it.
macro_rules! progress_changes {
    ($table:ident, $p:expr) => {
        (
            $table::status.eq($p.status.as_str()),
            $table::ringing_at.eq($p.ringing_at.map(Stamp)),
            $table::answered_at.eq($p.answered_at.map(Stamp)),
            $table::ended_at.eq($p.ended_at.map(Stamp)),
            $table::duration_secs.eq($p.duration_secs),
            $table::last_sequence.eq($p.last_sequence),
        )
    };
}

/// Folds a report into a leg; on answer marks the call connected, on end releases the slot.
/// `call`: what the leg's call was when the leg was locked (read with it, and locked with it).
fn apply_leg_report(conn: &mut DbConnection, leg: &LegRow, call: CallState, r: &Report, dial_sid: Option<&str>) -> Result<(), Error> {
    let before = progress_of!(leg);
    let p = before.apply(r);
    // The leg is locked (`leg_for_update`): its first dial SID stays, whatever the order.
    let dial_call_sid = leg.dial_call_sid.as_deref().or(dial_sid);
    if p == before && leg.status == p.status.as_str() && dial_call_sid == leg.dial_call_sid.as_deref() {
        // Nothing new: a repeated callback, or the dial action after the leg's own final status
        // callback. Everything below follows from the leg's record alone (and is idempotent), so
        // it was all done when the leg's record last changed.
        return Ok(());
    }
    direct::run!(
        conn,
        execute,
        update(call_legs::table, call_legs::id.eq(leg.id), (progress_changes!(call_legs, p), call_legs::dial_call_sid.eq(dial_call_sid)))
    )?;
    if leg.ringing_at.is_none() && p.ringing_at.is_some() {
        live::emit(conn, LiveEvent::Ringing(leg.call_id))?;
    }
    if p.answered() {
        if !call.connected {
            // The first answer of any leg of the call.
            live::emit(conn, LiveEvent::Answered(leg.call_id))?;
        }
        // The call is connected at the earliest answer of any leg, and billed for the answered
        // leg's length once it is final. Both are computed by the update from the row it changes.
        use diesel::dsl::case_when;
        use diesel::sql_types::{Integer, Nullable, Timestamp};
        let connected_at = Some(Stamp(p.answered_at.or(p.ended_at).unwrap_or(r.at))).into_sql::<Nullable<Timestamp>>();
        let final_secs = p.duration_secs.filter(|_| p.is_final()).into_sql::<Nullable<Integer>>();
        direct::run!(
            conn,
            execute,
            update(
                calls::table,
                calls::id.eq(leg.call_id),
                (
                    calls::buyer_id.eq(leg.buyer_id),
                    calls::connected_at.eq(case_when(calls::connected_at.is_null().or(calls::connected_at.gt(connected_at)), connected_at)
                        .otherwise(calls::connected_at)),
                    calls::outcome.eq(outcome::CONNECTED),
                    calls::billable_secs.eq(case_when(final_secs.is_not_null(), final_secs).otherwise(calls::billable_secs)),
                    calls::updated_at.eq(Stamp(crate::db::now())),
                )
            )
        )?;
    }
    if p.is_final() && slots::release(conn, leg.id, leg.buyer_id)? {
        store::event(
            conn,
            leg.call_id,
            "slot_released",
            json!({"leg_id": leg.id, "buyer_id": leg.buyer_id, "leg_status": p.status.as_str()}),
        )?;
    }
    // Money: settles once the call is final and the answered leg's length known, whatever the order.
    // A leg still under way cannot make a call ready: answered, it holds the settlement back;
    // unanswered, it changes nothing settling reads (and a leg that ended never starts again).
    // Nor can a leg of a call still under way: the call's own final callback settles it.
    if p.is_final() && call.over {
        crate::money::settle_if_ready(conn, leg.call_id)?;
    }
    Ok(())
}

/// What a leg report needs to know of the leg's call.
#[derive(Debug, Clone, Copy)]
struct CallState {
    /// The call's own status is final.
    over: bool,
    /// A buyer leg of the call was answered already.
    connected: bool,
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
/// `twilio` says whether there is an account to ask for the call's cost once it is over.
pub fn on_status(
    conn: &mut DbConnection,
    leg_id: Option<i64>,
    cb: &CallStatusCallback,
    now: DateTime<Utc>,
    twilio: &TwilioConfig,
) -> Result<(), Error> {
    let Some(status) = cb.status() else {
        return Err(Error::bad_request(format!("unknown CallStatus {:?}", cb.call_status)));
    };
    let report = report_from(cb, status, now.naive_utc());
    if let Some(leg_id) = leg_id {
        let (leg, (call_status, connected_at)) = store::leg_for_update(conn, leg_id)?.ok_or(Error::NotFound("call leg"))?;
        let call = CallState { over: CallStatus::parse(&call_status).is_some_and(CallStatus::is_final), connected: connected_at.is_some() };
        return apply_leg_report(conn, &leg, call, &report, Some(&cb.call_sid));
    }
    // Legs first, then the call: the order every callback locks in.
    let legs = store::legs_for_update(conn, &cb.call_sid)?;
    let Some(call) = store::call_for_update(conn, &cb.call_sid)? else {
        return Err(Error::NotFound("call"));
    };
    let current = progress_of!(call);
    let p = current.apply(&report);
    let ended = p.is_final();
    // The caller hung up before any buyer answered.
    let abandoned = ended && call.outcome == outcome::ROUTED && call.connected_at.is_none();
    let new_outcome = if abandoned { outcome::ABANDONED.to_string() } else { call.outcome.clone() };
    let call = store::update_row!(conn, call, {
        status: p.status.as_str().to_string(),
        ringing_at: p.ringing_at,
        answered_at: p.answered_at,
        ended_at: p.ended_at,
        duration_secs: p.duration_secs,
        last_sequence: p.last_sequence,
        outcome: new_outcome,
        updated_at: crate::db::now(),
    })?;
    if ended && !current.is_final() {
        live::emit(conn, LiveEvent::Completed(call.id))?;
    }
    if ended {
        // The caller is gone: no leg of this call can still hold a slot.
        for leg in legs.iter().filter(|l| !l.released) {
            if slots::release(conn, leg.id, leg.buyer_id)? {
                store::event(conn, call.id, "slot_released", json!({"leg_id": leg.id, "buyer_id": leg.buyer_id, "reason": "call ended"}))?;
            }
        }
        crate::twilio::tasks::enqueue_cost(conn, call.id, twilio)?;
        // The call and its legs as this transaction holds them: both are locked, and releasing
        // a slot changes nothing that settling reads.
        crate::money::settle_if_final(conn, call, &legs)?;
    }
    Ok(())
}

/// The recording status callback.
pub fn on_recording(conn: &mut DbConnection, r: &RecordingStatusCallback) -> Result<(), Error> {
    let Some(call) = store::find_by_sid(conn, &r.call_sid)? else {
        return Err(Error::NotFound("call"));
    };
    store::event(
        conn,
        call.id,
        "recording",
        json!({"sid": r.recording_sid, "status": r.recording_status, "duration_secs": r.duration_secs()}),
    )?;
    if r.recording_status != "completed" {
        return Ok(());
    }
    update(
        calls::table,
        calls::id.eq(call.id),
        (
            calls::recording_sid.eq(&r.recording_sid),
            calls::recording_url.eq(&r.recording_url),
            calls::recording_duration_secs.eq(r.duration_secs().and_then(|s| i32::try_from(s).ok())),
            calls::recording_channels.eq(r.channels().and_then(|s| i32::try_from(s).ok())),
            calls::updated_at.eq(crate::db::now()),
        ),
    )
    .execute(conn)?;
    crate::twilio::tasks::enqueue_transcript_if_wanted(conn, call.id)?;
    Ok(())
}

/// Releases the slots of legs past their expiry (their callbacks never came). Returns how many.
pub fn reap(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, Error> {
    let stale: Vec<(i64, i64, Option<i64>)> = call_legs::table
        .filter(call_legs::released.eq(false))
        .filter(call_legs::expires_at.lt(now.naive_utc()))
        .select((call_legs::id, call_legs::call_id, call_legs::buyer_id))
        .limit(500)
        .load(conn)?;
    let mut n = 0;
    for (leg_id, call_id, buyer_id) in stale {
        if slots::release(conn, leg_id, buyer_id)? {
            n += 1;
            store::event(conn, call_id, "slot_reaped", json!({"leg_id": leg_id, "buyer_id": buyer_id}))?;
            // The leg's last callback never came: settle a finished call with what is known.
            let call = store::get_row(conn, call_id)?;
            if CallStatus::parse(&call.status).is_some_and(CallStatus::is_final) {
                crate::money::settle(conn, call_id, crate::money::RuleChoice::Keep)?;
            }
        }
    }
    Ok(n)
}

/// The routing decision for a hypothetical call; reads only.
pub fn simulate(
    conn: &mut DbConnection,
    number: &str,
    caller: &str,
    from_state: Option<&str>,
    now: DateTime<Utc>,
    cfg: &RoutingConfig,
) -> Result<callbroker_wire::SimulateResponse, Error> {
    let campaign_id: Option<i64> = phone_numbers::table
        .filter(phone_numbers::number.eq(number))
        .select(phone_numbers::campaign_id)
        .first::<Option<i64>>(conn)
        .optional()?
        .flatten();
    let campaign = match campaign_id {
        Some(id) => campaign_info(conn, id)?,
        None => None,
    };
    let Some(campaign) = campaign else {
        let decision =
            callbroker_wire::Decision { ranked: vec![], verdicts: vec![], caller_state: crate::routing::caller_state(from_state, caller) };
        return Ok(callbroker_wire::SimulateResponse {
            campaign_id: None,
            outcome: outcome::UNKNOWN_NUMBER.into(),
            buyer_id: None,
            decision,
        });
    };
    let loaded = candidates::load(conn, campaign.id, now)?;
    let since = now.naive_utc() - chrono::Duration::seconds(cfg.repeat_window_secs);
    let repeat_buyer = candidates::repeat_buyer(conn, campaign.id, caller, since)?;
    let info = CallInfo {
        caller: caller.to_string(),
        dialled: number.to_string(),
        from_state: from_state.map(String::from),
        now,
        campaign_active: campaign.active,
        repeat_buyer,
        exclude: vec![],
    };
    let decision = route(&info, &loaded.candidates);
    let outcome = if !campaign.active {
        outcome::CAMPAIGN_PAUSED
    } else if decision.ranked.is_empty() {
        outcome::NO_BUYER
    } else {
        outcome::ROUTED
    };
    Ok(callbroker_wire::SimulateResponse {
        campaign_id: Some(campaign.id),
        outcome: outcome.into(),
        buyer_id: decision.first(),
        decision: decision.into_owned(),
    })
}
