//! The call flow's reads and commit on SQLite: short statements in the writer's transaction
//! (one writer: nothing can come between a webhook's read and its commit, so the version check
//! never fails here, but it is made all the same).
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::SqliteConnection;

use super::flow::{Claim, Commit, Effects, LoadRow, Loads, Lookback};
use super::CallRow;
use crate::db::schema::{buyer_load, call_events, call_legs, calls, campaign_buyers, directory_version};
use crate::db::stamp::{Bind, Stamp};
use crate::db::{update, Batch, DbConnection};
use crate::domain::states::LegStatus;
use crate::error::Error;
use crate::routing::screening::History;
use crate::store::live_events::PayloadRef;

/// The caller's repeat buyer and history on a campaign ([`loads`]).
#[derive(diesel::QueryableByName)]
struct CallerRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    repeat_buyer: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    last_call_at: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    rate_calls: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    qualified: i64,
}

/// The caller's repeat buyer and its history on the campaign, in one statement over the
/// `(caller, campaign_id, started_at)` index. Nothing of the history is read when no screening
/// rule needs it (`started_at >= NULL` holds for no row). Its SQL never changes, so the
/// connection keeps it prepared (diesel's `sql_query` would prepare it on every call).
struct CallerQuery<'a> {
    caller: &'a str,
    campaign: i64,
    repeat_since: Stamp,
    rate_since: Option<Stamp>,
    qualified_since: Option<Stamp>,
    since: Option<Stamp>,
}

impl diesel::query_builder::QueryId for CallerQuery<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for CallerQuery<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for CallerQuery<'_> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
        out.push_sql("SELECT (SELECT c.buyer_id FROM calls c WHERE c.caller = ");
        out.push_bind_param::<Text, _>(&self.caller)?;
        out.push_sql(" AND c.campaign_id = ");
        out.push_bind_param::<BigInt, _>(&self.campaign)?;
        out.push_sql(" AND c.started_at >= ");
        out.push_bind_param::<Timestamp, _>(&self.repeat_since)?;
        out.push_sql(" AND c.connected_at IS NOT NULL ORDER BY c.started_at DESC LIMIT 1) AS repeat_buyer, ");
        out.push_sql("max(started_at) AS last_call_at, coalesce(sum(CASE WHEN started_at >= ");
        out.push_bind_param::<Nullable<Timestamp>, _>(&self.rate_since)?;
        out.push_sql(" THEN 1 ELSE 0 END), 0) AS rate_calls, coalesce(max(CASE WHEN started_at >= ");
        out.push_bind_param::<Nullable<Timestamp>, _>(&self.qualified_since)?;
        out.push_sql(" AND qualified THEN 1 ELSE 0 END), 0) AS qualified FROM calls WHERE caller = ");
        out.push_bind_param::<Text, _>(&self.caller)?;
        out.push_sql(" AND campaign_id = ");
        out.push_bind_param::<BigInt, _>(&self.campaign)?;
        out.push_sql(" AND started_at >= ");
        out.push_bind_param::<Nullable<Timestamp>, _>(&self.since)?;
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for CallerQuery<'_> {}

pub(super) fn loads(
    c: &mut SqliteConnection,
    new_call: bool,
    campaign: Option<i64>,
    caller: &str,
    back: &Lookback,
) -> Result<(Option<i64>, Loads), Error> {
    // The writer runs this and the commit that records the call in one transaction: nothing
    // else can take the id in between. (AUTOINCREMENT never gives an id twice: the next one is
    // past both the highest row and the highest id ever given.)
    let call_id = if new_call {
        let given: Option<i64> =
            sqlite_sequence::table.filter(sqlite_sequence::name.eq("calls")).select(sqlite_sequence::seq).first(c).optional()?;
        let highest: Option<i64> = calls::table.select(diesel::dsl::max(calls::id)).first(c)?;
        Some(given.unwrap_or(0).max(highest.unwrap_or(0)) + 1)
    } else {
        None
    };
    let directory_version: i64 = directory_version::table.find(1).select(directory_version::version).first(c)?;
    let (loads, repeat_buyer, history) = match campaign {
        Some(campaign) => {
            let loads: Vec<LoadRow> = buyer_load::table
                .inner_join(campaign_buyers::table.on(campaign_buyers::buyer_id.eq(buyer_load::buyer_id)))
                .filter(campaign_buyers::campaign_id.eq(campaign))
                .order(buyer_load::buyer_id.asc())
                .select(LoadRow::as_select())
                .load(c)?;
            let h = back.history;
            let row: CallerRow = CallerQuery {
                caller,
                campaign,
                repeat_since: Stamp(back.repeat_since),
                rate_since: h.and_then(|h| h.rate_since).map(Stamp),
                qualified_since: h.and_then(|h| h.qualified_since).map(Stamp),
                since: h.map(|h| Stamp(h.since)),
            }
            .get_result(c)?;
            let history = History {
                last_call_at: row.last_call_at.map(|t| t.and_utc()),
                rate_calls: u32::try_from(row.rate_calls).unwrap_or(u32::MAX),
                qualified: row.qualified != 0,
                last_buyer: row.repeat_buyer,
            };
            (loads, row.repeat_buyer, history)
        }
        None => (vec![], None, History::default()),
    };
    Ok((call_id, Loads { directory_version, loads, repeat_buyer, history }))
}

diesel::table! {
    /// SQLite's own table of the last id each AUTOINCREMENT table gave.
    sqlite_sequence (name) {
        name -> Text,
        seq -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(sqlite_sequence, calls);

/// Claims `claim`'s slot if the buyer still has room; false when it has none.
fn claim_slot(c: &mut SqliteConnection, claim: &Claim, at: chrono::NaiveDateTime) -> Result<bool, Error> {
    use buyer_load::dsl as l;
    let k = claim.keys;
    // A missing cap is "no limit": i32::MAX is never reached by a counter.
    let [hourly, daily, monthly] = claim.caps.map(|c| c.unwrap_or(i32::MAX));
    let room = l::buyer_id
        .eq(claim.buyer_id)
        .and(l::in_progress.lt(claim.max_concurrent))
        .and(l::hour_key.ne(k.hour).or(l::hour_count.lt(hourly)))
        .and(l::day_key.ne(k.day).or(l::day_count.lt(daily)))
        .and(l::month_key.ne(k.month).or(l::month_count.lt(monthly)));
    let take = update(
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
            l::last_call_at.eq(Stamp(at)),
        ),
    );
    Ok(take.execute(c)? == 1)
}

/// Writes what changed of the call (`r`, read as `read`) and its version, if it is still at
/// `version`; false when it is not. SQLite rewrites the entries of every index on a column an
/// `UPDATE` sets, whatever the value, so the columns are written in groups, each only when one
/// of its columns changed: the progress (no index), the buyer, the recording, cost and
/// transcript, and the settlement. What the number meant (campaign, publisher, caller, ...) is
/// written when the call is recorded and never changes.
fn write_call(c: &mut SqliteConnection, version: i64, read: &CallRow, r: &CallRow) -> Result<bool, Error> {
    debug_assert!(
        (r.campaign_id, r.number_id, r.publisher_id, &r.caller, &r.dialled, &r.caller_state)
            == (read.campaign_id, read.number_id, read.publisher_id, &read.caller, &read.dialled, &read.caller_state),
        "a call's origin never changes once it is recorded"
    );
    let at = calls::id.eq(r.id).and(calls::version.eq(version));
    let progress = (
        calls::version.eq(version + 1),
        calls::status.eq(r.status),
        calls::outcome.eq(r.outcome),
        calls::attempts.eq(r.attempts),
        calls::ringing_at.eq(r.ringing_at.bind()),
        calls::answered_at.eq(r.answered_at.bind()),
        calls::connected_at.eq(r.connected_at.bind()),
        calls::ended_at.eq(r.ended_at.bind()),
        calls::duration_secs.eq(r.duration_secs),
        calls::billable_secs.eq(r.billable_secs),
        calls::last_sequence.eq(r.last_sequence),
        calls::updated_at.eq(Stamp(r.updated_at)),
    );
    if update(calls::table, at, progress).execute(c)? == 0 {
        return Ok(false);
    }
    let id = calls::id.eq(r.id);
    if r.buyer_id != read.buyer_id {
        update(calls::table, id, calls::buyer_id.eq(r.buyer_id)).execute(c)?;
    }
    // Tags grow after the call is recorded (an IVR's answers); the screening's columns are set
    // when it is recorded, but are written with them should a later step change them.
    if (&r.tags, &r.blocked_by, r.repeat_buyer_id) != (&read.tags, &read.blocked_by, read.repeat_buyer_id) {
        let changes = (calls::tags.eq(&r.tags), calls::blocked_by.eq(&r.blocked_by), calls::repeat_buyer_id.eq(r.repeat_buyer_id));
        update(calls::table, id, changes).execute(c)?;
    }
    let ivr = |x: &CallRow| (x.ivr_outcome.clone(), x.ivr_question, x.ivr_attempt, x.ivr_secs, x.route_label.clone());
    if ivr(r) != ivr(read) {
        let changes = (
            calls::ivr_outcome.eq(&r.ivr_outcome),
            calls::ivr_question.eq(r.ivr_question),
            calls::ivr_attempt.eq(r.ivr_attempt),
            calls::ivr_secs.eq(r.ivr_secs),
            calls::route_label.eq(&r.route_label),
        );
        update(calls::table, id, changes).execute(c)?;
    }
    let extras = |x: &CallRow| {
        (
            (x.recording_sid.clone(), x.recording_url.clone(), x.recording_duration_secs, x.recording_channels),
            (x.cost_micros, x.cost_currency.clone(), x.cost_status),
            (x.transcript.clone(), x.transcript_status, x.transcript_sid.clone(), x.postback_at),
        )
    };
    if extras(r) != extras(read) {
        let changes = (
            calls::recording_sid.eq(&r.recording_sid),
            calls::recording_url.eq(&r.recording_url),
            calls::recording_duration_secs.eq(r.recording_duration_secs),
            calls::recording_channels.eq(r.recording_channels),
            calls::cost_micros.eq(r.cost_micros),
            calls::cost_currency.eq(&r.cost_currency),
            calls::cost_status.eq(r.cost_status),
            calls::transcript.eq(&r.transcript),
            calls::transcript_status.eq(r.transcript_status),
            calls::transcript_sid.eq(&r.transcript_sid),
            calls::postback_at.eq(r.postback_at.bind()),
        );
        update(calls::table, id, changes).execute(c)?;
    }
    let settlement = |x: &CallRow| {
        (
            (x.settled_at, x.money_buyer_id, x.answered, x.no_buyer, x.talk_secs, x.duplicate, x.qualified, x.qualify_reason),
            (x.currency.clone(), x.rule_revenue_micros, x.rule_payout_micros, x.rule_buffer_secs, x.rule_duplicate_window_secs),
            (x.revenue_micros, x.payout_micros, x.counted_cost_micros, x.profit_micros, x.money_bidder_id),
        )
    };
    if settlement(r) != settlement(read) {
        let changes = (
            calls::settled_at.eq(r.settled_at.bind()),
            calls::money_buyer_id.eq(r.money_buyer_id),
            calls::answered.eq(r.answered),
            calls::no_buyer.eq(r.no_buyer),
            calls::talk_secs.eq(r.talk_secs),
            calls::duplicate.eq(r.duplicate),
            calls::qualified.eq(r.qualified),
            calls::qualify_reason.eq(r.qualify_reason),
            calls::currency.eq(&r.currency),
            calls::rule_revenue_micros.eq(r.rule_revenue_micros),
            calls::rule_payout_micros.eq(r.rule_payout_micros),
            calls::rule_buffer_secs.eq(r.rule_buffer_secs),
            calls::rule_duplicate_window_secs.eq(r.rule_duplicate_window_secs),
            calls::revenue_micros.eq(r.revenue_micros),
            calls::payout_micros.eq(r.payout_micros),
            calls::counted_cost_micros.eq(r.counted_cost_micros),
            calls::profit_micros.eq(r.profit_micros),
        );
        update(calls::table, id, changes).execute(c)?;
        update(calls::table, id, calls::money_bidder_id.eq(r.money_bidder_id)).execute(c)?;
    }
    Ok(true)
}

pub(super) fn commit(conn: &mut DbConnection, batch: &mut Batch, e: &Effects) -> Result<Commit, Error> {
    let DbConnection::Sqlite(c) = conn else { return Err(Error::internal(anyhow::anyhow!("SQLite statements on another backend"))) };
    let id = e.call.id;
    if e.insert {
        let recorded = diesel::insert_into(calls::table).values(&e.call).on_conflict(calls::call_sid).do_nothing().execute(c)?;
        if recorded == 0 {
            return Ok(Commit::Duplicate);
        }
    } else {
        let version: Option<i64> = calls::table.find(id).select(calls::version).first(c).optional()?;
        if version != Some(e.version) {
            return Ok(Commit::Stale);
        }
    }
    if let Some(claim) = e.claim.as_ref().filter(|c| c.bid.is_none()) {
        if !claim_slot(c, claim, e.at)? {
            return Ok(Commit::SlotTaken);
        }
    }
    // One writer: nothing can have changed the call since it was read in this transaction, so
    // an unchanged row (a leg's callback) needs no write.
    if !e.insert && e.call != e.read && !write_call(c, e.version, &e.read, &e.call)? {
        return Ok(Commit::Stale);
    }
    let leg_id = match &e.claim {
        Some(claim) => Some(
            diesel::insert_into(call_legs::table)
                .values((
                    call_legs::call_id.eq(id),
                    call_legs::attempt.eq(claim.attempt),
                    call_legs::buyer_id.eq(claim.bid.is_none().then_some(claim.buyer_id)),
                    call_legs::status.eq(LegStatus::Reserved),
                    call_legs::reserved_at.eq(Stamp(e.at)),
                    call_legs::expires_at.eq(Stamp(claim.expires_at)),
                    call_legs::accept_required.eq(claim.accept_required),
                    call_legs::bidder_id.eq(claim.bid.as_ref().map(|b| b.bidder_id)),
                    call_legs::dial_to.eq(claim.bid.as_ref().map(|b| b.dial_to.as_str())),
                    call_legs::bid_micros.eq(claim.bid.as_ref().map(|b| b.bid_micros)),
                    call_legs::bid_min_duration_secs.eq(claim.bid.as_ref().and_then(|b| b.min_duration_secs)),
                ))
                .returning(call_legs::id)
                .get_result::<i64>(c)?,
        ),
        None => None,
    };
    for l in &e.legs {
        update(
            call_legs::table,
            call_legs::id.eq(l.id),
            (
                call_legs::status.eq(l.status),
                call_legs::ringing_at.eq(l.ringing_at.bind()),
                call_legs::answered_at.eq(l.answered_at.bind()),
                call_legs::ended_at.eq(l.ended_at.bind()),
                call_legs::duration_secs.eq(l.duration_secs),
                call_legs::last_sequence.eq(l.last_sequence),
                call_legs::dial_call_sid.eq(&l.dial_call_sid),
                call_legs::released.eq(l.released),
                call_legs::counted.eq(l.counted),
                call_legs::counted_connected.eq(l.counted_connected),
                call_legs::accepted_at.eq(l.accepted_at.bind()),
            ),
        )
        .execute(c)?;
    }
    for buyer in &e.releases {
        update(
            buyer_load::table,
            buyer_load::buyer_id.eq(*buyer).and(buyer_load::in_progress.gt(0)),
            buyer_load::in_progress.eq(buyer_load::in_progress - 1),
        )
        .execute(c)?;
    }
    let attempt = match (&e.claim, leg_id) {
        (Some(claim), Some(leg_id)) => Some(attempt_entry(claim, leg_id)),
        _ => None,
    };
    for (kind, data) in e.log.iter().map(|(k, d)| (*k, d.as_str())).chain(attempt.as_deref().map(|d| ("attempt", d))) {
        diesel::insert_into(call_events::table)
            .values((call_events::call_id.eq(id), call_events::at.eq(Stamp(e.at)), call_events::kind.eq(kind), call_events::data.eq(data)))
            .execute(c)?;
    }
    if !e.live.is_empty() {
        let call = CallRow { version: e.version + 1, ..e.call.clone() }.into_wire();
        for a in &e.live {
            let payload = PayloadRef { call: &call, qualification: a.qualification.as_ref() }.to_json()?;
            crate::store::live_events::insert(conn, e.at, a.kind, id, e.call.publisher_id, &payload)?;
        }
    }
    if !e.rollups.is_empty() {
        batch.add(crate::store::rollups::Additions(e.rollups.clone()));
    }
    for job in &e.jobs {
        crate::store::jobs::insert(conn, job, e.at)?;
    }
    crate::store::bidders::insert_pings(conn, &e.pings)?;
    if let Some(bidder) = e.won_bidder {
        crate::store::bidders::mark_won(conn, id, bidder)?;
    }
    Ok(Commit::Done { leg_id })
}

/// The `attempt` log entry of a claimed slot's new leg.
pub(super) fn attempt_entry(claim: &Claim, leg_id: i64) -> String {
    match &claim.bid {
        Some(b) => serde_json::json!({"attempt": claim.attempt, "leg_id": leg_id, "bidder_id": b.bidder_id, "bidder": claim.buyer_name, "bid_micros": b.bid_micros})
            .to_string(),
        None => serde_json::json!({"attempt": claim.attempt, "leg_id": leg_id, "buyer_id": claim.buyer_id, "buyer": claim.buyer_name}).to_string(),
    }
}
