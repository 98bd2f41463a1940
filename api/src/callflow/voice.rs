//! A call arrives: record it, route it, claim a buyer's slot, answer greet + dial.
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;

use super::acceptance::Settings;
use super::candidates::{self, SlotRules};
use super::{contended, Answer, Run, CAMPAIGN_PAUSED_MESSAGE, UNKNOWN_NUMBER_MESSAGE};
use crate::domain::states::{CallStatus, LegStatus, Outcome};
use crate::error::Error;
use crate::routing::screening::{self, CallFacts, Screened, Windows};
use crate::routing::{bids, route, CallInfo};
use crate::store::calls::flow::{self as calls, BidLeg, CallState, Claim, Commit, Effects, Find, Loads, Lookback};
use crate::store::calls::{CallRow, LegRow, NewCall};
use crate::store::directory::{CampaignEntry, Directory};
use crate::twilio::params::VoiceWebhook;
use callbroker_wire::bidding::PingOutcome;
use callbroker_wire::{LiveEventKind, Tags};
use std::sync::Arc;

/// The tags a call arrives with: Twilio's `FromState`, `FromZip`, `FromCity` and `StirVerstat`
/// when sent, and `AreaCode` when the caller's number is a NANP one. A value no tag may hold
/// (over 200 characters, control characters) is left out.
pub fn arrival_tags(from: &str, from_state: Option<&str>, from_zip: Option<&str>, from_city: Option<&str>, stir: Option<&str>) -> Tags {
    use callbroker_wire::screening::{TAG_AREA_CODE, TAG_FROM_CITY, TAG_FROM_STATE, TAG_FROM_ZIP, TAG_STIR_VERSTAT};
    let area = crate::routing::nanp_area_code(from).map(|a| format!("{a:03}"));
    [
        (TAG_FROM_STATE, from_state),
        (TAG_FROM_ZIP, from_zip),
        (TAG_FROM_CITY, from_city),
        (TAG_STIR_VERSTAT, stir),
        (TAG_AREA_CODE, area.as_deref()),
    ]
    .into_iter()
    .filter_map(|(name, value)| {
        let value = value?.trim();
        (!value.is_empty() && crate::routing::tags::valid_value(value)).then(|| (name.to_string(), value.to_string()))
    })
    .collect()
}

/// What the voice webhook's read looks back over for a call to `campaign`: the repeat buyer
/// (the configuration's window, or the campaign's `same_buyer` one) and the screening's history.
pub(super) fn lookback(dir: &Directory, campaign: Option<i64>, now: DateTime<Utc>, repeat_window_secs: i64) -> Lookback {
    let repeat_since = now.naive_utc() - chrono::Duration::seconds(repeat_window_secs);
    match campaign.and_then(|c| dir.campaign(c)) {
        Some(c) => Lookback::screening(repeat_since, &Windows::of(&c.screening, now)),
        None => Lookback::repeat_only(repeat_since),
    }
}

/// Screens a call to `campaign` from `caller` (see [`screening::screen`]).
pub(super) fn screen(
    dir: &Directory,
    campaign: &CampaignEntry,
    caller: &str,
    stir_verstat: Option<&str>,
    loads: &Loads,
    now: DateTime<Utc>,
) -> Screened {
    let facts = CallFacts { caller, stir_verstat };
    screening::screen(&facts, campaign.row.id, &campaign.screening, &dir.blocklist, &loads.history, now)
}

/// How a blocked caller is answered: the campaign's message then a hang-up, or a rejection.
pub(super) fn block_answer(campaign: &CampaignEntry) -> Answer {
    match &campaign.screening.block_message {
        Some(message) => Answer::SayHangup(message.clone()),
        None => Answer::Reject,
    }
}

/// The new call's row, from the webhook and what the directory says of the dialled number.
fn new_call(v: &VoiceWebhook, dir: &Directory, t: NaiveDateTime) -> NewCall {
    let number = dir.number(&v.to);
    let campaign_id = number.and_then(|n| n.campaign_id);
    let state = crate::routing::caller_state(v.from_state.as_deref(), &v.from);
    NewCall {
        call_sid: v.call_sid.clone(),
        campaign_id,
        number_id: number.map(|n| n.id),
        publisher_id: number.and_then(|n| n.publisher_id),
        caller: v.from.clone(),
        dialled: v.to.clone(),
        caller_state: state.as_ref().map(|s| s.state.clone()),
        caller_state_source: state.as_ref().and_then(|s| serde_json::to_value(s.source).ok()).and_then(|v| v.as_str().map(String::from)),
        caller_city: v.from_city.clone(),
        caller_zip: v.from_zip.clone(),
        status: v.status().filter(|s| !s.is_final()).unwrap_or(CallStatus::Ringing),
        outcome: Outcome::Routed,
        started_at: t,
        tags: arrival_tags(&v.from, v.from_state.as_deref(), v.from_zip.as_deref(), v.from_city.as_deref(), v.stir_verstat.as_deref()),
    }
}

/// The campaign a new call is sold in, from this instance's directory: active, without an IVR
/// (whose answers come first), with active bidders. No statement.
pub(super) fn ping_job(dir: &Directory, v: &VoiceWebhook) -> Option<i64> {
    let c = dir.campaign(dialled_campaign(v, dir)?)?;
    (c.active() && !c.ivr.is_on() && c.active_bidders().next().is_some()).then_some(c.row.id)
}

/// What the read before a sold call's write found.
pub(super) enum Presale {
    /// The call is recorded already (Twilio sent the webhook again): it is answered as it was,
    /// and its bidders are not pinged again.
    Recorded,
    /// Not offered to the bidders: its screening blocks the caller or keeps it to one buyer.
    Unsold,
    Ping(Box<super::PingJob>),
}

/// Whether a new call to `campaign` is pinged to its bidders, and with what (two reads). What
/// routing finds later stands: a call routed with no pings here asks for them then
/// ([`Attempt::Ping`]).
pub(super) fn presale(
    conn: &mut crate::db::DbConnection,
    ctx: &super::Ctx,
    campaign: i64,
    v: &VoiceWebhook,
    now: DateTime<Utc>,
) -> Result<Presale, Error> {
    let dir = ctx.directory.get();
    let Some(c) = dir.campaign(campaign) else { return Ok(Presale::Unsold) };
    if calls::recorded(conn, &v.call_sid)? {
        return Ok(Presale::Recorded);
    }
    let loads = calls::loads(conn, Some(campaign), &v.from, &lookback(&dir, Some(campaign), now, ctx.routing.repeat_window_secs))?;
    let Screened::Pass { only_buyer: None } = screen(&dir, c, &v.from, v.stir_verstat.as_deref(), &loads, now) else {
        return Ok(Presale::Unsold);
    };
    let call = new_call(v, &dir, now.naive_utc()).into_row(0);
    Ok(Presale::Ping(Box::new(super::PingJob::of(c, ping_facts(&call, campaign)))))
}

/// The campaign of the dialled number.
fn dialled_campaign(v: &VoiceWebhook, dir: &Directory) -> Option<i64> {
    dir.number(&v.to).and_then(|n| n.campaign_id)
}

/// A new inbound call.
pub fn on_voice(run: &mut Run<'_>, v: &VoiceWebhook, now: DateTime<Utc>) -> Result<Answer, Error> {
    let t = now.naive_utc();
    let window = run.ctx.routing.repeat_window_secs;
    let repeat_since = t - chrono::Duration::seconds(window);
    let mut dir = run.ctx.directory.get();
    let mut campaign = routed_campaign_of(&dir, dialled_campaign(v, &dir));
    let (call_id, mut loads) = calls::prepare_call(run.conn, campaign, &v.from, &lookback(&dir, campaign, now, window))?;
    if loads.directory_version > dir.version {
        // The directory changed since this instance read it.
        dir = run.ctx.directory.at_least(run.conn, loads.directory_version)?;
        campaign = routed_campaign_of(&dir, dialled_campaign(v, &dir));
        loads = calls::loads(run.conn, campaign, &v.from, &lookback(&dir, campaign, now, window))?;
    }
    // Screened once, on this first read: the call is not recorded yet, so the history is the
    // caller's earlier calls. (A copy of this webhook sent meanwhile finds the call recorded
    // when it commits, and answers as it was answered.)
    let screened = match campaign.and_then(|c| dir.campaign(c)) {
        Some(c) => screen(&dir, c, &v.from, v.stir_verstat.as_deref(), &loads, now),
        None => Screened::Pass { only_buyer: None },
    };
    // Recorded by the first commit below (with its routing), unless Twilio sent this webhook
    // before: then its answer is given again.
    let mut state = CallState { call: new_call(v, &dir, t).into_row(call_id), legs: vec![] };
    if let Screened::Pass { only_buyer } = &screened {
        state.call.repeat_buyer_id = *only_buyer;
    }
    // A publisher's quote for this caller and number, given through the ping API: the call
    // keeps it, and is paid as quoted.
    if let (Some(c), Some(number)) = (campaign.and_then(|c| dir.campaign(c)), state.call.number_id) {
        if c.routing.bids.ping_api && screened.block().is_none() {
            if let Some((ping_id, payout)) = crate::store::quotes::matching(run.conn, c.row.id, number, &v.from, t)? {
                state.call.quote_ping_id = Some(ping_id);
                state.call.quote_payout_micros = payout;
            }
        }
    }
    let mut insert = true;
    for _ in 0..super::TRIES {
        match answer_new_call(run, &dir, &state, insert, v, now, &loads, screened.block())? {
            Step::Answer(answer) => return Ok(answer),
            Step::Duplicate => return replay(run, &v.call_sid),
            Step::Again => {}
        }
        // The call changed meanwhile (its first routing found the slot taken, or another
        // webhook of the call, its caller hanging up, came in between).
        insert = false;
        let (current, fresh) = run.read(Find::Id(call_id))?.ok_or(Error::NotFound("call"))?;
        if current.call.is_over() {
            return Ok(Answer::Hangup);
        }
        loads =
            calls::loads(run.conn, routed_campaign_of(&fresh, current.call.campaign_id), &v.from, &Lookback::repeat_only(repeat_since))?;
        (state, dir) = (current, fresh);
    }
    Err(contended())
}

/// The campaign a call is routed in (its loads are read): its campaign, when active.
fn routed_campaign_of(dir: &Directory, campaign: Option<i64>) -> Option<i64> {
    campaign.and_then(|c| dir.campaign(c)).filter(|c| c.active()).map(|c| c.row.id)
}

/// What [`answer_new_call`] came to.
enum Step {
    Answer(Answer),
    /// The call is recorded already: answer what it was answered.
    Duplicate,
    /// Nothing of the routing is written (its slot was taken, or the call changed): again.
    Again,
}

/// Routes the new call in `state` and writes it with the outcome (`insert`: recording it), or
/// records it blocked.
#[allow(clippy::too_many_arguments)]
fn answer_new_call(
    run: &mut Run<'_>,
    dir: &Directory,
    state: &CallState,
    insert: bool,
    v: &VoiceWebhook,
    now: DateTime<Utc>,
    loads: &Loads,
    block: Option<&callbroker_wire::Block>,
) -> Result<Step, Error> {
    let mut e = Effects::new(state, now.naive_utc());
    e.insert = insert;
    e.announce(LiveEventKind::CallCreated, None);
    let (e, answer) = match state.call.campaign_id.and_then(|c| dir.campaign(c)) {
        None => {
            e.call.outcome = Outcome::UnknownNumber;
            e.log("unrouted", json!({"reason": "the dialled number is not assigned to a campaign"}));
            (e, Answer::SayHangup(UNKNOWN_NUMBER_MESSAGE.into()))
        }
        Some(c) if !c.active() => {
            e.call.outcome = Outcome::CampaignPaused;
            e.log("unrouted", json!({"reason": "the campaign is paused"}));
            (e, Answer::SayHangup(CAMPAIGN_PAUSED_MESSAGE.into()))
        }
        Some(c) if block.is_some() => {
            let block = block.ok_or_else(|| Error::internal(anyhow::anyhow!("a block without its rule")))?;
            e.call.outcome = Outcome::Blocked;
            e.call.blocked_by = Some(block.rule.as_str().to_string());
            e.log("blocked", json!({"rule": block.rule, "detail": block.detail}));
            (e, block_answer(c))
        }
        Some(c) if c.ivr.is_on() => {
            let answer = super::ivr::start(&mut e, c);
            (e, answer)
        }
        Some(c) => match route_attempt(run, dir, c, e, v.from_state.as_deref(), &[], 1, now, loads)? {
            Attempt::Claimed { leg_id, buyer_number, whisper } => {
                let greeting = Some(c.row.greeting.clone());
                return Ok(Step::Answer(Answer::Dial { greeting, leg_id, buyer_number, caller_id: v.from.clone(), whisper }));
            }
            Attempt::NoBuyer(e) => {
                let mut e = *e;
                e.call.outcome = Outcome::NoBuyer;
                (e, Answer::SayHangup(c.row.busy_message.clone()))
            }
            Attempt::Duplicate => return Ok(Step::Duplicate),
            Attempt::Again => return Ok(Step::Again),
            Attempt::Ping(job) => return Ok(Step::Answer(Answer::PingBidders(job))),
        },
    };
    Ok(match run.commit(&e)? {
        Commit::Done { .. } => Step::Answer(answer),
        Commit::Duplicate => Step::Duplicate,
        Commit::Stale | Commit::SlotTaken => Step::Again,
    })
}

/// The answer for a call already handled (a retried webhook).
fn replay(run: &mut Run<'_>, sid: &str) -> Result<Answer, Error> {
    let (state, dir) = run.read(Find::Sid(sid))?.ok_or(Error::NotFound("call"))?;
    let open_leg = state.legs.iter().rev().find(|l| l.status == LegStatus::Reserved);
    let campaign = state.call.campaign_id.and_then(|c| dir.campaign(c));
    if let (Outcome::Blocked, Some(c)) = (state.call.outcome, campaign) {
        return Ok(block_answer(c));
    }
    if matches!(state.call.outcome, Outcome::InIvr | Outcome::IvrEnded) {
        return super::ivr::current(&dir, &state);
    }
    match (open_leg, campaign) {
        (Some(leg), Some(c)) => redial(&dir, &state.call, leg, Some(c.row.greeting.clone())),
        (None, Some(c)) => Ok(Answer::SayHangup(c.row.busy_message.clone())),
        (_, None) => Ok(Answer::SayHangup(UNKNOWN_NUMBER_MESSAGE.into())),
    }
}

/// The dial of leg `leg` of `call` again (a retried webhook answers what it answered).
pub(super) fn redial(dir: &Directory, call: &CallRow, leg: &LegRow, greeting: Option<String>) -> Result<Answer, Error> {
    if let Some(dial_to) = &leg.dial_to {
        return Ok(Answer::Dial {
            greeting,
            leg_id: leg.id,
            buyer_number: dial_to.clone(),
            caller_id: call.caller.clone(),
            whisper: false,
        });
    }
    let buyer = leg.buyer_id.and_then(|b| dir.buyers.get(&b)).ok_or(Error::NotFound("buyer"))?;
    let whisper = leg.accept_required || Settings::lookup(dir, call.campaign_id, leg.buyer_id).is_some_and(|s| s.whispers());
    Ok(Answer::Dial { greeting, leg_id: leg.id, buyer_number: buyer.phone_number.clone(), caller_id: call.caller.clone(), whisper })
}

/// How an attempt to route a call ended.
pub(super) enum Attempt {
    /// A buyer's slot (or a bid) is claimed and its leg written, with everything else of the
    /// change (`whisper`: its agent hears a whisper, or must accept, on answering).
    Claimed { leg_id: i64, buyer_number: String, whisper: bool },
    /// No buyer had a free slot: the change (with the routing log) is returned unwritten.
    NoBuyer(Box<Effects>),
    /// The new call is recorded already (Twilio sent the webhook again): nothing written.
    Duplicate,
    /// Nothing of the routing is written: the call changed since it was read, or (a new call)
    /// the first buyer's slot was taken, which recorded the call: route it again from there.
    Again,
    /// Nothing written: the campaign's bidders are to be pinged first ([`Answer::PingBidders`]).
    Ping(Box<super::PingJob>),
}

/// The bids a routing weighs: the answers of this run's pings (the call's first routing), or the
/// call's stored pings (a failover), with the bidders already dialled.
struct Bids {
    offers: Vec<bids::Offer>,
    /// Bidder id → what to dial and the bid.
    legs: std::collections::HashMap<i64, (String, BidLeg)>,
    tried: Vec<i64>,
    /// The pings to write with this routing (the first one only).
    fresh: Option<Arc<[crate::bidding::Pinged]>>,
}

/// Whether a call of `campaign` is offered to its bidders: it has active ones, and the call is
/// not kept to one buyer (a repeat caller) or to a label (an IVR answer).
fn sells_to_bidders(campaign: &CampaignEntry, call: &CallRow) -> bool {
    campaign.active_bidders().next().is_some() && call.repeat_buyer_id.is_none() && call.route_label.is_none()
}

/// The facts a ping tells the bidders of `call`.
pub(super) fn ping_facts(call: &CallRow, campaign: i64) -> bids::PingFacts {
    bids::PingFacts {
        call_id: call.call_sid.clone(),
        caller: call.caller.clone(),
        state: call.caller_state.clone(),
        zip: call.caller_zip.clone(),
        city: call.caller_city.clone(),
        publisher_id: call.publisher_id,
        campaign_id: campaign,
        tags: call.tags(),
    }
}

/// The bids of this routing, or the ping job to run first (`None` bids: the call is not sold).
fn bids_of(
    run: &mut Run<'_>,
    campaign: &CampaignEntry,
    call: &CallRow,
    first: bool,
) -> Result<Result<Option<Bids>, Box<super::PingJob>>, Error> {
    if !sells_to_bidders(campaign, call) {
        return Ok(Ok(None));
    }
    if first {
        let Some(pinged) = run.pinged.clone() else {
            return Ok(Err(Box::new(super::PingJob::of(campaign, ping_facts(call, campaign.row.id)))));
        };
        let mut b = Bids { offers: vec![], legs: std::collections::HashMap::new(), tried: vec![], fresh: Some(pinged.clone()) };
        for p in pinged.iter() {
            if let (Some(offer), Ok(bid)) = (p.offer(), &p.result) {
                b.offers.push(offer);
                let leg = bid_leg(p.bidder_id, &bid.dial_to, bid.amount_micros, bid.min_duration_secs);
                b.legs.insert(p.bidder_id, (p.bidder_name.clone(), leg));
            }
        }
        return Ok(Ok(Some(b)));
    }
    let stored = crate::store::bidders::pings_of(run.conn, Some(call.id), None)?;
    let mut b = Bids { offers: vec![], legs: std::collections::HashMap::new(), tried: vec![], fresh: None };
    for (_, p) in stored {
        let (Some(offer), Some(dial_to)) = (p.offer(), p.dial_to.as_deref()) else { continue };
        if p.outcome() == PingOutcome::Won {
            b.tried.push(offer.bidder_id);
        }
        let leg = bid_leg(offer.bidder_id, dial_to, offer.amount_micros, p.min_duration_secs);
        b.legs.insert(offer.bidder_id, (p.bidder_name.clone(), leg));
        b.offers.push(offer);
    }
    Ok(Ok(Some(b)))
}

/// The static buyers `decision` ranked, as [`bids::order`] weighs them.
pub(super) fn ranked(decision: &crate::routing::Decision<'_>, candidates: &[crate::routing::Candidate]) -> Vec<bids::Ranked> {
    decision
        .ranked
        .iter()
        .filter_map(|id| candidates.iter().find(|c| c.buyer_id == *id))
        .map(|c| bids::Ranked {
            buyer_id: c.buyer_id,
            priority: c.priority,
            price_micros: c.price_micros,
            pinned: decision.verdicts.iter().any(|v| v.buyer_id == c.buyer_id && v.reason == crate::routing::Reason::RepeatCaller),
        })
        .collect()
}

fn bid_leg(bidder_id: i64, dial_to: &str, bid_micros: i64, min_duration_secs: Option<i32>) -> BidLeg {
    BidLeg { bidder_id, dial_to: dial_to.to_string(), bid_micros, min_duration_secs }
}

/// Routes the call of `e` (attempt `attempt`, skipping the buyers in `exclude`) and claims the
/// first target still free — a static buyer's slot, or a bid — committing `e` with it. Logs the
/// decision with every candidate's reason, the bids' order, and each buyer found full. The
/// call's first routing (`attempt` 1) in a campaign with bidders asks for their answers first
/// ([`Attempt::Ping`]) and writes the pings with its commit.
#[allow(clippy::too_many_arguments)]
pub(super) fn route_attempt(
    run: &mut Run<'_>,
    dir: &Directory,
    campaign: &CampaignEntry,
    mut e: Effects,
    from_state: Option<&str>,
    exclude: &[i64],
    attempt: i32,
    now: DateTime<Utc>,
    loads: &Loads,
) -> Result<Attempt, Error> {
    /// The routing log entry.
    #[derive(serde::Serialize)]
    struct Routing<'a, D> {
        attempt: i32,
        decision: &'a D,
        #[serde(skip_serializing_if = "Option::is_none")]
        order: Option<&'a [bids::Target]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        dropped_bids: Option<&'a [bids::Dropped]>,
        /// The pings of this routing: each bidder's bid, or why it is out.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pings: Vec<serde_json::Value>,
    }
    let bids = match bids_of(run, campaign, &e.call, attempt == 1)? {
        Ok(b) => b,
        Err(job) => return Ok(Attempt::Ping(job)),
    };
    let earnings = earnings_of(run.conn, run.ctx, campaign, now)?;
    let loaded = candidates::load(dir, campaign, &loads.loads, &run.ctx.claiming.now(Some(&e.call.call_sid)), &earnings, now)?;
    let info = CallInfo {
        caller: e.call.caller.clone(),
        dialled: e.call.dialled.clone(),
        from_state: from_state.map(String::from),
        now,
        campaign_active: campaign.active(),
        repeat_buyer: loads.repeat_buyer,
        exclude: exclude.to_vec(),
        tags: e.call.tags(),
        only_buyer: e.call.repeat_buyer_id,
        only_label: e.call.route_label.clone(),
        policy: campaign.routing.clone(),
        explore_draw: crate::routing::value::explore_draw(&e.call.call_sid),
    };
    let decision = route(&info, &loaded.candidates);
    let (targets, dropped) = match &bids {
        Some(b) => {
            let (t, d) = bids::order(&ranked(&decision, &loaded.candidates), &b.offers, &campaign.routing.bids, &b.tried, now);
            (t, Some(d))
        }
        None => (decision.ranked.iter().map(|&buyer_id| bids::Target::Buyer { buyer_id }).collect(), None),
    };
    let pinged = bids.as_ref().and_then(|b| b.fresh.as_ref()).map(|f| f.iter().map(crate::bidding::Pinged::summary).collect());
    let log = Routing {
        attempt,
        decision: &decision,
        order: bids.as_ref().map(|_| targets.as_slice()),
        dropped_bids: dropped.as_deref(),
        pings: pinged.unwrap_or_default(),
    };
    let routing = serde_json::to_string(&log).map_err(Error::internal)?;
    e.log.push(("routing", routing));
    let t = now.naive_utc();
    // The first routing writes the pings, each `won` or `outbid` by the target it claims.
    let call_id = e.call.id;
    let pings = |won: Option<i64>| -> Vec<crate::store::bidders::PingRow> {
        let Some(fresh) = bids.as_ref().and_then(|b| b.fresh.as_ref()) else { return vec![] };
        fresh.iter().map(|p| p.row(campaign.row.id, Some(call_id), Some(p.bidder_id) == won)).collect()
    };
    for target in &targets {
        let mut claiming = e.clone();
        let (claim, number, whisper) = match *target {
            bids::Target::Buyer { buyer_id } => {
                let Some(rules) = loaded.rules.get(&buyer_id) else { continue };
                claiming.call.buyer_id = Some(buyer_id);
                claiming.pings = pings(None);
                (claim(buyer_id, rules, attempt, t, run), rules.phone_number.clone(), rules.whispers)
            }
            bids::Target::Bid { bidder_id } => {
                let Some((name, leg)) = bids.as_ref().and_then(|b| b.legs.get(&bidder_id)) else { continue };
                claiming.call.buyer_id = None;
                claiming.pings = pings(Some(bidder_id));
                if claiming.pings.is_empty() {
                    claiming.won_bidder = Some(bidder_id);
                }
                (bid_claim(name, leg.clone(), attempt, t, run), leg.dial_to.clone(), false)
            }
        };
        let buyer_id = claim.bid.is_none().then_some(claim.buyer_id);
        claiming.claim = Some(claim);
        claiming.call.attempts = attempt;
        claiming.call.outcome = Outcome::Routed;
        claiming.call.updated_at = t;
        let held = buyer_id.map(|b| run.ctx.claiming.hold(b, &e.call.call_sid));
        let committed = run.commit(&claiming);
        drop(held);
        match committed? {
            Commit::Done { leg_id } => {
                let leg_id = leg_id.ok_or_else(|| Error::internal(anyhow::anyhow!("a claimed slot without its leg")))?;
                return Ok(Attempt::Claimed { leg_id, buyer_number: number, whisper });
            }
            // A new call was recorded by the claim that lost: it is changed from now on.
            Commit::SlotTaken if e.insert => return Ok(Attempt::Again),
            Commit::SlotTaken => {
                let name = buyer_id.and_then(|b| loaded.rules.get(&b)).map(|r| r.name.clone());
                e.log("slot_taken", serde_json::json!({"buyer_id": buyer_id, "buyer": name}));
            }
            Commit::Stale => return Ok(Attempt::Again),
            Commit::Duplicate => return Ok(Attempt::Duplicate),
        }
    }
    e.log("no_buyer", serde_json::json!({"attempt": attempt}));
    e.call.updated_at = t;
    e.pings = pings(None);
    Ok(Attempt::NoBuyer(Box::new(e)))
}

/// The buyers' earnings `campaign`'s `epc` tiers rank by (none read when it has no such tier).
pub(super) fn earnings_of(
    conn: &mut crate::db::DbConnection,
    ctx: &super::Ctx,
    campaign: &CampaignEntry,
    now: DateTime<Utc>,
) -> Result<candidates::BuyerEarnings, Error> {
    if !campaign.routing.uses_epc() {
        return Ok(std::sync::Arc::default());
    }
    ctx.earnings.get(conn, campaign.row.id, campaign.routing.epc_days, now)
}

/// When a leg dialled at `t` is given up by the reaper if no callback ended it: past the ring
/// timeout, the time limit and a margin.
fn leg_expiry(t: NaiveDateTime, run: &Run<'_>) -> NaiveDateTime {
    let cfg = &run.ctx.routing;
    t + chrono::Duration::seconds(i64::from(cfg.dial_timeout_secs) + i64::from(cfg.time_limit_secs) + cfg.reaper_margin_secs)
}

fn claim(buyer_id: i64, rules: &SlotRules, attempt: i32, t: NaiveDateTime, run: &Run<'_>) -> Claim {
    Claim {
        buyer_id,
        buyer_name: rules.name.clone(),
        max_concurrent: rules.max_concurrent,
        caps: rules.caps,
        keys: rules.keys,
        attempt,
        expires_at: leg_expiry(t, run),
        accept_required: rules.require_accept,
        bid: None,
    }
}

/// The claim of a leg dialled on a bid (no slot; the leg expires like a buyer's).
fn bid_claim(bidder_name: &str, leg: BidLeg, attempt: i32, t: NaiveDateTime, run: &Run<'_>) -> Claim {
    Claim {
        buyer_id: 0,
        buyer_name: bidder_name.to_string(),
        max_concurrent: 0,
        caps: [None; 3],
        keys: crate::routing::PeriodKeys { hour: 0, day: 0, month: 0 },
        attempt,
        expires_at: leg_expiry(t, run),
        accept_required: false,
        bid: Some(leg),
    }
}
