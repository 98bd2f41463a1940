//! A campaign's buyers as the routing engine's candidates: their settings from the directory
//! (with the campaign's per-buyer overrides) and their live load. Pure.
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::routing::{period_keys, Candidate, Caps, Earnings, PeriodCounts, PeriodKeys, WeeklySchedule};
use crate::store::calls::flow::LoadRow;
use crate::store::directory::{CampaignEntry, Directory};

/// What claiming a buyer's slot needs besides its id.
#[derive(Debug, Clone)]
pub struct SlotRules {
    pub max_concurrent: i32,
    pub caps: [Option<i32>; 3],
    pub keys: PeriodKeys,
    pub phone_number: String,
    pub name: String,
    /// The buyer's agent must press 1 to take the call.
    pub require_accept: bool,
    /// The agent hears a whisper (or the prompt to accept) before the bridge.
    pub whispers: bool,
}

pub struct Loaded {
    pub candidates: Vec<Candidate>,
    pub rules: HashMap<i64, SlotRules>,
}

fn count(key: i64, current: i64, count: i32) -> u32 {
    if key == current {
        u32::try_from(count).unwrap_or(0)
    } else {
        0
    }
}

fn non_negative(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

/// The buyer slots this instance is claiming at this moment (between routing a call and the
/// commit that claims its slot), per buyer, with the call each claim is for.
#[derive(Debug, Default)]
pub struct Claiming(std::sync::Mutex<HashMap<i64, Vec<String>>>);

impl Claiming {
    /// The claims under way now, per buyer, other than those for the call `sid`: copies of one
    /// call routed at the same moment must see the same buyers free (only one of them commits,
    /// and the others answer as it did), not each other's claims.
    pub fn now(&self, sid: Option<&str>) -> HashMap<i64, u32> {
        let Ok(m) = self.0.lock() else { return HashMap::new() };
        m.iter()
            .map(|(buyer, calls)| (*buyer, u32::try_from(calls.iter().filter(|c| Some(c.as_str()) != sid).count()).unwrap_or(u32::MAX)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Notes a claim of `buyer`'s slot for the call `sid` until the returned guard is dropped.
    pub fn hold(&self, buyer: i64, sid: &str) -> Held<'_> {
        if let Ok(mut m) = self.0.lock() {
            m.entry(buyer).or_default().push(sid.to_string());
        }
        Held { claiming: self, buyer, sid: sid.to_string() }
    }
}

/// A claim under way ([`Claiming::hold`]).
pub struct Held<'a> {
    claiming: &'a Claiming,
    buyer: i64,
    sid: String,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.claiming.0.lock() {
            if let Some(calls) = m.get_mut(&self.buyer) {
                if let Some(i) = calls.iter().position(|c| *c == self.sid) {
                    calls.swap_remove(i);
                }
                if calls.is_empty() {
                    m.remove(&self.buyer);
                }
            }
        }
    }
}

/// The campaign's buyers (in buyer id order), with per-campaign overrides applied and counters
/// read for the current periods of each buyer's time zone. `claiming` holds the slots this
/// instance is claiming at this moment (not yet in `loads`): they count as taken, as they will be
/// once committed, so that calls routed at the same time spread over the buyers as calls routed
/// one after the other would. `earnings`: the buyers' measured earnings (for `epc` tiers; empty
/// otherwise). A buyer without a load row is left out.
pub fn load(
    dir: &Directory,
    campaign: &CampaignEntry,
    loads: &[LoadRow],
    claiming: &HashMap<i64, u32>,
    earnings: &HashMap<i64, Earnings>,
    now: DateTime<Utc>,
) -> Result<Loaded, Error> {
    let loads: HashMap<i64, &LoadRow> = loads.iter().map(|l| (l.buyer_id, l)).collect();
    let mut candidates = Vec::with_capacity(campaign.assignments.len());
    let mut rules = HashMap::with_capacity(campaign.assignments.len());
    let mut assignments: Vec<_> = campaign.assignments.iter().collect();
    assignments.sort_by_key(|a| a.buyer_id);
    for a in assignments {
        let (Some(b), Some(load)) = (dir.buyers.get(&a.buyer_id), loads.get(&a.buyer_id)) else { continue };
        let timezone: chrono_tz::Tz = b.timezone.parse().unwrap_or(chrono_tz::UTC);
        let keys = period_keys(timezone, now);
        let schedule = WeeklySchedule::from_json(&b.schedule).map_err(|e| Error::internal(anyhow::anyhow!("buyer {}: {e}", b.id)))?;
        let pending = claiming.get(&b.id).copied().unwrap_or(0);
        let counts = PeriodCounts {
            hour: count(load.hour_key, keys.hour, load.hour_count) + pending,
            day: count(load.day_key, keys.day, load.day_count) + pending,
            month: count(load.month_key, keys.month, load.month_count) + pending,
        };
        candidates.push(Candidate {
            buyer_id: b.id,
            name: b.name.clone(),
            active: b.status() == callbroker_wire::Status::Active,
            priority: a.priority.unwrap_or(b.priority),
            weight: non_negative(a.weight.unwrap_or(b.weight)).max(1),
            max_concurrent: non_negative(b.max_concurrent_calls),
            in_progress: non_negative(load.in_progress) + pending,
            caps: Caps {
                hourly: b.cap_hourly.map(non_negative),
                daily: b.cap_daily.map(non_negative),
                monthly: b.cap_monthly.map(non_negative),
            },
            counts,
            timezone,
            schedule,
            allowed_states: b.allowed_states()?,
            denied_states: b.denied_states()?,
            sticky_repeat_callers: b.sticky_repeat_callers,
            // Even distribution works on today's volume (the buyer's local day).
            recent_calls: counts.day,
            last_call_at: load.last_call_at.map(|t| t.and_utc()),
            tag_rules: campaign.tag_rules.get(&b.id).cloned().unwrap_or_else(|| std::sync::Arc::from([])),
            labels: dir.labels.get(&b.id).cloned().unwrap_or_else(|| std::sync::Arc::from([])),
            price_micros: a.revenue_micros.unwrap_or(campaign.row.revenue_micros),
            earnings: earnings.get(&b.id).copied().unwrap_or_default(),
        });
        let acceptance = super::acceptance::Settings::of(b, Some(a));
        rules.insert(
            b.id,
            SlotRules {
                require_accept: acceptance.require_accept,
                whispers: acceptance.whispers(),
                max_concurrent: b.max_concurrent_calls,
                caps: [b.cap_hourly, b.cap_daily, b.cap_monthly],
                keys,
                phone_number: b.phone_number.clone(),
                name: b.name.clone(),
            },
        );
    }
    Ok(Loaded { candidates, rules })
}

/// Each instance's copy of the campaigns' buyer earnings (calls and revenue per buyer over an
/// `epc` tier's window), read from the rollups at most once per [`EARNINGS_TTL`] per campaign:
/// routing a call by earnings per call costs no statement but that refresh. Figures are as
/// fresh as the last refresh; settlements in between move them little.
#[derive(Debug, Default)]
pub struct EarningsCache(std::sync::Mutex<HashMap<(i64, i32), (std::time::Instant, BuyerEarnings)>>);

/// Buyer id → its earnings over a window.
pub type BuyerEarnings = Arc<HashMap<i64, Earnings>>;

/// How long read earnings are used before they are read again.
pub const EARNINGS_TTL: std::time::Duration = std::time::Duration::from_secs(60);

impl EarningsCache {
    /// The earnings of `campaign`'s buyers over the `days` UTC days up to `now`.
    pub fn get(
        &self,
        conn: &mut crate::db::DbConnection,
        campaign: i64,
        days: i32,
        now: DateTime<Utc>,
    ) -> Result<Arc<HashMap<i64, Earnings>>, Error> {
        let key = (campaign, days);
        if let Ok(m) = self.0.lock() {
            if let Some((_, figures)) = m.get(&key).filter(|(at, _)| at.elapsed() < EARNINGS_TTL) {
                return Ok(figures.clone());
            }
        }
        let today = now.timestamp().div_euclid(86_400) * 86_400;
        let since = today - (i64::from(days.max(1)) - 1) * 86_400;
        let rows = crate::store::rollups::buyer_earnings(conn, campaign, since)?;
        let figures: BuyerEarnings =
            Arc::new(rows.into_iter().map(|(buyer, calls, revenue_micros)| (buyer, Earnings { calls, revenue_micros })).collect());
        if let Ok(mut m) = self.0.lock() {
            // Entries unread for a while (a deleted campaign, a changed window) go.
            m.retain(|_, (at, _)| at.elapsed() < EARNINGS_TTL * 10);
            m.insert(key, (std::time::Instant::now(), figures.clone()));
        }
        Ok(figures)
    }
}
