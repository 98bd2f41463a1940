//! What the database itself says after a load: which calls it holds, which buyer slots are still
//! taken, and whether any buyer ever had more calls than its maximum.
use std::collections::{HashMap, HashSet};

use callbroker::db::schema::{buyer_load, buyers, call_events, call_legs, calls};
use callbroker::db::{Db, PoolOptions};
use diesel::prelude::*;

pub fn connect(url: &str) -> Db {
    Db::connect(url, &PoolOptions { max_connections: 2, ..PoolOptions::default() }).expect("db")
}

/// Every `CallSid` in the database.
pub fn call_sids(url: &str) -> HashSet<String> {
    connect(url).write_blocking(|c| Ok(calls::table.select(calls::call_sid).load::<String>(c)?)).expect("query").into_iter().collect()
}

/// Per buyer: `(buyer_load.in_progress, legs not released)`.
pub fn slots_vs_open_legs(url: &str) -> HashMap<i64, (i32, i64)> {
    let db = connect(url);
    let (load, open) = db
        .write_blocking(|c| {
            let load: Vec<(i64, i32)> = buyer_load::table.select((buyer_load::buyer_id, buyer_load::in_progress)).load(c)?;
            let open: Vec<(Option<i64>, i64)> = call_legs::table
                .filter(call_legs::released.eq(false))
                .group_by(call_legs::buyer_id)
                .select((call_legs::buyer_id, diesel::dsl::count_star()))
                .load(c)?;
            Ok((load, open))
        })
        .expect("query");
    let open: HashMap<i64, i64> = open.into_iter().filter_map(|(b, n)| b.map(|b| (b, n))).collect();
    load.into_iter().map(|(b, n)| (b, (n, open.get(&b).copied().unwrap_or(0)))).collect()
}

/// Calls by status.
pub fn calls_by_status(url: &str) -> HashMap<String, i64> {
    connect(url)
        .write_blocking(|c| {
            Ok(calls::table.group_by(calls::status).select((calls::status, diesel::dsl::count_star())).load::<(String, i64)>(c)?)
        })
        .expect("query")
        .into_iter()
        .collect()
}

/// The most calls each buyer ever had at once, replayed from the database's own record: the
/// `attempt` event written when a slot is claimed and the `slot_released` / `slot_reaped` event
/// written when it is given back, in event-id order. Claim and release both update the buyer's
/// `buyer_load` row before writing their event, so two transactions on one buyer are serialised
/// by that row's lock (SQLite: by its single writer) and their event ids are in that order. The
/// legs' `reserved_at` / `ended_at` cannot order them: they are taken when the request starts,
/// before the transaction waits for the lock.
///
/// Returns `(buyer id, max_concurrent_calls, most at once)` per buyer that took calls.
pub fn peak_load(url: &str) -> Vec<(i64, i32, i64)> {
    let db = connect(url);
    let (events, max) = db
        .write_blocking(|c| {
            let events: Vec<(String, String)> = call_events::table
                .filter(call_events::kind.eq_any(["attempt", "slot_released", "slot_reaped"]))
                .order(call_events::id.asc())
                .select((call_events::kind, call_events::data))
                .load(c)?;
            let max: Vec<(i64, i32)> = buyers::table.select((buyers::id, buyers::max_concurrent_calls)).load(c)?;
            Ok((events, max))
        })
        .expect("query");
    let mut now: HashMap<i64, i64> = HashMap::new();
    let mut peak: HashMap<i64, i64> = HashMap::new();
    for (kind, data) in events {
        let data: serde_json::Value = serde_json::from_str(&data).expect("event json");
        let Some(buyer) = data["buyer_id"].as_i64() else { continue };
        let n = now.entry(buyer).or_default();
        if kind == "attempt" {
            *n += 1;
            let p = peak.entry(buyer).or_default();
            *p = (*p).max(*n);
        } else {
            *n -= 1;
        }
    }
    max.into_iter().filter_map(|(b, m)| peak.get(&b).map(|p| (b, m, *p))).collect()
}

/// The call's status and whether all its legs gave their slot back.
pub fn call_state(url: &str, sid: &str) -> (String, bool) {
    let sid = sid.to_string();
    connect(url)
        .write_blocking(move |c| {
            let (id, status): (i64, String) = calls::table.filter(calls::call_sid.eq(&sid)).select((calls::id, calls::status)).first(c)?;
            let open: i64 =
                call_legs::table.filter(call_legs::call_id.eq(id)).filter(call_legs::released.eq(false)).count().get_result(c)?;
            Ok((status, open == 0))
        })
        .expect("query")
}
