//! The live-event log (`live_events`): each row announces a change to a call, with the call as it
//! stood when the change was committed. Rows are written by the call table's commit
//! ([`super::calls::flow::commit`]) in the same statement or transaction as the change, read in id
//! order by each instance's pump ([`crate::live::pump`]) and by clients resuming a stream.
use callbroker_wire::{Call, LiveEventKind, LiveQualification};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::live_events;
use crate::db::stamp::Stamp;
use crate::db::{direct, DbConnection};
use crate::error::Error;

/// What a row's `payload` holds.
#[derive(Debug, Deserialize)]
pub struct Payload {
    pub call: Call,
    #[serde(default)]
    pub qualification: Option<LiveQualification>,
}

/// A [`Payload`] as written: the call borrowed, for one change may announce several events.
#[derive(Serialize)]
pub struct PayloadRef<'a> {
    pub call: &'a Call,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualification: Option<&'a LiveQualification>,
}

impl PayloadRef<'_> {
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(Error::internal)
    }
}

/// A stored event, as read back.
#[derive(Debug, Clone, Queryable)]
pub struct Row {
    pub id: i64,
    #[diesel(deserialize_as = Stamp)]
    pub at: NaiveDateTime,
    pub kind: String,
    pub publisher_id: Option<i64>,
    pub payload: String,
}

/// Adds one event (SQLite's commit; PostgreSQL's writes its events in the commit's statement).
pub fn insert(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    kind: LiveEventKind,
    call_id: i64,
    publisher_id: Option<i64>,
    payload: &str,
) -> Result<(), Error> {
    let insert = diesel::insert_into(live_events::table).values((
        live_events::at.eq(Stamp(at)),
        live_events::kind.eq(kind.as_str()),
        live_events::call_id.eq(Some(call_id)),
        live_events::publisher_id.eq(publisher_id),
        live_events::payload.eq(payload),
    ));
    direct::run!(conn, execute, insert)?;
    Ok(())
}

type RowType = (
    diesel::sql_types::BigInt,
    diesel::sql_types::Timestamp,
    diesel::sql_types::Text,
    diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
    diesel::sql_types::Text,
);

fn rows_query() -> live_events::BoxedQuery<'static, crate::db::DbBackend, RowType> {
    live_events::table
        .select((live_events::id, live_events::at, live_events::kind, live_events::publisher_id, live_events::payload))
        .into_boxed()
}

/// Events after `after`, oldest first, at most `limit`; only one publisher's with `scope`.
pub fn after(conn: &mut DbConnection, after: i64, scope: Option<i64>, limit: i64) -> Result<Vec<Row>, Error> {
    between(conn, after, i64::MAX, scope, limit)
}

/// Events with `after < id <= upto`, oldest first, at most `limit`; only one publisher's with `scope`.
pub fn between(conn: &mut DbConnection, after: i64, upto: i64, scope: Option<i64>, limit: i64) -> Result<Vec<Row>, Error> {
    let mut q = rows_query().filter(live_events::id.gt(after)).filter(live_events::id.le(upto));
    if let Some(p) = scope {
        q = q.filter(live_events::publisher_id.eq(p));
    }
    Ok(q.order(live_events::id.asc()).limit(limit).load(conn)?)
}

/// The newest event id (0 when none).
pub fn last_id(conn: &mut DbConnection) -> Result<i64, Error> {
    Ok(live_events::table.select(diesel::dsl::max(live_events::id)).first::<Option<i64>>(conn)?.unwrap_or(0))
}

/// Whether event `id` is still kept.
pub fn kept(conn: &mut DbConnection, id: i64) -> Result<bool, Error> {
    Ok(diesel::select(diesel::dsl::exists(live_events::table.find(id))).get_result(conn)?)
}

/// Deletes events recorded before `before`; returns how many.
pub fn prune(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, Error> {
    Ok(diesel::delete(live_events::table.filter(live_events::at.lt(before))).execute(conn)?)
}
