//! Buyer slots: claimed with one conditional UPDATE (the row count says whether we won the race),
//! so a burst of calls never puts more calls on a buyer than its maximum, on SQLite and on
//! PostgreSQL, with any number of API instances. Released exactly once per leg.
use diesel::dsl::case_when;
use diesel::prelude::*;

use crate::db::{direct, update};

use super::candidates::SlotRules;
use crate::db::schema::{buyer_load, call_legs};
use crate::db::DbConnection;
use crate::error::Error;

/// Takes one slot of `buyer_id` if it still has capacity and cap room in the current periods.
/// Returns false when another call got there first.
pub fn claim(conn: &mut DbConnection, buyer_id: i64, rules: &SlotRules, now: chrono::NaiveDateTime) -> Result<bool, Error> {
    use buyer_load::dsl as l;
    let k = rules.keys;
    // A missing cap is "no limit": i32::MAX is never reached by a counter.
    let [hourly, daily, monthly] = rules.caps.map(|c| c.unwrap_or(i32::MAX));
    let room = l::buyer_id
        .eq(buyer_id)
        .and(l::in_progress.lt(rules.max_concurrent))
        .and(l::hour_key.ne(k.hour).or(l::hour_count.lt(hourly)))
        .and(l::day_key.ne(k.day).or(l::day_count.lt(daily)))
        .and(l::month_key.ne(k.month).or(l::month_count.lt(monthly)));
    let claim = update(
        l::buyer_load,
        room,
        (
            l::in_progress.eq(l::in_progress + 1),
            l::hour_count.eq(case_when(l::hour_key.eq(k.hour), l::hour_count + 1).otherwise(1)),
            l::hour_key.eq(k.hour),
            l::day_count.eq(case_when(l::day_key.eq(k.day), l::day_count + 1).otherwise(1)),
            l::day_key.eq(k.day),
            l::month_count.eq(case_when(l::month_key.eq(k.month), l::month_count + 1).otherwise(1)),
            l::month_key.eq(k.month),
            l::total_calls.eq(l::total_calls + 1),
            l::last_call_at.eq(crate::db::stamp::Stamp(now)),
        ),
    );
    Ok(direct::run!(conn, execute, claim)? == 1)
}

/// Gives a leg's slot back, once: returns false when it was already released. `buyer_id` is the
/// leg's buyer (the caller has the leg at hand; a leg's buyer never changes).
pub fn release(conn: &mut DbConnection, leg_id: i64, buyer_id: Option<i64>) -> Result<bool, Error> {
    let released = direct::run!(
        conn,
        execute,
        update(call_legs::table, call_legs::id.eq(leg_id).and(call_legs::released.eq(false)), call_legs::released.eq(true))
    )?;
    if released == 0 {
        return Ok(false);
    }
    if let Some(buyer) = buyer_id {
        direct::run!(
            conn,
            execute,
            update(
                buyer_load::table,
                buyer_load::buyer_id.eq(buyer).and(buyer_load::in_progress.gt(0)),
                buyer_load::in_progress.eq(buyer_load::in_progress - 1)
            ),
        )?;
    }
    Ok(true)
}

/// Creates the load row of a new buyer.
pub fn init_buyer(conn: &mut DbConnection, buyer_id: i64) -> Result<(), Error> {
    diesel::insert_into(buyer_load::table).values(buyer_load::buyer_id.eq(buyer_id)).execute(conn)?;
    Ok(())
}
