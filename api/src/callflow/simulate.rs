//! The routing decision for a hypothetical call: the same screening and decision a real call
//! would get now, with the same reads, and nothing written.
use callbroker_wire::{Decision, IvrOutcome, SimulateResponse, Tags};
use chrono::{DateTime, Utc};

use super::voice::{arrival_tags, lookback, screen};
use super::{candidates, Ctx};
use crate::db::DbConnection;
use crate::domain::states::Outcome;
use crate::error::Error;
use crate::routing::screening::Screened;
use crate::routing::{route, CallInfo};
use crate::store::calls::flow as calls;

/// A hypothetical call: to `number` from `caller` (as Twilio would send `From`), with Twilio's
/// `FromState` and `StirVerstat`, and `tags` on top of those the call gets when it arrives.
#[derive(Debug, Clone)]
pub struct Hypothetical {
    pub number: String,
    pub caller: String,
    pub from_state: Option<String>,
    pub stir_verstat: Option<String>,
    pub tags: Tags,
    /// What the caller would answer to the campaign's IVR, question by question.
    pub ivr_answers: Vec<String>,
    /// 0 to 99: whether the call is one of an `epc` tier's exploration share.
    pub explore_draw: u8,
    pub at: DateTime<Utc>,
}

pub fn simulate(conn: &mut DbConnection, ctx: &Ctx, h: &Hypothetical) -> Result<SimulateResponse, Error> {
    let now = h.at;
    let (caller, from_state) = (h.caller.as_str(), h.from_state.as_deref());
    let mut tags = arrival_tags(caller, from_state, None, None, h.stir_verstat.as_deref());
    tags.extend(h.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    let version = crate::store::directory::version(conn)?;
    let dir = ctx.directory.at_least(conn, version)?;
    let nobody = || Decision { ranked: vec![], verdicts: vec![], caller_state: crate::routing::caller_state(from_state, caller) };
    let Some(campaign) = dir.number(&h.number).and_then(|n| n.campaign_id).and_then(|c| dir.campaign(c)) else {
        return Ok(SimulateResponse {
            campaign_id: None,
            outcome: Outcome::UnknownNumber.as_str().into(),
            buyer_id: None,
            decision: nobody(),
            blocked: None,
            tags,
            ivr: None,
        });
    };
    let loads =
        calls::loads(conn, Some(campaign.row.id), caller, &lookback(&dir, Some(campaign.row.id), now, ctx.routing.repeat_window_secs))?;
    let only_buyer = match screen(&dir, campaign, caller, h.stir_verstat.as_deref(), &loads, now) {
        Screened::Blocked(block) if campaign.active() => {
            return Ok(SimulateResponse {
                campaign_id: Some(campaign.row.id),
                outcome: Outcome::Blocked.as_str().into(),
                buyer_id: None,
                decision: nobody(),
                blocked: Some(block),
                tags,
                ivr: None,
            });
        }
        Screened::Blocked(_) => None,
        Screened::Pass { only_buyer } => only_buyer,
    };
    // The IVR, walked with the answers given (only an active campaign asks).
    let ivr = campaign.ivr.is_on().then(|| crate::routing::ivr::walk(&campaign.ivr, &h.ivr_answers)).filter(|_| campaign.active());
    if let Some((_, answered)) = &ivr {
        tags.extend(answered.iter().cloned());
    }
    let ivr = ivr.map(|(walked, _)| walked);
    if let Some(walked) = ivr.as_ref().filter(|w| matches!(w.outcome, IvrOutcome::Ended | IvrOutcome::Failed)) {
        return Ok(SimulateResponse {
            campaign_id: Some(campaign.row.id),
            outcome: Outcome::IvrEnded.as_str().into(),
            buyer_id: None,
            decision: nobody(),
            blocked: None,
            tags,
            ivr: Some(walked.clone()),
        });
    }
    let earnings = super::voice::earnings_of(conn, ctx, campaign, now)?;
    let loaded = candidates::load(&dir, campaign, &loads.loads, &ctx.claiming.now(None), &earnings, now)?;
    let info = CallInfo {
        caller: caller.to_string(),
        dialled: h.number.clone(),
        from_state: from_state.map(String::from),
        now,
        campaign_active: campaign.active(),
        repeat_buyer: loads.repeat_buyer,
        exclude: vec![],
        tags: tags.clone(),
        only_buyer,
        only_label: ivr.as_ref().and_then(|w| w.route_label.clone()),
        policy: campaign.routing.clone(),
        explore_draw: h.explore_draw,
    };
    let decision = route(&info, &loaded.candidates);
    let outcome = if !campaign.active() {
        Outcome::CampaignPaused
    } else if decision.ranked.is_empty() {
        Outcome::NoBuyer
    } else {
        Outcome::Routed
    };
    Ok(SimulateResponse {
        campaign_id: Some(campaign.row.id),
        outcome: outcome.as_str().into(),
        buyer_id: decision.first(),
        decision: decision.into_owned(),
        blocked: None,
        tags,
        ivr,
    })
}
