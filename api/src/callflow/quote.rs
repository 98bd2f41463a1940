//! The publishers' ping API: would a call from this caller be bought now, and at what payout?
//! The same screening, tag rules and buyer eligibility a real call would get, and the
//! campaign's bidders pinged, without reserving anything; the answer is kept as a quote that a
//! call from the caller to the quoted number matches until it expires ([`super::voice`]).
use std::sync::Arc;

use callbroker_wire::bidding::{RtbQuote, RtbRefusal};
use callbroker_wire::routing::Reason;
use callbroker_wire::screening::BlockRule;
use callbroker_wire::Tags;
use chrono::{DateTime, Utc};

use super::voice::{arrival_tags, lookback, screen};
use super::{candidates, Ctx, PingJob};
use crate::bidding::Pinged;
use crate::db::DbConnection;
use crate::error::Error;
use crate::money::{apply_bid, RuleSet};
use crate::routing::bids::{self, PingFacts};
use crate::routing::screening::Screened;
use crate::routing::{route, CallInfo};
use crate::store::bidders::PingRow;
use crate::store::calls::flow as calls;
use crate::store::quotes::{self, QuoteRow};

/// A publisher's ping, checked.
#[derive(Debug, Clone)]
pub struct Ask {
    pub publisher_id: i64,
    pub campaign_id: i64,
    /// E.164.
    pub caller: String,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub tags: Tags,
    pub ping_id: String,
    pub at: DateTime<Utc>,
}

/// What reading the campaign came to.
pub enum Step {
    /// The quote held already for this caller: answered again as it was.
    Held(RtbQuote),
    /// The campaign's bidders are to be pinged first.
    Ping(Box<PingJob>),
    /// The quote to give, with the pings to keep with it.
    Quote(Box<QuoteRow>, Vec<PingRow>, Option<String>),
}

/// Decides the quote for `ask` (reads only); `pinged`: the bidders' answers once asked for.
pub fn decide(conn: &mut DbConnection, ctx: &Ctx, ask: &Ask, pinged: Option<&Arc<[Pinged]>>) -> Result<Step, Error> {
    let now = ask.at;
    let t = crate::db::to_stored(now.naive_utc());
    if let Some((held, number)) = quotes::holding(conn, ask.publisher_id, ask.campaign_id, &ask.caller, t)? {
        return Ok(Step::Held(held.into_wire(number)));
    }
    let version = crate::store::directory::version(conn)?;
    let dir = ctx.directory.at_least(conn, version)?;
    let campaign = dir.campaign(ask.campaign_id);
    let currency = campaign.map_or_else(|| "USD".to_string(), |c| c.row.currency.clone());
    let ttl = campaign.map_or(60, |c| c.routing.bids.quote_ttl_secs);
    let refusal = |reason: RtbRefusal, number_id: Option<i64>| QuoteRow {
        ping_id: ask.ping_id.clone(),
        publisher_id: ask.publisher_id,
        campaign_id: ask.campaign_id,
        number_id,
        caller: ask.caller.clone(),
        accepted: false,
        reason: Some(reason.as_str().to_string()),
        payout_micros: None,
        currency: currency.clone(),
        min_duration_secs: None,
        created_at: t,
        expires_at: t + chrono::Duration::seconds(i64::from(ttl)),
    };
    let refuse = |reason: RtbRefusal, number_id: Option<i64>| Ok(Step::Quote(Box::new(refusal(reason, number_id)), vec![], None));
    // The publisher's tracking number on the campaign (the lowest id when it has several).
    let number = dir
        .numbers
        .iter()
        .filter(|(_, n)| n.campaign_id == Some(ask.campaign_id) && n.publisher_id == Some(ask.publisher_id))
        .min_by_key(|(_, n)| n.id)
        .map(|(e164, n)| (e164.clone(), n.id));
    let (Some(c), Some((number, number_id))) = (campaign, number) else { return refuse(RtbRefusal::Closed, None) };
    if !c.active() || !c.routing.bids.ping_api {
        return refuse(RtbRefusal::Closed, Some(number_id));
    }
    let loads = calls::loads(conn, Some(c.row.id), &ask.caller, &lookback(&dir, Some(c.row.id), now, ctx.routing.repeat_window_secs))?;
    let only_buyer = match screen(&dir, c, &ask.caller, None, &loads, now) {
        Screened::Blocked(b) if matches!(b.rule, BlockRule::Repeat | BlockRule::QualifiedRepeat) => {
            return refuse(RtbRefusal::Duplicate, Some(number_id))
        }
        Screened::Blocked(_) => return refuse(RtbRefusal::Blocked, Some(number_id)),
        Screened::Pass { only_buyer } => only_buyer,
    };
    if c.row.duplicate_window_secs > 0 {
        let since = t - chrono::Duration::seconds(i64::from(c.row.duplicate_window_secs));
        if calls::called_since(conn, &ask.caller, c.row.id, since)? {
            return refuse(RtbRefusal::Duplicate, Some(number_id));
        }
    }
    let mut tags = arrival_tags(&ask.caller, ask.state.as_deref(), ask.zip.as_deref(), None, None);
    tags.extend(ask.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    let facts = PingFacts {
        call_id: ask.ping_id.clone(),
        caller: ask.caller.clone(),
        state: crate::routing::caller_state(ask.state.as_deref(), &ask.caller).map(|s| s.state),
        zip: ask.zip.clone(),
        city: None,
        publisher_id: Some(ask.publisher_id),
        campaign_id: c.row.id,
        tags: tags.clone(),
    };
    let sells = only_buyer.is_none() && c.active_bidders().next().is_some();
    let pinged = match (!sells, pinged) {
        (true, _) => None,
        (false, Some(p)) => Some(p.clone()),
        (false, None) => return Ok(Step::Ping(Box::new(PingJob::of(c, facts)))),
    };
    let earnings = super::voice::earnings_of(conn, ctx, c, now)?;
    let loaded = candidates::load(&dir, c, &loads.loads, &ctx.claiming.now(None), &earnings, now)?;
    let info = CallInfo {
        caller: ask.caller.clone(),
        dialled: number.clone(),
        from_state: ask.state.clone(),
        now,
        campaign_active: true,
        repeat_buyer: loads.repeat_buyer,
        exclude: vec![],
        tags,
        only_buyer,
        only_label: None,
        policy: c.routing.clone(),
        explore_draw: crate::routing::value::explore_draw(&ask.ping_id),
    };
    let decision = route(&info, &loaded.candidates);
    let offers: Vec<bids::Offer> = pinged.iter().flat_map(|p| p.iter()).filter_map(Pinged::offer).collect();
    let (targets, _) = bids::order(&super::voice::ranked(&decision, &loaded.candidates), &offers, &c.routing.bids, &[], now);
    let expires = t + chrono::Duration::seconds(i64::from(ttl));
    let (won, quote) = match targets.first() {
        None => {
            let full = decision.verdicts.iter().any(|v| {
                matches!(
                    v.reason,
                    Reason::AtCapacity { .. } | Reason::HourlyCap { .. } | Reason::DailyCap { .. } | Reason::MonthlyCap { .. }
                )
            });
            let reason = if full {
                RtbRefusal::NoCapacity
            } else if pinged.is_some() && decision.verdicts.is_empty() {
                RtbRefusal::NoBid
            } else if decision.verdicts.is_empty() {
                RtbRefusal::NoCapacity
            } else {
                RtbRefusal::Filtered
            };
            let mut pings = vec![];
            if let Some(p) = &pinged {
                pings = p.iter().map(|x| x.row(c.row.id, None, false)).collect();
            }
            return Ok(Step::Quote(Box::new(refusal(reason, Some(number_id))), pings, None));
        }
        Some(bids::Target::Buyer { buyer_id }) => {
            let rules = RuleSet::of(&dir, c.row.id, Some(*buyer_id), Some(ask.publisher_id)).map(|s| s.resolve());
            (None, rules.map(|r| (r.payout_micros, r.buffer_secs, expires)))
        }
        Some(bids::Target::Bid { bidder_id }) => {
            let bid = pinged.iter().flat_map(|p| p.iter()).find(|p| p.bidder_id == *bidder_id).and_then(|p| p.result.as_ref().ok());
            let rules = RuleSet::of(&dir, c.row.id, None, Some(ask.publisher_id)).map(|s| s.resolve());
            let quote = rules.zip(bid).map(|(mut r, b)| {
                apply_bid(&mut r, Some(b.amount_micros), b.min_duration_secs, c.routing.bids.payout_percent);
                let until = b.expires_at.map_or(expires, |e| crate::db::to_stored(e.naive_utc()).min(expires));
                (r.payout_micros, r.buffer_secs, until)
            });
            (Some(*bidder_id), quote)
        }
    };
    let Some((payout, min_duration, expires_at)) = quote else { return refuse(RtbRefusal::NoCapacity, Some(number_id)) };
    let pings = pinged.iter().flat_map(|p| p.iter()).map(|x| x.row(c.row.id, None, Some(x.bidder_id) == won)).collect();
    let row = QuoteRow {
        ping_id: ask.ping_id.clone(),
        publisher_id: ask.publisher_id,
        campaign_id: c.row.id,
        number_id: Some(number_id),
        caller: ask.caller.clone(),
        accepted: true,
        reason: None,
        payout_micros: Some(payout),
        currency,
        min_duration_secs: Some(min_duration),
        created_at: t,
        expires_at,
    };
    Ok(Step::Quote(Box::new(row), pings, Some(number)))
}

/// Writes a decided quote with its pings; returns it as the publisher gets it.
pub fn keep(conn: &mut DbConnection, row: &QuoteRow, pings: &[PingRow], number: Option<String>) -> Result<RtbQuote, Error> {
    let id = quotes::insert(conn, row)?;
    let pings: Vec<PingRow> = pings.iter().map(|p| PingRow { quote_id: Some(id), ..p.clone() }).collect();
    crate::store::bidders::insert_pings(conn, &pings)?;
    Ok(row.clone().into_wire(number))
}
