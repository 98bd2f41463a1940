//! Calls, their buyer legs and their event log.
use callbroker_wire::{Call, CallDetail, CallEvent, CallFilter, CallLeg, CallMoney, Page, PageParams, Recording};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::stamp::{MaybeStamp, Stamp};
use crate::db::{direct, update};

use super::{page, paging, utc};
use crate::db::schema::{call_events, call_legs, calls};
use crate::db::{now, DbConnection};
use crate::error::Error;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = calls)]
pub struct CallRow {
    pub id: i64,
    pub call_sid: String,
    pub campaign_id: Option<i64>,
    pub number_id: Option<i64>,
    pub publisher_id: Option<i64>,
    pub buyer_id: Option<i64>,
    pub caller: String,
    pub dialled: String,
    pub caller_state: Option<String>,
    pub caller_state_source: Option<String>,
    pub caller_city: Option<String>,
    pub caller_zip: Option<String>,
    pub status: String,
    pub outcome: String,
    pub attempts: i32,
    #[diesel(deserialize_as = Stamp)]
    pub started_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    pub ringing_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub answered_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub connected_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub ended_at: Option<NaiveDateTime>,
    pub duration_secs: Option<i32>,
    pub billable_secs: Option<i32>,
    pub recording_sid: Option<String>,
    pub recording_url: Option<String>,
    pub recording_duration_secs: Option<i32>,
    pub recording_channels: Option<i32>,
    pub last_sequence: Option<i32>,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
    pub cost_micros: Option<i64>,
    pub cost_currency: Option<String>,
    pub cost_status: Option<String>,
    pub transcript: Option<String>,
    pub transcript_status: Option<String>,
    pub transcript_sid: Option<String>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub settled_at: Option<NaiveDateTime>,
    pub money_buyer_id: Option<i64>,
    pub answered: bool,
    pub no_buyer: bool,
    pub talk_secs: i32,
    pub duplicate: bool,
    pub qualified: Option<bool>,
    pub qualify_reason: Option<String>,
    pub currency: Option<String>,
    pub rule_revenue_micros: Option<i64>,
    pub rule_payout_micros: Option<i64>,
    pub rule_buffer_secs: Option<i32>,
    pub rule_duplicate_window_secs: Option<i32>,
    pub revenue_micros: i64,
    pub payout_micros: i64,
    pub counted_cost_micros: i64,
    pub profit_micros: Option<i64>,
}

impl CallRow {
    pub fn into_wire(self) -> Call {
        let money = self.settled_at.map(|_| CallMoney {
            qualified: self.qualified.unwrap_or(false),
            reason: self.qualify_reason.clone().unwrap_or_default(),
            duplicate: self.duplicate,
            currency: self.currency.clone(),
            talk_secs: self.talk_secs,
            buffer_secs: self.rule_buffer_secs.unwrap_or(0),
            revenue_micros: Some(self.revenue_micros),
            payout_micros: self.payout_micros,
            cost_micros: self.cost_micros,
            profit_micros: self.profit_micros,
        });
        let recording = self.recording_sid.map(|sid| Recording {
            sid,
            url: self.recording_url,
            duration_secs: self.recording_duration_secs,
            channels: self.recording_channels,
        });
        Call {
            id: self.id,
            call_sid: self.call_sid,
            campaign_id: self.campaign_id,
            number_id: self.number_id,
            publisher_id: self.publisher_id,
            buyer_id: self.buyer_id,
            caller: self.caller,
            dialled: self.dialled,
            caller_state: self.caller_state,
            caller_city: self.caller_city,
            caller_zip: self.caller_zip,
            status: self.status,
            outcome: self.outcome,
            attempts: self.attempts,
            started_at: utc(self.started_at),
            ringing_at: self.ringing_at.map(utc),
            answered_at: self.answered_at.map(utc),
            connected_at: self.connected_at.map(utc),
            ended_at: self.ended_at.map(utc),
            duration_secs: self.duration_secs,
            billable_secs: self.billable_secs,
            recording,
            cost_micros: self.cost_micros,
            cost_currency: self.cost_currency,
            cost_status: self.cost_status,
            transcript: self.transcript,
            transcript_status: self.transcript_status,
            money,
        }
    }
}

/// A new call's row ([`insert`]).
#[derive(Debug, Clone)]
pub struct NewCall {
    pub call_sid: String,
    pub campaign_id: Option<i64>,
    pub number_id: Option<i64>,
    pub publisher_id: Option<i64>,
    pub caller: String,
    pub dialled: String,
    pub caller_state: Option<String>,
    pub caller_state_source: Option<String>,
    pub caller_city: Option<String>,
    pub caller_zip: Option<String>,
    pub status: String,
    pub outcome: String,
    pub started_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = call_legs)]
pub struct LegRow {
    pub id: i64,
    pub call_id: i64,
    pub attempt: i32,
    pub buyer_id: Option<i64>,
    pub dial_call_sid: Option<String>,
    pub status: String,
    pub released: bool,
    #[diesel(deserialize_as = Stamp)]
    pub reserved_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    pub ringing_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub answered_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub ended_at: Option<NaiveDateTime>,
    pub duration_secs: Option<i32>,
    pub last_sequence: Option<i32>,
    #[diesel(deserialize_as = Stamp)]
    pub expires_at: NaiveDateTime,
    pub counted: bool,
    pub counted_connected: bool,
}

impl LegRow {
    pub fn into_wire(self) -> CallLeg {
        CallLeg {
            id: self.id,
            attempt: self.attempt,
            buyer_id: self.buyer_id,
            dial_call_sid: self.dial_call_sid,
            status: self.status,
            released: self.released,
            reserved_at: utc(self.reserved_at),
            ringing_at: self.ringing_at.map(utc),
            answered_at: self.answered_at.map(utc),
            ended_at: self.ended_at.map(utc),
            duration_secs: self.duration_secs,
        }
    }
}

/// What a publisher may not see of a call: the buyer, the costs, the revenue, and — unless the
/// call's campaign shows full caller numbers (`full_caller`) — all but the caller's last 4 digits.
pub fn hide_from_publisher(c: &mut Call, full_caller: bool) {
    if !full_caller {
        c.caller = crate::store::reports::mask_caller(&c.caller);
    }
    c.buyer_id = None;
    c.cost_micros = None;
    c.cost_currency = None;
    c.cost_status = None;
    if let Some(m) = c.money.as_mut() {
        m.revenue_micros = None;
        m.cost_micros = None;
        m.profit_micros = None;
    }
}

/// The campaigns whose publishers see full caller numbers.
pub(crate) fn full_caller_campaigns(conn: &mut DbConnection) -> Result<std::collections::HashSet<i64>, Error> {
    use crate::db::schema::campaigns;
    Ok(campaigns::table.filter(campaigns::show_full_caller.eq(true)).select(campaigns::id).load::<i64>(conn)?.into_iter().collect())
}

/// Records a new call; `None` when a call with its SID is recorded already (Twilio sent the voice
/// webhook again, perhaps at the same moment: on PostgreSQL the second insert waits for the first
/// transaction and then does nothing). Every column is written as a value (NULL included), never as
/// `DEFAULT`, so the statement has one shape and stays prepared.
pub fn insert(conn: &mut DbConnection, c: &NewCall) -> Result<Option<i64>, Error> {
    let values = (
        calls::call_sid.eq(&c.call_sid),
        calls::campaign_id.eq(c.campaign_id),
        calls::number_id.eq(c.number_id),
        calls::publisher_id.eq(c.publisher_id),
        calls::caller.eq(&c.caller),
        calls::dialled.eq(&c.dialled),
        calls::caller_state.eq(&c.caller_state),
        calls::caller_state_source.eq(&c.caller_state_source),
        calls::caller_city.eq(&c.caller_city),
        calls::caller_zip.eq(&c.caller_zip),
        calls::status.eq(&c.status),
        calls::outcome.eq(&c.outcome),
        calls::started_at.eq(Stamp(c.started_at)),
        calls::updated_at.eq(Stamp(c.updated_at)),
    );
    let insert = diesel::insert_into(calls::table).values(values).on_conflict(calls::call_sid).do_nothing().returning(calls::id);
    Ok(direct::run!(conn, get_result, insert).optional()?)
}

pub fn find_by_sid(conn: &mut DbConnection, sid: &str) -> Result<Option<CallRow>, Error> {
    Ok(calls::table.filter(calls::call_sid.eq(sid)).select(CallRow::as_select()).first(conn).optional()?)
}

pub fn get_row(conn: &mut DbConnection, id: i64) -> Result<CallRow, Error> {
    direct::run!(conn, first, calls::table.find(id).select(CallRow::as_select())).optional()?.ok_or(Error::NotFound("call"))
}

// Reads for a change. Twilio may deliver several callbacks of one call at once; each folds what
// it read into what it writes, so on PostgreSQL the rows read are locked (`FOR UPDATE`) until the
// transaction ends and concurrent callbacks of a call fold in one after the other. Every path
// locks a call's legs before the call itself. SQLite has one writer: a plain read is already
// serialised.

/// A leg's call as [`leg_for_update`] reads it: its status and when it was first connected.
pub type LegCall = (String, Option<NaiveDateTime>);

/// The leg with its call's status and first connection, both rows locked for the transaction (the
/// leg first, as every path locks: a join locks its rows table by table, in the order of the
/// `FROM` clause).
pub fn leg_for_update(conn: &mut DbConnection, id: i64) -> Result<Option<(LegRow, LegCall)>, Error> {
    let found: Option<(LegRow, (String, MaybeStamp))> = direct::run_locked!(
        conn,
        first,
        call_legs::table
            .inner_join(calls::table)
            .filter(call_legs::id.eq(id))
            .select((LegRow::as_select(), (calls::status, calls::connected_at)))
    )
    .optional()?;
    Ok(found.map(|(leg, (status, connected_at))| (leg, (status, connected_at.0))))
}

/// The leg and its call, both locked for the transaction (see [`leg_for_update`]).
pub fn leg_and_call_for_update(conn: &mut DbConnection, id: i64) -> Result<Option<(LegRow, CallRow)>, Error> {
    Ok(direct::run_locked!(
        conn,
        first,
        call_legs::table.inner_join(calls::table).filter(call_legs::id.eq(id)).select((LegRow::as_select(), CallRow::as_select()))
    )
    .optional()?)
}

/// The call's legs (in id order, which is also their attempt order), locked for the transaction.
pub fn legs_for_update(conn: &mut DbConnection, call_sid: &str) -> Result<Vec<LegRow>, Error> {
    // The call is found by a subquery, whose row `FOR UPDATE` leaves unlocked: the call is locked
    // next, by [`call_for_update`], after its legs.
    let call = calls::table.filter(calls::call_sid.eq(call_sid)).select(calls::id);
    Ok(direct::run_locked!(
        conn,
        load,
        call_legs::table.filter(call_legs::call_id.eq_any(call)).order(call_legs::id.asc()).select(LegRow::as_select())
    )?)
}

/// The call with this `CallSid`, locked for the transaction.
pub fn call_for_update(conn: &mut DbConnection, call_sid: &str) -> Result<Option<CallRow>, Error> {
    Ok(direct::run_locked!(conn, first, calls::table.filter(calls::call_sid.eq(call_sid)).select(CallRow::as_select())).optional()?)
}

/// `update_row!(conn, call, { column: value, ... })`: sets those columns of the call and returns
/// the row as the update leaves it. The update and the returned row are made from one list, so
/// they cannot disagree. The caller's transaction must hold the row (locked on PostgreSQL; SQLite
/// has one writer), so that nothing else changes it in between.
macro_rules! update_row {
    ($conn:expr, $call:expr, { $($column:ident: $value:expr),* $(,)? }) => {{
        use $crate::db::schema::calls as columns;
        let changed = $crate::store::calls::CallRow { $($column: $value,)* ..$call };
        $crate::db::direct::run!(
            $conn,
            execute,
            $crate::db::update(columns::table, columns::id.eq(changed.id), ($(columns::$column.eq($crate::db::stamp::Bind::bind(&changed.$column)),)*)),
        )
        .map(|_| changed)
    }};
}
pub(crate) use update_row;

pub fn set_outcome(conn: &mut DbConnection, id: i64, outcome: &str) -> Result<(), Error> {
    direct::run!(conn, execute, update(calls::table, calls::id.eq(id), (calls::outcome.eq(outcome), calls::updated_at.eq(Stamp(now())))))?;
    Ok(())
}

/// Appends to a call's log.
pub fn event(conn: &mut DbConnection, call_id: i64, kind: &str, data: serde_json::Value) -> Result<(), Error> {
    events(conn, call_id, &[(kind, data.to_string())])
}

/// Several log entries of a call (kind, JSON text), in order. Each is a single-row insert, which
/// stays prepared: cheaper than a multi-row insert, which diesel parses again on every run.
pub fn events(conn: &mut DbConnection, call_id: i64, entries: &[(&str, String)]) -> Result<(), Error> {
    let at = now();
    for (kind, data) in entries {
        let insert = diesel::insert_into(call_events::table).values((
            call_events::call_id.eq(call_id),
            call_events::at.eq(Stamp(at)),
            call_events::kind.eq(*kind),
            call_events::data.eq(data),
        ));
        direct::run!(conn, execute, insert)?;
    }
    Ok(())
}

pub fn legs(conn: &mut DbConnection, call_id: i64) -> Result<Vec<LegRow>, Error> {
    Ok(direct::run!(
        conn,
        load,
        call_legs::table.filter(call_legs::call_id.eq(call_id)).order(call_legs::attempt.asc()).select(LegRow::as_select())
    )?)
}

/// A call with its legs and log; `scope` restricts it to one publisher (who then sees neither).
pub fn detail(conn: &mut DbConnection, id: i64, scope: Option<i64>) -> Result<CallDetail, Error> {
    let row = get_row(conn, id)?;
    if let Some(p) = scope {
        if row.publisher_id != Some(p) {
            return Err(Error::NotFound("call"));
        }
        let full = full_caller_campaigns(conn)?;
        let mut call = row.into_wire();
        let full_caller = call.campaign_id.is_some_and(|c| full.contains(&c));
        hide_from_publisher(&mut call, full_caller);
        let postbacks = crate::postback::attempts(conn, id)?;
        return Ok(CallDetail { call, legs: vec![], events: vec![], postbacks });
    }
    let legs = legs(conn, id)?.into_iter().map(LegRow::into_wire).collect();
    let events = call_events::table
        .filter(call_events::call_id.eq(id))
        .order(call_events::id.asc())
        .select((call_events::id, call_events::at, call_events::kind, call_events::data))
        .load::<(i64, NaiveDateTime, String, String)>(conn)?
        .into_iter()
        .map(|(id, at, kind, data)| CallEvent {
            id,
            at: utc(at),
            kind,
            data: serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)),
        })
        .collect();
    let postbacks = crate::postback::attempts(conn, id)?;
    Ok(CallDetail { call: row.into_wire(), legs, events, postbacks })
}

pub fn list(conn: &mut DbConnection, f: &CallFilter, p: &PageParams, scope: Option<i64>) -> Result<Page<Call>, Error> {
    let (offset, limit) = paging(p)?;
    let query = || {
        let mut q = calls::table.into_boxed();
        if let Some(v) = f.campaign_id {
            q = q.filter(calls::campaign_id.eq(v));
        }
        if let Some(v) = f.buyer_id {
            q = q.filter(calls::buyer_id.eq(v));
        }
        if let Some(v) = f.publisher_id {
            q = q.filter(calls::publisher_id.eq(v));
        }
        if let Some(v) = scope {
            q = q.filter(calls::publisher_id.eq(v));
        }
        if let Some(v) = &f.status {
            q = q.filter(calls::status.eq(v.clone()));
        }
        if let Some(v) = &f.outcome {
            q = q.filter(calls::outcome.eq(v.clone()));
        }
        if let Some(v) = f.from {
            q = q.filter(calls::started_at.ge(v.naive_utc()));
        }
        if let Some(v) = f.to {
            q = q.filter(calls::started_at.lt(v.naive_utc()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query().select(CallRow::as_select()).order(calls::id.desc()).offset(offset).limit(limit).load(conn)?;
    let full = if scope.is_some() { full_caller_campaigns(conn)? } else { Default::default() };
    let items = rows
        .into_iter()
        .map(|r| {
            let mut c = r.into_wire();
            if scope.is_some() {
                let full_caller = c.campaign_id.is_some_and(|id| full.contains(&id));
                hide_from_publisher(&mut c, full_caller);
            }
            c
        })
        .collect();
    Ok(page(items, total, p))
}
