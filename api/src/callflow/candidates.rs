//! A campaign's buyers as the routing engine's candidates: their settings from the directory
//! (with the campaign's per-buyer overrides) and their live load. Pure.
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::routing::{period_keys, Candidate, Caps, PeriodCounts, PeriodKeys, WeeklySchedule};
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

/// The campaign's buyers (in buyer id order), with per-campaign overrides applied and counters
/// read for the current periods of each buyer's time zone. A buyer without a load row is left out.
pub fn load(dir: &Directory, campaign: &CampaignEntry, loads: &[LoadRow], now: DateTime<Utc>) -> Result<Loaded, Error> {
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
        let counts = PeriodCounts {
            hour: count(load.hour_key, keys.hour, load.hour_count),
            day: count(load.day_key, keys.day, load.day_count),
            month: count(load.month_key, keys.month, load.month_count),
        };
        candidates.push(Candidate {
            buyer_id: b.id,
            name: b.name.clone(),
            active: b.status() == callbroker_wire::Status::Active,
            priority: a.priority.unwrap_or(b.priority),
            weight: non_negative(a.weight.unwrap_or(b.weight)).max(1),
            max_concurrent: non_negative(b.max_concurrent_calls),
            in_progress: non_negative(load.in_progress),
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
        });
        rules.insert(
            b.id,
            SlotRules {
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
