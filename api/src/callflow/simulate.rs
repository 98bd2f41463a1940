//! The routing decision for a hypothetical call: the same decision a real call would get now,
//! with the same reads, and nothing written.
use chrono::{DateTime, Utc};

use super::{candidates, Ctx};
use crate::db::DbConnection;
use crate::domain::states::Outcome;
use crate::error::Error;
use crate::routing::{route, CallInfo};
use crate::store::calls::flow as calls;

pub fn simulate(
    conn: &mut DbConnection,
    ctx: &Ctx,
    number: &str,
    caller: &str,
    from_state: Option<&str>,
    now: DateTime<Utc>,
) -> Result<callbroker_wire::SimulateResponse, Error> {
    let version = crate::store::directory::version(conn)?;
    let dir = ctx.directory.at_least(conn, version)?;
    let Some(campaign) = dir.number(number).and_then(|n| n.campaign_id).and_then(|c| dir.campaign(c)) else {
        let decision =
            callbroker_wire::Decision { ranked: vec![], verdicts: vec![], caller_state: crate::routing::caller_state(from_state, caller) };
        return Ok(callbroker_wire::SimulateResponse {
            campaign_id: None,
            outcome: Outcome::UnknownNumber.as_str().into(),
            buyer_id: None,
            decision,
        });
    };
    let since = now.naive_utc() - chrono::Duration::seconds(ctx.routing.repeat_window_secs);
    let loads = calls::loads(conn, Some(campaign.row.id), caller, since)?;
    let loaded = candidates::load(&dir, campaign, &loads.loads, &ctx.claiming.now(None), now)?;
    let info = CallInfo {
        caller: caller.to_string(),
        dialled: number.to_string(),
        from_state: from_state.map(String::from),
        now,
        campaign_active: campaign.active(),
        repeat_buyer: loads.repeat_buyer,
        exclude: vec![],
    };
    let decision = route(&info, &loaded.candidates);
    let outcome = if !campaign.active() {
        Outcome::CampaignPaused
    } else if decision.ranked.is_empty() {
        Outcome::NoBuyer
    } else {
        Outcome::Routed
    };
    Ok(callbroker_wire::SimulateResponse {
        campaign_id: Some(campaign.row.id),
        outcome: outcome.as_str().into(),
        buyer_id: decision.first(),
        decision: decision.into_owned(),
    })
}
