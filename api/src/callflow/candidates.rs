//! Loads a campaign's buyers with their live load, as the routing engine's candidates.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{buyer_load, buyers, calls, campaign_buyers};
use crate::db::stamp::Stamp;
use crate::db::{direct, DbConnection};
use crate::error::Error;
use crate::routing::{period_keys, Candidate, Caps, PeriodCounts, PeriodKeys, WeeklySchedule};
use crate::store::buyers::BuyerRow;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = buyer_load)]
pub struct LoadRow {
    pub buyer_id: i64,
    pub in_progress: i32,
    pub hour_key: i64,
    pub hour_count: i32,
    pub day_key: i64,
    pub day_count: i32,
    pub month_key: i64,
    pub month_count: i32,
    pub total_calls: i64,
    #[diesel(deserialize_as = crate::db::stamp::MaybeStamp)]
    pub last_call_at: Option<chrono::NaiveDateTime>,
}

/// What the slot claim needs to know about a buyer besides its id.
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

/// The campaign's buyers, with per-campaign overrides applied and counters read for the current
/// periods of each buyer's time zone.
pub fn load(conn: &mut DbConnection, campaign_id: i64, now: DateTime<Utc>) -> Result<Loaded, Error> {
    let rows: Vec<(Option<i32>, Option<i32>, BuyerRow, LoadRow)> = direct::run!(
        conn,
        load,
        campaign_buyers::table
            .inner_join(buyers::table.inner_join(buyer_load::table))
            .filter(campaign_buyers::campaign_id.eq(campaign_id))
            .order(buyers::id.asc())
            .select((campaign_buyers::priority, campaign_buyers::weight, BuyerRow::as_select(), LoadRow::as_select())),
    )?;
    let mut candidates = Vec::with_capacity(rows.len());
    let mut rules = HashMap::with_capacity(rows.len());
    for (priority, weight, b, load) in rows {
        let timezone: chrono_tz::Tz = b.timezone.parse().unwrap_or(chrono_tz::UTC);
        let keys = period_keys(timezone, now);
        let schedule = WeeklySchedule::from_json(&b.schedule).map_err(|e| Error::Internal(anyhow::anyhow!("buyer {}: {e}", b.id)))?;
        let allowed_states = b.allowed_states()?;
        let denied_states = b.denied_states()?;
        let caps = [b.cap_hourly, b.cap_daily, b.cap_monthly];
        let counts = PeriodCounts {
            hour: count(load.hour_key, keys.hour, load.hour_count),
            day: count(load.day_key, keys.day, load.day_count),
            month: count(load.month_key, keys.month, load.month_count),
        };
        candidates.push(Candidate {
            buyer_id: b.id,
            name: b.name.clone(),
            active: b.status == "active",
            priority: priority.unwrap_or(b.priority),
            weight: non_negative(weight.unwrap_or(b.weight)).max(1),
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
            allowed_states,
            denied_states,
            sticky_repeat_callers: b.sticky_repeat_callers,
            // Even distribution works on today's volume (the buyer's local day).
            recent_calls: counts.day,
            last_call_at: load.last_call_at.map(|t| t.and_utc()),
        });
        rules.insert(b.id, SlotRules { max_concurrent: b.max_concurrent_calls, caps, keys, phone_number: b.phone_number, name: b.name });
    }
    Ok(Loaded { candidates, rules })
}

/// The buyer that took this caller's last connected call on the campaign since `since`.
pub fn repeat_buyer(conn: &mut DbConnection, campaign_id: i64, caller: &str, since: chrono::NaiveDateTime) -> Result<Option<i64>, Error> {
    let last = calls::table
        .filter(calls::caller.eq(caller))
        .filter(calls::campaign_id.eq(campaign_id))
        .filter(calls::started_at.ge(Stamp(since)))
        .filter(calls::connected_at.is_not_null())
        .order(calls::started_at.desc())
        .select(calls::buyer_id);
    Ok(direct::run!(conn, first, last).optional()?.flatten())
}
